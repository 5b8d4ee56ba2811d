"""The engine on a flow it was not written for (tests/fixtures/metadata/workflow over the 'scoped' role set):
hot-work permits checked by an officer, approved by the unit above, started by the company with a signature
before their validity ends, closed with a comment that creates findings and updates the company; batches that
finish only when all their permits are done; imports that cannot change what a state froze."""
from __future__ import annotations

import base64
import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import EAGER, FIXTURES, PG_BASE, make_app
from tests.helpers import visible_text
from tests.security import factory

from .helpers import PNG, alerts, buttons, client_for, history, inbox, state_of, stored, take


@pytest.fixture(scope="module")
def permit_app(tmp_path_factory):
    from sqlalchemy.engine import make_url

    from config import TestConfig
    return make_app(make_url(PG_BASE).database + "_permit", tmp_path_factory.mktemp("permit"),
                    metadata_dirs=[FIXTURES / "metadata" / "scoped", FIXTURES / "metadata" / "workflow"],
                    CELERY={**TestConfig.CELERY, **EAGER})


@pytest.fixture
def people(permit_app):
    from tests.conftest import truncate_registers
    truncate_registers(permit_app)
    svc = permit_app.extensions["safety"]
    with permit_app.app_context():
        city = factory.make_row(svc, "unit", {"area": "3204", "sector": "emergency", "tier": "city"})
        county = factory.make_row(svc, "unit", {"area": "320411", "sector": "emergency", "tier": "county",
                                                "above": city})
        neighbour = factory.make_row(svc, "unit", {"area": "320411", "sector": "emergency", "tier": "county",
                                                   "above": city})
        company = factory.make_row(svc, "company", {"area": factory.HOME_TOWNSHIP, "sector": "emergency"})
        return {"officer": factory.make_user(permit_app, "officer", county).username,
                "neighbour_officer": factory.make_user(permit_app, "officer", neighbour).username,
                "county_chief": factory.make_user(permit_app, "chief", county).username,
                "city_chief": factory.make_user(permit_app, "chief", city).username,
                "owner": factory.make_user(permit_app, "owner", enterprise_key=company.code).username,
                "company_id": company.id}


def _add_permit(client, company_id, code="DH-2026-001", valid_until=None, batch=None, checks=(), gas_reading="0.2"):
    data = {"title": "储罐区动火作业", "code": code, "company": str(company_id), "risk": "high",
            "valid_until": (valid_until or date.today() + timedelta(days=5)).isoformat()}
    if gas_reading is not None:
        data["gas_reading"] = gas_reading
    if batch:
        data["batch"] = str(batch)
    for i, (item, result) in enumerate(checks):
        data[f"checks-{i}-item"], data[f"checks-{i}-result"] = item, result
    response = client.post_form("/r/work_permit/add", data)
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[-400:]
    listing = client.get("/r/work_permit/list/").get_data(as_text=True)
    return max(int(i) for i in re.findall(r"/r/work_permit/show/(\d+)", listing))


def test_a_permit_through_its_flow_with_every_refusal(permit_app, people):
    officer = client_for(permit_app, people["officer"])
    permit = _add_permit(officer, people["company_id"], checks=[("气体检测合格", "ok"), ("监护人到场", "fail")])
    assert state_of(permit_app, "work_permit", permit) == "requested"  # the state field is named 'stage' here

    page = take(client_for(permit_app, people["neighbour_officer"]), "work_permit", permit, "check")
    assert "登记该记录的单位" in alerts(page.get_data(as_text=True))
    take(officer, "work_permit", permit, "check")

    # approval belongs to the unit directly above the one that registered the permit
    page = take(client_for(permit_app, people["county_chief"]), "work_permit", permit, "approve")
    assert "上级单位" in alerts(page.get_data(as_text=True))
    city = client_for(permit_app, people["city_chief"])
    assert buttons(city.get(f"/r/work_permit/show/{permit}").get_data(as_text=True)) == ["approve", "cancel"]
    take(city, "work_permit", permit, "approve")
    assert stored(permit_app, "work_permit", permit).approved_by == people["city_chief"]
    owner = client_for(permit_app, people["owner"])
    assert "动火作业已批准" in inbox(owner)

    # the company starts the work with its signature
    assert "签名" in alerts(take(owner, "work_permit", permit, "start").get_data(as_text=True))
    take(owner, "work_permit", permit, "start", signature=("监护人签名.png", PNG))
    assert state_of(permit_app, "work_permit", permit) == "working"

    # closing: comment required, copied into the row; failed checks become findings; the company is flagged
    assert "意见" in alerts(take(officer, "work_permit", permit, "close").get_data(as_text=True))
    take(officer, "work_permit", permit, "close", comment="作业结束，现场已清理")
    row = stored(permit_app, "work_permit", permit)
    assert row.stage == "closed" and row.closing_note == "作业结束，现场已清理"
    svc = permit_app.extensions["safety"]
    findings = svc.models["permit_finding"]
    with permit_app.app_context():
        made = [(f.finding, f.permit_id, f.company_id, f.noted_by, f.due_on) for f in svc.session.scalars(
            select(findings).execution_options(include_all_rows=True))]
    assert made == [("监护人到场", permit, people["company_id"], people["officer"], date.today() + timedelta(days=7))]
    assert stored(permit_app, "company", people["company_id"]).rating == "needs review"
    assert [h.to_state for h in history(permit_app, "work_permit", permit)] == \
        ["checked", "approved", "working", "closed"]


