"""In a real headless Chromium: the layout of every page — a one-row top bar, the sidebar of the menu's
categories that ☰ folds (remembered) or slides in on a tablet, breadcrumbs, the user menu — our 404 inside it,
an enterprise's menu without 系统管理, and 账号管理 as the one account screen (FAB's user list leads there)."""
from __future__ import annotations

import re
from typing import Any, Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN_PASSWORD
from tests.security import factory

pytestmark = pytest.mark.browser

OFFICE = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def open_page(browser, live_server) -> Iterator[Any]:
    """open_page(viewport) → a signed-out page of a fresh browser context at that size."""
    contexts = []

    def make(viewport: dict[str, int]) -> Any:
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.base_url = live_server.url  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        context.close()


def _sign_in(page: Any, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    page.goto(page.base_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")


def _one_row(page: Any) -> None:
    """The top bar is one row: 50 px high, and every item of it sits on that row."""
    bar = page.locator(".app-topbar").bounding_box()
    assert bar["height"] <= 52, bar
    for box in [item.bounding_box() for item in page.locator(".app-topbar-inner > *, .app-topnav > li").all()]:
        assert box["y"] >= bar["y"] - 1 and box["y"] + box["height"] <= bar["y"] + bar["height"] + 1, box


def test_office_screen_sidebar_folds_and_remembers(db_app, open_page):
    page = open_page(OFFICE)
    _sign_in(page)
    page.goto(page.base_url + "/r/enterprise/list/")
    _one_row(page)
    sidebar = page.locator("#app-sidebar")
    expect(sidebar.locator("[data-category=basic_info] > a")).to_contain_text("基础信息")
    expect(sidebar.locator("[data-category=system] > a")).to_contain_text("系统管理")
    # the current register is marked in its open category, and named in the breadcrumbs
    expect(sidebar.locator("li.active a[data-menu=menu_enterprise]")).to_be_visible()
    expect(page.locator("#breadcrumbs li")).to_have_text(["首页", "基础信息", "生产经营单位"])
    page.goto(page.base_url + "/r/enterprise/add")
    expect(page.locator("#breadcrumbs li")).to_have_text(["首页", "基础信息", "生产经营单位", "新增"])
    expect(page.locator("#breadcrumbs a", has_text="生产经营单位")).to_have_attribute("href", "/r/enterprise/list/")

    wide = page.locator("#app-content").bounding_box()["width"]
    assert sidebar.bounding_box()["width"] >= 200
    page.click("#sidebar-toggle")
    page.wait_for_function("document.getElementById('app-sidebar').getBoundingClientRect().width < 80")
    assert page.locator("#app-content").bounding_box()["width"] > wide + 120
    # folded to its icons: a category's entries open beside it on hover
    expect(sidebar.locator("[data-category=basic_info] .app-menu-label").first).to_be_hidden()
    sidebar.locator("[data-category=basic_info] > a").hover()
    expect(sidebar.locator("a[data-menu=menu_enterprise]")).to_be_visible()
    page.reload()
    assert sidebar.bounding_box()["width"] < 80
    page.click("#sidebar-toggle")
    page.wait_for_function("document.getElementById('app-sidebar').getBoundingClientRect().width >= 200")
    page.reload()
    assert sidebar.bounding_box()["width"] >= 200


def test_tablet_sidebar_is_off_canvas_and_opens_with_the_button(db_app, open_page):
    page = open_page(TABLET)
    _sign_in(page)
    page.goto(page.base_url + "/r/enterprise/list/")
    _one_row(page)
    sidebar = page.locator("#app-sidebar")
    assert sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 0  # off the screen
    content = page.locator("#app-content").bounding_box()
    assert content["x"] == 0 and content["width"] >= 760  # the page has the full width
    page.click("#sidebar-toggle")
    page.wait_for_function("document.getElementById('app-sidebar').getBoundingClientRect().left >= 0")
    page.locator("[data-category=hazards] > a").click()
    page.click("#app-sidebar a[data-menu=menu_hazard]")
    page.wait_for_url("**/r/hazard/list/")
    assert sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 0  # closed again on the new page


def test_on_a_phone_the_home_cards_stand_two_a_row_each_row_as_tall_as_its_tallest(db_app, open_page):
    page = open_page(PHONE)
    _sign_in(page)
    page.goto(page.base_url + "/lang/en")  # the longer English labels wrap: the rows must stay aligned
    page.goto(page.base_url + "/")
    cards = [card.bounding_box() for card in page.locator(".home .home-card").all()]
    assert len(cards) >= 6
    rows: dict[int, list[dict[str, float]]] = {}
    for box in cards:
        rows.setdefault(round(box["y"]), []).append(box)
    width = page.viewport_size["width"]
    assert max(len(row) for row in rows.values()) == 2 and all(len(row) <= 2 for row in rows.values()), rows
    for row in rows.values():
        assert all(box["x"] >= 0 and box["x"] + box["width"] <= width for box in row), row  # on the screen
        assert max(box["height"] for box in row) - min(box["height"] for box in row) < 1, row
    # half the page a card a row took: the whole home page, charts included, within 14 screens
    assert page.evaluate("document.documentElement.scrollHeight") < 14 * page.viewport_size["height"]


def test_on_a_phone_a_record_shows_its_filled_fields_and_the_empty_ones_behind_a_button(db_app, open_page):
    """An enterprise with a name, a credit code and little else: on a phone its page lists what is filled; one
    button shows the empty fields (their count on it) and hides them again, remembered for the next record. At
    office width every field shows."""
    with db_app.app_context():
        svc = db_app.extensions["safety"]
        row = factory.make_row(svc, "enterprise", {"name": "空白项测试企业"})
        svc.session.add(svc.models["enterprise_certificate"](parent_id=row.id, certificate_name="安全生产许可证",
                                                             certificate_number="（苏）FM安许证字〔2026〕000321"))
        svc.session.commit()
        factory.make_row(svc, "hazard", {"enterprise": row, "description": "配电箱未张贴警示标识"})
        url = f"/r/enterprise/show/{row.id}"
    page = open_page(PHONE)
    _sign_in(page)
    page.goto(page.base_url + url)
    rows = page.locator("#tab-details tr[data-field]")
    empty = page.locator("#tab-details tr.empty-field")
    total, blank = rows.count(), empty.count()
    assert blank >= 10 and total - blank >= 2, (total, blank)
    expect(page.locator("tr[data-field=name]")).to_be_visible()
    expect(page.locator("tr[data-field=name] td")).to_have_text("空白项测试企业")
    assert all(not r.is_visible() for r in empty.all())
    assert all(r.is_visible() for r in page.locator("#tab-details tr[data-field]:not(.empty-field)").all())
    short = page.evaluate("document.documentElement.scrollHeight")
    toggle = page.locator("#empty-fields-toggle")
    expect(toggle).to_have_text(f"显示空白项（{blank}）")
    toggle.click()
    assert all(r.is_visible() for r in empty.all())
    expect(toggle).to_have_text("收起空白项")
    assert page.evaluate("document.documentElement.scrollHeight") > short + blank * 30
    # the choice holds for the next record opened (this browser's storage), until changed again
    page.goto(page.base_url + url)
    assert all(r.is_visible() for r in empty.all())
    expect(toggle).to_have_text("收起空白项")
    toggle.click()
    assert all(not r.is_visible() for r in empty.all())
    page.goto(page.base_url + url)
    assert all(not r.is_visible() for r in empty.all())
    expect(toggle).to_have_text(f"显示空白项（{blank}）")
    # a child row (企业证书) is a card of label–value lines, within the screen, not a table of squeezed columns
    card = page.locator(".child-show tbody tr", has_text="安全生产许可证")
    assert card.bounding_box()["x"] + card.bounding_box()["width"] <= PHONE["width"]
    number = card.locator("td", has_text="000321")
    assert number.evaluate("td => getComputedStyle(td, '::before').content") == '"证书编号"'
    assert all(not head.is_visible() for head in page.locator(".child-show thead").all())
    # its empty lines (发证日期, 有效期至 …) wait behind the same button
    blanks = card.locator("td.empty-cell")
    assert blanks.count() >= 1 and all(not cell.is_visible() for cell in blanks.all())
    toggle.click()
    assert all(cell.is_visible() for cell in blanks.all())
    # a related tab's rows (its hazards) are cards too, headed by their first column
    page.locator(".related-tab[data-register=hazard]").click()
    hazard = page.locator(".related-pane[data-register=hazard] tr.related-row").first
    expect(hazard.locator("td.card-title")).to_have_text("配电箱未张贴警示标识")
    box = hazard.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"] and box["height"] > 3 * 20, box  # label–value lines
    labels = hazard.locator("td[data-label]").evaluate_all("tds => tds.map(td => getComputedStyle(td, '::before').content)")
    assert '"隐患级别"' in labels, labels
    # the change history: a card a change, when · who · what above a line a field (a name not broken a
    # character a line in a squeezed column)
    page.locator("#history-tab").click()
    head = page.locator("#tab-history .change-summary").first
    expect(head).to_be_visible()
    expect(head).to_contain_text("新增")
    name = page.locator("#tab-history tr.history-row td:not([rowspan]):not(.change-summary)").first
    assert name.bounding_box()["height"] < 30 and name.bounding_box()["width"] >= 80, name.bounding_box()

    office = open_page(OFFICE)
    _sign_in(office)
    office.goto(office.base_url + url)
    expect(office.locator("#empty-fields-toggle")).to_be_hidden()
    assert all(r.is_visible() for r in office.locator("#tab-details tr[data-field]").all())
    office.locator("#history-tab").click()
    expect(office.locator("#tab-history .history-table thead")).to_be_visible()
    expect(office.locator("#tab-history .change-summary").first).to_be_hidden()


def test_the_pager_reads_as_one_line_on_a_phone_and_starts_at_the_left(db_app, open_page):
    """第 [1] 页 · 每页 [10] 条 · 跳转 is one sentence on one line at every width, under the page buttons on a
    phone; the page buttons start at the list's left edge; typing a page and 跳转 opens it."""
    with db_app.app_context():
        svc = db_app.extensions["safety"]
        for n in range(12):
            factory.make_row(svc, "enterprise", {"name": f"翻页测试企业{n:02d}"})
    for viewport in (PHONE, OFFICE):
        page = open_page(viewport)
        _sign_in(page)
        page.goto(page.base_url + "/r/enterprise/list/?size=10&q=翻页测试企业")
        footer, jump = page.locator(".list-footer"), page.locator(".list-footer .page-jump")
        expect(jump.locator("label").first).to_have_text("第 页")
        expect(jump.locator("label").nth(1)).to_have_text(re.compile(r"^每页\s*10.*100\s*条$"))
        parts = [jump.locator(s).bounding_box() for s in ("[name=page]", "[name=size]", "button")]
        middles = [box["y"] + box["height"] / 2 for box in parts]
        assert max(middles) - min(middles) < 4, parts  # one line, not labels stacked over their boxes
        assert jump.bounding_box()["height"] < 40
        buttons = page.locator(".list-footer .pagination").bounding_box()
        assert abs(buttons["x"] - footer.bounding_box()["x"]) < 2, (buttons, footer.bounding_box())
        if viewport is PHONE:
            assert jump.bounding_box()["x"] + jump.bounding_box()["width"] <= PHONE["width"]
        page.fill(".page-jump [name=page]", "2")
        page.click(".page-jump button")
        expect(page.locator(".list-footer .pagination li.active")).to_have_text("2")
        expect(page.locator(".register-table tbody tr")).to_have_count(2)


def test_the_user_menu_leads_to_my_account_password_and_logout(db_app, open_page):
    page = open_page(OFFICE)
    _sign_in(page)
    page.click("#user-menu-toggle")
    expect(page.locator("#user-menu .dropdown-menu")).to_contain_text("个人中心")
    page.click("#nav-account")
    page.wait_for_url("**/account/")
    expect(page.locator(".account-details")).to_contain_text("系统管理员")
    expect(page.locator("#breadcrumbs")).to_contain_text("个人中心")
    page.click("#user-menu-toggle")
    page.click("#nav-password")
    page.wait_for_url("**/account/password")
    expect(page.locator("#change-password")).to_be_visible()
    page.click("#user-menu-toggle")
    page.click("#nav-logout")
    page.wait_for_url("**/login/**")
    expect(page.locator("#user-menu")).to_have_count(0)


def test_the_404_page_has_the_layout_in_chinese_and_english(db_app, open_page):
    page = open_page(OFFICE)
    _sign_in(page)
    response = page.goto(page.base_url + "/r/enterprise/show/999999")
    assert response.status == 404
    expect(page.locator(".error-page")).to_contain_text("页面或记录不存在")
    expect(page.locator("#app-sidebar [data-category=basic_info]")).to_be_visible()
    page.click("#language-menu > a")
    page.click("#language-menu a[data-locale=en]")
    response = page.goto(page.base_url + "/r/enterprise/show/999999")
    assert response.status == 404
    expect(page.locator(".error-page")).to_contain_text("This page or record does not exist")
    expect(page.locator("#app-sidebar [data-category=basic_info] > a")).to_contain_text("Basic data")
    expect(page.locator("#breadcrumbs")).to_contain_text("Not found")
    page.goto(page.base_url + "/lang/zh_Hans")


def test_an_enterprise_sees_no_system_entries(db_app, open_page):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        row = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP})
        user = factory.make_user(db_app, "enterprise_user", enterprise_key=row.uscc)
        login = user.username
    page = open_page(OFFICE)
    _sign_in(page, login, factory.PASSWORD)
    sidebar = page.locator("#app-sidebar")
    expect(sidebar.locator("[data-category=basic_info]")).to_be_visible()
    expect(sidebar.locator("[data-category=system]")).to_have_count(0)
    expect(sidebar).not_to_contain_text("系统管理")
    expect(sidebar).not_to_contain_text("账号管理")

    # on site, on a phone: the same bar on one row, the menu over the page and away again
    phone = open_page({"width": 375, "height": 740})
    _sign_in(phone, login, factory.PASSWORD)
    phone.goto(phone.base_url + "/r/hazard/list/")
    _one_row(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # the layout itself never scrolls sideways
    menu = phone.locator("#app-sidebar")
    assert menu.bounding_box()["x"] + menu.bounding_box()["width"] <= 0
    phone.click("#sidebar-toggle")
    phone.wait_for_function("document.getElementById('app-sidebar').getBoundingClientRect().left >= 0")
    expect(menu.locator("li.active a[data-menu=menu_hazard]")).to_be_visible()
    phone.mouse.click(360, 400)  # beside the menu, on the shaded page
    phone.wait_for_function("document.getElementById('app-sidebar').getBoundingClientRect().right <= 0")


def test_accounts_is_the_one_user_screen(db_app, open_page):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        org = factory.make_row(svc, "organisation", {"name": "新北区应急管理局", "region": "320411", "level": "county",
                                                     "department": "emergency"})
        org_name = str(org)
    page = open_page(OFFICE)
    _sign_in(page)
    expect(page.locator("#app-sidebar")).not_to_contain_text("用户权限")
    for fab_screen in ("/users/list/", "/roles/list/", "/permissions/list/"):
        page.goto(page.base_url + fab_screen)
        page.wait_for_url("**/accounts/")
    expect(page.locator("h3")).to_contain_text("账号管理")
    # the administrator's own row: its role by its label, never FAB's role name
    admin_row = page.locator("tr[data-user=admin]")
    expect(admin_row.locator(".account-roles")).to_have_text("系统管理员")
    expect(admin_row.locator(".account-status")).to_have_text("启用")

    page.click("#add-account")
    page.fill("#username", "xb_checker")
    page.fill("#first_name", "张检查")
    page.select_option("#organisation", label=org_name)
    page.select_option("#role", label="检查员")
    page.click("#save-account")
    page.wait_for_url("**/accounts/")
    expect(page.locator(".alert-success")).to_contain_text("xb_checker")
    page.fill("#q", "xb_checker")
    page.click("#account-search")
    row = page.locator("tr[data-user=xb_checker]")
    expect(row.locator(".account-roles")).to_have_text("检查员")
    expect(row).to_contain_text(org_name)
    expect(row.locator(".account-status")).to_have_text("启用")
    row.locator(".account-toggle").click()
    expect(page.locator(".alert-success")).to_contain_text("已停用")
    expect(page.locator("tr[data-user=xb_checker] .account-status")).to_have_text("停用")
    assert "q=xb_checker" in page.url  # back on the list as it was searched
    with db_app.app_context():
        assert db_app.appbuilder.sm.find_user(username="xb_checker").active is False
    # the disabled account no longer signs in
    other = open_page(OFFICE)
    other.goto(other.base_url + "/login/")
    other.fill("#username", "xb_checker")
    other.fill("#password", factory.first_password(db_app, "xb_checker"))
    other.click("[type=submit]")
    other.wait_for_load_state()
    assert "/login/" in other.url


def test_on_a_phone_the_to_do_list_messages_warnings_and_accounts_are_cards(db_app, open_page):
    """On the demo as ./scripts/run loads it, the county administrator's 我的待办, 消息, 预警 and 账号管理 on a phone:
    each row a card headed by its record (warning, login), the other cells as label–value lines, nothing wider than the
    screen; a message the system sent names 系统 as its sender."""
    runner = db_app.test_cli_runner()
    for command in (["demo", "load"], ["demo", "workflows"], ["workflow", "deadlines"]):
        done = runner.invoke(args=command)
        assert done.exit_code == 0, done.output
    password = re.search(r"xb_admin / (\S+)", runner.invoke(args=["demo", "accounts"]).output).group(1)
    page = open_page(PHONE)
    _sign_in(page, "xb_admin", password)
    for url, rows, label in (("/workflow/todo", ".todo-row", "等待起始"),
                             ("/workflow/inbox", "table.phone-cards > tbody > tr", "发送人"),
                             ("/warnings/", ".warning-row", "预警时间"),
                             ("/accounts/", "tr[data-user]", "登录次数")):
        page.goto(page.base_url + url)
        cards = page.locator(rows)
        assert cards.count() >= 2, url
        assert all(not head.is_visible() for head in page.locator("table.phone-cards > thead").all())
        for card in cards.all()[:4]:
            box = card.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (url, box)
            cells = [cell for cell in card.locator("td").all() if cell.is_visible()]
            title = card.locator("td.card-title").bounding_box()
            assert all(title["y"] <= cell.bounding_box()["y"] for cell in cells), url  # the title heads the card
            assert all(cell.bounding_box()["width"] > PHONE["width"] * 0.8 for cell in cells), url  # lines
        labels = card.locator("td[data-label]").evaluate_all(
            "tds => tds.map(td => getComputedStyle(td, '::before').content)")
        assert f'"{label}"' in labels, (url, labels)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url
    page.goto(page.base_url + "/workflow/inbox")
    expect(page.locator("tbody tr", has_text="【告警】").first.locator("td[data-label=发送人]")).to_have_text("系统")
