"""隐患 rectification (001, 003) end to end through the screens: the enterprise submits, the regulator confirms or
sends back; major hazards are reviewed and listed for supervision. Every refusal is made on the server."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.helpers import visible_text
from tests.security import factory

from .helpers import PNG, alerts, buttons, client_for, has_input, history, inbox, state_of, stored, take


@pytest.fixture
def county(db_app):
    """新北区 (应急): a regulator, an inspector and the administrator; one enterprise there with its account;
    a regulator of 朝阳 (another county) who must not reach any of it."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_org(svc, region="211302")
        enterprise = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        people = {
            "regulator": factory.make_user(db_app, "regulator", home).username,
            "inspector": factory.make_user(db_app, "inspector", home).username,
            "admin": factory.make_user(db_app, "org_admin", home).username,
            "away": factory.make_user(db_app, "regulator", away).username,
            "enterprise": factory.make_user(db_app, "enterprise_user", enterprise_key=enterprise.uscc).username,
            "enterprise_id": enterprise.id, "home_name": home.name,
        }
    return people


def hazard_form(enterprise_id: int, **override):
    data = {"enterprise": str(enterprise_id), "description": "甲类仓库未设置可燃气体报警装置", "level": "general",
            "source": "self_check", "found_on": date.today().isoformat(),
            "rectify_by": (date.today() + timedelta(days=20)).isoformat(), "location": "甲类仓库"}
    data.update(override)
    return data


def add_hazard(client, enterprise_id: int, **override) -> int:
    response = client.post_form("/r/hazard/add", hazard_form(enterprise_id, **override))
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[:500]
    listing = client.get("/r/hazard/list/").get_data(as_text=True)
    import re
    return max(int(i) for i in re.findall(r'/r/hazard/show/(\d+)', listing))


def test_general_hazard_rectified_sent_back_and_confirmed(db_app, county):
    company = client_for(db_app, county["enterprise"])
    regulator = client_for(db_app, county["regulator"])
    hazard = add_hazard(company, county["enterprise_id"], state="rectified")

    # a new hazard starts 待整改 whatever the form posts; the enterprise sees its button
    assert state_of(db_app, "hazard", hazard) == "pending"
    page = company.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)
    assert "待整改" in visible_text(page)
    assert buttons(page) == ["submit"]
    page = regulator.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)
    assert buttons(page) == []
    assert "下一步： 提交整改（企业用户）" in visible_text(page)  # who the row waits for

    # 提交整改 needs a photo of the rectified place
    page = take(company, "hazard", hazard, "submit").get_data(as_text=True)
    assert "至少" in alerts(page) or "at least" in alerts(page)
    assert state_of(db_app, "hazard", hazard) == "pending"

    page = take(company, "hazard", hazard, "submit", comment="已安装报警装置", files=[("整改后.png", PNG)])
    assert "待确认" in alerts(page.get_data(as_text=True))
    assert state_of(db_app, "hazard", hazard) == "submitted"
    assert stored(db_app, "hazard", hazard).rectified_on == date.today()
    assert "企业已提交隐患整改，请确认" in inbox(regulator)

    # submitted: the description is frozen on every path
    form_page = company.get(f"/r/hazard/edit/{hazard}").get_data(as_text=True)
    assert not has_input(form_page, "description") and has_input(form_page, "responsible_person")

    # 退回 needs a comment (意见); with one it goes back to 待整改 and the enterprise is told
    page = take(regulator, "hazard", hazard, "send_back").get_data(as_text=True)
    assert "意见" in alerts(page)
    assert state_of(db_app, "hazard", hazard) == "submitted"
    take(regulator, "hazard", hazard, "send_back", comment="报警装置未接入控制室，请整改")
    assert state_of(db_app, "hazard", hazard) == "pending"
    assert "隐患整改被退回" in inbox(company)

    # the timeline on the page shows each step with who, the comment and the file
    page = company.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)
    text = visible_text(page)
    assert "报警装置未接入控制室，请整改" in text and "整改后.png" in text
    steps = [(h.transition, h.from_state, h.to_state) for h in history(db_app, "hazard", hazard)]
    assert steps == [("submit", "pending", "submitted"), ("send_back", "submitted", "pending")]
    assert history(db_app, "hazard", hazard)[1].organisation_name == county["home_name"]

    # the file of the step is there to download for whoever sees the row
    files_url = next(iter(__import__("re").findall(r'href="(/r/hazard/history/[^"]+)"', page)))
    downloaded = regulator.get(files_url)
    assert downloaded.status_code == 200 and downloaded.data == PNG

    take(company, "hazard", hazard, "submit", files=[("整改后2.png", PNG)])
    # the enterprise cannot confirm its own rectification
    page = take(company, "hazard", hazard, "confirm").get_data(as_text=True)
    assert "角色" in alerts(page) or "role" in alerts(page)
    assert state_of(db_app, "hazard", hazard) == "submitted"

    inspector = client_for(db_app, county["inspector"])
    take(inspector, "hazard", hazard, "confirm")
    row = stored(db_app, "hazard", hazard)
    assert row.state == "rectified" and row.confirmed_on == date.today() and row.confirmed_by
    assert "隐患整改已确认" in inbox(company)

    # final: no button, no step, no change, no delete
    page = regulator.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)
    assert buttons(page) == []
    assert "最终" in alerts(take(regulator, "hazard", hazard, "send_back", comment="再看看").get_data(as_text=True)) \
        or "final" in alerts(take(regulator, "hazard", hazard, "send_back", comment="x").get_data(as_text=True))
    admin = client_for(db_app, county["admin"])
    assert f"/r/hazard/delete/{hazard}" not in admin.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)
    response = admin.post_form(f"/r/hazard/delete/{hazard}", {}, page_url="/workflow/inbox",
                               follow_redirects=True)
    assert "不能删除" in alerts(response.get_data(as_text=True))
    assert stored(db_app, "hazard", hazard) is not None
    response = admin.get(f"/r/hazard/edit/{hazard}", follow_redirects=True)
    assert "不能再修改" in alerts(response.get_data(as_text=True))


