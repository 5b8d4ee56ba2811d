"""重大危险源 (001 §8, §12): sources with their grade, monitoring points with thresholds, readings entered on the
form, posted to the REST API or imported — each reading outside its point's thresholds marked 超限 (``compute``)."""
from __future__ import annotations

import base64
import re
from datetime import datetime

from sqlalchemy import select

from tests.excel.workbook import fill
from tests.helpers import field_errors, visible_text
from tests.security import factory
from tests.workflow.helpers import client_for

from .conftest import add, upload


def _source_and_point(company, enterprise_id: int) -> tuple[int, int]:
    source = add(company, "major_hazard_source", {
        "enterprise": str(enterprise_id), "name": "液氨储罐区", "kind": "tank_farm", "grade": "3", "r_value": "36.5",
        "substances": "液氨", "location": "厂区东北角", "responsible_person": "王伟"})
    point = add(company, "monitoring_point", {
        "enterprise": str(enterprise_id), "source": str(source), "code": "LT-101", "name": "V101液氨储罐液位",
        "quantity": "level", "unit": "m", "lower_limit": "0.5", "upper_limit": "8.5"})
    return source, point


def _readings(app) -> dict[str, bool | None]:
    svc = app.extensions["safety"]
    model = svc.models["monitoring_reading"]
    with app.app_context():
        rows = svc.session.execute(select(model).execution_options(include_all_rows=True)).scalars()
        return {f"{r.value:.2f}": r.over_limit for r in rows}


def test_a_reading_outside_its_points_thresholds_is_marked_on_the_form(db_app, county):
    company = client_for(db_app, county["enterprise"])
    source, point = _source_and_point(company, county["enterprise_id"])
    assert "三级" in visible_text(company.get(f"/r/major_hazard_source/show/{source}").get_data(as_text=True))
    # thresholds the wrong way round are refused
    page = company.post_form("/r/monitoring_point/add", {
        "enterprise": str(county["enterprise_id"]), "source": str(source), "code": "PT-201", "name": "压力",
        "quantity": "pressure", "unit": "MPa", "lower_limit": "2", "upper_limit": "1"}).get_data(as_text=True)
    assert "低报阈值应小于高报阈值" in visible_text(page)

    now = datetime.now().strftime("%Y-%m-%dT%H:%M")
    for value in ("6.25", "9.10", "0.20"):
        add(company, "monitoring_reading", {"enterprise": str(county["enterprise_id"]), "point": str(point),
                                            "measured_at": now, "value": value})
    assert _readings(db_app) == {"6.25": False, "9.10": True, "0.20": True}
    listing = visible_text(company.get("/r/monitoring_reading/list/?f.over_limit=1").get_data(as_text=True))
    assert "9.1 是" in listing and "0.2 是" in listing and "6.25" not in listing
    # the form has no input for the computed field
    assert 'name="over_limit"' not in company.get("/r/monitoring_reading/add").get_data(as_text=True)
    # the point's page lists its readings
    assert "LT-101" in visible_text(company.get(f"/r/monitoring_point/show/{point}").get_data(as_text=True))


def test_readings_posted_to_the_api_are_judged_and_cannot_set_the_flag(db_app, county):
    company = client_for(db_app, county["enterprise"])
    _, point = _source_and_point(company, county["enterprise_id"])
    auth = base64.b64encode(f"{county['enterprise']}:{factory.PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}"}
    reading = {"enterprise": county["enterprise_id"], "point": point, "measured_at": "2026-11-02T08:00:00",
               "value": 8.75}
    response = db_app.test_client().post("/api/v1/monitoring_reading/", json=reading, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["over_limit"] is True
    response = db_app.test_client().post("/api/v1/monitoring_reading/", json=dict(reading, value=3), headers=headers)
    assert response.status_code == 201 and response.get_json()["over_limit"] is False
    refused = db_app.test_client().post("/api/v1/monitoring_reading/", json=dict(reading, over_limit=False),
                                        headers=headers)
    assert refused.status_code == 422 and "over_limit" in refused.get_json()["fields"]
    listed = db_app.test_client().get("/api/v1/monitoring_reading/?f.over_limit=1", headers=headers).get_json()
    assert [float(item["value"]) for item in listed["items"]] == [8.75]

    # the county reads them, another county does not
    inspector, away = client_for(db_app, county["inspector"]), client_for(db_app, county["away"])
    assert "8.75 是" in visible_text(inspector.get("/r/monitoring_reading/list/").get_data(as_text=True))
    assert "8.75" not in visible_text(away.get("/r/monitoring_reading/list/").get_data(as_text=True))


def test_imported_readings_are_judged_and_a_bad_row_is_named_by_row_and_column(db_app, county):
    company = client_for(db_app, county["enterprise"])
    _source_and_point(company, county["enterprise_id"])
    template = company.get("/r/monitoring_reading/template").data
    name = county["enterprise_name"]
    rows = [[name, "LT-101", "2026-11-02 08:00", "7.5", None],
            [name, "LT-101", "2026-11-02 09:00", "九点二", None],
            [name, "LT-101", "2026-11-02 10:00", "9.2", "高液位"]]
    page = upload(company, "monitoring_reading", fill(template, rows))
    assert "未写入任何数据" in page and re.search(r"行 列 问题 3 监测值 ", page), page[-800:]
    assert _readings(db_app) == {}
    rows[1][3] = "0.3"
    page = upload(company, "monitoring_reading", fill(template, rows))
    assert "完成：新增 3 条" in page, page[-800:]
    assert _readings(db_app) == {"7.50": False, "0.30": True, "9.20": True}
    # an unknown point is refused by its column
    page = upload(company, "monitoring_reading", fill(template, [[name, "XX-999", "2026-11-02 08:00", "1", None]]))
    assert re.search(r"行 列 问题 2 监测测点 ", page), page[-800:]


def test_the_engine_option_keeps_its_value_on_every_save(db_app, county):
    """``compute`` is rewritten on an edit too: a corrected value clears the flag."""
    company = client_for(db_app, county["enterprise"])
    _, point = _source_and_point(company, county["enterprise_id"])
    now = datetime.now().strftime("%Y-%m-%dT%H:%M")
    reading = add(company, "monitoring_reading", {"enterprise": str(county["enterprise_id"]), "point": str(point),
                                                  "measured_at": now, "value": "12"})
    assert _readings(db_app) == {"12.00": True}
    admin = client_for(db_app, county["admin"])
    response = admin.post_form(f"/r/monitoring_reading/edit/{reading}", {
        "enterprise": str(county["enterprise_id"]), "point": str(point), "measured_at": now, "value": "1.2"})
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), "value")
    assert _readings(db_app) == {"1.20": False}
