"""The one place row scope is enforced on reads: every ORM query of a register gets the actor's read
condition. Writes are checked on the same rules by the one write path (app/write_path.py), with the
functions here (check_write) and in the policy.

The only way around the read scope is explicit and carries its reason: a statement's execution option
``unscoped_reason="…"`` or a block ``with unscoped(reason="…"):`` (tests/security/test_write_path.py makes
sure no other exists)."""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any, Iterator

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from . import view_as
from .actor import Actor, current_actor, in_app
from .policy import AccessDenied, AccessPolicy, changed_fields

_INSTALLED = False
_unscoped: ContextVar[str | None] = ContextVar("unscoped_reason", default=None)


def install() -> None:
    """Listen on every SQLAlchemy session (once per process); the listener finds the app's policy."""
    global _INSTALLED
    if _INSTALLED:
        return
    event.listen(Session, "do_orm_execute", _scope_query)
    _INSTALLED = True


@contextlib.contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """Engine-internal work that must see rows outside the actor's scope (the reason says why, for the
    reader and for the test that lists every bypass). One statement: ``.execution_options(unscoped_reason=…)``."""
    if not reason or not reason.strip():
        raise ValueError("unscoped() needs the reason the row scope does not apply")
    token = _unscoped.set(reason)
    try:
        yield
    finally:
        _unscoped.reset(token)


def policy() -> AccessPolicy:
    return current_app.extensions["safety_policy"]


#: actors whose loader criteria each app's policy keeps (a conditions' tree per register; rebuilt when full)
CRITERIA_CACHE_SIZE = 256


def loader_criteria(actor: Actor) -> list[Any]:
    """with_loader_criteria options for every register the actor is restricted on. The conditions are SQL built
    from the frozen registry and the actor's own values (roles, organisation, region, enterprise) only, never
    from rows: they are kept per actor on the policy across requests (building them for ~70 registers cost a
    regulator's every request about 0.1 s), and the same option objects let SQLAlchemy reuse compiled SQL."""
    pol = policy()
    cache = pol.__dict__.setdefault("_criteria_by_actor", {})
    found = cache.get(actor)
    if found is not None:
        return found
    options = []
    for spec in pol.registry.registers.values():
        condition = pol.read_condition(spec, actor)
        if condition is not None:
            options.append(with_loader_criteria(pol.models[spec.name], condition))
    if len(cache) >= CRITERIA_CACHE_SIZE:
        cache.clear()
    cache[actor] = options
    return options


def _scope_query(state: ORMExecuteState) -> None:
    view_as.refuse_statements(state)  # viewing as an enterprise: no INSERT/UPDATE/DELETE on any path
    if not (state.is_select or state.is_update or state.is_delete) or not in_app():
        return
    if state.execution_options.get("unscoped_reason") or _unscoped.get() is not None:
        return
    if state.execution_options.get("include_all_rows"):  # tests' spelling; the engine gives a reason
        return
    actor = current_actor()
    if actor is None or actor.is_admin:
        return
    state.statement = state.statement.options(*loader_criteria(actor))


def register_of(obj: Any) -> Any:
    return getattr(type(obj), "__register__", None)


def stamp(session: Session, actor: Actor | None) -> None:
    """Who wrote a row and where it belongs: created_by/updated_by, the actor's organisation, and for an
    enterprise account its own enterprise (before the checks, which judge the row as it will be stored)."""
    if actor is None or actor.user_id is None:
        return
    for obj in session.new:
        if register_of(obj) is not None:
            if getattr(obj, "created_by_id", None) is None:
                obj.created_by_id = actor.user_id
            obj.updated_by_id = actor.user_id
            if getattr(obj, "organisation_id", None) is None:
                obj.organisation_id = actor.organisation_id
            if actor.enterprise_key:
                _own_enterprise(session, register_of(obj), obj, actor)
    for obj in session.dirty:
        if register_of(obj) is not None and session.is_modified(obj, include_collections=False):
            obj.updated_by_id = actor.user_id


def _own_enterprise(session: Session, spec: Any, obj: Any, actor: Actor) -> None:
    """A row an enterprise account adds belongs to its own enterprise: the reference that anchors the row to an
    enterprise (ownership.enterprise) is filled in when the form did not offer it."""
    anchor = spec.ownership.enterprise
    if not anchor or anchor == "self" or "." in anchor or getattr(obj, f"{anchor}_id", None) is not None \
            or getattr(obj, anchor, None) is not None:
        return
    pol = policy()
    accounts = pol.registry.enterprise_accounts
    target = pol.models[spec.field(anchor).target]
    login = accounts.login if accounts else "uscc"
    found = session.execute(select(target.id).where(getattr(target, login) == actor.enterprise_key)
                            .order_by(target.id).limit(1)
                            .execution_options(unscoped_reason="the actor's own enterprise")).scalar()
    setattr(obj, f"{anchor}_id", found)


def check_action(pol: AccessPolicy, actor: Actor, spec: Any, action: str) -> None:
    """The actor's rules grant ``action`` on the register (a child row: editing or adding its parent)."""
    if spec.parent:
        owner = pol.registry.owner_of(spec)
        if not pol.can(owner, actor, "edit") and not pol.can(owner, actor, "add"):
            raise AccessDenied(f"{actor.username} may not change {owner.name}")
    elif not pol.can(spec, actor, action):
        raise AccessDenied(f"{actor.username} may not {action} {spec.name}")


def check_fields(pol: AccessPolicy, actor: Actor, spec: Any, obj: Any, action: str) -> None:
    """An edit leaves the fields that are read-only (or hidden) for the actor as they were. A new row's
    read-only fields are dropped before they reach a row: the forms, the API and the import columns leave
    them out (their defaults and the engine's stamps are not the actor's doing)."""
    if action != "edit" or spec.parent:
        return
    locked = pol.read_only_fields(spec, actor, "edit")
    touched = changed_fields(obj, [c for f in spec.stored_fields if f.name in locked for c in _columns_of(f)])
    if touched:
        raise AccessDenied(f"{actor.username} may not change {', '.join(touched)} of {spec.name}")


def check_scope(pol: AccessPolicy, actor: Actor, spec: Any, obj: Any, action: str) -> None:
    """The row as stored (edit, delete) and as it will be (add, edit) lies in the actor's write scope."""
    if spec.parent:
        # a child row is part of its parent: adding, changing or removing one is editing the parent
        if action != "add" and not pol.row_in_scope(spec, actor, obj, "edit", old=True):
            raise AccessDenied(f"{spec.name} #{obj.id} is outside the scope of {actor.username}")
        if action != "delete" and not pol.row_in_scope(spec, actor, obj, "edit") \
                and not pol.row_in_scope(spec, actor, obj, "add"):
            raise AccessDenied(f"{spec.name} row outside the scope of {actor.username}")
        return
    if action in ("edit", "delete") and not pol.row_in_scope(spec, actor, obj, action, old=True):
        raise AccessDenied(f"{spec.name} #{obj.id} is outside the scope of {actor.username}")
    if action in ("add", "edit") and not pol.row_in_scope(spec, actor, obj, action):
        raise AccessDenied(f"the {spec.name} row would be outside the scope of {actor.username}")
    if action in ("add", "edit") and pol.references_to_revealed(spec, actor, obj):
        raise AccessDenied(f"{spec.name} would point to a row {actor.username} may only read")


def _columns_of(field: Any) -> list[str]:
    from app.models import column_names
    return list(column_names(field))