def test_another_county_can_neither_see_nor_move_the_hazard(db_app, county):
    company = client_for(db_app, county["enterprise"])
    hazard = add_hazard(company, county["enterprise_id"])
    take(company, "hazard", hazard, "submit", files=[("a.png", PNG)])
    away = client_for(db_app, county["away"])
    assert away.get(f"/r/hazard/show/{hazard}").status_code == 403
    token = away.csrf_token("/workflow/inbox")
    response = away.post(f"/r/hazard/transition/{hazard}/confirm", data={"csrf_token": token})
    assert response.status_code == 403
    assert state_of(db_app, "hazard", hazard) == "submitted"
    # the API refuses too, answering as for a row that does not exist (it tells nothing about other rows)
    response = away.post(f"/api/v1/hazard/{hazard}/transitions/confirm", json={},
                         headers={"X-CSRFToken": token})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_a_transition_needs_the_csrf_token(db_app, county):
    company = client_for(db_app, county["enterprise"])
    hazard = add_hazard(company, county["enterprise_id"])
    response = company.post(f"/r/hazard/transition/{hazard}/submit", data={})
    assert response.status_code == 400
    assert state_of(db_app, "hazard", hazard) == "pending"


def test_major_hazard_is_reviewed_and_listed_for_supervision(db_app, county):
    company = client_for(db_app, county["enterprise"])
    regulator = client_for(db_app, county["regulator"])
    hazard = add_hazard(company, county["enterprise_id"], level="major")

    # a major hazard is not submitted before the review: the button is absent and the URL refuses
    assert buttons(company.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)) == []
    page = take(company, "hazard", hazard, "submit", files=[("a.png", PNG)]).get_data(as_text=True)
    assert "一般隐患" in alerts(page)
    assert state_of(db_app, "hazard", hazard) == "pending"

    # 挂牌督办 needs the supervision level first
    assert buttons(regulator.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)) == ["downgrade"]
    page = take(regulator, "hazard", hazard, "supervise").get_data(as_text=True)
    assert "督办级别" in alerts(page)
    form = hazard_form(county["enterprise_id"], level="major", supervision_level="county",
                       contingency="设置警戒区，停止动火作业")
    response = regulator.post_form(f"/r/hazard/edit/{hazard}", form)
    assert response.status_code == 302
    assert buttons(regulator.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)) == ["downgrade", "supervise"]
    take(regulator, "hazard", hazard, "supervise")
    row = stored(db_app, "hazard", hazard)
    assert row.state == "supervised" and row.supervised_by == county["home_name"]
    assert row.supervised_on == date.today()
    assert "重大隐患已挂牌督办" in inbox(company)

    # under supervision the level is frozen: a downgrade through the edit form does not happen
    response = regulator.post_form(f"/r/hazard/edit/{hazard}", {**form, "level": "general"})
    assert stored(db_app, "hazard", hazard).level == "major"

    take(company, "hazard", hazard, "submit_supervised", files=[("done.pdf", b"%PDF-1.4")])
    take(regulator, "hazard", hazard, "send_back_supervised", comment="资金未落实")
    assert state_of(db_app, "hazard", hazard) == "supervised"  # back to supervision, not to 待整改


