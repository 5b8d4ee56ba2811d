"""The charts over HTTP: figures counted in the database within the user's scope, the region axis one level below
the user, the drill-down to the filtered list, the Excel export, the home page's dashboard."""
from __future__ import annotations

import io
import re

import openpyxl

from tests.helpers import visible_text

from .conftest import WUJIN, XINBEI, World


def data(world: World, who: str, chart: str, query: str = "") -> dict:
    response = world.client(who).get(f"/charts/{chart}/data{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def by_key(result: dict) -> dict[str, float]:
    return {s["key"]: s["value"] for s in result["slices"]}


def test_a_city_sees_its_counties_and_a_county_its_townships(world: World) -> None:
    city = data(world, "city", "hazards_by_region")
    assert by_key(city) == {XINBEI: world.count(county=XINBEI), WUJIN: world.count(county=WUJIN)}
    assert {s["label"] for s in city["slices"]} == {"新北区", "武进区"}
    assert city["total"] == len(world.hazards)
    # the stacks are the states, with the workflow's labels
    xinbei = next(s for s in city["slices"] if s["key"] == XINBEI)
    assert xinbei["stacks"]["pending"] == world.count(county=XINBEI, state="pending")
    assert {s["label"] for s in city["stacks"]} >= {"待整改", "已整改"}

    county = data(world, "county", "hazards_by_region")
    assert by_key(county) == {"320411002": world.count(township="320411002"),
                              "320411003": world.count(township="320411003")}
    assert county["total"] == world.count(county=XINBEI)      # never a hazard of 武进区


def test_another_county_and_an_enterprise_see_only_their_own(world: World) -> None:
    assert data(world, "wujin", "hazards_by_level")["total"] == world.count(county=WUJIN)
    # the list's filters narrow the data further, still inside the scope
    assert data(world, "wujin", "hazards_by_level", "?f.level=major")["total"] == world.count(county=WUJIN,
                                                                                             level="major")
    own = data(world, "enterprise", "hazards_by_state")
    assert by_key(own) == {state: world.count(enterprise=0, state=state)
                           for state in {h["state"] for h in world.hazards if h["enterprise"] == 0}}


def test_measures_rate_and_distinct(world: World) -> None:
    rate = data(world, "city", "rectification_rate_by_region")
    for county in (XINBEI, WUJIN):
        expected = round(100 * world.count(county=county, state="rectified") / world.count(county=county), 1)
        assert by_key(rate)[county] == expected
    figure = data(world, "county", "rectification_rate")
    assert figure["total"] == round(100 * world.count(county=XINBEI, state="rectified") / world.count(county=XINBEI), 1)
    assert figure["percent"] is True


def test_the_figures_of_this_month(world: World) -> None:
    from datetime import date
    month_start = date.today().replace(day=1)
    found = sum(1 for h in world.hazards if h["county"] == XINBEI and h["found_on"] >= month_start)
    assert data(world, "county", "hazards_found_this_month")["total"] == found
    assert data(world, "county", "hazards_rectified_this_month")["total"] == world.count(county=XINBEI,
                                                                                         state="rectified")
    overdue = sum(1 for h in world.hazards if h["county"] == XINBEI and h["state"] != "rectified"
                  and (date.today() - h["found_on"]).days > 7)
    assert data(world, "county", "hazards_overdue")["total"] == overdue


def list_count(world: World, who: str, url: str) -> int:
    html = world.client(who).get(url + "&size=500").get_data(as_text=True)
    return len(re.findall(r'<tr data-id="(\d+)"', html))


def test_each_slice_opens_the_list_filtered_to_it(world: World) -> None:
    for who, chart in (("county", "hazards_by_level"), ("city", "hazards_by_state"), ("city", "enterprises_by_region"),
                       ("county", "enterprises_by_region"), ("county", "enterprises_by_type")):
        result = data(world, who, chart)
        assert result["slices"], chart
        for s in result["slices"]:
            assert s["url"], (chart, s)
            assert list_count(world, who, s["url"]) == s["value"], (who, chart, s)
    overdue = data(world, "county", "hazards_overdue")
    assert list_count(world, "county", overdue["total_url"]) == overdue["total"] > 0


def test_the_chart_page_shows_the_table_and_exports_it(world: World) -> None:
    client = world.client("city")
    page = client.get("/charts/hazards_by_region/")
    assert page.status_code == 200
    text = visible_text(page.get_data(as_text=True))
    assert "各地区隐患数量" in text and "新北区" in text and "武进区" in text
    assert "vendor/echarts/echarts.min.js" in page.get_data(as_text=True)
    response = client.get("/charts/hazards_by_region/export")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert header[0] == "属地"   # the grouping field's label
    assert header[-1] == "数量"
    body = {r[0]: r[-1] for r in rows[1:-1]}
    assert body == {"新北区": world.count(county=XINBEI), "武进区": world.count(county=WUJIN)}
    assert rows[-1][0] == "合计" and rows[-1][-1] == len(world.hazards)
    pending = header.index("待整改")
    assert {r[0]: r[pending] for r in rows[1:-1]}["新北区"] == world.count(county=XINBEI, state="pending")


def test_home_pages_show_the_dashboard_of_the_role(world: World, admin) -> None:
    county = visible_text(world.client("county").get("/").get_data(as_text=True))
    assert "本辖区概况" in county and "本月发现隐患" in county and "逾期未整改隐患" in county
    assert "隐患台账" in county   # the register cards are still there
    enterprise = visible_text(world.client("enterprise").get("/").get_data(as_text=True))
    assert "本企业隐患概况" in enterprise
    assert "隐患台账" in visible_text(admin.get("/").get_data(as_text=True))


def test_the_leadership_page_and_the_index(world: World) -> None:
    client = world.client("city")
    html = client.get("/charts/").get_data(as_text=True)
    index = visible_text(html)
    assert "领导驾驶舱" in index and "各地区企业数量" in index
    # each chart under the menu category of the register it counts, the categories in the menu's order
    groups = {m.group(1): visible_text(m.group(2)) for m in re.finditer(
        r'<div class="panel panel-default chart-group" data-category="(\w*)">(.*?)</div>\s*</div>', html, re.S)}
    assert list(groups)[:2] == ["basic_info", "hazards"], list(groups)
    assert "各地区企业数量" in groups["basic_info"] and "隐患级别分布" in groups["hazards"]
    assert "隐患级别分布" not in groups["basic_info"] and "各地区企业数量" not in groups["hazards"]
    page = client.get("/charts/dashboard/leadership/")
    assert page.status_code == 200
    assert "各地区隐患整改率" in visible_text(page.get_data(as_text=True))
    campaigns = client.get("/charts/dashboard/campaigns/")
    assert campaigns.status_code == 200
    assert "清洁生产审核各级任务进度" in visible_text(campaigns.get_data(as_text=True))
    # an enterprise has no leadership page, and no chart of the enterprise register outside its own
    assert world.client("enterprise").get("/charts/dashboard/leadership/").status_code == 404