def test_a_permit_cannot_start_after_its_validity(permit_app, people):
    officer = client_for(permit_app, people["officer"])
    permit = _add_permit(officer, people["company_id"], code="DH-2026-002",
                         valid_until=date.today() - timedelta(days=1))
    take(officer, "work_permit", permit, "check")
    take(client_for(permit_app, people["city_chief"]), "work_permit", permit, "approve")
    owner = client_for(permit_app, people["owner"])
    assert buttons(owner.get(f"/r/work_permit/show/{permit}").get_data(as_text=True)) == []
    page = take(owner, "work_permit", permit, "start", signature=("s.png", PNG)).get_data(as_text=True)
    assert "有效期至" in alerts(page)
    assert state_of(permit_app, "work_permit", permit) == "approved"


def test_a_batch_finishes_only_when_every_permit_is_closed_or_cancelled(permit_app, people):
    officer = client_for(permit_app, people["officer"])
    assert officer.post_form("/r/permit_batch/add", {"batch_name": "十一月检修", "area": "320411"}).status_code == 302
    listing = officer.get("/r/permit_batch/list/").get_data(as_text=True)
    batch = max(int(i) for i in re.findall(r"/r/permit_batch/show/(\d+)", listing))
    first = _add_permit(officer, people["company_id"], code="DH-B-1", batch=batch)
    second = _add_permit(officer, people["company_id"], code="DH-B-2", batch=batch)
    assert buttons(officer.get(f"/r/permit_batch/show/{batch}").get_data(as_text=True)) == []
    page = take(officer, "permit_batch", batch, "finish").get_data(as_text=True)
    assert "已关闭" in alerts(page) and "已作废" in alerts(page)
    take(officer, "work_permit", first, "cancel", comment="取消检修")
    assert state_of(permit_app, "permit_batch", batch) == "open"
    assert buttons(officer.get(f"/r/permit_batch/show/{batch}").get_data(as_text=True)) == []
    take(officer, "work_permit", second, "cancel", comment="合并到下批")
    take(officer, "permit_batch", batch, "finish")
    assert state_of(permit_app, "permit_batch", batch) == "done"


def _workbook(client, rows, register="work_permit"):
    template = client.get(f"/r/{register}/template").data
    wb = openpyxl.load_workbook(io.BytesIO(template))
    for row in rows:
        wb.worksheets[1].append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


