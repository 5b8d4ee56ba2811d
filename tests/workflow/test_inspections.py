"""Inspections that follow a checklist (issue 13): items copied in order, progress counted, 不满足 items becoming
hazards with the person and deadline set at the check; joint inspections accepted or refused by the invited
organisations, with the deadline warning; 隐患移交 accepted by the receiving organisation; 归口通报's read state."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import visible_text
from tests.security import factory

from .helpers import alerts, buttons, client_for, inbox, state_of, stored, take
from .test_enforcement_flow import _items


@pytest.fixture
def city(db_app):
    """A lead organisation and two others of the same jurisdiction (the housing bureau, a county bureau)."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        lead = factory.make_org(svc)
        housing = factory.make_org(svc, department="housing")
        county = factory.make_org(svc)
        enterprise = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        checklist = factory.make_row(svc, "checklist", {"name": "危险化学品经营企业安全检查清单", "items": []})
        child = svc.models["checklist_item"]
        checklist.items = [
            child(stage="证照资料", content="危险化学品经营许可证在有效期内", basis="《危险化学品经营许可证管理办法》第三条"),
            child(stage="储存场所", content="危险化学品储存在专用仓库内，并设置明显标志", basis="《危险化学品安全管理条例》第二十四条"),
            child(stage="应急管理", content="制定应急预案并定期演练", basis="《生产安全事故应急预案管理办法》第三十三条")]
        svc.session.commit()
        return {"lead": factory.make_user(db_app, "inspector", lead).username,
                "housing": factory.make_user(db_app, "inspector", housing).username,
                "county": factory.make_user(db_app, "regulator", county).username,
                "housing_id": housing.id, "county_id": county.id, "enterprise_id": enterprise.id,
                "checklist_id": checklist.id}


def _new_id(client, register: str) -> int:
    listing = client.get(f"/r/{register}/list/").get_data(as_text=True)
    return max(int(i) for i in re.findall(rf'/r/{register}/show/(\d+)', listing))


def _inspection(client, city, **extra) -> int:
    form = {"title": "华锦新材料季度检查", "enterprise": str(city["enterprise_id"]), "kind": "independent",
            "inspected_on": date.today().isoformat(), "inspectors": "王强、李娜", **extra}
    response = client.post_form("/r/inspection/add", form)
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[:3000]
    return _new_id(client, "inspection")


def test_an_inspection_from_a_checklist_gets_its_items_in_order_and_failed_ones_become_hazards(db_app, city):
    lead = client_for(db_app, city["lead"])
    inspection = _inspection(lead, city, checklist=str(city["checklist_id"]))
    row = stored(db_app, "inspection", inspection)
    items = _items(db_app, inspection)
    assert [(i.stage, i.content) for i in items] == [
        ("证照资料", "危险化学品经营许可证在有效期内"), ("储存场所", "危险化学品储存在专用仓库内，并设置明显标志"),
        ("应急管理", "制定应急预案并定期演练")]
    assert items[1].basis == "《危险化学品安全管理条例》第二十四条"
    assert (row.items_done, row.items_total) == (0, 3)
    page = lead.get("/r/inspection/list/").get_data(as_text=True)
    assert "已检查项目数" in page

    # 保存: the results are recorded on the edit form, the second item 不满足 with its person and deadline
    deadline = date.today() + timedelta(days=12)
    form = {"title": row.title, "enterprise": str(city["enterprise_id"]), "kind": "independent",
            "inspected_on": date.today().isoformat(), "inspectors": "王强、李娜", "checklist": str(city["checklist_id"])}
    for n, item in enumerate(items):
        form |= {f"items-{n}-id": str(item.id), f"items-{n}-content": item.content, f"items-{n}-stage": item.stage,
                 f"items-{n}-result": "pass"}
    form |= {"items-1-result": "fail", "items-1-problem": "仓库未设置明显标志", "items-1-responsible_person": "张敏",
             "items-1-rectify_by": deadline.isoformat(), "items-2-result": ""}
    assert lead.post_form(f"/r/inspection/edit/{inspection}", form).status_code == 302
    row = stored(db_app, "inspection", inspection)
    assert (row.items_done, row.items_total) == (2, 3)
    assert "2" in lead.get(f"/r/inspection/show/{inspection}").get_data(as_text=True)

    take(lead, "inspection", inspection, "submit")
    assert state_of(db_app, "inspection", inspection) == "submitted"
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        hazards = list(svc.session.scalars(select(svc.models["hazard"]).execution_options(include_all_rows=True)))
        assert [(h.description, h.responsible_person, h.rectify_by, h.inspection_id) for h in hazards] == [
            ("危险化学品储存在专用仓库内，并设置明显标志", "张敏", deadline, inspection)]
    assert "危险化学品储存在专用仓库内" in lead.get("/r/hazard/list/").get_data(as_text=True)


