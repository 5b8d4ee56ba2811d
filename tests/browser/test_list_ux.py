"""In a real headless Chromium at 1366×768 and 768×1024: the enterprise list shows at least 15 rows above the
fold, its header stays in view while the rows scroll, the filter panel folds and stays as the user left it, 列设置
hides a column for good, the selection bar counts ticked rows, and on a narrow screen the 操作 links stay reachable."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_enterprise_flow import _login
from tests.views.test_crud import valid_uscc

pytestmark = pytest.mark.browser

ROWS = 60


@pytest.fixture
def enterprises(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models["enterprise"]
        for n in range(ROWS):
            svc.session.add(model(name=f"常州第{n:03d}号精细化工科技股份有限公司", uscc=valid_uscc(f"91320411MA1XYB{n:03d}"),
                                  enterprise_type="hc_use", region="320411004", address=f"春江街道{n}号",
                                  legal_representative="王伟", department="emergency", status="producing", grade="B"))
        svc.session.commit()
    return db_app


def _open_list(page, width=1366, height=768, query=""):
    page.set_viewport_size({"width": width, "height": height})
    _login(page)
    page.goto(page.base_url + "/r/enterprise/list/" + query)


def _rows_in_view(page) -> int:
    return page.evaluate("""() => {
        const box = document.getElementById('list-box').getBoundingClientRect();
        const limit = Math.min(box.bottom, window.innerHeight);
        return [...document.querySelectorAll('.register-table tbody tr')]
            .filter(r => r.getBoundingClientRect().top >= 0 && r.getBoundingClientRect().bottom <= limit).length; }""")


def test_fifteen_rows_above_the_fold_and_the_header_stays_in_view(enterprises, page):
    _open_list(page, query="?size=50")
    expect(page.locator(".register-table tbody tr")).to_have_count(50)
    assert _rows_in_view(page) >= 15
    header = page.locator(".register-table thead th[data-column=name]")
    top_before = header.bounding_box()["y"]
    first_row = page.locator(".register-table tbody tr").first

    page.locator(".register-table tbody tr").nth(5).hover()
    page.mouse.wheel(0, 600)
    page.wait_for_function("() => document.getElementById('list-box').scrollTop > 300")

    assert abs(header.bounding_box()["y"] - top_before) < 2          # the header did not move
    assert first_row.bounding_box()["y"] < top_before                 # the rows did, under it
    expect(header).to_be_visible()


def test_the_filter_panel_folds_and_stays_as_left(enterprises, page):
    _open_list(page)
    more = page.locator("#filter-more")
    expect(more).to_be_hidden()
    expect(page.locator("#quick-search")).to_be_visible()
    expect(page.locator("[data-filter=region]")).to_be_visible()   # one of the first filters

    page.click("#filter-toggle")
    expect(more).to_be_visible()
    page.reload()
    expect(page.locator("#filter-more")).to_be_visible()

    page.click("#filter-toggle")
    expect(page.locator("#filter-more")).to_be_hidden()
    page.reload()
    expect(page.locator("#filter-more")).to_be_hidden()


def test_column_settings_hide_a_column_for_good(enterprises, page):
    _open_list(page)
    expect(page.locator("th[data-column=uscc]")).to_have_count(1)
    try:
        page.click("#column-settings")
        page.uncheck("#column-menu input[name=shown][value=uscc]")
        page.click("#column-save")
        page.wait_for_load_state()
        expect(page.locator("th[data-column=uscc]")).to_have_count(0)
        expect(page.locator("th[data-column=name]")).to_have_count(1)
        page.reload()
        expect(page.locator("th[data-column=uscc]")).to_have_count(0)
    finally:
        page.click("#column-settings")
        page.click("#column-reset")
        page.wait_for_load_state()
    expect(page.locator("th[data-column=uscc]")).to_have_count(1)


def test_the_selection_bar_counts_ticked_rows(enterprises, page):
    _open_list(page)
    bar = page.locator("#selection-bar")
    expect(bar).to_be_hidden()
    expect(page.locator("li.needs-selection")).to_have_class("needs-selection disabled")

    page.locator(".row-select").nth(0).check()
    page.locator(".row-select").nth(3).check()
    expect(bar).to_be_visible()
    expect(page.locator("#selection-count")).to_have_text("2")
    expect(page.locator("li.needs-selection")).to_have_class("needs-selection")

    page.check("#select-all")
    expect(page.locator("#selection-count")).to_have_text("20")
    page.click("#clear-selection")
    expect(bar).to_be_hidden()
    expect(page.locator(".row-select:checked")).to_have_count(0)
    expect(page.locator("li.needs-selection")).to_have_class("needs-selection disabled")


def test_at_768_px_the_actions_stay_reachable_and_cells_do_not_wrap(enterprises, page):
    _open_list(page, width=768, height=1024)
    box = page.locator("#list-box")
    # the page never scrolls sideways: a table wider than the screen scrolls inside its own box (how wide it is
    # depends on the fonts installed)
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth || ['auto', 'scroll'].includes(getComputedStyle(b).overflowX)")
    show = page.locator(".register-table tbody tr").first.locator(".actions-col a").first
    bounds = show.bounding_box()
    assert bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= 768
    name_cell = page.locator(".register-table tbody tr").first.locator("td[data-column=name]")
    assert name_cell.bounding_box()["height"] < 32                   # one line, not a character column
    assert name_cell.get_attribute("title").startswith("常州第")       # the whole text on hover
    show.click()
    page.wait_for_url("**/r/enterprise/show/**")


def test_on_a_phone_rows_are_cards_and_the_filters_wait_behind_one_button(enterprises, page):
    _open_list(page, width=390, height=844)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390   # nothing sideways
    # the quick search and 筛选 only; 筛选 opens every filter, full width
    expect(page.locator("#quick-search")).to_be_visible()
    region_filter = page.locator("#filter-form .filter-item[data-filter=region]")
    expect(region_filter).to_be_hidden()
    page.click("#phone-filter-toggle")
    expect(region_filter).to_be_visible()
    expect(page.locator("#filter-form .filter-item[data-filter=status]")).to_be_visible()  # a folded one too
    assert region_filter.bounding_box()["width"] > 300
    # each row is a card: no table header, each value beside its label, the actions at the foot
    expect(page.locator(".register-table thead")).to_be_hidden()
    card = page.locator(".register-table tbody tr").first
    name = card.locator("td[data-column=name]")
    label = name.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"企业名称"', label
    assert name.bounding_box()["width"] > 300 and "常州第" in name.inner_text()
    show = card.locator(".actions-col a").first
    assert show.bounding_box()["y"] > name.bounding_box()["y"]
    show.click()
    page.wait_for_url("**/r/enterprise/show/**")


def test_the_hazard_list_also_shows_fifteen_rows_at_the_office_size(db_app, page):
    """The register with the most buttons (two zip downloads) and filters: its panel keeps to one line."""
    from datetime import date, timedelta

    from tests.security import factory
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        ours = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        for n in range(30):
            factory.make_row(svc, "hazard", {"enterprise": ours, "description": f"配电箱未张贴警示标识{n}号",
                                             "found_on": date.today(), "rectify_by": date.today() + timedelta(days=n)})
    page.set_viewport_size({"width": 1366, "height": 768})
    _login(page)
    page.goto(page.base_url + "/r/hazard/list/")
    expect(page.locator(".register-table tbody tr")).to_have_count(20)
    assert _rows_in_view(page) >= 15


def test_a_count_the_page_did_not_wait_for_arrives_after_the_rows(enterprises, page):
    before = enterprises.config["LIST_COUNT_BUDGET_MS"]
    enterprises.config["LIST_COUNT_BUDGET_MS"] = 0  # never wait: every list page fetches its count
    try:
        _open_list(page, query="?q=精细化工")
        expect(page.locator(".register-table tbody tr")).to_have_count(20)
        expect(page.locator("#list-total")).to_have_text("共 60 条")
        expect(page.locator("#list-total .fa-spinner")).to_have_count(0)
        # the pager drawn without the count knew of page 2 only; with it, the last page is there
        pages = page.locator(".list-footer .pagination li:not(.disabled) a")
        expect(pages.filter(has_text="3")).to_have_count(1)
        pages.filter(has_text="3").click()
        page.wait_for_url(re.compile(r"[?&]page=3"))
        # page 3 fetches its count too: the pager that comes with it still shows page 3, the last one
        expect(page.locator("#list-total .fa-spinner")).to_have_count(0)
        expect(page.locator("#list-total")).to_have_text("共 60 条")
        expect(page.locator(".register-table tbody tr")).to_have_count(20)
        expect(page.locator(".list-footer .pagination li.active")).to_have_text("3")
        expect(page.locator(".list-footer .pagination li").last).to_have_class("disabled")  # no page after it
        expect(page.locator(".list-footer input[name=page]")).to_have_value("3")
    finally:
        enterprises.config["LIST_COUNT_BUDGET_MS"] = before