def test_an_import_cannot_change_what_a_state_froze(permit_app, people):
    officer = client_for(permit_app, people["officer"])
    frozen = _add_permit(officer, people["company_id"], code="DH-I-1")
    take(officer, "work_permit", frozen, "check")  # checked: company and risk are frozen
    open_one = _add_permit(officer, people["company_id"], code="DH-I-2")
    company = stored(permit_app, "company", people["company_id"]).title
    later = (date.today() + timedelta(days=9)).isoformat()
    rows = [["改名后的作业", "DH-I-1", company, "低风险", later], ["第二张改名", "DH-I-2", company, "低风险", later]]
    response = officer.post_form("/r/work_permit/import", {"file": (_workbook(officer, rows), "作业票.xlsx"),
                                                            "mode": "upsert"},
                                 page_url="/r/work_permit/import", content_type="multipart/form-data")
    assert response.status_code == 302
    page = visible_text(officer.get(response.headers["Location"]).get_data(as_text=True))
    assert "已核验" in page and "不能再修改" in page
    # nothing was written: the open permit is unchanged too
    assert stored(permit_app, "work_permit", open_one).title == "储罐区动火作业"
    assert stored(permit_app, "work_permit", frozen).risk == "high"

    rows = [["改名后的作业", "DH-I-1", company, "高风险", later], ["第二张改名", "DH-I-2", company, "低风险", later]]
    response = officer.post_form("/r/work_permit/import", {"file": (_workbook(officer, rows), "作业票.xlsx"),
                                                            "mode": "upsert"},
                                 page_url="/r/work_permit/import", content_type="multipart/form-data")
    page = visible_text(officer.get(response.headers["Location"]).get_data(as_text=True))
    assert stored(permit_app, "work_permit", frozen).title == "改名后的作业"  # title is not frozen when checked
    assert stored(permit_app, "work_permit", open_one).risk == "low"
    assert state_of(permit_app, "work_permit", frozen) == "checked"


def test_the_to_do_list_follows_roles_scope_and_conditions(permit_app, people):
    officer = client_for(permit_app, people["officer"])
    first = _add_permit(officer, people["company_id"], code="DH-T-1")
    _add_permit(officer, people["company_id"], code="DH-T-2")
    take(officer, "work_permit", first, "check")
    city = client_for(permit_app, people["city_chief"])
    county_chief = client_for(permit_app, people["county_chief"])
    todo = city.get("/workflow/todo").get_data(as_text=True)
    # the city chief: approve the checked one (it is from the unit below) and cancel either
    group = re.search(r'id="todo-work_permit".*?</table>', todo, re.S).group(0)
    assert group.count('class="todo-row"') == 2
    home = city.get("/").get_data(as_text=True)
    assert re.search(r'data-register="work_permit".*?todo-count">2<', home, re.S)
    # the owner has nothing to do until a permit is approved
    owner = client_for(permit_app, people["owner"])
    assert "todo-work_permit" not in owner.get("/workflow/todo").get_data(as_text=True)
    take(city, "work_permit", first, "approve")
    todo = owner.get("/workflow/todo").get_data(as_text=True)
    assert len(re.findall(r'class="todo-row"', re.search(r'id="todo-work_permit".*?</table>', todo, re.S).group(0))) == 1
    assert "todo-work_permit" in county_chief.get("/workflow/todo").get_data(as_text=True)  # may cancel DH-T-2


