"""A point as two columns, 经度 and 纬度 (longitude first), in templates, imports and exports; a tree field's levels
(the shipped 避难场所 takes a county or a township: min_level 3) on the form, the API, the template and the import;
the template's region list holds the user's jurisdiction only."""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import select

from tests.api.conftest import ApiClient
from tests.conftest import ADMIN_PASSWORD
from tests.security import factory
from tests.security.test_writes import _client

from .workbook import fill

COLUMNS = ["场所名称", "场所类型", "可容纳人数", "有效面积（平方米）", "所在地区", "地址", "经度", "纬度", "负责人", "联系电话",
           "配套设施"]


def _row(name: str, region: str = "江苏省/常州市/新北区/春江街道", lng: object = 119.9741, lat: object = 31.8106) -> list:
    return [name, "公园广场", 800, 1200, region, "春江街道1号", lng, lat, None, None, None]


def _stored(app) -> dict[str, tuple]:
    svc = app.extensions["safety"]
    with app.app_context():
        model = svc.models["shelter"]
        rows = svc.session.scalars(select(model).execution_options(unscoped_reason="test")).all()
        return {r.name: (r.region, r.location_lat and float(r.location_lat), r.location_lng and float(r.location_lng))
                for r in rows}


def _regulator(app) -> str:
    svc = app.extensions["safety"]
    with app.app_context():
        return factory.make_user(app, "regulator", factory.make_org(svc)).username


def test_the_template_has_longitude_then_latitude_and_only_counties_and_townships_of_the_jurisdiction(db_app):
    client = _client(db_app, _regulator(db_app))  # a regulator of 新北区
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/r/shelter/template").data))
    data, lists = workbook.worksheets[1], workbook["下拉选项"]
    titles = [c.value.lstrip("*") for c in data[1]]
    assert titles == COLUMNS
    column = next(c for c in lists[1] if c.value == "所在地区").column
    regions = [r[0] for r in lists.iter_rows(min_row=2, min_col=column, max_col=column, values_only=True) if r[0]]
    assert regions[0] == "江苏省/常州市/新北区" and "江苏省/常州市/新北区/春江街道" in regions
    assert all(r.startswith("江苏省/常州市/新北区") for r in regions) and len(regions) < 50
    guide = {row[0]: row for row in workbook["填写说明"].iter_rows(values_only=True) if row and row[0]}
    assert guide["经度"][3].startswith("经度") and guide["经度"][5] == "119.9741"
    assert guide["纬度"][5] == "31.8106"


def test_an_import_reads_both_columns_and_refuses_a_city_with_row_and_column(admin, db_app, run_import, tmp_path):
    template = admin.get("/r/shelter/template").data
    path = tmp_path / "避难场所.xlsx"
    path.write_bytes(fill(template, [_row("甲"), _row("乙", region="江苏省/常州市"), _row("丙", lat=None),
                                     _row("丁", lng="１１９．９７"), _row("戊", lng="东经一百二十度")]).getvalue())
    report = run_import("shelter", "避难场所.xlsx", mode="insert", path=path, user="admin")
    problems = {(p.row, p.title): p.message for p in report.all_problems}
    assert problems == {(3, "所在地区"): "请选择区县或乡镇（街道）；“江苏省/常州市”是市。",
                        (4, "纬度"): "经度和纬度须同时填写，或都不填。",
                        (6, "经度"): "经度须为 -180 到 180 之间的度数，如 119.97。"}
    path.write_bytes(fill(template, [_row("甲"), _row("乙", region="江苏省/常州市/新北区"),
                                     _row("丙", lat=None, lng=None), _row("丁", lng="１１９．９７")]).getvalue())
    report = run_import("shelter", "避难场所.xlsx", mode="insert", path=path, user="admin")
    assert report.written, [p.message for p in report.all_problems]
    assert _stored(db_app) == {"甲": ("320411004", 31.8106, 119.9741), "乙": ("320411", 31.8106, 119.9741),
                               "丙": ("320411004", None, None), "丁": ("320411004", 31.8106, 119.97)}


def test_an_older_file_with_one_cell_lat_lng_is_still_read(db_app, run_import, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "避难场所"
    sheet.append(["场所名称", "场所类型", "可容纳人数", "所在地区", "地址", "经纬度"])
    sheet.append(["旧表", "公园广场", 500, "新北区", "春江街道2号", "31.81, 119.97"])
    path = tmp_path / "旧模板.xlsx"
    workbook.save(path)
    report = run_import("shelter", "旧模板.xlsx", mode="insert", path=path, user="admin")
    assert report.written, [p.message for p in report.all_problems]
    assert _stored(db_app) == {"旧表": ("320411", 31.81, 119.97)}


def test_the_export_has_longitude_and_latitude_columns(admin, db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        factory.make_row(svc, "shelter", {"name": "导出场所", "region": factory.HOME_TOWNSHIP},
                         location_lat=31.8106, location_lng=119.9741)
    rows = list(openpyxl.load_workbook(io.BytesIO(admin.get("/r/shelter/export?format=xlsx").data))
                .worksheets[0].iter_rows(values_only=True))
    lng, lat = rows[0].index("经度"), rows[0].index("纬度")
    assert lng == lat - 1 and (rows[1][lng], rows[1][lat]) == (119.9741, 31.8106)


def test_the_form_and_the_api_refuse_a_province_for_a_county_or_township_field(admin, db_app):
    client = ApiClient(db_app, "admin", ADMIN_PASSWORD)
    payload = {"name": "省级场所", "shelter_type": "park", "capacity": 100, "region": "32", "address": "某路1号"}
    response = client.post("/api/v1/shelter/", json=payload)
    assert response.status_code == 422
    assert "请选择区县或乡镇（街道）；“江苏省”是省。" in str(response.get_json())
    assert client.post("/api/v1/shelter/", json={**payload, "region": "320411"}).status_code in (200, 201)
    page = admin.get("/r/shelter/add").get_data(as_text=True)
    picker = page[page.index('class="tree-picker"'):][:600]
    assert 'data-levels="[3, 4]"' in picker, picker
