"""In a real headless Chromium, as a county regulator: a certificate's warning appears on the home page once its
date passes (the day set through the TODAY setting, never slept), and is closed on the warning list with a reason
that the list of closed warnings keeps."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.security import factory

pytestmark = pytest.mark.browser


def test_a_regulator_sees_a_warning_appear_and_closes_it_with_a_reason(db_app, page):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        ours = factory.make_row(svc, "enterprise", {"name": "常州新北龙城化工有限公司", "region": factory.HOME_TOWNSHIP,
                                                    "department": "emergency"})
        factory.make_row(svc, "enterprise_certificate", {
            "certificate_name": "安全生产许可证", "certificate_number": "（苏）WH安许证字〔2023〕0412号",
            "issued_on": date(2023, 9, 1), "expires_on": date(2026, 9, 1)}, parent_id=ours.id)
        regulator = factory.make_user(db_app, "regulator", home).username
    from app.workflow.warnings import scan_deadlines
    try:
        db_app.config["TODAY"] = date(2026, 7, 1)  # two months ahead: nothing yet
        with db_app.app_context():
            scan_deadlines()
        page.goto(page.base_url + "/login/")
        page.fill("#username", regulator)
        page.fill("#password", factory.PASSWORD)
        page.click("[type=submit]")
        page.wait_for_url(page.base_url + "/")
        expect(page.locator("#home-warnings [data-level=alarm] .warning-count")).to_have_text("0")

        db_app.config["TODAY"] = date(2026, 9, 3)  # the certificate expired two days ago
        with db_app.app_context():
            scan_deadlines()
        page.reload()
        expect(page.locator("#home-warnings [data-level=alarm] .warning-count")).to_have_text("1")
        expect(page.locator("#nav-warnings .warning-badge")).to_have_text("1")
        page.click("#home-warnings [data-level=alarm]")
        row = page.locator("tr.warning-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("企业证书已过期")
        expect(row).to_contain_text("常州新北龙城化工有限公司 · 安全生产许可证")
        expect(row).to_contain_text("已逾期 2 天")

        row.locator("input[name=reason]").fill("企业已申请延续，新证待发")
        row.locator("button[type=submit]").click()
        expect(page.locator(".alert")).to_contain_text("预警已关闭")
        expect(page.locator("#warnings-empty")).to_be_visible()
        page.select_option("#warning-filters select[name=state]", "closed")
        page.click("#warning-filters button[type=submit]")
        closed = page.locator("tr.warning-row[data-state=closed]")
        expect(closed).to_have_count(1)
        expect(closed.locator(".warning-reason")).to_contain_text("企业已申请延续，新证待发")
        assert re.search(r"state=closed", page.url)
    finally:
        db_app.config["TODAY"] = None
