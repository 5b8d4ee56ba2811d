"""风险分级管控 (001 §3): analysis objects → units → events → control measures → patrols, and the identification
and assessment records, kept by the enterprise and read by the regulators of its county — through the screens."""
from __future__ import annotations

import re
from datetime import date, timedelta

from app.metadata import load_registry
from tests.conftest import ROOT
from tests.excel.workbook import fill
from tests.helpers import field_errors, visible_text
from tests.workflow.helpers import client_for

from .conftest import add, upload

RISK_REGISTERS = ("risk_object", "risk_unit", "risk_event", "risk_measure", "risk_patrol", "risk_identification",
                  "risk_assessment")


def test_the_shipped_metadata_declares_the_risk_registers_under_their_menu():
    registry = load_registry([ROOT / "metadata"])
    for name in RISK_REGISTERS:
        spec = registry.register(name)
        assert spec.menu.category == "risk" and spec.ownership.enterprise == "enterprise"
        roles = {role for rule in spec.access for role in rule.roles}
        assert {"org_admin", "regulator", "inspector", "enterprise_user"} <= roles
    levels = registry.dictionaries["risk_level"]
    assert [(i.code, i.label.zh) for i in levels.items] == [
        ("major", "重大风险"), ("high", "较大风险"), ("general", "一般风险"), ("low", "低风险")]
    assert all(i.color for i in levels.items)


def _chain(company, enterprise_id: int) -> dict[str, int]:
    ids = {"risk_object": add(company, "risk_object", {
        "enterprise": str(enterprise_id), "name": "液氨储罐区", "code": "DX-001", "kind": "equipment",
        "risk_level": "major", "location": "储罐区东侧", "responsible_person": "王伟"})}
    ids["risk_unit"] = add(company, "risk_unit", {
        "enterprise": str(enterprise_id), "risk_object": str(ids["risk_object"]), "name": "液氨卸车作业",
        "risk_level": "high", "control_level": "workshop"})
    ids["risk_event"] = add(company, "risk_event", {
        "enterprise": str(enterprise_id), "risk_unit": str(ids["risk_unit"]), "description": "卸车软管破裂导致液氨泄漏",
        "consequence": "中毒和窒息", "likelihood": "3", "severity": "4", "risk_level": "high"})
    ids["risk_measure"] = add(company, "risk_measure", {
        "enterprise": str(enterprise_id), "risk_event": str(ids["risk_event"]), "kind": "engineering",
        "content": "卸车鹤管设置紧急切断阀和拉断阀", "risk_level": "high", "control_level": "workshop",
        "patrol_days": "7"})
    return ids


