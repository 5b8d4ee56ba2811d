"""The resource map through HTTP as its users see it: layers and searches in the row scope, the radius search
against a Python haversine, the jurisdiction boundary, self-reported positions (range-checked, audited), the
inspection position check."""
from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from plugins.gis_map.geo import haversine_km
from tests.conftest import ADMIN_PASSWORD
from tests.helpers import FormClient, login, visible_text
from tests.security.factory import PASSWORD, make_row

from .conftest import CENTRE, offset


def client_for(app, username: str, password: str = PASSWORD) -> FormClient:
    client = FormClient(app.test_client())
    login(client, username, password)
    return client


def test_radius_search_matches_a_python_haversine(db_app, map_world):
    admin = client_for(db_app, "admin", ADMIN_PASSWORD)
    for radius in (1, 3, 5, 10):
        found = admin.get(f"/gis_map/search.json?lat={CENTRE[0]}&lng={CENTRE[1]}&radius={radius}"
                          f"&layer=enterprise").get_json()["rows"]
        expected = {i: haversine_km(*CENTRE, *p) for i, p in map_world.points.items()
                    if haversine_km(*CENTRE, *p) <= radius}
        assert {r["id"] for r in found} == set(expected), radius
        for row in found:
            assert row["distance_km"] == pytest.approx(expected[row["id"]], abs=0.002)
        assert [r["distance_km"] for r in found] == sorted(r["distance_km"] for r in found)
    five = admin.get(f"/gis_map/search.json?lat={CENTRE[0]}&lng={CENTRE[1]}&radius=5").get_json()["rows"]
    assert len(five) == 6  # 0.3 … 4.9 km; 5.2 km is out


def test_search_results_export_to_excel(db_app, map_world):
    admin = client_for(db_app, "admin", ADMIN_PASSWORD)
    response = admin.get(f"/gis_map/search.xlsx?lat={CENTRE[0]}&lng={CENTRE[1]}&radius=3")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "名称" and rows[0][4] == "距离（公里）"
    assert [r[1] for r in rows[1:]] == ["新北地图企业00", "新北地图企业01", "新北地图企业02", "新北地图企业03"]


def test_keyword_search_finds_by_name(db_app, map_world):
    admin = client_for(db_app, "admin", ADMIN_PASSWORD)
    rows = admin.get("/gis_map/search.json?q=武进地图").get_json()["rows"]
    assert {r["id"] for r in rows} == set(map_world.away)


def test_a_county_regulator_sees_only_its_county(db_app, map_world):
    client = client_for(db_app, map_world.regulator)
    page = client.get("/gis_map/")
    assert page.status_code == 200 and "资源地图" in visible_text(page.get_data(as_text=True))
    layer = client.get("/gis_map/layer/enterprise.json").get_json()
    ids = {row[0] for row in layer["rows"]}
    placed_home = set(map_world.home) - {map_world.unplaced, map_world.own}
    assert ids == placed_home
    assert [e["label"] for e in layer["legend"]] == ["重大风险", "较大风险", "一般风险", "低风险"]
    near_away = client.get("/gis_map/search.json?lat=31.75&lng=120.05&radius=10").get_json()["rows"]
    assert not {r["id"] for r in near_away} & set(map_world.away)
    assert client.get(f"/gis_map/popup/enterprise/{map_world.away[0]}.json").status_code == 404
    popup = client.get(f"/gis_map/popup/enterprise/{map_world.home[0]}.json").get_json()
    assert popup["title"] == "新北地图企业00"
    assert {"风险等级": "重大风险"}.items() <= {f["label"]: f["value"] for f in popup["fields"]}.items()
    assert popup["url"].endswith(f"/r/enterprise/show/{map_world.home[0]}")


def test_the_map_opens_on_the_jurisdiction_boundary(db_app, map_world):
    client = client_for(db_app, map_world.regulator)
    found = client.get("/gis_map/boundary.json").get_json()
    assert found["region"] == "320411" and found["boundary"]["type"] == "MultiPolygon"
    points = [p for polygon in found["boundary"]["coordinates"] for ring in polygon for p in ring]
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    assert min(lats) < CENTRE[0] < max(lats) and min(lngs) < CENTRE[1] < max(lngs)
    assert max(lats) - min(lats) < 0.5  # a county, not the province


