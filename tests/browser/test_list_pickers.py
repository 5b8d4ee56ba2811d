"""In a real headless Chromium at 1366×768: the list filter panel uses the forms' pickers — the region filter opens
at the county regulator's jurisdiction, finds 春江 by typing and shows the whole path again after the search; the
date filters are the Chinese calendar, not the browser's mm/dd/yyyy box — and a date in a form's child rows (a row
added on the page included) is picked with the same calendar and saved."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.browser.test_form_ux import VIEWPORT, _person, _xinbei_admin
from tests.views.test_crud import valid_uscc

pytestmark = pytest.mark.browser

CHINESE_MONTH = re.compile(r"^[一二三四五六七八九十]+月$")


def _enterprises(app, rows):
    """Enterprises of 新北区: (name, street code, established on)."""
    svc = app.extensions["safety"]
    with app.app_context():
        model = svc.models["enterprise"]
        for n, (name, region, established) in enumerate(rows):
            svc.session.add(model(name=name, uscc=valid_uscc(f"91320411MA1PKR{n:03d}"), enterprise_type="hc_use",
                                  region=region, address=f"{name}地址", legal_representative="王伟",
                                  department="emergency", status="producing", established_on=established))
        svc.session.commit()
        return [row.id for row in svc.session.query(model).order_by(model.id)]


def _listed(page):
    return page.locator(".register-table tbody tr[data-id]")


def test_region_filter_opens_at_the_jurisdiction_and_finds_chunjiang(db_app, browser, live_server):
    _enterprises(db_app, [("常州春江精细化工有限公司", "320411004", None),
                          ("常州三井精细化工有限公司", "320411002", None)])
    page = _person(browser, live_server.url, _xinbei_admin(db_app))
    page.goto(live_server.url + "/r/enterprise/list/")
    expect(_listed(page)).to_have_count(2)
    flt = page.locator("[data-filter=region]")
    # one box, not three selects
    expect(flt.locator("select")).to_have_count(0)
    expect(flt.locator(".tree-picker-path")).to_have_attribute("placeholder", "全部")
    flt.locator(".tree-picker-path").click()
    panel = flt.locator(".tree-picker-panel")
    expect(panel).to_be_visible()
    # 新北区, not the 31 provinces: its path above, its streets below
    expect(panel.locator(".tree-picker-crumbs")).to_contain_text("新北区")
    expect(panel.locator(".tree-picker-list")).to_contain_text("春江街道")
    expect(panel.locator(".tree-picker-list")).not_to_contain_text("北京市")
    panel.locator(".tree-picker-search").fill("春江")
    result = panel.locator(".tree-picker-choose", has_text="江苏省 / 常州市 / 新北区 / 春江街道")
    expect(result).to_have_count(1)
    expect(panel.locator(".tree-picker-choose")).to_have_count(1)  # 杭州's 春江街道 lies outside 新北区
    page.screenshot(path="test-results/list-region-filter.png")
    result.click()
    expect(panel).to_be_hidden()
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"f\.region=320411004"))
    expect(_listed(page)).to_have_count(1)
    expect(_listed(page).first).to_contain_text("常州春江精细化工有限公司")
    # the whole path of the choice is shown again after the search
    expect(flt.locator(".tree-picker-path")).to_have_value("江苏省 / 常州市 / 新北区 / 春江街道")
    # a whole level: 新北区 itself, from the crumbs
    flt.locator(".tree-picker-path").click()
    panel.locator(".tree-picker-level").click()
    expect(flt.locator(".tree-picker-path")).to_have_value("江苏省 / 常州市 / 新北区")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"f\.region=320411(&|$)"))
    expect(_listed(page)).to_have_count(2)
    # cleared: no filter
    flt.locator(".tree-picker-clear").click()
    expect(flt.locator(".tree-picker-path")).to_have_value("")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"f\.region=(&|$)"))
    expect(_listed(page)).to_have_count(2)
    page.context.close()


def test_date_filter_is_the_calendar_in_the_apps_language(db_app, browser, live_server):
    today = date.today()
    first = today.replace(day=1)
    _enterprises(db_app, [("常州本月成立化工有限公司", "320411004", first.replace(day=5)),
                          ("常州老牌化工有限公司", "320411004", date(2015, 6, 1))])
    # the browser speaks English: the calendar speaks the app's Chinese
    page = _person(browser, live_server.url, _xinbei_admin(db_app), locale="en-US")
    page.goto(live_server.url + "/r/enterprise/list/")
    expect(_listed(page)).to_have_count(2)
    page.click("#filter-toggle")  # 成立日期 is among the folded filters
    box = page.locator("#filter-form [name='f.established_on.from']")
    assert box.get_attribute("type") == "text"  # not the browser's date input (mm/dd/yyyy)
    box.click()
    calendar = page.locator(".flatpickr-calendar.open")
    expect(calendar).to_be_visible()
    shown = calendar.locator(".flatpickr-monthDropdown-months option:checked").inner_text().strip()
    assert CHINESE_MONTH.match(shown), shown
    assert "周一" in calendar.locator(".flatpickr-weekdays").inner_text()
    page.screenshot(path="test-results/list-date-filter.png")
    calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)", has_text=re.compile(r"^1$")).click()
    assert box.input_value() == first.isoformat()
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r"f\.established_on\.from=" + first.isoformat()))
    expect(_listed(page)).to_have_count(1)
    expect(_listed(page).first).to_contain_text("常州本月成立化工有限公司")
    # the panel opens on the set filter, the date kept in the box
    expect(page.locator("#filter-form [name='f.established_on.from']")).to_have_value(first.isoformat())
    page.context.close()


def test_a_child_rows_date_is_picked_with_the_calendar_and_saved(db_app, browser, live_server):
    today = date.today()
    (row_id,) = _enterprises(db_app, [("常州证书测试化工有限公司", "320411004", None)])
    page = _person(browser, live_server.url, _xinbei_admin(db_app))
    page.goto(live_server.url + f"/r/enterprise/edit/{row_id}")
    table = page.locator("[data-field=certificates] .child-table")
    pane = table.evaluate("t => t.closest('.tab-pane') && t.closest('.tab-pane').id")
    if pane:
        page.click(f".form-tabs a[href='#{pane}']")
    table.locator(".child-add").click()
    row = table.locator("tbody tr.child-row").last
    row.locator("input[name$='certificate_name']").fill("安全生产标准化证书")
    row.locator("input[name$='certificate_number']").fill("AQBH-2026-001")
    for name, day in (("issued_on", 1), ("expires_on", 15)):
        box = row.locator(f"input[name$='{name}']")
        assert box.get_attribute("type") == "text"
        box.click()
        calendar = page.locator(".flatpickr-calendar.open")
        expect(calendar).to_be_visible()
        shown = calendar.locator(".flatpickr-monthDropdown-months option:checked").inner_text().strip()
        assert CHINESE_MONTH.match(shown), shown
        calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)",
                         has_text=re.compile(rf"^{day}$")).click()
        assert box.input_value() == today.replace(day=day).isoformat()
    page.screenshot(path="test-results/form-child-date.png")
    page.click("#save-record")
    page.wait_for_url(re.compile(r"/r/enterprise/(list|show)"))
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        certificates = svc.session.query(svc.models["enterprise_certificate"]).all()
        assert [(c.certificate_name, c.issued_on, c.expires_on) for c in certificates] == [
            ("安全生产标准化证书", today.replace(day=1), today.replace(day=15))]
    # the saved row's dates open the same calendar when the form opens again
    page.goto(live_server.url + f"/r/enterprise/edit/{row_id}")
    saved = page.locator("[data-field=certificates] tbody tr.child-row input[name$='issued_on']")
    expect(saved).to_have_value(today.replace(day=1).isoformat())
    assert "date-picker" in saved.get_attribute("class")
    assert page.viewport_size == VIEWPORT
    page.context.close()
