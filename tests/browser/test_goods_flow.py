"""In a real headless Chromium: an explosives dealer records a batch going into its warehouse and out again from the
batch's trace page, then a stock-taking whose counted quantity differs from the system's; the county regulator
finds 库存差异预警 on the warning list and closes it with a reason the closed list keeps."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.security import factory

pytestmark = pytest.mark.browser


def _sign_in(page, username: str) -> None:
    page.goto("about:blank")  # no request of the last page can set its session cookie again
    page.context.clear_cookies()
    page.goto(page.base_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", factory.PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")


def _choose(page, field: str, text: str) -> None:
    """Pick a row in a reference field's type-ahead, as a user would: open it, type, click the match."""
    page.locator(f"[data-field={field}] .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()
    expect(page.locator(f"[data-field={field}] .select2-selection__rendered")).to_contain_text(text)


def test_goods_in_and_out_then_a_stock_difference_closed_with_a_reason(db_app, page):
    page.set_default_timeout(30_000)  # ten pages and two sign-ins on a machine the whole suite shares
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        dealer = factory.make_row(svc, "enterprise", {"name": "福州闽榕民爆器材经营有限公司",
                                                      "region": factory.HOME_TOWNSHIP, "department": "emergency"})
        company = factory.make_user(db_app, "enterprise_user", enterprise_key=dealer.uscc).username
        regulator = factory.make_user(db_app, "regulator", home).username
        factory.make_row(svc, "warehouse", {"enterprise": dealer, "name": "民爆二",
                                                    "goods_class": "civil_explosives"})
        product = factory.make_row(svc, "goods_product", {"enterprise": dealer, "name": "硝化甘油炸药",
                                                          "goods_class": "civil_explosives", "unit": "kg"})
        batch = factory.make_row(svc, "goods_batch", {"enterprise": dealer, "product": product,
                                                      "batch_number": "20261101-A01", "goods_class": "civil_explosives",
                                                      "produced_on": date(2026, 11, 1), "quantity": 100})
        batch_id = batch.id
    _sign_in(page, company)
    for direction, quantity, other in (("入库", "100", "福建省民爆化工股份有限公司"), ("出库", "60", "大田县兆丰矿业有限公司")):
        page.goto(f"{page.base_url}/r/goods_batch/show/{batch_id}")
        page.click(".related-tab[data-register=stock_movement]")
        page.click(".related-pane[data-register=stock_movement] .related-add")
        _choose(page, "enterprise", "福州闽榕")
        _choose(page, "warehouse", "民爆二")
        page.select_option("select[name=direction]", label=direction)
        page.fill("input[name=quantity]", quantity)
        page.fill("input[name=counterparty]", other)
        page.click("form [type=submit].btn-primary")
        expect(page.locator(".alert-success, .alert-info").first).to_be_visible()
    # the batch's trace lists both movements, in and then out
    page.goto(f"{page.base_url}/r/goods_batch/show/{batch_id}")
    page.click(".related-tab[data-register=stock_movement]")
    rows = page.locator(".related-pane[data-register=stock_movement] tr.related-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("入库")
    expect(rows.nth(1)).to_contain_text("出库")
    expect(rows.nth(1)).to_contain_text("大田县兆丰矿业有限公司")

    page.goto(page.base_url + "/r/stock_take/add")
    _choose(page, "enterprise", "福州闽榕")
    _choose(page, "warehouse", "民爆二")
    _choose(page, "product", "硝化甘油炸药")
    page.fill("input[name=system_quantity]", "40")
    page.fill("input[name=counted_quantity]", "39.5")
    page.click("form [type=submit].btn-primary")
    expect(page.locator("body")).to_contain_text("差异数量")
    expect(page.locator("body")).to_contain_text("-0.5")

    _sign_in(page, regulator)
    page.goto(page.base_url + "/warnings/")
    row = page.locator("tr.warning-row", has_text="库存差异预警")
    expect(row).to_have_count(1)
    # what the seed's 关闭库存差异预警信息 shows: enterprise, warehouse, product, system and counted quantities
    details = row.locator(".warning-details")
    for text in ("福州闽榕民爆器材经营有限公司", "民爆二", "硝化甘油炸药", "系统盘点数量", "40", "实际盘点数量", "39.5"):
        expect(details).to_contain_text(text)
    row.locator("input[name=reason]").fill("盘点称量误差，复核后账实相符")
    row.locator("button[type=submit]").click()
    expect(page.locator(".alert")).to_contain_text("预警已关闭", timeout=30_000)
    page.select_option("#warning-filters select[name=state]", "closed")
    page.click("#warning-filters button[type=submit]")
    closed = page.locator("tr.warning-row[data-state=closed]", has_text="库存差异预警")
    expect(closed).to_have_count(1, timeout=30_000)
    expect(closed.locator(".warning-reason")).to_contain_text("盘点称量误差，复核后账实相符")
