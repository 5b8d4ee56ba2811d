"""The one write path (app/write_path.py): its checks run in order on every flush, its pure checks answer like the
flush would, and every way around the row scope in the engine is one of the few explicit, greppable ones."""
from __future__ import annotations

import ast

import pytest
from sqlalchemy import select

from app.security.actor import acting_as, actor_for
from app.security.policy import AccessDenied
from tests.conftest import ROOT

from . import factory
from .test_scope_matrix import scoped_app  # noqa: F401 - the fixture

#: engine modules allowed each escape hatch, and why
AUTHORISE = {"app/workflow/engine.py": "a transition and its effects, checked by the engine",
             "app/views/public.py": "a public application (no account) starts its workflow",
             "app/demo/workflows.py": "demo data moved along its flows"}
BULK_WRITES = {"app/excel/bulk.py": "COPY itself", "app/excel/importer.py": "new rows of an import, checked row by row",
               "app/security/accounts.py": "enterprise accounts for imported rows",
               "app/demo/scale.py": "generated rows by COPY into empty registers (flask demo load --scale)"}
LISTENERS = {"app/write_path.py": {"before_flush", "after_flush"}, "app/security/row_scope.py": {"do_orm_execute"}}
SESSION_EVENTS = {"before_flush", "after_flush", "after_flush_postexec", "before_commit", "do_orm_execute",
                  "persistent_to_deleted", "pending_to_persistent"}


def bypasses(path: str, source: str) -> list[str]:
    """Every way around the row scope or the write checks in one module that is not an allowed one (the hook
    itself, in row_scope.py, still reads the tests' ``include_all_rows``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and node.value == "include_all_rows" and path != "app/security/row_scope.py":
            found.append(f"{where}: include_all_rows — use .execution_options(unscoped_reason=\"why\")")
        if isinstance(node, ast.keyword) and node.arg == "include_all_rows":
            found.append(f"{where}: include_all_rows — use .execution_options(unscoped_reason=\"why\")")
        if isinstance(node, ast.keyword) and node.arg == "unscoped_reason" and not (
                isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) and node.value.value.strip()):
            found.append(f"{where}: unscoped_reason must be a written reason")
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "unscoped":
            reason = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "reason"), None)
            if not (isinstance(reason, ast.Constant) and isinstance(reason.value, str) and reason.value.strip()):
                found.append(f"{where}: unscoped() needs a written reason")
        if name == "authorise" and path not in AUTHORISE and path != "app/workflow/guard.py":
            found.append(f"{where}: guard.authorise outside the workflow engine")
        if name in ("write_rows", "copy_expert") and path not in BULK_WRITES:
            found.append(f"{where}: {name} writes rows around the write path")
        if name in ("listen", "listens_for") and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value in SESSION_EVENTS \
                and node.args[1].value not in LISTENERS.get(path, set()):
            found.append(f"{where}: a session listener ({node.args[1].value}) beside the one write path")
    return found


def test_every_bypass_of_the_row_scope_and_the_write_checks_is_explicit():
    problems = []
    for file in sorted((ROOT / "app").rglob("*.py")) + sorted((ROOT / "plugins").rglob("*.py")):
        path = file.relative_to(ROOT).as_posix()
        problems += bypasses(path, file.read_text(encoding="utf-8"))
    assert problems == []


def test_the_bypass_scan_finds_what_it_looks_for():
    sneaky = '''
from sqlalchemy import event
rows = session.scalars(select(model).execution_options(include_all_rows=True))
rows = session.scalars(select(model).execution_options(**{"include_all_rows": True}))
rows = session.scalars(select(model).execution_options(unscoped_reason=""))
with unscoped(reason=" "):
    pass
guard.authorise(session, row, None)
write_rows(session, table, records)
event.listen(Session, "before_flush", check)
'''
    found = bypasses("app/views/sneaky.py", sneaky)
    assert len(found) == 7, found


@pytest.fixture
def officer(scoped_app):  # noqa: F811
    """An officer of 新北区 (jurisdiction and department) with a company inside and one outside its scope."""
    svc = scoped_app.extensions["safety"]
    with scoped_app.app_context():
        home = factory.make_org(svc)
        user = factory.make_user(scoped_app, "officer", home)
        inside = factory.make_row(svc, "company", {"area": factory.HOME_TOWNSHIP, "sector": factory.HOME_DEPARTMENT})
        outside = factory.make_row(svc, "company", {"area": factory.AWAY_TOWNSHIP, "sector": factory.HOME_DEPARTMENT})
        return user.id, inside.id, outside.id


def test_unscoped_reads_outside_the_scope_only_inside_its_block(scoped_app, officer):  # noqa: F811
    from app.write_path import unscoped
    svc = scoped_app.extensions["safety"]
    user_id, inside, outside = officer
    model = svc.models["company"]
    with scoped_app.test_request_context(), \
            acting_as(actor_for(scoped_app.appbuilder.sm.get_user_by_id(user_id))):
        ids = select(model.id).where(model.id.in_([inside, outside]))
        assert set(svc.session.scalars(ids)) == {inside}
        with unscoped(reason="a test reads every row"):
            assert set(svc.session.scalars(ids)) == {inside, outside}
        assert set(svc.session.scalars(ids)) == {inside}
        assert set(svc.session.scalars(ids.execution_options(unscoped_reason="a test"))) == {inside, outside}
        with pytest.raises(ValueError):
            with unscoped(reason=""):
                pass
        svc.session.rollback()


def test_field_permissions_are_checked_before_the_row_scope(scoped_app):  # noqa: F811
    """An owner changing its own company's read-only code is refused for the field (step 1); moving the company
    to another enterprise's code would also leave its scope (step 2), but the field check comes first."""
    svc = scoped_app.extensions["safety"]
    with scoped_app.app_context():
        code = factory.make_uscc()
        company = factory.make_row(svc, "company", {"code": code, "area": factory.HOME_TOWNSHIP,
                                                    "sector": factory.HOME_DEPARTMENT})
        owner = factory.make_user(scoped_app, "owner", None, code)
        company_id, owner_id = company.id, owner.id
    with scoped_app.test_request_context(), \
            acting_as(actor_for(scoped_app.appbuilder.sm.get_user_by_id(owner_id))):
        row = svc.session.get(svc.models["company"], company_id)
        row.code = factory.make_uscc()
        with pytest.raises(AccessDenied, match="may not change code"):
            svc.session.flush()
        svc.session.rollback()
        row = svc.session.get(svc.models["company"], company_id)
        row.title = "renamed by its owner"
        svc.session.commit()  # a field the owner may change, in its scope: written
    with scoped_app.app_context():
        assert svc.session.get(svc.models["company"], company_id).title == "renamed by its owner"


