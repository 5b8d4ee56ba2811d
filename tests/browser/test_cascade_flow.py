"""In a real headless Chromium, four people walk the 002 cleaner-production cascade: the province issues, the
city adds its requirements and issues, the county issues and verifies, the enterprise downloads its notice and
uploads it stamped, the county reports, the city sends back and then approves, the province completes. Each
sees only its own level and what lies below it."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.security import factory
from tests.workflow.helpers import PDF

pytestmark = pytest.mark.browser


def _seed(app):
    svc = app.extensions["safety"]
    with app.app_context():
        def org(region, level, parent=None):
            return factory.make_row(svc, "organisation", {"region": region, "department": "emergency",
                                                          "level": level, **({"parent": parent} if parent else {})})
        js = org("32", "province")
        cz = org("3204", "city", js)
        xb = org("320411", "county", cz)
        company = factory.make_row(svc, "enterprise", {"region": "320411004", "department": "emergency",
                                                       "management_level": "county", "status": "producing",
                                                       "name": "常州华锦新材料有限公司"})
        return {"js": factory.make_user(app, "org_admin", js).username,
                "cz": factory.make_user(app, "org_admin", cz).username,
                "xb": factory.make_user(app, "org_admin", xb).username,
                "company": factory.make_user(app, "enterprise_user", enterprise_key=company.uscc).username}


def _person(browser, base_url, username):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(base_url + "/login/")
    page.fill("#username", username)
    page.fill("#password", factory.PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(base_url + "/")
    return page


def _step(page, name, comment=None, files=()):
    """Press a step's button on the record's page, fill its form, confirm; wait for the page to come back."""
    page.click(f"button.workflow-button[data-transition={name}]")
    form = page.locator(f"form.workflow-form[data-transition={name}]")
    expect(form).to_be_visible()
    # wait until the panel has finished opening: under load, a click on its button while Bootstrap's
    # collapse is still animating was seen to focus the button without submitting the form
    expect(page.locator(f"#step-{name}")).to_have_class(re.compile(r"\bin\b"))
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    if files:
        form.locator("input[name=files]").set_input_files(list(files))
    with page.expect_navigation():
        form.locator("button.workflow-submit").click()


def _open_todo(page, register):
    page.click("#nav-todo")
    group = page.locator(f"#todo-{register}")
    expect(group).to_be_visible()
    with page.expect_navigation():
        group.locator("tr.todo-row a").first.click()


def test_four_levels_walk_the_cleaner_production_cascade(db_app, browser, live_server, tmp_path):
    people = _seed(db_app)
    base = live_server.url
    scan = tmp_path / "上报（盖章）.pdf"
    scan.write_bytes(PDF)
    stamped = tmp_path / "告知书（盖章）.pdf"
    stamped.write_bytes(PDF)

    # the province writes and issues the task
    js = _person(browser, base, people["js"])
    js.goto(base + "/r/cp_task/add")
    js.fill("#title", "2026年度清洁生产审核")
    js.fill("#year", "2026")
    # the province's region picker opens at 江苏省: choose that level
    js.locator("[data-field=region] .tree-picker-path").click()
    js.locator("[data-field=region] .tree-picker-level").click()
    expect(js.locator("[data-field=region] .tree-picker-path")).to_have_value("江苏省")
    js.fill("#deadline", (date.today() + timedelta(days=30)).isoformat())
    js.fill("#requirements", "省级要求：月底前完成")
    with js.expect_navigation():
        js.click("#save-record")
    with js.expect_navigation():
        js.locator(".register-table tbody tr", has_text="2026年度清洁生产审核").locator("a", has_text="查看").click()
    root_url = js.url
    _step(js, "issue")
    expect(js.locator("#workflow-state")).to_have_text("已部署")
    below = js.locator(".progress-panel[data-register=cp_task]")
    expect(below.locator(".progress-count[data-state=received]")).to_contain_text("1")

    # the city finds it in its to-do list, reads the province's requirements, adds its own and issues
    cz = _person(browser, base, people["cz"])
    _open_todo(cz, "cp_task")
    expect(cz.locator("[data-field=received_requirements]")).to_contain_text("省级要求：月底前完成")
    city_url = cz.url
    with cz.expect_navigation():
        cz.click(".register-actions a:has-text('编辑')")
    cz.fill("#requirements", "市级要求：附承诺书")
    with cz.expect_navigation():
        cz.click("#save-record")
    cz.goto(city_url)
    _step(cz, "issue")

    # the county: both levels' requirements arrive; it issues and gets its enterprise list
    xb = _person(browser, base, people["xb"])
    _open_todo(xb, "cp_task")
    expect(xb.locator("[data-field=received_requirements]")).to_contain_text("省级要求：月底前完成")
    expect(xb.locator("[data-field=received_requirements]")).to_contain_text("市级要求：附承诺书")
    county_url = xb.url
    _step(xb, "issue")
    listing = xb.locator(".progress-panel[data-register=cp_enterprise]")
    expect(listing.locator(".progress-row")).to_have_count(1)
    expect(listing).to_contain_text("常州华锦新材料有限公司")
    # the county cannot open the province's task
    assert xb.goto(root_url).status == 403

    # the enterprise: one row of its own, its notice as PDF, the stamped copy uploaded back
    company = _person(browser, base, people["company"])
    _open_todo(company, "cp_enterprise")
    with company.expect_download() as download:
        company.click("a.document-link")
    assert download.value.suggested_filename == "常州华锦新材料有限公司清洁生产审核告知书.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    _step(company, "upload_notice", files=[stamped])
    expect(company.locator("#workflow-state")).to_have_text("企业已回执")
    company.goto(base + "/r/cp_enterprise/list/")
    expect(company.locator(".register-table tbody tr")).to_have_count(1)

    # the county confirms the enterprise and reports upward with its stamped scan
    xb.goto(county_url)
    with xb.expect_navigation():
        xb.locator(".progress-panel[data-register=cp_enterprise] .progress-row a:has-text('查看')").first.click()
    _step(xb, "confirm")
    xb.goto(county_url)
    _step(xb, "submit", files=[scan])
    expect(xb.locator("#workflow-state")).to_have_text("已上报")

    # the city is told, sees the county's report in its progress panel, and sends it back once
    cz.goto(base + "/")
    expect(cz.locator("#nav-inbox .inbox-badge")).to_be_visible()
    cz.goto(city_url)
    expect(cz.locator(".progress-panel[data-register=cp_task] .progress-count[data-state=submitted]")
           ).to_contain_text("1")
    with cz.expect_navigation():
        cz.locator(".progress-panel[data-register=cp_task] .progress-row a:has-text('查看')").first.click()
    _step(cz, "send_back", comment="请补充企业承诺书")

    xb.goto(county_url)
    expect(xb.locator("#workflow-state")).to_have_text("已退回")
    xb.click("#flow-tab")
    expect(xb.locator("#workflow-timeline")).to_contain_text("请补充企业承诺书")
    _step(xb, "submit", files=[scan])

    cz.goto(county_url)
    _step(cz, "approve")
    cz.goto(city_url)
    _step(cz, "submit", files=[scan])

    # the province approves the city and completes the campaign; the flow chart shows where it ended
    js.goto(root_url)
    expect(js.locator(".progress-panel[data-register=cp_task] .progress-count[data-state=submitted]")
           ).to_contain_text("1")
    with js.expect_navigation():
        js.locator(".progress-panel[data-register=cp_task] .progress-row a:has-text('查看')").first.click()
    _step(js, "approve")
    js.goto(root_url)
    _step(js, "complete")
    expect(js.locator("#workflow-state")).to_have_text("已办结")
    js.click("#flow-tab")
    expect(js.locator("#workflow-diagram g.state.current")).to_have_attribute("data-state", "completed")
    js.screenshot(path="test-results/cascade-province.png", full_page=True)
