"""执法 (001 §10): a plan approved then executed cannot be deleted; an on-site inspection is editable while
saved and frozen once submitted, its 不满足 items becoming hazards; a case goes 立案 (approved with a signature)
→ 处罚 → 缴款 → 结案 → 归档, its page showing the flow chart with the current step."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.helpers import visible_text
from tests.security import factory

from .helpers import PDF, PNG, alerts, buttons, client_for, history, inbox, state_of, stored, take


@pytest.fixture
def county(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        other = factory.make_org(svc)  # another organisation with the same jurisdiction
        enterprise = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        return {"inspector": factory.make_user(db_app, "inspector", home).username,
                "regulator": factory.make_user(db_app, "regulator", home).username,
                "admin": factory.make_user(db_app, "org_admin", home).username,
                "other_inspector": factory.make_user(db_app, "inspector", other).username,
                "enterprise": factory.make_user(db_app, "enterprise_user", enterprise_key=enterprise.uscc).username,
                "enterprise_id": enterprise.id}


def _new_id(client, register: str) -> int:
    listing = client.get(f"/r/{register}/list/").get_data(as_text=True)
    return max(int(i) for i in re.findall(rf'/r/{register}/show/(\d+)', listing))


def test_a_plan_is_approved_by_its_own_administrator_and_kept_once_approved(db_app, county):
    inspector = client_for(db_app, county["inspector"])
    admin = client_for(db_app, county["admin"])
    plan_form = {"name": "2026年度危险化学品执法检查计划", "year": "2026", "starts_on": "2026-03-01",
                 "ends_on": "2026-11-30", "region": factory.HOME_REGION, "department": "emergency",
                 "planned_count": "40", "scheme": "按检查清单逐项检查，每组两名执法人员"}
    assert inspector.post_form("/r/enforcement_plan/add", {**plan_form, "scheme": ""}).status_code == 302
    plan = _new_id(inspector, "enforcement_plan")
    # the 检查方案 is approved with the plan: no submitting without it
    page = take(inspector, "enforcement_plan", plan, "submit").get_data(as_text=True)
    assert "检查方案" in alerts(page) and state_of(db_app, "enforcement_plan", plan) == "draft"
    inspector.post_form(f"/r/enforcement_plan/edit/{plan}", plan_form)
    take(inspector, "enforcement_plan", plan, "submit")
    # under approval the whole plan is frozen
    page = inspector.get(f"/r/enforcement_plan/edit/{plan}", follow_redirects=True).get_data(as_text=True)
    assert "不能再修改" in alerts(page)
    take(admin, "enforcement_plan", plan, "send_back", comment="检查企业数偏少")
    assert state_of(db_app, "enforcement_plan", plan) == "draft"
    inspector.post_form(f"/r/enforcement_plan/edit/{plan}", {**plan_form, "planned_count": "60"})
    take(inspector, "enforcement_plan", plan, "submit")
    # another organisation's inspector, same jurisdiction, cannot execute it
    other = client_for(db_app, county["other_inspector"])
    take(admin, "enforcement_plan", plan, "approve")
    page = take(other, "enforcement_plan", plan, "execute").get_data(as_text=True)
    assert "登记该记录的单位" in alerts(page)
    response = admin.post_form(f"/r/enforcement_plan/delete/{plan}", {}, page_url="/workflow/inbox",
                               follow_redirects=True)
    assert "不能删除" in alerts(response.get_data(as_text=True))
    take(inspector, "enforcement_plan", plan, "execute")
    row = stored(db_app, "enforcement_plan", plan)
    assert row.state == "executed" and row.executed_on == date.today() and row.planned_count == 60


def test_a_submitted_inspection_is_frozen_and_its_failed_items_become_hazards(db_app, county):
    inspector = client_for(db_app, county["inspector"])
    form = {"title": "常州华锦新材料有限公司2026年第四季度检查", "enterprise": str(county["enterprise_id"]),
            "kind": "independent", "inspected_on": date.today().isoformat(), "inspectors": "王强、李娜",
            "items-0-content": "甲类仓库应设置可燃气体报警装置", "items-0-result": "fail",
            "items-0-problem": "报警装置缺失", "items-0-location": "甲类仓库",
            "items-1-content": "安全出口应保持畅通", "items-1-result": "pass",
            "items-2-content": "动火作业应办理作业票", "items-2-result": "fail", "items-2-problem": "无作业票"}
    assert inspector.post_form("/r/inspection/add", form).status_code == 302
    inspection = _new_id(inspector, "inspection")

    # saved: still editable (an item's result is corrected)
    row = stored(db_app, "inspection", inspection)
    assert row.state == "saved"
    ids = {item.content: item.id for item in _items(db_app, inspection)}
    edited = {**form, "items-0-id": str(ids["甲类仓库应设置可燃气体报警装置"]),
              "items-1-id": str(ids["安全出口应保持畅通"]), "items-2-id": str(ids["动火作业应办理作业票"]),
              "items-1-result": "fail", "items-1-problem": "安全出口堆放杂物"}
    assert inspector.post_form(f"/r/inspection/edit/{inspection}", edited).status_code == 302

    take(inspector, "inspection", inspection, "submit")
    assert state_of(db_app, "inspection", inspection) == "submitted"
    svc = db_app.extensions["safety"]
    model = svc.models["hazard"]
    with db_app.app_context():
        hazards = list(svc.session.scalars(select(model).where(model.inspection_id == inspection)
                                           .order_by(model.id).execution_options(include_all_rows=True)))
        created = [(h.description, h.cause, h.enterprise_id, h.source, h.state, h.rectify_by) for h in hazards]
    assert created == [
        ("甲类仓库应设置可燃气体报警装置", "报警装置缺失", county["enterprise_id"], "inspection", "pending",
         date.today() + timedelta(days=30)),
        ("安全出口应保持畅通", "安全出口堆放杂物", county["enterprise_id"], "inspection", "pending",
         date.today() + timedelta(days=30)),
        ("动火作业应办理作业票", "无作业票", county["enterprise_id"], "inspection", "pending",
         date.today() + timedelta(days=30))]
    company = client_for(db_app, county["enterprise"])
    assert "不满足项已生成隐患" in inbox(company)
    # the enterprise finds them in its hazard list, with its button to submit the rectification
    listing = visible_text(company.get("/r/hazard/list/").get_data(as_text=True))
    assert "动火作业应办理作业票" in listing

    # submitted = frozen: no edit screen, an item cannot be changed by any path, nor the record deleted
    page = inspector.get(f"/r/inspection/edit/{inspection}", follow_redirects=True).get_data(as_text=True)
    assert "不能再修改" in alerts(page)
    from app.security.actor import acting_as, actor_for
    from app.workflow import WorkflowRefused
    with db_app.app_context():
        user = db_app.appbuilder.sm.find_user(username=county["inspector"])
        with acting_as(actor_for(user)):
            item = svc.session.get(svc.models["inspection_item"], ids["安全出口应保持畅通"])
            item.result = "pass"
            with pytest.raises(WorkflowRefused):
                svc.session.commit()
            svc.session.rollback()
    assert {i.result for i in _items(db_app, inspection)} == {"fail"}
    # the enterprise sees the submitted record but has no button on it
    assert buttons(company.get(f"/r/inspection/show/{inspection}").get_data(as_text=True)) == []


def _items(db_app, inspection_id):
    svc = db_app.extensions["safety"]
    model = svc.models["inspection_item"]
    with db_app.app_context():
        items = list(svc.session.scalars(select(model).where(model.parent_id == inspection_id).order_by(model.id)
                                         .execution_options(include_all_rows=True)))
        svc.session.expunge_all()
        return items


def test_a_case_from_filing_to_archive(db_app, county):
    inspector = client_for(db_app, county["inspector"])
    admin = client_for(db_app, county["admin"])
    form = {"case_name": "未按规定设置可燃气体报警装置案", "enterprise": str(county["enterprise_id"]),
            "facts": "2026年11月现场检查发现甲类仓库未设置可燃气体报警装置"}
    assert inspector.post_form("/r/enforcement_case/add", form).status_code == 302
    case = _new_id(inspector, "enforcement_case")
    take(inspector, "enforcement_case", case, "apply")

    # 立案 approval: the case number first, then the approver's signature
    page = take(admin, "enforcement_case", case, "approve_filing").get_data(as_text=True)
    assert "案号" in alerts(page)
    assert admin.post_form(f"/r/enforcement_case/edit/{case}", {**form, "case_number": "常新应急立〔2026〕12号"}
                           ).status_code == 302
    assert stored(db_app, "enforcement_case", case).facts == form["facts"]  # frozen while under approval
    page = take(admin, "enforcement_case", case, "approve_filing").get_data(as_text=True)
    assert "签名" in alerts(page)
    page = take(admin, "enforcement_case", case, "approve_filing", signature=("签名.gif", b"GIF89a")).get_data(
        as_text=True)
    assert "文件类型" in alerts(page)
    take(admin, "enforcement_case", case, "approve_filing", signature=("签名.png", PNG))
    assert state_of(db_app, "enforcement_case", case) == "filed"

    # 处罚 needs the decision and the fine: the page shows the step greyed out with what is missing
    page = inspector.get(f"/r/enforcement_case/show/{case}").get_data(as_text=True)
    assert 'class="btn btn-default btn-sm workflow-blocked" disabled' in page
    assert "只有处罚决定为已填写时才能办理“作出处罚决定”" in visible_text(page)
    # 缴款 needs the receipt; 结案 the closure report as PDF
    page = take(inspector, "enforcement_case", case, "decide").get_data(as_text=True)
    assert "处罚决定" in alerts(page)
    inspector.post_form(f"/r/enforcement_case/edit/{case}", {
        **form, "case_number": "常新应急立〔2026〕12号", "basis": "《危险化学品安全管理条例》第八十条",
        "decision": "责令限期改正，罚款人民币伍万元", "fine": "50000"})
    take(inspector, "enforcement_case", case, "decide")
    take(inspector, "enforcement_case", case, "confirm_payment", files=[("缴款凭证.jpg", PNG)])
    page = take(admin, "enforcement_case", case, "close", files=[("结案报告.png", PNG)]).get_data(as_text=True)
    assert "文件类型" in alerts(page)
    take(admin, "enforcement_case", case, "close", files=[("结案报告.pdf", PDF)])
    assert "角色" in alerts(take(inspector, "enforcement_case", case, "archive").get_data(as_text=True))
    take(admin, "enforcement_case", case, "archive")
    row = stored(db_app, "enforcement_case", case)
    assert row.state == "archived" and row.paid_on == date.today() and row.closed_on == date.today()
    assert [h.to_state for h in history(db_app, "enforcement_case", case)] == \
        ["filing_review", "filed", "penalised", "paid", "closed", "archived"]
    signed = history(db_app, "enforcement_case", case)[1]
    assert signed.signature and signed.signature["name"] == "签名.png"

    # the case's page: the flow chart names every step and lights the current one; the timeline lists them
    page = inspector.get(f"/r/enforcement_case/show/{case}").get_data(as_text=True)
    diagram = re.search(r'<div class="workflow-diagram"[^>]*>(.*?)</div>', page, re.S).group(1)
    for label in ("立案申请", "立案审批", "已立案", "处罚执行", "罚款已缴纳", "已结案", "已归档"):
        assert label in diagram
    current = re.search(r'<g [^>]*data-state="archived"[^>]*>', diagram).group(0)
    assert "current" in current
    timeline = visible_text(re.search(r'id="workflow-timeline"(.*?)</ul>', page, re.S).group(1))
    assert "批准立案" in timeline and "签名" in timeline and "结案报告.pdf" in timeline
