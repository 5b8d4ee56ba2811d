"""In a real headless Chromium, as a county regulator: see the pool size, prepare a draw of 5 of the county's 50
enterprises with 2 inspectors each, draw with a public value, confirm, and open one created inspection."""
from __future__ import annotations

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