def test_the_pure_checks_answer_like_the_flush(scoped_app, officer):  # noqa: F811
    from app.write_path import frozen_fields, refused_fields, row_allowed
    svc = scoped_app.extensions["safety"]
    user_id, inside, outside = officer
    company = svc.registry.register("company")
    permit = svc.registry.register("permit")
    with scoped_app.test_request_context():
        officer_actor = actor_for(scoped_app.appbuilder.sm.get_user_by_id(user_id))
        with acting_as(officer_actor):
            model = svc.models["company"]
            stored_inside = svc.session.execute(
                select(model).where(model.id == inside).execution_options(unscoped_reason="test")).scalar_one()
            stored_outside = svc.session.execute(
                select(model).where(model.id == outside).execution_options(unscoped_reason="test")).scalar_one()
            assert row_allowed(company, officer_actor, stored_inside, "edit")
            assert not row_allowed(company, officer_actor, stored_outside, "edit")
            assert not row_allowed(company, officer_actor, stored_inside, "delete")  # not granted to officers
            assert refused_fields(permit, officer_actor, ["number", "remark", "stage"], "edit") == ["stage"]
            assert refused_fields(company, None, ["code"], "edit") == []
        svc.session.rollback()
    assert frozen_fields(permit, "issued") == frozenset(permit.field_map)
    assert frozen_fields(permit, "draft") == frozenset()
    assert frozen_fields(company, None) == frozenset()


def test_the_policy_names_the_fields_that_put_a_row_outside_the_scope(scoped_app, officer):  # noqa: F811
    """What an import reports on a row it may not write: the scope kinds missed, each with the field deciding it,
    in the granting rule the row comes closest to."""
    svc = scoped_app.extensions["safety"]
    policy = scoped_app.extensions["safety_policy"]
    user_id, _inside, _outside = officer
    company = svc.registry.register("company")
    model = svc.models["company"]
    with scoped_app.test_request_context():
        actor = actor_for(scoped_app.appbuilder.sm.get_user_by_id(user_id))

        def misses(area: str, sector: str, action: str = "edit") -> list:
            return policy.scope_misses(company, actor, model(area=area, sector=sector), action)

        assert misses(factory.HOME_TOWNSHIP, factory.HOME_DEPARTMENT) == []
        assert misses(factory.AWAY_TOWNSHIP, factory.HOME_DEPARTMENT) == [("jurisdiction", "area")]
        assert misses(factory.HOME_TOWNSHIP, factory.AWAY_DEPARTMENT) == [("department", "sector")]
        assert misses(factory.AWAY_TOWNSHIP, factory.AWAY_DEPARTMENT) == [("jurisdiction", "area"),
                                                                          ("department", "sector")]
        assert misses(factory.AWAY_TOWNSHIP, factory.HOME_DEPARTMENT, "delete") == []  # no rule grants it
