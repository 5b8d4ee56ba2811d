"""In headless Chromium, with every request outside 127.0.0.1 refused and reported: a county regulator opens the
resource map on its county, toggles the enterprise layer, searches 5 km around an enterprise and sees the
expected rows in distance order; an enterprise places itself by clicking the map; an inspector records its
position from the phone's geolocation and sees the distance; an event shows its nearest resources. Every map page
is loaded."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from plugins.gis_map.geo import haversine_km
from tests.security.factory import PASSWORD, make_row

from .conftest import CENTRE, MapWorld, offset

pytestmark = pytest.mark.browser


def watch_outside_requests(page) -> list[str]:
    outside: list[str] = []

    def route(r):
        host = urlsplit(r.request.url).hostname
        if urlsplit(r.request.url).scheme in ("data", "blob") or host == "127.0.0.1":
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return outside


def sign_in(page, username: str) -> None:
    page.goto("about:blank")  # no request of the last page can set its session cookie again
    page.context.clear_cookies()  # whoever was signed in before is gone, whether or not its logout finished
    page.goto(page.base_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")


def test_map_pages_layers_and_a_5_km_search(web_map_world: MapWorld, page) -> None:
    world = web_map_world
    outside = watch_outside_requests(page)
    sign_in(page, world.regulator)
    page.goto(page.base_url + "/gis_map/")
    expect(page.locator("#gis-map")).to_have_attribute("data-ready", "1")
    expect(page.locator('.gis-count[data-layer="enterprise"]')).to_have_text("10")
    expect(page.locator("#gis-map")).to_have_attribute("data-boundary", "320411")  # opened on the county's outline
    points = page.locator(".leaflet-marker-icon")
    expect(points.first).to_be_visible()
    page.uncheck('.gis-layer-toggle[value="enterprise"]')
    expect(points).to_have_count(0)
    page.check('.gis-layer-toggle[value="enterprise"]')
    expect(points.first).to_be_visible()

    # pick an enterprise by keyword, make it the centre, then everything within 5 km of it
    centre_id = world.home[1]
    page.fill("#gis-q", "新北地图企业01")
    page.click("#gis-search-button")
    result = page.locator("#gis-results tbody tr")
    expect(result).to_have_count(1)
    result.locator(".gis-centre").click()
    page.fill("#gis-q", "")
    page.select_option("#gis-radius", "5")
    page.click("#gis-search-button")
    centre = world.points[centre_id]
    expected = sorted(((haversine_km(*centre, *p), i) for i, p in world.points.items()
                       if haversine_km(*centre, *p) <= 5 and i in world.home))
    rows = page.locator("#gis-results tbody tr")
    expect(rows).to_have_count(len(expected))
    assert [int(x) for x in rows.evaluate_all("rs => rs.map(r => r.dataset.id)")] == [i for _, i in expected]
    expect(rows.first).to_contain_text("0.00")
    with page.expect_download() as download:
        page.click("#gis-export")
    assert download.value.suggested_filename == "map-search.xlsx"

    for path in ("/gis_map/unreported", "/gis_map/checks", "/gis_map/checks?flagged=1"):
        page.goto(page.base_url + path)
        expect(page.locator("h3")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Traceback")
    assert outside == []


def test_on_a_phone_the_layer_list_folds_and_the_map_starts_on_the_first_screen(web_map_world: MapWorld,
                                                                                  page) -> None:
    """Below office width the eleven layers fold under 图层 (how many are shown beside it): the map starts within
    the first screen instead of a screen and a half down; at office width the list is open, as before."""
    sign_in(page, web_map_world.regulator)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/gis_map/")
    expect(page.locator("#gis-map")).to_have_attribute("data-ready", "1")
    toggles = page.locator(".gis-layer-toggle")
    total = toggles.count()
    assert total >= 5
    expect(toggles.first).to_be_hidden()
    fold = page.locator("#gis-layers-fold")
    expect(fold).to_have_text(f"图层 已显示 {total}/{total}")
    assert page.locator("#gis-map").bounding_box()["y"] < 844
    fold.click()
    expect(fold).to_have_attribute("aria-expanded", "true")
    page.uncheck('.gis-layer-toggle[value="enterprise"]')
    expect(fold).to_have_text(f"图层 已显示 {total - 1}/{total}")
    fold.click()
    expect(toggles.first).to_be_hidden()

    page.set_viewport_size({"width": 1366, "height": 768})
    expect(toggles.first).to_be_visible()
    expect(page.locator("#gis-layers-shown")).to_be_hidden()


def test_an_enterprise_clicks_its_position_and_an_inspector_uses_geolocation(web_map_world: MapWorld, page,
                                                                              live_server) -> None:
    world = web_map_world
    outside = watch_outside_requests(page)
    sign_in(page, world.enterprise_login)
    page.goto(page.base_url + "/gis_map/position")
    expect(page.locator("#gis-position-map")).to_have_attribute("data-ready", "1")
    page.locator("#gis-position-map").click()  # the middle of the county
    lat = page.locator(".gis-lat").first.input_value()
    assert lat
    page.locator(".gis-position-form button[type=submit]").first.click()
    expect(page.locator(".alert").first).to_contain_text("位置已保存")
    page.goto(page.base_url + "/logout/")

    # an inspection of an enterprise; the inspector stands 3 km away: flagged, then 200 m away: not
    with world.app.app_context():
        svc = world.svc
        company = svc.session.get(svc.models["enterprise"], world.home[0])
        inspection = make_row(svc, "inspection", {"title": "定位检查", "enterprise": company, "inspectors": "王伟"},
                              organisation_id=world.home_org_id).id
    sign_in(page, world.regulator)
    far = offset(world.points[world.home[0]], 3.0, 0)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": far[0], "longitude": far[1]})
    page.goto(page.base_url + f"/gis_map/checks/inspection/{inspection}")
    page.click("#gis-geolocate")
    expect(page.locator("#gis-locate-lat")).to_have_value(f"{far[0]:.6f}")
    page.locator("#gis-locate-form button[type=submit]").click()
    expect(page.locator("#gis-distance")).to_contain_text("3.0")
    expect(page.locator("#gis-distance")).to_contain_text("距离过远")
    page.goto(page.base_url + "/gis_map/checks?flagged=1")
    expect(page.locator(f'.gis-checks tr[data-id="{inspection}"]')).to_contain_text("定位检查")
    assert outside == []


def test_an_event_opens_its_nearest_resources_in_the_browser(web_map_world: MapWorld, page) -> None:
    """突发事件 → 周边资源, as a regulator clicks it: the rescue team 2 km away and the shelter 3 km away are listed
    nearest first, the supply 15 km away is not; nothing is fetched from outside 127.0.0.1."""
    world = web_map_world
    with world.app.app_context():
        def placed(register: str, values: dict, point: tuple[float, float]) -> int:
            return make_row(world.svc, register, values, location_lat=point[0], location_lng=point[1]).id
        event = placed("emergency_event", {"region": "320411004"}, CENTRE)
        team = placed("rescue_team", {"name": "新北区危化品救援队"}, offset(CENTRE, 2, 0))
        shelter = placed("shelter", {"name": "春江中学避难场所"}, offset(CENTRE, 0, 3))
        far = placed("supply", {"name": "远处物资库"}, offset(CENTRE, 15, 0))
    outside = watch_outside_requests(page)
    sign_in(page, world.regulator)
    near = page.request.get(page.base_url + f"/gis_map/popup/emergency_event/{event}.json").json()["near"]
    page.goto(page.base_url + near)
    expect(page.locator(f'[data-row="rescue_team:{team}"]')).to_be_visible()
    expect(page.locator(f'[data-row="shelter:{shelter}"]')).to_be_visible()
    expect(page.locator(f'[data-row="supply:{far}"]')).to_have_count(0)
    body = page.locator("body")
    expect(body).to_contain_text("救援队伍")
    expect(body).to_contain_text("2.00")
    expect(body).to_contain_text("3.00")
    expect(body).not_to_contain_text("Traceback")
    assert outside == []