def test_findings_are_frozen_while_their_permit_is_cancelled(permit_app, people):
    """frozen_while on a register without a workflow of its own, with the default reason, for the administrator
    too: form edit, API edit, delete, and a new row pointing to the cancelled permit are all refused."""
    from tests.conftest import ADMIN_PASSWORD
    from tests.helpers import FormClient, login
    officer = client_for(permit_app, people["officer"])
    permit = _add_permit(officer, people["company_id"], code="DH-F-1")
    admin = FormClient(permit_app.test_client())
    login(admin, "admin", ADMIN_PASSWORD)
    form = {"finding": "灭火器过期", "permit": str(permit), "company": str(people["company_id"])}
    assert admin.post_form("/r/permit_finding/add", form).status_code == 302
    svc = permit_app.extensions["safety"]
    with permit_app.app_context():
        finding = svc.session.scalars(select(svc.models["permit_finding"].id)
                                      .execution_options(include_all_rows=True)).one()
    take(client_for(permit_app, people["county_chief"]), "work_permit", permit, "cancel", comment="作业取消")
    assert state_of(permit_app, "work_permit", permit) == "cancelled"
    reason = "作业票为“已作废”，本记录不能再修改。"

    page = admin.get(f"/r/permit_finding/show/{finding}").get_data(as_text=True)
    assert f"/r/permit_finding/edit/{finding}" not in page and f"/r/permit_finding/delete/{finding}" not in page
    assert reason in alerts(admin.get(f"/r/permit_finding/edit/{finding}", follow_redirects=True)
                            .get_data(as_text=True))
    page = admin.post_form(f"/r/permit_finding/edit/{finding}", {**form, "finding": "改过"},
                           page_url="/workflow/inbox", follow_redirects=True).get_data(as_text=True)
    assert reason in alerts(page)
    auth = {"Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()}
    response = admin.client.put(f"/api/v1/permit_finding/{finding}", json={"finding": "改过"}, headers=auth)
    assert response.status_code == 409 and response.get_json()["message"] == reason
    page = admin.post_form(f"/r/permit_finding/delete/{finding}", {}, page_url="/workflow/inbox",
                           follow_redirects=True).get_data(as_text=True)
    assert reason in alerts(page)
    assert admin.client.delete(f"/api/v1/permit_finding/{finding}", headers=auth).status_code == 409
    assert stored(permit_app, "permit_finding", finding).finding == "灭火器过期"
    page = admin.post_form("/r/permit_finding/add", {**form, "finding": "新问题"}, follow_redirects=True)
    assert reason in alerts(page.get_data(as_text=True))
    with permit_app.app_context():
        assert svc.session.scalars(select(svc.models["permit_finding"].finding)
                                   .execution_options(include_all_rows=True)).all() == ["灭火器过期"]


def test_a_permit_waiting_for_its_reading_is_in_the_officers_to_do_list(permit_app, people):
    """A state's `todo`: the row no step can be taken on yet (its gas reading is empty) waits for the officers
    who may edit it, labelled 待填检测值 and opening on its form; once filled in, it waits for the step."""
    officer = client_for(permit_app, people["officer"])
    permit = _add_permit(officer, people["company_id"], code="DH-E-1", gas_reading=None)
    page = officer.get(f"/r/work_permit/show/{permit}").get_data(as_text=True)
    assert "check" not in buttons(page)
    todo = officer.get("/workflow/todo").get_data(as_text=True)
    group = re.search(r'id="todo-work_permit".*?</table>', todo, re.S).group(0)
    assert f'href="/r/work_permit/edit/{permit}"' in group and "待填检测值" in group
    # the owner only views permits, and the chiefs (who may cancel it) do not fill it in
    assert "todo-work_permit" not in client_for(permit_app, people["owner"]).get("/workflow/todo") \
        .get_data(as_text=True)
    city = client_for(permit_app, people["city_chief"]).get("/workflow/todo").get_data(as_text=True)
    assert f"/r/work_permit/show/{permit}" in city and "待填检测值" not in city

    form = {"title": "储罐区动火作业", "code": "DH-E-1", "company": str(people["company_id"]), "risk": "high",
            "valid_until": (date.today() + timedelta(days=5)).isoformat(), "gas_reading": "0.3"}
    assert officer.post_form(f"/r/work_permit/edit/{permit}", form).status_code == 302
    todo = officer.get("/workflow/todo").get_data(as_text=True)
    group = re.search(r'id="todo-work_permit".*?</table>', todo, re.S).group(0)
    assert f'href="/r/work_permit/show/{permit}"' in group and "待填检测值" not in group
    assert "check" in buttons(officer.get(f"/r/work_permit/show/{permit}").get_data(as_text=True))


def test_a_patrol_taken_again_updates_its_findings_and_closing_closes_every_finding(permit_app, people):
    """`remember` on a create effect: the finding a failing check got is kept on the check, so patrolling again
    (and closing) updates it instead of making a second one; `update: rows` writes every finding pointing to
    the permit that is not closed yet."""
    officer = client_for(permit_app, people["officer"])
    permit = _add_permit(officer, people["company_id"], code="DH-R-1",
                         checks=[("气体检测合格", "ok"), ("监护人到场", "fail"), ("灭火器到位", "fail")])
    take(officer, "work_permit", permit, "check")
    take(client_for(permit_app, people["city_chief"]), "work_permit", permit, "approve")
    take(client_for(permit_app, people["owner"]), "work_permit", permit, "start", signature=("签名.png", PNG))
    svc = permit_app.extensions["safety"]
    findings, checks = svc.models["permit_finding"], svc.models["permit_check"]

    def made():
        with permit_app.app_context():
            rows = svc.session.scalars(select(findings).order_by(findings.id)
                                       .execution_options(include_all_rows=True)).all()
            kept = dict(svc.session.execute(select(checks.item, checks.finding_id)
                                            .execution_options(include_all_rows=True)).all())
            return [(f.id, f.finding, f.noted_by, f.due_on, f.closed_on) for f in rows], kept

    take(officer, "work_permit", permit, "patrol")
    first, kept = made()
    assert [(f[1], f[2], f[3]) for f in first] == [("监护人到场", None, date.today() + timedelta(days=3)),
                                                   ("灭火器到位", None, date.today() + timedelta(days=3)),
                                                   ("高风险作业巡查", people["officer"], date.today())]
    assert kept == {"气体检测合格": None, "监护人到场": first[0][0], "灭火器到位": first[1][0]}
    assert stored(permit_app, "work_permit", permit).patrol_record_id == first[2][0]
    # someone moved a deadline; patrolling again brings it back and makes nothing new
    with permit_app.app_context():
        svc.session.get(findings, first[0][0]).due_on = date.today() + timedelta(days=30)
        svc.session.commit()
    take(officer, "work_permit", permit, "patrol")
    again, _kept = made()
    assert [(f[0], f[3]) for f in again] == [(first[0][0], date.today() + timedelta(days=3)),
                                             (first[1][0], date.today() + timedelta(days=3)),
                                             (first[2][0], date.today())]
    assert stored(permit_app, "work_permit", permit).patrol_record_id == first[2][0]
    # a finding written by hand, already closed earlier, keeps its date; the rest close with the permit
    with permit_app.app_context():
        svc.session.add(findings(finding="动火点周边有可燃物", permit_id=permit, company_id=people["company_id"],
                                 closed_on=date.today() - timedelta(days=1)))
        svc.session.commit()
    take(officer, "work_permit", permit, "close", comment="作业结束")
    final, _kept = made()
    assert [(f[1], f[2], f[3], f[4]) for f in final] == [
        ("监护人到场", people["officer"], date.today() + timedelta(days=7), date.today()),
        ("灭火器到位", people["officer"], date.today() + timedelta(days=7), date.today()),
        ("高风险作业巡查", people["officer"], date.today(), date.today()),
        ("动火点周边有可燃物", None, None, date.today() - timedelta(days=1))]


def test_an_import_updating_a_row_keeps_a_reference_the_importer_cannot_see(permit_app, people):
    """Like the form and the API: an imported update may keep a reference to a row the user does not see (his
    unit's note on a company of another sector); naming such a row anew is refused by row and column."""
    from app.security.actor import actor_for
    svc = permit_app.extensions["safety"]
    officer = client_for(permit_app, people["officer"])
    with permit_app.app_context():
        unit_id = actor_for(permit_app.appbuilder.sm.find_user(username=people["officer"])).organisation_id
        housing = factory.make_row(svc, "company", {"area": factory.HOME_TOWNSHIP, "sector": "housing"})
        other = factory.make_row(svc, "company", {"area": factory.HOME_TOWNSHIP, "sector": "housing"})
        factory.make_row(svc, "permit_note", {"code": "BZ-1", "company": housing, "note": "旧备注"},
                         organisation_id=unit_id)
        housing_id, housing_title, other_title = housing.id, housing.title, other.title
    assert officer.get(f"/r/company/show/{housing_id}").status_code in (403, 404)  # not his sector's

    def upload(rows):
        response = officer.post_form("/r/permit_note/import", {"file": (_workbook(officer, rows, "permit_note"), "备注.xlsx"),
                                                                "mode": "upsert"},
                                     page_url="/r/permit_note/import", content_type="multipart/form-data")
        assert response.status_code == 302
        return visible_text(officer.get(response.headers["Location"]).get_data(as_text=True))

    def notes():
        with permit_app.app_context():
            model = svc.models["permit_note"]
            return svc.session.execute(select(model.code, model.company_id, model.note).order_by(model.id)
                                       .execution_options(include_all_rows=True)).all()

    # moving the note to another company he cannot see: refused on the row, nothing written
    page = upload([["BZ-1", other_title, "改到另一家"]])
    assert f"“{other_title}”不存在或无权访问" in page
    # a new note naming a company he cannot see: refused (there is no reference to keep)
    page = upload([["BZ-2", housing_title, "新的一条"]])
    assert f"“{housing_title}”不存在或无权访问" in page
    assert notes() == [("BZ-1", housing_id, "旧备注")]
    # the note keeps its company: saved
    page = upload([["BZ-1", housing_title, "已复核"]])
    assert "不存在或无权访问" not in page
    assert notes() == [("BZ-1", housing_id, "已复核")]
