"""企业自主注册 (003): an enterprise applies on the public form without an account; the regulator of its region
and industry approves it (the enterprise and its account appear) or rejects it with a reason; nothing else is
reachable without signing in."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.helpers import FormClient, field_errors, visible_text
from tests.security import factory

from .helpers import alerts, buttons, client_for, state_of, stored, take


@pytest.fixture
def regulators(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        home = factory.make_org(svc)
        away = factory.make_org(svc, region="211302")
        return {"home": factory.make_user(db_app, "regulator", home).username,
                "housing": factory.make_user(db_app, "regulator", factory.make_org(svc, department="housing")).username,
                "away": factory.make_user(db_app, "regulator", away).username}


def _application(**override):
    data = {"name": "常州新北自主注册化工有限公司", "uscc": factory.make_uscc(), "enterprise_type": "hc_production",
            "region": factory.HOME_TOWNSHIP, "address": "常州市新北区春江街道100号", "legal_representative": "孙丽",
            "department": "emergency", "contact": "孙丽", "contact_mobile": "13912345678"}
    data.update(override)
    return data


def test_an_enterprise_applies_without_an_account_and_the_regulator_approves(db_app, regulators):
    public = FormClient(db_app.test_client())
    page = public.get("/public/enterprise_application")
    text = visible_text(page.get_data(as_text=True))
    assert page.status_code == 200 and "企业注册申请" in text and "提交申请" in text
    assert "CSRF" not in text and "Aq@" not in text  # no technical field, no hint of a first password
    # the form's region picker works without an account
    assert public.get("/dict/region/children").status_code == 200
    assert public.get("/dict/hazard_level/children").status_code == 401  # no public form uses it

    response = public.post_form("/public/enterprise_application", _application(uscc="91320411MA1XYB1234",
                                                                                state="approved"))
    assert response.status_code == 200 and field_errors(response.get_data(as_text=True), "uscc")
    data = _application()
    response = public.post_form("/public/enterprise_application", {**data, "state": "approved"})
    assert response.status_code == 302
    done = visible_text(public.get(response.headers["Location"]).get_data(as_text=True))
    application = int(re.search(r"(\d+)", done[done.index("申请编号"):]).group(1))
    assert state_of(db_app, "enterprise_application", application) == "submitted"

    # nothing else opens without an account
    assert public.get("/public/hazard").status_code == 404
    assert public.get(f"/r/enterprise_application/show/{application}").status_code == 302  # to the login

    # the regulator of its region and department sees it waiting; others do not see it at all
    home = client_for(db_app, regulators["home"])
    assert "todo-enterprise_application" in home.get("/workflow/todo").get_data(as_text=True)
    assert client_for(db_app, regulators["away"]).get(
        f"/r/enterprise_application/show/{application}").status_code == 403
    assert client_for(db_app, regulators["housing"]).get(
        f"/r/enterprise_application/show/{application}").status_code == 403
    assert buttons(home.get(f"/r/enterprise_application/show/{application}").get_data(as_text=True)) == \
        ["approve", "reject"]
    take(home, "enterprise_application", application, "approve")

    svc = db_app.extensions["safety"]
    model = svc.models["enterprise"]
    with db_app.app_context():
        created = svc.session.scalars(select(model).where(model.uscc == data["uscc"])
                                      .execution_options(include_all_rows=True)).one()
        assert (created.name, created.region, created.department) == (data["name"], data["region"], "emergency")
        account = db_app.appbuilder.sm.find_user(username=data["uscc"])
        assert account is not None and account.must_change_password
    assert stored(db_app, "enterprise_application", application).decided_by


def test_a_rejection_needs_a_reason(db_app, regulators):
    public = FormClient(db_app.test_client())
    response = public.post_form("/public/enterprise_application", _application())
    done = visible_text(public.get(response.headers["Location"]).get_data(as_text=True))
    application = int(re.search(r"(\d+)", done[done.index("申请编号"):]).group(1))
    home = client_for(db_app, regulators["home"])
    assert "意见" in alerts(take(home, "enterprise_application", application, "reject").get_data(as_text=True))
    take(home, "enterprise_application", application, "reject", comment="经核实不属于本辖区")
    assert state_of(db_app, "enterprise_application", application) == "rejected"


def test_sends_from_one_address_are_limited(db_app):
    """Anyone can reach the form: past the limit an address is told to wait, and nothing more is written."""
    configured = db_app.config["PUBLIC_FORM_RATE_LIMIT"]
    db_app.config["PUBLIC_FORM_RATE_LIMIT"] = "3 per hour"
    try:
        public = FormClient(db_app.test_client())
        statuses = [public.post_form("/public/enterprise_application", _application()).status_code
                    for _ in range(4)]
        assert statuses == [302, 302, 302, 429]
        refused = public.post_form("/public/enterprise_application", _application())
        assert refused.status_code == 429
        assert "提交的申请过多" in visible_text(refused.get_data(as_text=True))
        assert public.get("/public/enterprise_application").status_code == 200  # reading the form is not limited
        svc = db_app.extensions["safety"]
        model = svc.models["enterprise_application"]
        with db_app.app_context():
            assert svc.session.scalar(select(func.count()).select_from(model)
                                      .execution_options(include_all_rows=True)) == 3
    finally:
        db_app.config["PUBLIC_FORM_RATE_LIMIT"] = configured
        db_app.appbuilder.sm.limiter.reset()
