"""Every response carries the security headers, and the main pages work under the Content-Security-Policy in a
real headless Chromium: no violation, no script error."""
from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

PAGES = ["/", "/r/enterprise/list/", "/r/enterprise/add", "/r/hazard/list/", "/r/hazard/add",
         "/r/enterprise/import", "/workflow/todo", "/workflow/inbox", "/account/", "/api/v1/docs",
         "/r/enterprise/show/999999"]


def test_headers_on_pages_files_and_refusals(db_app):
    client = db_app.test_client()
    for url in ("/login/", "/static/css/app.css", "/healthz", "/r/enterprise/list/"):
        headers = client.get(url).headers
        assert "default-src 'self'" in headers["Content-Security-Policy"], url
        assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "SAMEORIGIN" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_the_main_pages_run_under_the_policy(page):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    page.on("pageerror", lambda error: violations.append(f"{page.url}: {error}"))
    page.goto(page.base_url + "/login/")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")
    for url in PAGES:
        page.goto(page.base_url + url)
        page.wait_for_load_state("networkidle")
    assert violations == []
