"""Cross-field rules (rules: on a register), as the shipped YAML declares them: the form and the API put the
message on the field, a workflow step that sets a value breaking a rule is refused, and nothing is written."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from tests.helpers import field_errors
from tests.security import factory

DEADLINE_BEFORE_FOUND = "整改期限不能早于发现日期"


def _count(db_app, register: str) -> int:
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        model = svc.models[register]
        return svc.session.scalar(select(func.count()).select_from(model).execution_options(
            unscoped_reason="test"))


def _hazard(enterprise_id: int, **values) -> dict:
    today = date.today()
    return {"enterprise": enterprise_id, "description": "储罐区未设置围堰", "found_on": today.isoformat(),
            "rectify_by": (today - timedelta(days=3)).isoformat(), **values}


def test_the_api_names_the_field_of_a_broken_rule_and_writes_nothing(db_app, county, api_as):
    regulator = api_as(county["regulator"])
    response = regulator.post("/api/v1/hazard/", json=_hazard(county["enterprise_id"]))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["fields"] == {"rectify_by": [DEADLINE_BEFORE_FOUND]}
    assert _count(db_app, "hazard") == 0

    future = (date.today() + timedelta(days=2)).isoformat()
    response = regulator.post("/api/v1/hazard/", json=_hazard(county["enterprise_id"], found_on=future,
                                                               rectify_by=future))
    assert response.get_json()["fields"] == {"found_on": ["发现日期不能晚于今天"]}

    fine = (date.today() + timedelta(days=10)).isoformat()
    created = regulator.post("/api/v1/hazard/", json=_hazard(county["enterprise_id"], rectify_by=fine))
    assert created.status_code == 201, created.get_json()
    # an edit that breaks the rule through the other field is refused on that field's rule too
    edited = regulator.put(f"/api/v1/hazard/{created.get_json()['id']}",
                           json={"rectify_by": (date.today() - timedelta(days=1)).isoformat()})
    assert edited.status_code == 422 and edited.get_json()["fields"] == {"rectify_by": [DEADLINE_BEFORE_FOUND]}


def test_the_form_shows_the_message_under_the_field(db_app, admin, county):
    today = date.today()
    response = admin.post_form("/r/hazard/add", {
        "enterprise": str(county["enterprise_id"]), "description": "储罐区未设置围堰", "level": "general",
        "source": "inspection", "found_on": today.isoformat(),
        "rectify_by": (today - timedelta(days=1)).isoformat()})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert field_errors(html, "rectify_by") == [DEADLINE_BEFORE_FOUND]
    assert _count(db_app, "hazard") == 0


def test_a_workflow_step_whose_set_breaks_a_rule_is_refused(db_app, county, api_as):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        case = factory.make_row(svc, "enforcement_case", {
            "enterprise": svc.session.get(svc.models["enterprise"], county["enterprise_id"]),
            "state": "filed", "filed_on": date.today() + timedelta(days=3), "decision": "罚款", "fine": 5000})
        case_id = case.id
    response = api_as("admin").post(f"/api/v1/enforcement_case/{case_id}/transitions/decide", json={})
    assert response.status_code == 409, response.get_json()
    assert "决定日期不能早于立案日期" in response.get_json()["message"]
    with db_app.app_context():
        stored = svc.session.get(svc.models["enforcement_case"], case_id)
        assert (stored.state, stored.decided_on) == ("filed", None)


def test_a_script_writing_through_the_session_is_held_to_the_rules(db_app):
    import pytest

    from app.write_path import RuleBroken
    svc = db_app.extensions["safety"]
    with db_app.app_context():  # no signed-in user: the system itself
        plan = svc.models["enforcement_plan"]
        with pytest.raises(RuleBroken, match="结束日期不能早于开始日期"):
            factory.make_row(svc, "enforcement_plan", {"starts_on": date(2026, 5, 1), "ends_on": date(2026, 4, 1)})
        svc.session.rollback()
        assert svc.session.scalar(select(func.count()).select_from(plan).execution_options(
            unscoped_reason="test")) == 0
