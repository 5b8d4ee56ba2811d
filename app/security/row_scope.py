"""The one place row scope is enforced: every ORM query of a register gets the actor's read condition;
every flush of register rows is checked against the actor's permissions and write scope."""
from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from .actor import Actor, current_actor, in_app
from .policy import AccessDenied, AccessPolicy, changed_fields

_INSTALLED = False


def install() -> None:
    """Listen on every SQLAlchemy session (once per process); the listeners find the app's policy."""
    global _INSTALLED
    if _INSTALLED:
        return
    event.listen(Session, "do_orm_execute", _scope_query)
    event.listen(Session, "before_flush", _check_flush)
    _INSTALLED = True


def policy() -> AccessPolicy:
    return current_app.extensions["safety_policy"]


def loader_criteria(actor: Actor) -> list[Any]:
    """with_loader_criteria options for every register the actor is restricted on (cached per request)."""
    cache = g.setdefault("_scope_criteria", {}) if has_request_context() else {}
    key = (actor.user_id, actor.roles, actor.organisation_id)
    if key in cache:
        return cache[key]
    pol = policy()
    options = []
    for spec in pol.registry.registers.values():
        condition = pol.read_condition(spec, actor)
        if condition is not None:
            options.append(with_loader_criteria(pol.models[spec.name], condition))
    cache[key] = options
    return options


def _scope_query(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete) or not in_app():
        return
    if state.execution_options.get("include_all_rows"):
        return
    actor = current_actor()
    if actor is None or actor.is_admin:
        return
    state.statement = state.statement.options(*loader_criteria(actor))


def _register_of(obj: Any) -> Any:
    return getattr(type(obj), "__register__", None)


def _check_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if not in_app():
        return
    actor = current_actor()
    for obj in session.new:
        if _register_of(obj) is not None and actor is not None and actor.user_id is not None:
            if getattr(obj, "created_by_id", None) is None:
                obj.created_by_id = actor.user_id
            obj.updated_by_id = actor.user_id
            if getattr(obj, "organisation_id", None) is None:
                obj.organisation_id = actor.organisation_id
            if actor.enterprise_key:
                _own_enterprise(session, _register_of(obj), obj, actor)
    for obj in session.dirty:
        if _register_of(obj) is not None and actor is not None and actor.user_id is not None \
                and session.is_modified(obj, include_collections=False):
            obj.updated_by_id = actor.user_id
    if actor is None or actor.is_admin:
        return
    pol = policy()
    from app.workflow.guard import authorised  # rows a workflow transition writes were checked by the engine
    for obj in list(session.new):
        spec = _register_of(obj)
        if spec is not None and not authorised(session, obj):
            _check_write(pol, actor, spec, obj, "add")
    for obj in list(session.dirty):
        spec = _register_of(obj)
        if spec is not None and session.is_modified(obj, include_collections=False) and not authorised(session, obj):
            _check_write(pol, actor, spec, obj, "edit")
    for obj in list(session.deleted):
        spec = _register_of(obj)
        if spec is not None:
            _check_write(pol, actor, spec, obj, "delete")


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
                            .order_by(target.id).limit(1).execution_options(include_all_rows=True)).scalar()
    setattr(obj, f"{anchor}_id", found)


def _check_write(pol: AccessPolicy, actor: Actor, spec: Any, obj: Any, action: str) -> None:
    owner = pol.registry.owner_of(spec)
    if spec.parent:
        # a child row is part of its parent: adding, changing or removing one is editing the parent
        parent_action = "edit"
        if not pol.can(owner, actor, parent_action) and not pol.can(owner, actor, "add"):
            raise AccessDenied(f"{actor.username} may not change {owner.name}")
        if action != "add" and not pol.row_in_scope(spec, actor, obj, parent_action, old=True):
            raise AccessDenied(f"{spec.name} #{obj.id} is outside the scope of {actor.username}")
        if action != "delete" and not pol.row_in_scope(spec, actor, obj, parent_action) \
                and not pol.row_in_scope(spec, actor, obj, "add"):
            raise AccessDenied(f"{spec.name} row outside the scope of {actor.username}")
        return
    if not pol.can(spec, actor, action):
        raise AccessDenied(f"{actor.username} may not {action} {spec.name}")
    if action in ("edit", "delete") and not pol.row_in_scope(spec, actor, obj, action, old=True):
        raise AccessDenied(f"{spec.name} #{obj.id} is outside the scope of {actor.username}")
    if action in ("add", "edit") and not pol.row_in_scope(spec, actor, obj, action):
        raise AccessDenied(f"the {spec.name} row would be outside the scope of {actor.username}")
    if action in ("add", "edit") and pol.references_to_revealed(spec, actor, obj):
        raise AccessDenied(f"{spec.name} would point to a row {actor.username} may only read")
    if action == "edit":
        locked = pol.read_only_fields(spec, actor, "edit")
        touched = changed_fields(obj, [c for f in spec.stored_fields if f.name in locked
                                       for c in _columns_of(f)])
        if touched:
            raise AccessDenied(f"{actor.username} may not change {', '.join(touched)} of {spec.name}")


def _columns_of(field: Any) -> list[str]:
    from app.models import column_names
    return list(column_names(field))