def test_a_joint_inspection_starts_when_every_invited_organisation_has_answered(db_app, city):
    lead = client_for(db_app, city["lead"])
    inspection = _inspection(lead, city, kind="joint", reply_by=(date.today() + timedelta(days=3)).isoformat(),
                             **{"items-0-content": "燃气管道无泄漏",
                                "invited-0-organisation_invited": str(city["housing_id"]),
                                "invited-1-organisation_invited": str(city["county_id"])})
    # a joint inspection is not submitted before it started
    assert "submit" not in buttons(lead.get(f"/r/inspection/show/{inspection}").get_data(as_text=True))
    take(lead, "inspection", inspection, "invite")
    assert state_of(db_app, "inspection", inspection) == "inviting"
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models["inspection_invitation"]
        invitations = {i.invitee_id: i.id for i in svc.session.scalars(
            select(model).execution_options(include_all_rows=True))}
    assert set(invitations) == {city["housing_id"], city["county_id"]}

    housing = client_for(db_app, city["housing"])
    county = client_for(db_app, city["county"])
    assert "联合检查邀请" in inbox(housing)
    # the lead cannot answer for an invited organisation
    page = take(lead, "inspection_invitation", invitations[city["housing_id"]], "accept").get_data(as_text=True)
    assert "受邀单位" in alerts(page)
    take(housing, "inspection_invitation", invitations[city["housing_id"]], "accept")
    # one answered: the inspection cannot start yet
    page = take(lead, "inspection", inspection, "start").get_data(as_text=True)
    assert "已接受" in alerts(page) and state_of(db_app, "inspection", inspection) == "inviting"
    # a refusal needs its reason
    take(county, "inspection_invitation", invitations[city["county_id"]], "refuse")
    assert state_of(db_app, "inspection_invitation", invitations[city["county_id"]]) == "pending"
    take(county, "inspection_invitation", invitations[city["county_id"]], "refuse", comment="同期开展专项执法，人员不足")
    refused = stored(db_app, "inspection_invitation", invitations[city["county_id"]])
    assert refused.state == "refused" and refused.reason == "同期开展专项执法，人员不足"
    # the invited organisation reads the inspection it was invited to
    assert housing.get(f"/r/inspection/show/{inspection}").status_code == 200
    page = lead.get(f"/r/inspection/show/{inspection}").get_data(as_text=True)
    assert "同期开展专项执法，人员不足" in page

    take(lead, "inspection", inspection, "start")
    assert state_of(db_app, "inspection", inspection) == "started"
    take(lead, "inspection", inspection, "submit_joint")
    assert state_of(db_app, "inspection", inspection) == "submitted"


def test_an_unanswered_invitation_warns_once_its_deadline_passed(db_app, city):
    from app.workflow.warnings import scan_deadlines

    lead = client_for(db_app, city["lead"])
    inspection = _inspection(lead, city, kind="joint", reply_by=(date.today() - timedelta(days=1)).isoformat(),
                             **{"items-0-content": "燃气管道无泄漏",
                                "invited-0-organisation_invited": str(city["housing_id"])})
    take(lead, "inspection", inspection, "invite")
    # the warnings are computed after a user's change (app.alerts) or by the periodic scan, whichever runs first;
    # either way each is sent once: a second scan finds nothing more to send
    with db_app.app_context():
        scan_deadlines()
        assert scan_deadlines() == 0
    assert "已逾期1天（答复期限）：华锦新材料季度检查" in inbox(client_for(db_app, city["housing"]))
    assert "已逾期1天（邀请答复期限）：华锦新材料季度检查" in inbox(lead)
    # the lead may remind the organisation that has not answered
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        invitation = svc.session.scalar(select(svc.models["inspection_invitation"].id)
                                        .execution_options(include_all_rows=True))
    take(lead, "inspection_invitation", invitation, "remind")
    assert "尚未答复" in inbox(client_for(db_app, city["housing"]))