def test_an_administrators_map_opens_on_the_country(admin, map_world):
    """No region, no tiles: the administrator's map draws the country's outline (it showed clusters on a blank
    ground), simplified to stay a light download."""
    response = admin.get("/gis_map/boundary.json")
    found = response.get_json()
    assert found["region"] == "100000" and found["boundary"]["type"] == "MultiPolygon"
    points = [p for polygon in found["boundary"]["coordinates"] for ring in polygon for p in ring]
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    assert min(lats) < 21 and max(lats) > 52 and min(lngs) < 75 and max(lngs) > 134   # 海南 to 漠河, 新疆 to 抚远
    assert len(response.get_data()) < 200_000


def test_an_enterprise_reports_its_position_range_checked_and_audited(db_app, map_world):
    client = client_for(db_app, map_world.enterprise_login)
    page = client.get("/gis_map/position")
    assert page.status_code == 200 and "新北自报企业" in page.get_data(as_text=True)
    refused = {(10.0, 10.0): "超出中国范围", (39.9, 116.4): "离企业所在地过远"}
    for (lat, lng), message in refused.items():
        response = client.post_form("/gis_map/position", {"row_id": map_world.own, "lat": lat, "lng": lng},
                                    follow_redirects=True)
        assert message in visible_text(response.get_data(as_text=True))
    typo = client.post_form("/gis_map/position", {"row_id": map_world.own, "lat": "北纬31", "lng": "119.9"},
                            follow_redirects=True)
    assert "十进制" in visible_text(typo.get_data(as_text=True))
    model = map_world.svc.models["enterprise"]
    audit = map_world.svc.models.engine["AuditLog"]
    with db_app.app_context():
        row = map_world.svc.session.execute(select(model).where(model.id == map_world.own)
                                            .execution_options(unscoped_reason="test")).scalar_one()
        assert row.location_lat is None
    # someone else's row is refused: only its own rows are offered
    other = client.post_form("/gis_map/position", {"row_id": map_world.unplaced, "lat": 31.9, "lng": 119.9},
                             follow_redirects=True)
    assert "不能修改此行的位置" in visible_text(other.get_data(as_text=True))
    saved = client.post_form("/gis_map/position", {"row_id": map_world.own, "lat": "31.9012", "lng": "119.9034"},
                             follow_redirects=True)
    assert "位置已保存" in visible_text(saved.get_data(as_text=True))
    with db_app.app_context():
        row = map_world.svc.session.execute(select(model).where(model.id == map_world.own)
                                            .execution_options(unscoped_reason="test")).scalar_one()
        assert (float(row.location_lat), float(row.location_lng)) == (31.9012, 119.9034)
        changed = map_world.svc.session.execute(select(audit.field).where(
            audit.register == "enterprise", audit.row_id == map_world.own)).scalars().all()
        assert {"location_lat", "location_lng"} <= set(changed)
        other_row = map_world.svc.session.execute(select(model).where(model.id == map_world.unplaced)
                                                  .execution_options(unscoped_reason="test")).scalar_one()
        assert other_row.location_lat is None
    # the regulator sees who has not reported: the other one, no longer this one
    regulator = client_for(db_app, map_world.regulator)
    listed = regulator.get("/gis_map/unreported").get_data(as_text=True)
    assert "新北未定位企业" in listed and "新北自报企业" not in listed and "武进" not in listed


