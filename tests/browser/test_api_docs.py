"""In a real headless Chromium: the Swagger UI page of the API draws every register's operations from the
app's own document and files, and asks nothing of any other site."""
from __future__ import annotations

import pytest

from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser


def test_swagger_ui_loads_only_from_the_site(page):
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page.base_url + "/login/")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/api/v1/docs")
    # the page draws the operations near the viewport (the first register's first); a busy machine is slow
    page.locator(".opblock-tag").first.wait_for(timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert page.locator(".opblock").count() >= 5
    page.mouse.wheel(0, 20_000)  # further down, further registers (and no request leaves the site)
    page.wait_for_load_state("networkidle")
    assert page.base_url + "/api/v1/openapi.json" in requested
    outside = [url for url in requested if not url.startswith((page.base_url, "data:", "blob:"))]
    assert outside == [] and errors == []
