"""In Chromium: the application form shows, under each 申请材料, that 确认提交 needs it exactly while the chosen
申报类型 (and, for the storage assessment, 经营方式) asks for it, and changes as the applicant changes them."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.security import factory

pytestmark = pytest.mark.browser

ALL = ["application_letter", "business_licence", "safety_rules", "qualification_proof", "premises_proof",
       "plan_filing_form", "storage_assessment", "original_licence", "change_proof"]


def shown(page) -> set[str]:
    return {name for name in ALL if page.locator(f'[data-field="{name}"] .required-for').is_visible()}


def choose(page, field: str, value) -> None:
    """What the select box does when the user picks: the value, then a change event."""
    page.evaluate("([f, v]) => jQuery(`select[name='${f}']`).val(v).trigger('change')", [field, value])


def test_the_form_names_the_materials_of_the_chosen_type(db_app, page):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        enterprise = factory.make_row(svc, "enterprise", {"region": factory.HOME_TOWNSHIP, "department": "emergency"})
        login = factory.make_user(db_app, "enterprise_user", enterprise_key=enterprise.uscc).username
    page.set_default_timeout(60_000)  # a loaded machine: the form's page and its scripts take their time
    page.goto(page.base_url + "/login/")
    page.fill("#username", login)
    page.fill("#password", factory.PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/r/licence_application/add")
    expect(page.locator('[data-field="application_letter"] .required-for')).to_contain_text("办理“确认提交”")

    # 首次申请 is the default
    assert shown(page) == {"application_letter", "business_licence", "safety_rules", "qualification_proof",
                           "premises_proof", "plan_filing_form"}
    choose(page, "declaration_type", "change")
    assert shown(page) == {"application_letter", "business_licence", "original_licence", "change_proof"}
    choose(page, "declaration_type", "extend")
    assert shown(page) == {"application_letter", "qualification_proof", "plan_filing_form", "original_licence"}
    choose(page, "business_mode", ["other", "with_storage"])
    assert shown(page) == {"application_letter", "qualification_proof", "plan_filing_form", "original_licence",
                           "storage_assessment"}
