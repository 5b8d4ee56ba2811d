"""In a real headless Chromium at 1366×768: the region picker opens at the user's jurisdiction and finds 春江 by
typing; a failed save lists its errors at the top and each link focuses its field; 保存 stays visible on a long
form; a form outlives the idle timeout (time moved by the test, not slept) and comes back filled after signing
in again, with nothing saved; the date picker speaks the app's language, not the browser's."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.security import factory

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1366, "height": 768}


def _person(browser, base_url, username, password=factory.PASSWORD, locale="zh-CN"):
    context = browser.new_context(locale=locale, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(base_url + "/login/")
    _sign_in(page, username, password)
    page.wait_for_url(base_url + "/")
    return page


def _sign_in(page, username, password=factory.PASSWORD):
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("[type=submit]")


def _xinbei_admin(app):
    svc = app.extensions["safety"]
    with app.app_context():
        return factory.make_user(app, "org_admin", factory.make_org(svc, region="320411")).username


def test_region_picker_opens_at_the_jurisdiction_and_finds_chunjiang(db_app, browser, live_server):
    page = _person(browser, live_server.url, _xinbei_admin(db_app))
    page.goto(live_server.url + "/r/enterprise/add")
    field = page.locator("[data-field=region]")
    field.locator(".tree-picker-path").click()
    panel = field.locator(".tree-picker-panel")
    expect(panel).to_be_visible()
    # 新北区, not the 31 provinces: its path above, its streets below
    expect(panel.locator(".tree-picker-crumbs")).to_contain_text("新北区")
    expect(panel.locator(".tree-picker-list")).to_contain_text("春江街道")
    expect(panel.locator(".tree-picker-list")).not_to_contain_text("北京市")
    panel.locator(".tree-picker-search").fill("春江")
    result = panel.locator(".tree-picker-choose", has_text="江苏省 / 常州市 / 新北区 / 春江街道")
    expect(result).to_have_count(1)
    expect(panel.locator(".tree-picker-choose")).to_have_count(1)  # 杭州's 春江街道 lies outside 新北区
    page.screenshot(path="test-results/form-region-picker.png")
    # pinyin initials find it too
    panel.locator(".tree-picker-search").fill("cjjd")
    expect(result).to_have_count(1)
    result.click()
    expect(panel).to_be_hidden()
    expect(field.locator(".tree-picker-path")).to_have_value("江苏省 / 常州市 / 新北区 / 春江街道")
    assert page.input_value("#region") == "320411004"
    page.context.close()


def test_failed_save_lists_the_errors_and_each_link_focuses_its_field(db_app, browser, live_server):
    page = _person(browser, live_server.url, _xinbei_admin(db_app))
    page.goto(live_server.url + "/r/enterprise/add")
    page.fill("#uscc", "123")
    with page.expect_navigation():
        page.click("#save-record")
    summary = page.locator("#form-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(re.compile(r"共 \d+ 处错误"))
    count = int(re.search(r"共 (\d+) 处错误", summary.inner_text()).group(1))
    expect(summary.locator("a.form-error-link")).to_have_count(count)
    page.screenshot(path="test-results/form-error-summary.png")
    summary.locator("a.form-error-link[data-target=uscc]").click()
    assert page.evaluate("document.activeElement.id") == "uscc"
    summary.locator("a.form-error-link[data-target=name]").click()
    assert page.evaluate("document.activeElement.id") == "name"
    # the help under a field in error stays grey: only the error is red
    group = page.locator("[data-field=uscc]")
    error = group.locator(".field-error").first
    assert error.evaluate("e => getComputedStyle(e).color") == "rgb(198, 40, 40)"
    for help_block in group.locator(".field-help").all():
        assert help_block.evaluate("e => getComputedStyle(e).color") != "rgb(198, 40, 40)"
    page.context.close()


def test_save_bar_is_visible_without_scrolling_on_a_long_form(db_app, browser, live_server):
    page = _person(browser, live_server.url, _xinbei_admin(db_app))
    page.goto(live_server.url + "/r/inspection/add")
    assert page.evaluate("document.documentElement.scrollHeight") > VIEWPORT["height"]  # a long form
    for button in ("#save-record", "#cancel-record"):
        box = page.locator(button).bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= VIEWPORT["height"], (button, box)
    page.context.close()


def test_a_form_outlives_the_session_timeout_and_comes_back_filled(db_app, browser, live_server):
    username = _xinbei_admin(db_app)
    page = _person(browser, live_server.url, username)
    page.clock.install()
    page.goto(live_server.url + "/r/enterprise/add")
    page.fill("#name", "常州新北恢复测试有限公司")
    page.fill("#address", "常州市新北区春江街道1号")
    idle = db_app.config["SESSION_IDLE_MINUTES"] * 60
    warning = page.locator("#form-session-warning")
    expect(warning).to_be_hidden()
    page.clock.fast_forward(f"{(idle - 130) // 60:02d}:{(idle - 130) % 60:02d}")
    expect(warning).to_be_hidden()
    page.clock.fast_forward("00:20")  # 110 s before the end: the warning is up
    expect(warning).to_be_visible()
    # the server's clock is the test's too: the session has been idle too long when the form is sent
    db_app.config["SESSION_IDLE_MINUTES"] = 0
    try:
        page.click("#save-record")
        page.wait_for_url(re.compile(r"/login/\?next=(/|%2F)r(/|%2F)enterprise(/|%2F)add"))
    finally:
        db_app.config["SESSION_IDLE_MINUTES"] = idle // 60
    _sign_in(page, username)
    page.wait_for_url(live_server.url + "/r/enterprise/add")
    expect(page.locator("#form-restored")).to_be_visible()
    assert page.input_value("#name") == "常州新北恢复测试有限公司"
    assert page.input_value("#address") == "常州市新北区春江街道1号"
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        assert svc.session.query(svc.models["enterprise"]).count() == 0  # nothing saved without 保存
    page.context.close()


@pytest.mark.parametrize("language, month", [("zh_Hans", re.compile(r"^[一二三四五六七八九十]+月$")),
                                             ("en", re.compile(r"^(January|February|March|April|May|June|July|"
                                                               r"August|September|October|November|December)$"))])
def test_date_picker_speaks_the_apps_language(db_app, browser, live_server, language, month):
    # the browser says en-US in Chinese and zh-CN in English: the app's language wins
    page = _person(browser, live_server.url, _xinbei_admin(db_app), locale="en-US" if language != "en" else "zh-CN")
    page.goto(live_server.url + f"/lang/{language}")
    page.goto(live_server.url + "/r/enterprise/add")
    page.locator(".form-tabs a").nth(1).click()
    page.click("#established_on")
    calendar = page.locator(".flatpickr-calendar.open")
    expect(calendar).to_be_visible()
    shown = calendar.locator(".flatpickr-monthDropdown-months option:checked").inner_text().strip()
    assert month.match(shown), shown
    calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)", has_text=re.compile(r"^15$")).click()
    assert re.match(r"^\d{4}-\d{2}-15$", page.input_value("#established_on"))
    page.context.close()


def test_on_a_phone_each_child_row_is_a_card_of_full_width_boxes(db_app, browser, live_server):
    """现场检查's items on a 390 px phone: no sideways scrolling inside the table (it showed one box of five at a
    time); each box of a row spans the card, under its column's name, the required ones marked."""
    page = _person(browser, live_server.url, _xinbei_admin(db_app))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/r/inspection/add")
    table = page.locator('.child-table[data-progress]')
    expect(table.locator("tr.child-row")).to_have_count(1)
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    width = table.bounding_box()["width"]
    cells = table.locator("tr.child-row > td[data-label]")
    assert cells.count() >= 5
    for index in range(cells.count()):
        cell = cells.nth(index)
        box = cell.locator("input:not([type=hidden]):not([type=file]), textarea, .select2-container").first
        if box.count():
            assert box.bounding_box()["width"] >= 0.75 * width, (cell.get_attribute("data-label"), box.bounding_box())
    heading = cells.first.evaluate("el => getComputedStyle(el, '::before').content")
    assert heading == '"检查内容 *"', heading
    page.click(".child-table[data-progress] .child-add")
    expect(table.locator("tr.child-row")).to_have_count(2)
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    page.context.close()