def test_major_hazard_downgraded_with_a_reason(db_app, county):
    company = client_for(db_app, county["enterprise"])
    regulator = client_for(db_app, county["regulator"])
    hazard = add_hazard(company, county["enterprise_id"], level="major")
    take(regulator, "hazard", hazard, "downgrade", comment="经复核不属于重大隐患判定标准情形")
    row = stored(db_app, "hazard", hazard)
    assert row.level == "general" and row.state == "pending"
    assert buttons(company.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)) == ["submit"]


def test_state_cannot_be_set_through_the_api_or_a_session_write(db_app, county):
    company = client_for(db_app, county["enterprise"])
    hazard = add_hazard(company, county["enterprise_id"])
    token = company.csrf_token("/workflow/inbox")
    response = company.client.put(f"/api/v1/hazard/{hazard}", json={"state": "rectified"},
                                  headers={"X-CSRFToken": token})
    assert response.status_code == 422 and "state" in response.get_json()["fields"]
    response = company.client.post("/api/v1/hazard/", json={**hazard_form(county["enterprise_id"]),
                                                            "state": "rectified"}, headers={"X-CSRFToken": token})
    assert response.status_code == 422

    # the API takes steps through the workflow like the page, with the same checks
    response = company.client.post(f"/api/v1/hazard/{hazard}/transitions/submit", json={},
                                   headers={"X-CSRFToken": token})
    assert response.status_code == 409 and "至少" in response.get_json()["message"]
    listing = company.client.get(f"/api/v1/hazard/{hazard}/transitions").get_json()
    assert listing["state"] == "pending" and [t["name"] for t in listing["available"]] == ["submit"]

    # a bulk edit in code, as a regulator, is refused at the flush
    from app.security.actor import acting_as, actor_for
    from app.workflow import WorkflowRefused
    svc = db_app.extensions["safety"]
    model = svc.models["hazard"]
    with db_app.app_context():
        user = db_app.appbuilder.sm.find_user(username=county["regulator"])
        with acting_as(actor_for(user)):
            row = svc.session.get(model, hazard)
            row.state = "rectified"
            with pytest.raises(WorkflowRefused):
                svc.session.commit()
            svc.session.rollback()
    assert state_of(db_app, "hazard", hazard) == "pending"


def test_deadline_colours_on_the_list(db_app, county):
    company = client_for(db_app, county["enterprise"])
    overdue = add_hazard(company, county["enterprise_id"], description="逾期隐患",
                         found_on=(date.today() - timedelta(days=30)).isoformat(),
                         rectify_by=(date.today() - timedelta(days=3)).isoformat())
    soon = add_hazard(company, county["enterprise_id"], description="即将到期隐患",
                      rectify_by=(date.today() + timedelta(days=10)).isoformat())
    later = add_hazard(company, county["enterprise_id"], description="期限充足隐患",
                       rectify_by=(date.today() + timedelta(days=11)).isoformat())
    import re
    page = company.get("/r/hazard/list/").get_data(as_text=True)
    colour = {}
    for row_id in (overdue, soon, later):
        row_html = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*?/r/hazard/show/{row_id}"(?:(?!</tr>).)*</tr>', page, re.S)
        found = re.search(r'data-deadline="(\w+)"', row_html.group(0))
        colour[row_id] = found.group(1) if found else None
    assert colour == {overdue: "overdue", soon: "soon", later: "ok"}


def test_imported_hazards_start_pending_and_an_empty_found_on_is_today(db_app, county):
    import io

    import openpyxl
    regulator = client_for(db_app, county["regulator"])
    template = regulator.get("/r/hazard/template")
    assert template.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(template.data))
    titles = [c.value for c in book.worksheets[1][1]]
    assert "整改状态" not in titles and not any("状态" in str(t) for t in titles)  # states are not imported
    enterprise = stored(db_app, "enterprise", county["enterprise_id"])
    row = {"企业名称": enterprise.name, "隐患描述": "导入的隐患：配电箱未接地", "隐患级别": "一般隐患", "隐患来源": "执法检查",
           "整改期限": (date.today() + timedelta(days=15)).isoformat()}
    book.worksheets[1].append([row.get(str(t).lstrip("*").strip(), None) for t in titles])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    response = regulator.post_form("/r/hazard/import", {"file": (buffer, "隐患.xlsx"), "mode": "insert"},
                                   page_url="/r/hazard/import", content_type="multipart/form-data")
    assert response.status_code == 302
    page = visible_text(regulator.get(response.headers["Location"]).get_data(as_text=True))
    assert "新增 1 条" in page, page[-600:]
    svc = db_app.extensions["safety"]
    from sqlalchemy import select
    model = svc.models["hazard"]
    with db_app.app_context():
        imported = svc.session.scalars(select(model).execution_options(include_all_rows=True)).one()
        assert (imported.state, imported.found_on, imported.source) == ("pending", date.today(), "inspection")