def test_a_hazard_handed_over_is_accepted_by_the_receiving_organisation(db_app, city):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        enterprise = svc.session.get(svc.models["enterprise"], city["enterprise_id"])
        hazard = factory.make_row(svc, "hazard", {"enterprise": enterprise, "description": "燃气调压箱锈蚀"},
                                  transfer_to_id=city["housing_id"]).id
    lead = client_for(db_app, city["lead"])
    take(lead, "hazard", hazard, "transfer", comment="属城镇燃气设施，归住建部门监管")
    with db_app.app_context():
        transfer = svc.session.scalar(select(svc.models["hazard_transfer"].id)
                                      .execution_options(include_all_rows=True))
    housing = client_for(db_app, city["housing"])
    assert "燃气调压箱锈蚀" in housing.get("/r/hazard_transfer/list/").get_data(as_text=True)
    assert "accept" not in buttons(lead.get(f"/r/hazard_transfer/show/{transfer}").get_data(as_text=True))
    take(housing, "hazard_transfer", transfer, "accept")
    assert state_of(db_app, "hazard_transfer", transfer) == "accepted"
    row = stored(db_app, "hazard", hazard)
    assert row.handled_by_id == city["housing_id"]
    assert "燃气调压箱锈蚀" in housing.get(f"/r/hazard/show/{hazard}").get_data(as_text=True)


def test_a_notice_is_unread_until_the_receiving_organisation_marks_it_read(db_app, city):
    lead = client_for(db_app, city["lead"])
    response = lead.post_form("/r/notice/add", {"title": "关于燃气企业隐患的归口通报", "receiver": str(city["housing_id"]),
                                                "content": "联合检查发现燃气调压箱锈蚀，请依法处理。"})
    assert response.status_code == 302
    notice = _new_id(lead, "notice")
    assert state_of(db_app, "notice", notice) == "unread"
    assert "mark_read" not in buttons(lead.get(f"/r/notice/show/{notice}").get_data(as_text=True))
    housing = client_for(db_app, city["housing"])
    assert "关于燃气企业隐患的归口通报" in housing.get("/r/notice/list/").get_data(as_text=True)
    take(housing, "notice", notice, "mark_read")
    row = stored(db_app, "notice", notice)
    assert row.state == "read" and row.read_on is not None and row.read_by
    assert "已阅" in lead.get("/r/notice/list/").get_data(as_text=True)


def test_the_api_copies_the_checklist_items_too(db_app, city):
    from tests.api.conftest import ApiClient

    api = ApiClient(db_app, city["lead"], factory.PASSWORD)
    made = api.post("/api/v1/inspection/", json={"title": "接口创建的检查", "enterprise": city["enterprise_id"],
                                                  "inspectors": "王强", "checklist": city["checklist_id"]})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert [i["stage"] for i in body["items"]] == ["证照资料", "储存场所", "应急管理"]
    assert (body["items_done"], body["items_total"]) == (0, 3)
    # items sent are kept as they are
    made = api.post("/api/v1/inspection/", json={"title": "自拟项目的检查", "enterprise": city["enterprise_id"],
                                                  "inspectors": "王强", "checklist": city["checklist_id"],
                                                  "items": [{"content": "安全出口畅通", "result": "pass"}]})
    assert [i["content"] for i in made.get_json()["items"]] == ["安全出口畅通"]
    assert (made.get_json()["items_done"], made.get_json()["items_total"]) == (1, 1)
