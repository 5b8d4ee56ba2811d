"""In Chromium: a file input is labelled in the app's language, not the browser's (i18n-inputs.js)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser


def _login(page, base_url):
    page.goto(base_url + "/login/")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(base_url + "/")


@pytest.mark.parametrize("browser_locale, app_locale, choose, none", [
    ("zh-CN", "en", "Choose file", "No file chosen"),
    ("en-US", "zh_Hans", "选择文件", "未选择文件"),
    ("en-US", "zh_Hant", "選擇檔案", "未選擇檔案"),
])
def test_the_file_input_follows_the_app_language(db_app, browser, live_server, tmp_path, browser_locale,
                                                 app_locale, choose, none):
    context = browser.new_context(locale=browser_locale, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        base = live_server.url
        _login(page, base)
        page.goto(f"{base}/lang/{app_locale}")
        page.goto(f"{base}/r/enterprise/import")
        button = page.locator("label.i18n-file-button[for=import-file]")
        expect(button).to_have_text(choose)
        expect(button).to_be_visible()
        expect(page.locator(".i18n-file-name")).to_have_text(none)
        assert page.locator("#import-file").evaluate("e => getComputedStyle(e).opacity") == "0"
        with page.expect_file_chooser() as chooser:          # the label opens the browser's file dialog
            button.click()
        upload = tmp_path / "enterprises.xlsx"
        upload.write_bytes(b"not really a workbook")
        chooser.value.set_files(str(upload))
        expect(page.locator(".i18n-file-name")).to_have_text("enterprises.xlsx")
    finally:
        context.close()
