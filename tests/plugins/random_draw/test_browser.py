"""In a real headless Chromium, as a county regulator: see the pool size, prepare a draw of 5 of the county's 50
enterprises with 2 inspectors each, draw with a public value, confirm, and open one created inspection."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.security.factory import PASSWORD

from .conftest import World

pytestmark = pytest.mark.browser


def test_draw_confirm_and_open_an_inspection(web_world: World, page) -> None:
    world = web_world
    with world.app.app_context():
        username = world.app.appbuilder.sm.get_user_by_id(world.home_user).username
    page.goto(page.base_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")

    page.goto(page.base_url + "/random_draw/")
    page.fill("#draw-count", "5")
    page.fill("#per-enterprise", "2")
    page.click("#draw-preview")
    expect(page.locator("#pool-size")).to_contain_text("50")
    page.click("#draw-prepare")
    page.wait_for_url("**/random_draw/*")
    commitment = page.locator("#draw-commitment").inner_text()
    assert len(commitment) == 64
    page.fill("#public-value", "2026-12-02 福彩3D 123")
    page.click("#draw-run")
    rows = page.locator("#draw-result .draw-row")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("、")  # two inspectors
    enterprise = rows.first.locator("td").nth(1).inner_text()

    page.click("#draw-confirm")
    expect(page.locator(".alert-success")).to_contain_text("已生成 5 条检查任务")
    page.click("#draw-inspections")
    table_rows = page.locator(".register-table tbody tr")
    expect(table_rows).to_have_count(5)
    page.locator(".register-table tbody tr", has_text=enterprise).locator("a[href*='/inspection/show/']").first.click()
    page.wait_for_url("**/inspection/show/**")
    body = page.locator("body")
    expect(body).to_contain_text("双随机检查")
    expect(body).to_contain_text(enterprise)
    expect(body).to_contain_text("已保存")


WAIT = 30_000  # ms: the machine running the suite may be busy


def sign_in(browser, base_url: str, username: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)  # the machine running the suite may be busy
    page.goto(base_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(base_url + "/")
    return page


def choose_reference(page, field_id: str, text: str) -> None:
    """Pick a row in a type-ahead reference select (select2): open it, type, click the offered row."""
    page.locator(f"#{field_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


CHECKLIST_ROWS = [["证照资料", "危险化学品经营许可证在有效期内", "《危险化学品安全管理条例》第三十三条", "查阅资料"],
                  ["储存场所", "危险化学品储存在专用仓库内，并设置明显标志", "《危险化学品安全管理条例》第二十四条", "现场查看"],
                  ["应急管理", "制定应急预案并定期演练", "《生产安全事故应急条例》第五条", "查阅资料"]]


def test_checklist_import_draw_and_a_failed_item_in_the_hazard_list(web_world: World, browser, live_server,
                                                                     tmp_path) -> None:
    """Issue 13's scenario: an administrator imports a checklist; a regulator draws 5 of the county's 50
    enterprises with 2 inspectors, confirms, records one drawn inspection from the checklist (its items fill the
    form as soon as it is chosen, the counter follows), one item 不满足, submits, and finds the hazard."""
    from sqlalchemy import inspect

    from tests.excel.workbook import fill
    from tests.helpers import FormClient, login
    from tests.security.factory import make_user
    world, base = web_world, live_server.url
    with world.app.app_context():
        org = world.svc.session.get(type(world.home_org), inspect(world.home_org).identity[0])
        admin = make_user(world.app, "org_admin", org).username
        regulator = world.app.appbuilder.sm.get_user_by_id(world.home_user).username
    client = FormClient(world.app.test_client())
    login(client, admin, PASSWORD)
    workbook = tmp_path / "加油站安全检查清单.xlsx"
    workbook.write_bytes(fill(client.get("/r/checklist/template").data, CHECKLIST_ROWS).getvalue())

    page = sign_in(browser, base, admin)
    page.goto(base + "/r/checklist/import")
    page.set_input_files("#import-file", str(workbook))
    page.click("#start-import")
    expect(page.locator("body")).to_contain_text("加油站安全检查清单", timeout=WAIT)
    page.goto(base + "/r/checklist/list/")
    expect(page.locator(".register-table tbody")).to_contain_text("加油站安全检查清单", timeout=WAIT)
    page.context.close()

    page = sign_in(browser, base, regulator)
    # the add form: choosing the checklist fills its items in order at once, with the counter done / total
    page.goto(base + "/r/inspection/add")
    progress = page.locator(".child-progress")
    expect(progress).to_contain_text("0 / 1")  # the one blank row the form starts with
    choose_reference(page, "checklist", "加油站安全检查清单")
    rows = page.locator(".child-table tbody tr.child-row")
    expect(rows).to_have_count(3, timeout=WAIT)
    expect(page.locator("[name='items-0-stage']")).to_have_value("证照资料", timeout=WAIT)
    expect(page.locator("[name='items-1-content']")).to_have_value("危险化学品储存在专用仓库内，并设置明显标志", timeout=WAIT)
    expect(page.locator("[name='items-2-basis']")).to_have_value("《生产安全事故应急条例》第五条", timeout=WAIT)
    expect(progress).to_contain_text("0 / 3", timeout=WAIT)
    page.select_option("[name='items-0-result']", "pass")
    expect(progress).to_contain_text("1 / 3", timeout=WAIT)

    # the draw: 5 of 50 with 2 inspectors each, confirmed into inspections
    page.goto(base + "/random_draw/")
    page.fill("#draw-count", "5")
    page.fill("#per-enterprise", "2")
    page.click("#draw-prepare")
    page.wait_for_url("**/random_draw/*")
    page.click("#draw-run")
    expect(page.locator("#draw-result .draw-row")).to_have_count(5, timeout=WAIT)
    page.click("#draw-confirm")
    expect(page.locator(".alert-success")).to_contain_text("已生成 5 条检查任务", timeout=WAIT)
    page.click("#draw-inspections")
    page.locator(".register-table tbody tr a[href*='/inspection/show/']").first.click()
    page.wait_for_url("**/inspection/show/**")
    inspection = page.url.rstrip("/").rsplit("/", 1)[1]

    # record it from the checklist: one item 不满足 with the person and deadline, the others 满足
    page.goto(base + f"/r/inspection/edit/{inspection}")
    choose_reference(page, "checklist", "加油站安全检查清单")
    expect(page.locator(".child-table tbody tr.child-row")).to_have_count(3, timeout=WAIT)
    for n in (0, 2):
        page.select_option(f"[name='items-{n}-result']", "pass")
    page.select_option("[name='items-1-result']", "fail")
    page.fill("[name='items-1-problem']", "仓库未设置明显标志")
    page.fill("[name='items-1-responsible_person']", "张敏")
    expect(page.locator(".child-progress")).to_contain_text("3 / 3", timeout=WAIT)
    page.click("#save-record")
    page.wait_for_url("**/inspection/show/**")
    page.click("button.workflow-button[data-transition=submit]")
    form = page.locator("form.workflow-form[data-transition=submit]")
    expect(page.locator("#step-submit")).to_have_class(re.compile(r"\bin\b"), timeout=WAIT)
    with page.expect_navigation():
        form.locator("button.workflow-submit").click()
    expect(page.locator("body")).to_contain_text("已提交", timeout=WAIT)
    page.goto(base + "/r/hazard/list/")
    expect(page.locator(".register-table tbody")).to_contain_text("危险化学品储存在专用仓库内，并设置明显标志", timeout=WAIT)
    page.context.close()


def test_the_quota_table_shows_when_drawing_by_region_with_one_blank_row_at_a_time(web_world: World, browser,
                                                                                   live_server) -> None:
    """Drawing by count, no quota rows stand in the way; 按地区配额 shows one blank row and 添加地区 the next;
    typing a ratio chooses the ratio; after 查看抽取范围 the quotas given come back with one blank row."""
    with web_world.app.app_context():
        username = web_world.app.appbuilder.sm.get_user_by_id(web_world.home_user).username
        service = web_world.app.extensions["random_draw"]
        service.svc.session.query(service.Draw).delete()  # the earlier tests' draws: this county has none yet
        service.svc.session.commit()
    page = sign_in(browser, live_server.url, username)
    page.goto(live_server.url + "/random_draw/")
    table, add = page.locator("#quota-table"), page.locator("#quota-add")
    expect(page.locator("#draw-list .draw-none")).to_have_text("还没有抽取：准备的抽取会列在这里。")
    expect(table).to_be_hidden()
    expect(add).to_be_hidden()
    page.click("#draw-ratio")
    expect(page.locator("input[name=mode][value=ratio]")).to_be_checked()
    page.check("#draw-by-quota")
    rows = page.locator("#quota-table tbody tr")
    expect(table).to_be_visible()
    expect(rows.locator("visible=true")).to_have_count(1)
    add.click()
    expect(rows.locator("visible=true")).to_have_count(2)
    region = rows.nth(0).locator("select option").nth(1).get_attribute("value")
    rows.nth(0).locator("select").select_option(region)
    rows.nth(0).locator("input").fill("2")
    page.click("#draw-preview")
    page.wait_for_url("**preview=1**")
    expect(page.locator("#draw-by-quota")).to_be_checked()
    expect(rows.locator("visible=true")).to_have_count(2)  # the quota given and one blank row
    expect(rows.nth(0).locator("select")).to_have_value(region)
    expect(rows.nth(0).locator("input")).to_have_value("2")
    for _ in range(rows.count()):
        if add.is_visible():
            add.click()
    expect(rows.locator("visible=true")).to_have_count(rows.count())
    expect(add).to_be_hidden()  # every row shown: nothing more to add
