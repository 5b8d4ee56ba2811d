"""In a real headless Chromium: sign in, filter enterprises by the region tree, add one (a wrong code first),
then switch the UI to English and Traditional Chinese."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN_PASSWORD
from tests.views.test_crud import valid_uscc

pytestmark = pytest.mark.browser


def _seed(app):
    svc = app.extensions["safety"]
    with app.app_context():
        model = svc.models["enterprise"]
        for name, region in (("常州华锦新材料有限公司", "320411004"), ("朝阳德美纳米材料有限公司", "211302001"),
                             ("昆明三元化工有限公司", "530102001")):
            svc.session.add(model(name=name, uscc=valid_uscc("91320411MA1XYB" + str(len(name)).zfill(3)),
                                  enterprise_type="hc_use", region=region, address=f"{name}地址",
                                  legal_representative="王伟", department="emergency", status="producing"))
        svc.session.commit()


def _login(page):
    page.goto(page.base_url + "/login/")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")


def _pick(page, field, labels, container=None):
    """Pick a path in a tree picker (a form's field, or any ``container``), opening one level after the other,
    as a user would."""
    root = page.locator(f"{container or f'[data-field={field}]'} .tree-picker")
    root.locator(".tree-picker-path").click()
    for label in labels[:-1]:
        root.locator(".tree-picker-list li", has=page.locator(".tree-picker-choose", has_text=label)) \
            .locator(".tree-picker-open").click()
        expect(root.locator(".tree-picker-crumbs")).to_contain_text(label)
    root.locator(".tree-picker-choose", has_text=labels[-1]).first.click()
    expect(root.locator(".tree-picker-path")).to_have_value(" / ".join(labels))


def test_filter_add_with_error_then_switch_languages(db_app, page):
    _seed(db_app)
    _login(page)
    page.click("text=基础信息")
    page.click("text=生产经营单位")
    page.wait_for_url("**/r/enterprise/list/")
    expect(page.locator(".register-table tbody tr")).to_have_count(3)

    _pick(page, None, ["江苏省", "常州市"], container="[data-filter=region]")
    page.click("#apply-filters")
    page.wait_for_url("**f.region=3204**")
    rows = page.locator(".register-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("常州华锦新材料有限公司")
    # the picker shows the chosen path again after the reload
    expect(page.locator("[data-filter=region] .tree-picker-path")).to_have_value("江苏省 / 常州市")

    page.click("#add-record")
    page.wait_for_url("**/r/enterprise/add")
    good = valid_uscc("91320411MA2AAC001")
    page.fill("#name", "常州新北安全化工有限公司")
    page.fill("#uscc", good[:-1] + ("1" if good[-1] != "1" else "2"))
    _pick(page, "enterprise_type", ["危险物品类", "危险化学品生产单位"])
    _pick(page, "region", ["江苏省", "常州市", "新北区", "春江街道"])
    page.fill("#address", "常州市新北区春江街道88号")
    page.fill("#legal_representative", "李娜")
    page.select_option("#department", label="应急管理")
    page.click("#save-record")
    expect(page.locator("[data-field=uscc] .field-error")).to_contain_text("统一社会信用代码无效")
    # the other values are kept, the tree choices too
    assert page.input_value("#address") == "常州市新北区春江街道88号"
    assert page.input_value("#region") == "320411004"

    page.fill("#uscc", good)
    page.click("#save-record")
    page.wait_for_url("**/r/enterprise/list/**")
    expect(page.locator(".register-table")).to_contain_text("常州新北安全化工有限公司")

    page.click("#language-menu > a")
    page.click("#language-menu a[data-locale=en]")
    expect(page.locator("h3.register-title")).to_contain_text("Enterprises")
    header = page.locator(".register-table thead").inner_text()
    assert "Enterprise name" in header and "Unified social credit code" in header
    assert "Hazardous chemicals producer" in page.locator(".register-table tbody").inner_text()

    page.click("#language-menu > a")
    page.click("#language-menu a[data-locale=zh_Hant]")
    expect(page.locator("h3.register-title")).to_contain_text("生產經營單位")
    assert "統一社會信用代碼" in page.locator(".register-table thead").inner_text()
    page.screenshot(path="test-results/enterprise-zh_Hant.png", full_page=True)
