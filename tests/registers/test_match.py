"""``match`` on the registers that declare it (docs/metadata.md §4.11): a reading of enterprise A cannot be
recorded on enterprise B's monitoring point, whether it is imported, posted to the API or typed on the form, and
the form's picker offers A's points once A is chosen."""
from __future__ import annotations

import base64
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.excel.test_import import _upload
from tests.excel.workbook import fill
from tests.helpers import field_errors
from tests.security import factory
from tests.workflow.helpers import client_for

MESSAGE = "监测测点：“{code}”的企业名称与本记录的企业名称不一致。"


def _points(db_app: Any, county: dict) -> dict[str, Any]:
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models["enterprise"]
        a, b = (svc.session.get(model, county[k]) for k in ("enterprise_id", "other_id"))
        mine = factory.make_row(svc, "monitoring_point", {"enterprise": a, "code": "PT-A-01", "name": "液氨储罐液位",
                                                          "upper_limit": 90, "lower_limit": 10})
        theirs = factory.make_row(svc, "monitoring_point", {"enterprise": b, "code": "PT-B-01", "name": "氯气浓度",
                                                            "upper_limit": 5, "lower_limit": 0})
        # the factory chose each point's major hazard source among its own enterprise's (match on source)
        assert mine.source.enterprise_id == a.id and theirs.source.enterprise_id == b.id
        return {"a": a.name, "b": b.name, "a_id": a.id, "mine": mine.id, "theirs": theirs.id}


def _readings(db_app: Any) -> int:
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        return svc.session.execute(select(func.count()).select_from(svc.models["monitoring_reading"])
                                   .execution_options(include_all_rows=True)).scalar_one()


def test_a_reading_on_another_enterprises_point_is_refused_on_every_path(db_app, county):
    p = _points(db_app, county)
    admin = client_for(db_app, county["admin"])   # the county's administrator sees both enterprises
    template = admin.get("/r/monitoring_reading/template").data
    rows = [[p["a"], "#%d" % p["mine"], "2026-12-01 08:00", 55, "早班"],
            [p["a"], "#%d" % p["theirs"], "2026-12-01 08:00", 3, "错配"]]
    _job, page = _upload(admin, "monitoring_reading", fill(template, rows), name="读数.xlsx")
    # the wrong row is named by row and column, in Chinese, and nothing is written (not even the good row)
    assert "未写入任何数据" in page and f"行 列 问题 3 监测测点 {MESSAGE.format(code='PT-B-01')}" in page, page[-600:]
    assert _readings(db_app) == 0
    _job, page = _upload(admin, "monitoring_reading", fill(template, rows[:1]), name="读数.xlsx")
    assert "完成：新增 1 条" in page and _readings(db_app) == 1

    # the form: the picker offers A's point once A is chosen, and B's point posted anyway is refused on the field
    offered = admin.get(f"/r/monitoring_point/lookup?q=&field=monitoring_reading.point&m.enterprise={p['a_id']}")
    assert [r["id"] for r in offered.get_json()["results"]] == [p["mine"]]
    form = {"enterprise": str(p["a_id"]), "point": str(p["theirs"]), "measured_at": "2026-12-01T09:00", "value": "4"}
    page = admin.post_form("/r/monitoring_reading/add", form).get_data(as_text=True)
    assert field_errors(page, "point") == [MESSAGE.format(code="PT-B-01")]

    # the REST API, as an enterprise's data interface would post it
    token = base64.b64encode(f"{county['admin']}:{factory.PASSWORD}".encode()).decode()
    response = admin.post("/api/v1/monitoring_reading/", headers={"Authorization": f"Basic {token}"},
                          json={"enterprise": p["a_id"], "point": p["theirs"], "measured_at": "2026-12-01T09:00:00",
                                "value": 4})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["fields"] == {"point": [MESSAGE.format(code="PT-B-01")]}
    assert _readings(db_app) == 1


@pytest.mark.browser
def test_the_plan_form_offers_the_chosen_enterprises_checklists_in_the_browser(db_app, county, page):
    """register.js sends the form's enterprise with the checklist picker's search (m.enterprise): in Chromium, the
    county's administrator sees both enterprises' checklists, then only the chosen enterprise's."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models["enterprise"]
        a, b = (svc.session.get(model, county[k]) for k in ("enterprise_id", "other_id"))
        factory.make_row(svc, "enterprise_checklist", {"enterprise": a, "name": "甲厂综合检查表"})
        factory.make_row(svc, "enterprise_checklist", {"enterprise": b, "name": "乙厂综合检查表"})
        b_name = b.name
    page.goto(page.base_url + "/login/")
    page.fill("#username", county["admin"])
    page.fill("#password", factory.PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/r/enterprise_check_plan/add")
    options = page.locator(".select2-results__option")
    page.locator("select[name=checklist] + .select2").click()
    expect(options).to_have_count(2)
    expect(options.filter(has_text="甲厂综合检查表")).to_have_count(1)
    page.keyboard.press("Escape")
    page.locator("select[name=enterprise] + .select2").click()
    page.locator(".select2-search__field").fill(b_name)
    expect(options).to_have_count(1)
    options.first.click()
    page.locator("select[name=checklist] + .select2").click()
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("乙厂综合检查表")
