"""003 企业端 检查清单管理 and 检查计划管理: an enterprise keeps its own checklists (typed on the form or imported from a
filled template, one list per file) and plans its inspections along them, then records how each went; a plan not
executed by its end date warns it. Its regulators read both; other enterprises and other counties see nothing."""
from __future__ import annotations

import base64
import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.excel.workbook import fill
from tests.helpers import field_errors, visible_text
from tests.security import factory
from tests.workflow.helpers import alerts, buttons, client_for, has_input, inbox, state_of, stored, take

from .conftest import add, upload

TODAY = date.today()


@pytest.fixture
def people(db_app, county) -> dict[str, Any]:
    """The county of conftest plus a regulator of the same county, and an enterprise of another county (朝阳) with
    its account."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_row(svc, "enterprise", {"region": factory.AWAY_TOWNSHIP, "department": "emergency"})
        return {**county, "regulator": factory.make_user(db_app, "regulator", home).username,
                "away_enterprise": factory.make_user(db_app, "enterprise_user", enterprise_key=away.uscc).username,
                "away_enterprise_id": away.id}


def _api(client: Any, username: str, url: str) -> Any:
    token = base64.b64encode(f"{username}:{factory.PASSWORD}".encode()).decode()
    return client.get(url, headers={"Authorization": f"Basic {token}"})


def _checklist_form(name: str, items: list[tuple[str, str]], **extra: str) -> dict[str, str]:
    data = {"name": name, **extra}
    for i, (stage, content) in enumerate(items):
        data[f"items-{i}-stage"], data[f"items-{i}-content"] = stage, content
    return data


def _plan_form(checklist: int, **extra: str) -> dict[str, str]:
    return {"title": "季度全厂综合检查", "checklist": str(checklist), "check_type": "comprehensive",
            "starts_on": (TODAY - timedelta(days=1)).isoformat(), "ends_on": (TODAY + timedelta(days=3)).isoformat(),
            "leader": "王伟", "participants": "张敏、刘洋", "scope": "全厂", **extra}


def _blocked(html: str) -> list[str]:
    """The transition buttons the page shows greyed out (their labels)."""
    return [visible_text(b) for b in re.findall(r'class="btn [^"]*workflow-blocked"[^>]*>(.*?)</button>', html, re.S)]


def _open_warnings(db_app) -> list[tuple[str, int]]:
    svc = db_app.extensions["safety"]
    from app.workflow.warnings import scan_deadlines
    with db_app.app_context():
        scan_deadlines()
        Warning = svc.models.engine["Warning"]
        return [(w.rule, w.row_id) for w in svc.session.scalars(
            select(Warning).where(Warning.register == "enterprise_check_plan", Warning.state == "open"))]


def _warning_rows(client: Any) -> str:
    return visible_text(client.get("/warnings/?register=enterprise_check_plan&state=all").get_data(as_text=True))


def test_an_enterprise_imports_a_checklist_types_another_and_executes_a_plan_that_follows_it(db_app, people):
    company = client_for(db_app, people["enterprise"])
    eid = people["enterprise_id"]
    # the template's rows become the items of one checklist named after the file, of the uploader's enterprise
    template = company.get("/r/enterprise_checklist/template")
    assert template.status_code == 200
    rows = [["储罐区", "液氨储罐紧急切断阀完好有效", "《危险化学品重大危险源监督管理暂行规定》第十三条", "现场查看"],
            ["", "", "", ""], ["甲类仓库", "危险化学品分类分区存放，禁配物料不混存", None, "现场查看"]]
    page = upload(company, "enterprise_checklist", fill(template.data, rows), name="储罐区及仓库检查表.xlsx")
    assert "新增 2 条" in page, page[-400:]
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models["enterprise_checklist"]
        imported = svc.session.scalars(select(model).execution_options(include_all_rows=True)).one()
        assert (imported.name, imported.enterprise_id) == ("储罐区及仓库检查表", eid)
        assert [(i.stage, i.method) for i in imported.items] == [("储罐区", "现场查看"), ("甲类仓库", "现场查看")]
        imported_id = imported.id
    # a file without 检查环节 is refused on its cell, and writes nothing
    page = upload(company, "enterprise_checklist", fill(template.data, [["", "只有内容", "", ""]]), name="缺环节.xlsx")
    assert "检查环节" in page and "此项为必填项" in page
    with db_app.app_context():
        assert len(svc.session.scalars(select(model).execution_options(include_all_rows=True)).all()) == 1

    # typed on the form, derived from a guideline standard; the enterprise is the account's own, not chosen
    admin = client_for(db_app, people["admin"])
    guideline = add(admin, "self_check_standard", {
        "title": "危险化学品企业安全风险隐患排查指引", "enterprise_type": "hc_production", "department": "emergency",
        "issued_on": TODAY.isoformat()})
    form = company.get("/r/enterprise_checklist/add").get_data(as_text=True)
    assert not has_input(form, "enterprise") and has_input(form, "based_on")
    typed = add(company, "enterprise_checklist", _checklist_form(
        "特殊作业检查表", [("动火作业", "动火作业票证审批齐全，监护人在岗"), ("受限空间", "作业前检测氧含量和有毒气体")],
        based_on=str(guideline), scope="全厂"))
    assert stored(db_app, "enterprise_checklist", typed).enterprise_id == eid
    shown = visible_text(company.get(f"/r/enterprise_checklist/show/{typed}").get_data(as_text=True))
    assert "受限空间" in shown and "危险化学品企业安全风险隐患排查指引" in shown

    # a plan following the imported checklist; it waits for the enterprise (计划中)
    plan = add(company, "enterprise_check_plan", _plan_form(imported_id))
    row = stored(db_app, "enterprise_check_plan", plan)
    assert (row.enterprise_id, row.checklist_id, state_of(db_app, "enterprise_check_plan", plan)) == (
        eid, imported_id, "planned")
    related = visible_text(company.get(f"/r/enterprise_checklist/show/{imported_id}").get_data(as_text=True))
    assert "按本清单的检查计划" in related and "季度全厂综合检查" in related
    # 执行完毕 needs the execution date, the hazards found and how it went
    shown = company.get(f"/r/enterprise_check_plan/show/{plan}").get_data(as_text=True)
    assert buttons(shown) == [] and _blocked(shown) == ["执行完毕"]
    page = take(company, "enterprise_check_plan", plan, "execute").get_data(as_text=True)
    assert state_of(db_app, "enterprise_check_plan", plan) == "planned"
    assert "办理“执行完毕”前须提供：执行日期、发现隐患数、执行情况。" in alerts(page)
    filled = _plan_form(imported_id, executed_on=TODAY.isoformat(), hazards_found="0",
                        execution_summary="逐项检查，未发现隐患")
    page = company.post_form(f"/r/enterprise_check_plan/edit/{plan}",
                             # tomorrow as the app counts it now (TODAY is the day this module was imported:
                             # a run that crosses midnight would send today)
                             {**filled, "executed_on": (date.today() + timedelta(days=1)).isoformat()})
    assert "执行日期不能晚于今天" in field_errors(page.get_data(as_text=True), "executed_on")
    response = company.post_form(f"/r/enterprise_check_plan/edit/{plan}", filled)
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), "executed_on")
    assert buttons(company.get(f"/r/enterprise_check_plan/show/{plan}").get_data(as_text=True)) == ["execute"]
    take(company, "enterprise_check_plan", plan, "execute")
    assert state_of(db_app, "enterprise_check_plan", plan) == "executed"
    assert stored(db_app, "enterprise_check_plan", plan).hazards_found == 0
    # executed: kept as it is, neither changed nor deleted
    shown = company.get(f"/r/enterprise_check_plan/show/{plan}").get_data(as_text=True)
    assert f"/r/enterprise_check_plan/edit/{plan}" not in shown and buttons(shown) == []
    refused = company.get(f"/r/enterprise_check_plan/edit/{plan}", follow_redirects=True).get_data(as_text=True)
    assert "处于“已执行”状态的记录不能再修改。" in alerts(refused)
    company.post_form(f"/r/enterprise_check_plan/delete/{plan}", {}, page_url="/r/enterprise_check_plan/list/")
    assert state_of(db_app, "enterprise_check_plan", plan) == "executed"


def test_regulators_of_the_county_read_them_and_nobody_else_does(db_app, people):
    company = client_for(db_app, people["enterprise"])
    checklist = add(company, "enterprise_checklist", _checklist_form("全厂综合检查表", [("储罐区", "紧急切断阀完好有效")]))
    plan = add(company, "enterprise_check_plan", _plan_form(checklist, title="节假日前安全检查", check_type="holiday"))
    rows = {"enterprise_checklist": (checklist, "全厂综合检查表"), "enterprise_check_plan": (plan, "节假日前安全检查")}

    for role in ("regulator", "inspector", "admin"):
        client = client_for(db_app, people[role])
        for register, (row, text) in rows.items():
            assert text in visible_text(client.get(f"/r/{register}/list/").get_data(as_text=True)), (role, register)
            assert text in visible_text(client.get(f"/r/{register}/show/{row}").get_data(as_text=True)), (role, register)
            export = client.get(f"/r/{register}/export?format=csv")
            assert export.status_code == 200 and text in export.get_data(as_text=True), (role, register)
            items = _api(client, people[role], f"/api/v1/{register}/").get_json()["items"]
            assert [i["id"] for i in items] == [row], (role, register)
            if role != "admin":  # the county's administrator may correct them, as in the other self-service registers
                assert client.get(f"/r/{register}/edit/{row}").status_code == 403, (role, register)
                assert client.get(f"/r/{register}/add").status_code == 403, (role, register)
        shown = client.get(f"/r/enterprise_check_plan/show/{plan}").get_data(as_text=True)
        assert buttons(shown) == [] and _blocked(shown) == [], role   # executed by the enterprise only
        assert client.get("/r/enterprise_checklist/import").status_code == 403, role

    for outsider in ("other_enterprise", "away_enterprise", "away"):
        client = client_for(db_app, people[outsider])
        for register, (row, text) in rows.items():
            assert text not in visible_text(client.get(f"/r/{register}/list/").get_data(as_text=True)), outsider
            assert client.get(f"/r/{register}/show/{row}").status_code == 403, (outsider, register)
            export = client.get(f"/r/{register}/export?format=csv")
            assert export.status_code == 200 and text not in export.get_data(as_text=True), (outsider, register)
            assert _api(client, people[outsider], f"/api/v1/{register}/").get_json()["items"] == [], outsider
            assert _api(client, people[outsider], f"/api/v1/{register}/{row}").status_code == 404, outsider
            assert client.get(f"/r/{register}/edit/{row}").status_code == 403, (outsider, register)


def test_the_plan_offers_only_the_enterprises_own_checklists(db_app, people):
    mine = add(client_for(db_app, people["enterprise"]), "enterprise_checklist",
               _checklist_form("本企业检查表", [("储罐区", "紧急切断阀完好有效")]))
    neighbour = client_for(db_app, people["other_enterprise"])
    theirs = add(neighbour, "enterprise_checklist", _checklist_form("邻厂检查表", [("仓库", "分类存放")]))
    company = client_for(db_app, people["enterprise"])
    form = company.get("/r/enterprise_check_plan/add").get_data(as_text=True)
    assert "/r/enterprise_checklist/lookup" in form and not has_input(form, "enterprise")
    offered = company.get("/r/enterprise_checklist/lookup?q=&field=enterprise_check_plan.checklist").get_json()
    assert [r["id"] for r in offered["results"]] == [mine]
    assert "本企业检查表" in offered["results"][0]["text"]
    searched = company.get("/r/enterprise_checklist/lookup?q=邻厂&field=enterprise_check_plan.checklist").get_json()
    assert searched["results"] == []
    # another enterprise's checklist posted anyway is refused on the field, and no plan is made
    page = company.post_form("/r/enterprise_check_plan/add", _plan_form(theirs)).get_data(as_text=True)
    assert field_errors(page, "checklist") == ["所选记录不存在或无权访问。"]
    assert "邻厂检查表" not in visible_text(company.get("/r/enterprise_check_plan/list/").get_data(as_text=True))
    # the county's administrator sees both enterprises: before an enterprise is chosen both checklists are offered,
    # then only the chosen enterprise's (match: {enterprise: enterprise}; the form sends m.enterprise)
    admin = client_for(db_app, people["admin"])
    url = "/r/enterprise_checklist/lookup?q=&field=enterprise_check_plan.checklist"
    assert sorted(r["id"] for r in admin.get(url).get_json()["results"]) == sorted([mine, theirs])
    assert [r["id"] for r in admin.get(f"{url}&m.enterprise={people['other_id']}").get_json()["results"]] == [theirs]
    form = admin.get("/r/enterprise_check_plan/add").get_data(as_text=True)
    assert 'data-match="{&#34;enterprise&#34;: &#34;enterprise&#34;}"' in form
    # enterprise A's plan with enterprise B's checklist, posted anyway: refused on the field, nothing written
    page = admin.post_form("/r/enterprise_check_plan/add", _plan_form(
        theirs, enterprise=str(people["enterprise_id"]))).get_data(as_text=True)
    message = "检查清单：“邻厂检查表”的企业名称与本记录的企业名称不一致。"
    assert field_errors(page, "checklist") == [message]
    # the same through the REST API (422 on the field, as the form) and through the session (the flush)
    token = base64.b64encode(f"{people['admin']}:{factory.PASSWORD}".encode()).decode()
    body = {k: v for k, v in _plan_form(theirs).items()}
    body.update(checklist=theirs, enterprise=people["enterprise_id"])
    response = admin.post("/api/v1/enterprise_check_plan/", json=body, headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 422 and response.get_json()["fields"] == {"checklist": [message]}
    svc = db_app.extensions["safety"]
    from app.write_path import RuleBroken
    add(company, "enterprise_check_plan", _plan_form(mine))
    with db_app.app_context():
        plan = svc.models["enterprise_check_plan"]
        moved = svc.session.scalars(select(plan).order_by(plan.id)).one()
        assert moved.checklist_id == mine
        moved.enterprise_id = people["other_id"]   # the plan moved to B, its checklist still A's
        with pytest.raises(RuleBroken, match="不一致"):
            svc.session.commit()
        svc.session.rollback()
        assert svc.session.scalar(select(plan.id).where(plan.checklist_id == theirs)) is None


def test_a_plan_past_its_end_date_warns_the_enterprise_until_it_is_executed(db_app, people):
    company = client_for(db_app, people["enterprise"])
    checklist = add(company, "enterprise_checklist", _checklist_form("全厂综合检查表", [("储罐区", "紧急切断阀完好有效")]))
    plan = add(company, "enterprise_check_plan", _plan_form(checklist))   # ends in 3 days
    assert _open_warnings(db_app) == []
    try:
        db_app.config["TODAY"] = TODAY + timedelta(days=5)
        assert _open_warnings(db_app) == [("enterprise_plan_not_executed", plan)]
        assert "企业检查计划逾期未执行" in inbox(company)
        # its regulators find it among the warnings; another county's regulator and another enterprise do not
        assert "季度全厂综合检查" in _warning_rows(client_for(db_app, people["regulator"]))
        assert "季度全厂综合检查" not in _warning_rows(client_for(db_app, people["away"]))
        assert "季度全厂综合检查" not in _warning_rows(client_for(db_app, people["other_enterprise"]))
        response = company.post_form(f"/r/enterprise_check_plan/edit/{plan}", _plan_form(
            checklist, executed_on=TODAY.isoformat(), hazards_found="2",
            execution_summary="发现报警器探头遮挡等2项一般隐患，已录入隐患台账"))
        assert response.status_code == 302, visible_text(response.get_data(as_text=True))[-500:]
        take(company, "enterprise_check_plan", plan, "execute")
        assert state_of(db_app, "enterprise_check_plan", plan) == "executed"
        # resolved at once by the change (and not opened again by the next scan)
        svc = db_app.extensions["safety"]
        with db_app.app_context():
            Warning = svc.models.engine["Warning"]
            states = [w.state for w in svc.session.scalars(select(Warning).where(
                Warning.register == "enterprise_check_plan", Warning.row_id == plan))]
        assert states == ["resolved"]
        assert _open_warnings(db_app) == []
    finally:
        db_app.config.pop("TODAY", None)


def test_the_menu_places_them_with_the_enterprise_self_service_registers(db_app, people):
    html = client_for(db_app, people["enterprise"]).get("/").get_data(as_text=True)
    menu = re.search(r"企业安全管理(.*?)</ul>", html, re.S)
    assert menu, "no 企业安全管理 menu"
    text = visible_text(menu.group(1))
    assert text.index("安全资金使用") < text.index("检查清单管理") < text.index("检查计划管理")
