"""In a real headless Chromium, the self-inspection cycle (001 §2.1, §2.6–2.7): the township's 填报情况 page shows an
enterprise that has not reported this month, the regulator sends it a reminder (催报), the enterprise reads it in
its messages and files its report, and the 填报情况 page counts it as reported."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.security import factory

pytestmark = pytest.mark.browser

NAME = "常州新北春江化工有限公司"


def _sign_in(page, username: str) -> None:
    page.set_default_timeout(30_000)  # the first pages of a fresh app on a shared machine can be slow
    page.goto("about:blank")  # no request of the last page can set its session cookie again
    page.context.clear_cookies()  # whoever was signed in before is gone, whether or not its logout finished
    page.goto(page.base_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", factory.PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")


def test_a_reminder_a_report_and_the_reporting_page_counts_it(db_app, page):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        late = factory.make_row(svc, "enterprise", {"name": NAME, "region": factory.HOME_TOWNSHIP,
                                                    "department": "emergency", "status": "producing",
                                                    "report_cycle": "monthly", "report_status": "normal"})
        factory.make_row(svc, "self_inspection_report", {"enterprise": late, "period": "上上月",
                                                         "reported_on": date.today() - timedelta(days=65)})
        regulator = factory.make_user(db_app, "regulator", home).username
        company = factory.make_user(db_app, "enterprise_user", enterprise_key=late.uscc).username

    group = f"{page.base_url}/frequency/self_inspection_reporting/{factory.HOME_TOWNSHIP}"
    _sign_in(page, regulator)
    page.goto(group)
    monthly = page.locator(".frequency-rule[data-code=monthly]")
    expect(monthly).to_have_attribute("data-done", "0")
    row = monthly.locator("tr.missing-row", has_text=NAME)
    expect(row).to_have_count(1)
    with page.expect_navigation():
        row.locator("button.remind-one").click()
    page.screenshot(path="/tmp/self/after_remind.png")
    expect(page.locator(".alert-success")).to_contain_text("已向 1 家企业发送催报")
    expect(page.locator("tr.missing-row", has_text=NAME).locator(".last-reminded")).to_contain_text(
        date.today().isoformat())

    _sign_in(page, company)
    page.goto(page.base_url + "/workflow/inbox")
    expect(page.locator("body")).to_contain_text(f"请按查报周期上报隐患排查情况：{NAME}")
    page.goto(page.base_url + "/r/self_inspection_report/add")
    page.locator("[data-field=enterprise] .select2-selection").click()
    page.locator(".select2-search__field").fill("春江")
    page.locator(".select2-results__option", has_text=NAME).click()
    page.fill("#period", f"{date.today():%Y年%m月}")
    page.fill("#hazards_general", "1")
    page.click("#save-record")
    expect(page.locator("body")).to_contain_text(f"{date.today():%Y年%m月}")

    _sign_in(page, regulator)
    page.goto(group)
    monthly = page.locator(".frequency-rule[data-code=monthly]")
    expect(monthly).to_have_attribute("data-done", "1")
    expect(monthly.locator("tr.missing-row", has_text=NAME)).to_have_count(0)
    page.goto(page.base_url + "/frequency/self_inspection_reporting/")
    expect(page.locator(f"tr.frequency-group[data-group='{factory.HOME_TOWNSHIP}']")).to_contain_text("1 / 1")
