"""In a real headless Chromium, as the city regulator: the chart is drawn by ECharts (a canvas, series data), a
click on a bar opens the hazard list filtered to that bar, with as many rows as the bar's value; nothing is loaded
from outside the site. As a county regulator: the home page's dashboard counts only its county."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.security.factory import PASSWORD

from .conftest import XINBEI, World

pytestmark = pytest.mark.browser


def sign_in(page, username: str) -> list[str]:
    # the first pages of a fresh app (and a shared machine) can take longer than the usual 10 s
    page.set_default_timeout(30_000)
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(page.base_url) and not request.url.startswith("data:") else None)
    page.goto(page.base_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")
    return outside


def series_of(page, selector: str) -> list:
    return page.evaluate("""(selector) => {
        const chart = echarts.getInstanceByDom(document.querySelector(selector));
        const option = chart.getOption();
        return option.series.map(s => s.data.map(d => (typeof d === 'object' ? d.value : d)));
    }""", selector)


def test_a_bar_opens_the_list_of_its_rows(world: World, page) -> None:
    outside = sign_in(page, world.users["city"])
    page.goto(page.base_url + "/charts/hazards_by_state/")
    canvas = page.locator("#chart-hazards_by_state .chart-canvas canvas")
    expect(canvas).to_have_count(1)
    expect(page.locator("#chart-hazards_by_state .chart-canvas[data-drawn]")).to_have_count(1)
    values = series_of(page, "#chart-hazards_by_state .chart-canvas")[0]
    states = ["pending", "supervised", "submitted", "rectified"]
    assert values == [world.count(state=s) for s in states if world.count(state=s)]
    # the table beside the chart shows the same figures
    cells = page.locator("#chart-hazards_by_state .chart-table tbody .chart-value").all_inner_texts()
    assert [int(c) for c in cells] == values

    # click the middle of the first bar (待整改): ECharts tells where it drew it
    x, y = page.evaluate("""() => {
        const el = document.querySelector('#chart-hazards_by_state .chart-canvas');
        const chart = echarts.getInstanceByDom(el);
        const value = chart.getOption().series[0].data[0].value;
        return chart.convertToPixel({seriesIndex: 0}, [0, value / 2]);
    }""")
    box = page.locator("#chart-hazards_by_state .chart-canvas").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url("**/r/hazard/list/**")
    assert "f.state=pending" in page.url
    expect(page.locator(".register-table tbody tr[data-id]")).to_have_count(world.count(state="pending"))
    assert not outside, outside


def test_the_county_home_page_counts_only_its_county(world: World, page) -> None:
    outside = sign_in(page, world.users["county"])
    panel = page.locator("#home-dashboard")
    expect(panel).to_contain_text("本辖区概况")
    expect(panel.locator("#chart-hazards_by_region canvas")).to_have_count(1)
    values = series_of(page, "#chart-hazards_by_region .chart-canvas")
    assert sum(sum(stack) for stack in values) == world.count(county=XINBEI)
    labels = page.evaluate("""() => {
        const option = echarts.getInstanceByDom(document.querySelector('#chart-hazards_by_region .chart-canvas'))
            .getOption();
        return option.xAxis[0].data || option.yAxis[0].data;
    }""")
    assert set(labels) == {"三井街道", "龙虎塘街道"}
    expect(page.locator("a.home-card[href*='/r/hazard/list']").first).to_be_visible()   # the cards stay
    # each chart's table stands under its chart, every column in view: none cut off behind a scroll bar
    cut = page.evaluate("""() => [...document.querySelectorAll('#home-dashboard .chart-table-box')]
        .filter(box => box.scrollWidth > box.clientWidth + 1).map(box => box.closest('.chart-block').id)""")
    assert page.locator("#home-dashboard .chart-table-box").count() >= 2 and cut == [], cut
    assert not outside, outside


def test_on_a_phone_each_chart_entry_holds_its_register_name(world: World, page) -> None:
    """The chart list on a phone: a long title wraps, and the register's name beside it stays inside its entry
    (it used to float below it, over the next entry)."""
    sign_in(page, world.users["city"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/charts/")
    items = page.locator(".chart-list a.list-group-item")
    assert items.count() >= 5
    for item in items.all():
        outer, tag = item.bounding_box(), item.locator(".chart-register").bounding_box()
        assert tag["y"] >= outer["y"] and tag["y"] + tag["height"] <= outer["y"] + outer["height"], \
            (item.inner_text(), tag, outer)
        assert tag["x"] + tag["width"] <= outer["x"] + outer["width"]


def drawn_texts(page, selector: str) -> list[dict]:
    """Every text ECharts drew on the canvas, with the box it drew it in (canvas pixels)."""
    return page.evaluate("""(selector) => {
        const chart = echarts.getInstanceByDom(document.querySelector(selector));
        return chart.getZr().storage.getDisplayList(true)
            .filter(el => el.style && typeof el.style.text === 'string' && el.style.text)
            .map(el => { const r = el.getBoundingRect().clone(); if (el.transform) { r.applyTransform(el.transform); }
                         return {text: el.style.text, x: r.x, y: r.y, width: r.width, height: r.height}; });
    }""", selector)


def test_the_bars_labels_stay_apart_and_inside_the_chart_in_english(world: World, page) -> None:
    """"Under supervision" and "Awaiting confirmation" side by side in a narrow chart: each wraps within its
    bar's slot instead of running into the next (they used to read "Under supervisionAwaiting confirmation"), and
    the value over the tallest bar is drawn whole inside the canvas (its top half was cut off)."""
    sign_in(page, world.users["city"])
    page.goto(page.base_url + "/lang/en")
    page.set_viewport_size({"width": 430, "height": 900})
    page.goto(page.base_url + "/charts/hazards_by_state/")
    selector = "#chart-hazards_by_state .chart-canvas"
    expect(page.locator(selector + "[data-drawn]")).to_have_count(1)
    names = {"To rectify", "Under supervision", "Awaiting confirmation", "Rectified"}
    texts = drawn_texts(page, selector)
    axis = [t for t in texts if any(word in name.split() for name in names for word in t["text"].split())]
    drawn = " ".join(t["text"].strip() for t in sorted(axis, key=lambda t: (t["x"], t["y"])))
    assert "Under supervision" in drawn and "Awaiting confirmation" in drawn, drawn
    for left, right in zip(sorted(axis, key=lambda t: t["x"]), sorted(axis, key=lambda t: t["x"])[1:]):
        apart = left["x"] + left["width"] <= right["x"] + 0.5
        same_slot = abs(left["x"] - right["x"]) < 0.5 and left["y"] != right["y"]   # the two lines of one label
        assert apart or same_slot, (left, right)
    box = page.locator(selector).bounding_box()
    for t in texts:
        assert t["y"] >= 0 and t["y"] + t["height"] <= box["height"], t
        assert t["x"] >= 0 and t["x"] + t["width"] <= box["width"] + 0.5, t


def test_the_leadership_dashboards_charts_stand_two_by_two(world: World, page) -> None:
    """On a wide screen the dashboard's charts come in pairs: the two of a row start at the same height and their
    panels end at the same height (floated panels of unequal heights left a tall gap on one side and pushed the
    next chart beside the wrong one)."""
    sign_in(page, world.users["city"])
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(page.base_url + "/charts/dashboard/leadership/")
    blocks = page.locator("#dashboard-leadership .chart-block")
    expect(blocks.first).to_be_visible()
    boxes = [block.bounding_box() for block in blocks.all()]
    assert len(boxes) >= 4
    for left, right in zip(boxes[0::2], boxes[1::2]):
        assert right["x"] > left["x"] + left["width"] - 1, (left, right)
        assert abs(left["y"] - right["y"]) < 1 and abs(left["height"] - right["height"]) < 1, (left, right)
    rows = sorted({round(box["y"]) for box in boxes})
    assert len(rows) == (len(boxes) + 1) // 2


def test_a_count_axis_reads_in_whole_numbers(world: World, page) -> None:
    """An enterprise's few hazards: the count axis steps 0, 1, 2 … (it read 0, 0.5, 1, 1.5: half a hazard)."""
    sign_in(page, world.users["enterprise"])
    expect(page.locator("#home-dashboard .chart-canvas[data-drawn]").first).to_be_visible()
    names = page.eval_on_selector_all("#home-dashboard .chart-canvas[data-chart]", """els => els
        .filter(el => !JSON.parse(el.getAttribute('data-chart')).percent)
        .map(el => el.closest('.chart-block').id)""")
    assert names
    for name in names:
        expect(page.locator(f"#{name} .chart-canvas[data-drawn]")).to_have_count(1)
        numbers = [t["text"] for t in drawn_texts(page, f"#{name} .chart-canvas")
                   if t["text"].replace(".", "", 1).isdigit()]
        assert numbers and all("." not in n for n in numbers), (name, numbers)