def test_an_inspection_three_km_away_is_flagged(db_app, map_world):
    svc = map_world.svc
    enterprise_id = map_world.home[0]
    near = offset(map_world.points[enterprise_id], 0.5, 0)
    far = offset(map_world.points[enterprise_id], 0, 3.0)
    with db_app.app_context():
        company = svc.session.get(svc.models["enterprise"], enterprise_id)
        ids = {}
        for name, point in (("近处检查", near), ("远处检查", far)):
            ids[name] = make_row(svc, "inspection", {"title": name, "enterprise": company, "inspectors": "张伟"},
                                 inspector_location_lat=point[0], inspector_location_lng=point[1],
                                 organisation_id=map_world.home_org_id).id
        other_org = make_row(svc, "organisation", {"region": "320411", "department": "housing", "level": "county"})
        ids["他人检查"] = make_row(svc, "inspection", {"title": "他人检查", "enterprise": company, "inspectors": "李强"},
                                 inspector_location_lat=far[0], inspector_location_lng=far[1],
                                 organisation_id=other_org.id).id
    client = client_for(db_app, map_world.regulator)
    # another organisation's inspection is read (jurisdiction) but its position is not the regulator's to change
    refused = client.post_form(f"/gis_map/checks/inspection/{ids['他人检查']}", {"lat": near[0], "lng": near[1]},
                               follow_redirects=True)
    assert "您不能修改此位置" in visible_text(refused.get_data(as_text=True))
    flagged = visible_text(client.get("/gis_map/checks?flagged=1").get_data(as_text=True))
    assert "远处检查" in flagged and "近处检查" not in flagged and "3.000" in flagged and "距离过远" in flagged
    everything = visible_text(client.get("/gis_map/checks").get_data(as_text=True))
    assert "近处检查" in everything and "0.500" in everything
    page = visible_text(client.get(f"/gis_map/checks/inspection/{ids['远处检查']}").get_data(as_text=True))
    assert "3.000" in page and "距离过远" in page
    # the inspector records where it stood (typed, or the phone's position): now near, no longer flagged
    moved = client.post_form(f"/gis_map/checks/inspection/{ids['远处检查']}",
                             {"lat": near[0], "lng": near[1]}, follow_redirects=True)
    assert "位置已保存" in visible_text(moved.get_data(as_text=True))
    flagged = visible_text(client.get("/gis_map/checks?flagged=1").get_data(as_text=True))
    assert "远处检查" not in flagged and "他人检查" in flagged


def test_map_endpoints_refuse_without_a_layer(db_app, map_world):
    anonymous = FormClient(db_app.test_client())
    assert anonymous.get("/gis_map/layer/enterprise.json").status_code in (302, 401)
    client = client_for(db_app, map_world.regulator)
    assert client.get("/gis_map/layer/chemical.json").status_code == 404
    assert client.get("/gis_map/search.json?lat=31&lng=119&radius=1000").status_code == 400


def test_an_event_shows_its_nearest_resources(db_app, map_world):
    """突发事件: open an event, see the nearest teams, shelters and enterprises within the radius, by distance."""
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        def placed(register, values, point):
            return make_row(svc, register, values, location_lat=point[0], location_lng=point[1]).id
        event = placed("emergency_event", {"region": "320411004"}, CENTRE)
        team = placed("rescue_team", {"name": "新北区危化品救援队"}, offset(CENTRE, 2, 0))
        shelter = placed("shelter", {"name": "春江中学避难场所"}, offset(CENTRE, 0, 3))
        far_supply = placed("supply", {"name": "远处物资库"}, offset(CENTRE, 15, 0))
    admin = client_for(db_app, "admin", ADMIN_PASSWORD)
    popup = admin.get(f"/gis_map/popup/emergency_event/{event}.json").get_json()
    page = admin.get(popup["near"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = visible_text(html)
    assert "救援队伍" in text and "避难场所" in text and "应急物资" in text
    assert f'data-row="rescue_team:{team}"' in html and f'data-row="shelter:{shelter}"' in html
    assert f'data-row="supply:{far_supply}"' not in html
    assert "2.00" in text and "3.00" in text
    # the nearest five enterprises of the rings around the centre (0.3 … 4.2 km), nearest first
    nearest = sorted((haversine_km(*CENTRE, *p), i) for i, p in map_world.points.items())[:5]
    positions = [html.index(f'data-row="enterprise:{i}"') for _d, i in nearest]
    assert positions == sorted(positions)
    # a wider radius brings the far supply in
    assert f'data-row="supply:{far_supply}"' in admin.get(popup["near"] + "?radius=20").get_data(as_text=True)
