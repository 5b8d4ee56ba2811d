"""Conditions with any / all / not, numeric comparisons and a referenced row's field (task.state), evaluated by
the same SQL that offers a button, takes a transition and fills a to-do list, and said in words when they fail."""
from __future__ import annotations

from sqlalchemy import select

from app.metadata.spec import Condition
from app.workflow.conditions import conditions_sql
from tests.security import factory


def _matching(app, register: str, *conditions: dict) -> set[str]:
    svc = app.extensions["safety"]
    spec, model = svc.registry.register(register), svc.models[register]
    parsed = [Condition.model_validate(c) for c in conditions]
    stmt = select(model).where(conditions_sql(svc, spec, model, parsed, None))
    return {getattr(r, spec.title_field) for r in svc.session.scalars(stmt.execution_options(unscoped_reason="test"))}


def test_any_not_and_numbers(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        for name, capacity, manager in (("小", 50, None), ("中", 500, "王伟"), ("大", 5000, None)):
            factory.make_row(svc, "shelter", {"name": name, "capacity": capacity, "region": factory.HOME_TOWNSHIP,
                                              **({"manager": manager} if manager else {})})
        assert _matching(db_app, "shelter", {"field": "capacity", "at_least": 500}) == {"中", "大"}
        assert _matching(db_app, "shelter", {"field": "capacity", "above": 50, "below": 5000}) == {"中"}
        assert _matching(db_app, "shelter", {"any": [{"field": "capacity", "at_most": 50},
                                                     {"field": "manager", "is_set": True}]}) == {"小", "中"}
        assert _matching(db_app, "shelter", {"not": {"field": "capacity", "at_least": 500}}) == {"小"}
        assert _matching(db_app, "shelter", {"all": [{"field": "capacity", "at_least": 100},
                                                     {"not": {"field": "manager", "is_set": True}}]}) == {"大"}


def test_a_condition_on_the_state_of_the_row_a_reference_points_to(db_app):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        issued = factory.make_row(svc, "gas_task", {}, state="issued")
        received = factory.make_row(svc, "gas_task", {}, state="received")
        for task, name in ((issued, "甲"), (received, "乙")):
            factory.make_row(svc, "gas_check", {"task": task, "enterprise_name": name,
                                                "region": factory.HOME_TOWNSHIP})
        assert _matching(db_app, "gas_check", {"field": "task.state", "in": ["issued", "returned"]}) == {"甲"}
        assert _matching(db_app, "gas_check", {"not": {"field": "task.state", "equals": "issued"}}) == {"乙"}

    with db_app.test_request_context():
        engine = db_app.extensions["safety_workflow"]
        spec = svc.registry.register("gas_check")
        text = engine.explain(spec, Condition.model_validate(
            {"any": [{"field": "task.state", "in": ["issued"]}, {"not": {"field": "contact", "is_set": True}}]}),
            "核实")
        assert text == "只有所属任务状态为已部署，或并非（联系人为已填写）时才能办理“核实”。", text