def test_the_enterprise_builds_its_risk_chain_and_patrols_a_measure(db_app, county):
    company = client_for(db_app, county["enterprise"])
    ids = _chain(company, county["enterprise_id"])

    listing = visible_text(company.get("/r/risk_object/list/").get_data(as_text=True))
    assert "液氨储罐区" in listing and "重大风险" in listing
    shown = visible_text(company.get(f"/r/risk_event/show/{ids['risk_event']}").get_data(as_text=True))
    assert "卸车软管破裂导致液氨泄漏" in shown and "液氨卸车作业" in shown and "较大风险" in shown
    assert "风险值（R） 12" in shown  # computed: L 3 × S 4
    # the unit's page lists its events (一企一档 style related tab)
    assert "卸车软管破裂导致液氨泄漏" in visible_text(
        company.get(f"/r/risk_unit/show/{ids['risk_unit']}").get_data(as_text=True))

    # a patrol with an abnormal result must say what was found
    patrol = {"enterprise": str(county["enterprise_id"]), "risk_measure": str(ids["risk_measure"]),
              "patrolled_on": date.today().isoformat(), "patroller": "刘洋", "result": "abnormal"}
    page = company.post_form("/r/risk_patrol/add", patrol).get_data(as_text=True)
    assert field_errors(page, "finding") == ["此项为必填项。"]
    future = dict(patrol, finding="报警器探头被遮挡", patrolled_on=(date.today() + timedelta(days=1)).isoformat())
    assert "巡检日期不能晚于今天" in visible_text(company.post_form("/r/risk_patrol/add", future).get_data(as_text=True))
    patrol_id = add(company, "risk_patrol", dict(patrol, finding="报警器探头被遮挡"))
    shown = visible_text(company.get(f"/r/risk_patrol/show/{patrol_id}").get_data(as_text=True))
    assert "异常" in shown and "报警器探头被遮挡" in shown and "卸车鹤管设置紧急切断阀和拉断阀" in shown

    # edit: the object drops to orange after the enterprise's rectification
    response = company.post_form(f"/r/risk_object/edit/{ids['risk_object']}", {
        "enterprise": str(county["enterprise_id"]), "name": "液氨储罐区", "code": "DX-001", "kind": "equipment",
        "risk_level": "high", "location": "储罐区东侧", "responsible_person": "王伟"})
    assert response.status_code == 302
    assert "较大风险" in visible_text(company.get(f"/r/risk_object/show/{ids['risk_object']}").get_data(as_text=True))

    # identification and assessment records
    add(company, "risk_identification", {"enterprise": str(county["enterprise_id"]), "title": "年度安全风险辨识",
                                         "identified_on": date.today().isoformat(), "method": "jha"})
    add(company, "risk_assessment", {"enterprise": str(county["enterprise_id"]), "title": "液氨泄漏风险评估",
                                     "risk_event": str(ids["risk_event"]), "assessed_on": date.today().isoformat(),
                                     "method": "ls", "score": "12", "risk_level": "high"})
    assert "液氨泄漏风险评估" in visible_text(company.get("/r/risk_assessment/list/").get_data(as_text=True))


def test_regulators_read_their_county_and_enterprises_only_their_own(db_app, county):
    company = client_for(db_app, county["enterprise"])
    ids = _chain(company, county["enterprise_id"])
    inspector, away = client_for(db_app, county["inspector"]), client_for(db_app, county["away"])
    other = client_for(db_app, county["other_enterprise"])
    for register, row_id in ids.items():
        assert inspector.get(f"/r/{register}/show/{row_id}").status_code == 200, register
        assert away.get(f"/r/{register}/show/{row_id}").status_code == 403, register
        assert other.get(f"/r/{register}/show/{row_id}").status_code == 403, register
    assert "液氨储罐区" in visible_text(inspector.get("/r/risk_object/list/").get_data(as_text=True))
    assert "液氨储罐区" not in visible_text(away.get("/r/risk_object/list/").get_data(as_text=True))
    # regulators read the enterprises' risks; they do not write them
    assert inspector.get("/r/risk_object/add").status_code == 403
    # another enterprise cannot hang its unit on this enterprise's object (the picker's rows are its own only)
    response = other.post_form("/r/risk_unit/add", {
        "enterprise": str(county["other_id"]), "risk_object": str(ids["risk_object"]), "name": "借用对象",
        "risk_level": "low"})
    assert "所选记录不存在或无权访问。" in field_errors(response.get_data(as_text=True), "risk_object")


def test_the_enterprise_imports_its_objects_and_a_bad_row_is_named_by_row_and_column(db_app, county):
    company = client_for(db_app, county["enterprise"])
    template = company.get("/r/risk_object/template").data
    name = county["enterprise_name"]
    rows = [[name, "液氨储罐区", "DX-001", "设备设施", "储罐区", "重大风险", "生产部", "王伟"],
            [name, "甲类仓库", "DX-002", "场所区域", "北侧", "紫色风险", "仓储部", "张敏"]]
    page = upload(company, "risk_object", fill(template, rows))
    assert "未写入任何数据" in page
    assert re.search(r"行 列 问题 3 风险等级 “紫色风险”不在下拉列表中", page), page[-1500:]
    rows[1][5] = "较大风险"
    page = upload(company, "risk_object", fill(template, rows))
    assert "完成：新增 2 条" in page
    listing = visible_text(company.get("/r/risk_object/list/").get_data(as_text=True))
    assert "甲类仓库" in listing and "较大风险" in listing
