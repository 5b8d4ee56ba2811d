"""The one place row scope is enforced on reads: every ORM query of a register gets the actor's read
condition. Writes are checked on the same rules by the one write path (app/write_path.py), with the
functions here (check_write) and in the policy.

The only way around the read scope is explicit and carries its reason: a statement's execution option
``unscoped_reason="…"`` or a block ``with unscoped(reason="…"):`` (tests/security/test_write_path.py makes
sure no other exists)."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from contextvars import ContextVar
from typing import Any, Callable, Iterator

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.sql import visitors
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.models import column_names

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
    for name in ("after_flush", "after_commit", "after_rollback"):
        event.listen(Session, name, _forget_reveals)
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


#: session.info key: per actor and table, whether a row reveals one of its rows to the actor (this transaction)
REVEALS_KEY = "scope_reveals"


def _forget_reveals(session: Session, *args: Any) -> None:
    session.info.pop(REVEALS_KEY, None)


def policy() -> AccessPolicy:
    return current_app.extensions["safety_policy"]


#: actors whose loader criteria each app's policy keeps (a conditions' tree per register; rebuilt when full)
CRITERIA_CACHE_SIZE = 256


@dataclass(frozen=True)
class Criteria:
    """An actor's with_loader_criteria options, one per register it is restricted on, by table name, with the
    tables each option's own condition names (a hazard's scope reads the enterprise table: the enterprise's
    criteria apply inside it, as they do to every occurrence of the entity). A register whose rows can also be
    revealed to the actor (``reveals``) has a second option without them, used while no row reveals any, and the
    select that says whether one does."""
    options: dict[str, Any]
    reads: dict[str, frozenset[str]]
    own_options: dict[str, Any]
    own_reads: dict[str, frozenset[str]]
    reveal_checks: dict[str, Any]

    def for_tables(self, tables: set[str], revealing: Callable[[str, Any], bool]) -> list[Any]:
        """The options of ``tables`` and of the tables their conditions read, in the registry's order (the same
        statement always gets the same options: its compiled SQL is reused). ``revealing(table, check)`` says
        whether a row reveals one of the table's rows now."""
        chosen: dict[str, Any] = {}
        todo = [t for t in tables if t in self.options]
        while todo:
            name = todo.pop()
            if name in chosen:
                continue
            if name in self.own_options and not revealing(name, self.reveal_checks[name]):
                chosen[name], reads = self.own_options[name], self.own_reads[name]
            else:
                chosen[name], reads = self.options[name], self.reads[name]
            todo.extend(t for t in reads if t in self.options and t not in chosen)
        return [chosen[name] for name in self.options if name in chosen]


def loader_criteria(actor: Actor) -> Criteria:
    """with_loader_criteria options for every register the actor is restricted on. The conditions are SQL built
    from the frozen registry and the actor's own values (roles, organisation, region, enterprise) only, never
    from rows: they are kept per actor on the policy across requests (building them for ~70 registers cost a
    regulator's every request about 0.1 s), and the same option objects let SQLAlchemy reuse compiled SQL."""
    pol = policy()
    cache = pol.__dict__.setdefault("_criteria_by_actor", {})
    found = cache.get(actor)
    if found is not None:
        return found
    options, reads, own_options, own_reads, checks = {}, {}, {}, {}, {}
    for spec in pol.registry.registers.values():
        condition = pol.read_condition(spec, actor)
        if condition is None:
            continue
        model = pol.models[spec.name]
        table = model.__table__.name
        options[table] = with_loader_criteria(model, condition)
        reads[table] = frozenset(tables_in(condition))
        check = pol.revealing_check(spec, actor)
        if check is not None:
            own = pol.read_condition(spec, actor, revealed=False)
            own_options[table] = with_loader_criteria(model, own)
            own_reads[table] = frozenset(tables_in(own))
            checks[table] = check.execution_options(
                unscoped_reason="whether a row the actor sees by its own scope reveals a row of this register")
    found = Criteria(options, reads, own_options, own_reads, checks)
    if len(cache) >= CRITERIA_CACHE_SIZE:
        cache.clear()
    cache[actor] = found
    return found


def tables_in(clause: Any) -> set[str]:
    """The names of the tables a statement or condition names anywhere: its FROM, joins, subqueries, aliases,
    an UPDATE's or DELETE's target (ORM entities are annotated tables)."""
    return {element.name for element in visitors.iterate(clause) if element.__visit_name__ == "table"}


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
    # only the criteria of the registers this statement reads (and those their conditions read): each option
    # is part of every statement's cache key, and ~70 of them cost a regulator's page ~10 ms of hashing.
    # Relationship loads (lazy, selectin) come through here as statements of their own.
    session = state.session

    def revealing(table: str, check: Any) -> bool:
        # asked once per actor, table and transaction (a write or a commit asks again)
        known = session.info.setdefault(REVEALS_KEY, {})
        if (actor, table) not in known:
            known[actor, table] = bool(session.execute(check).scalar())
        return known[actor, table]

    options = loader_criteria(actor).for_tables(tables_in(state.statement), revealing)
    if options:
        state.statement = state.statement.options(*options)


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
    anchor = enterprise_anchor(spec)
    if anchor is None or getattr(obj, f"{anchor}_id", None) is not None or getattr(obj, anchor, None) is not None:
        return
    setattr(obj, f"{anchor}_id", own_enterprise_id(session, spec, actor))


def enterprise_anchor(spec: Any) -> str | None:
    """The reference field that anchors a row of ``spec`` to one enterprise (None: the register is the
    enterprises' own, or reaches its enterprise through another row)."""
    anchor = spec.ownership.enterprise
    return None if not anchor or anchor == "self" or "." in anchor else anchor


def own_enterprise_id(session: Session, spec: Any, actor: Actor) -> int | None:
    """The id of the enterprise an enterprise account stands for, in the register ``spec``'s anchor points to."""
    anchor = enterprise_anchor(spec)
    if anchor is None or not actor.enterprise_key:
        return None
    pol = policy()
    accounts = pol.registry.enterprise_accounts
    target = pol.models[spec.field(anchor).target]
    login = accounts.login if accounts else "uscc"
    return session.execute(select(target.id).where(getattr(target, login) == actor.enterprise_key)
                           .order_by(target.id).limit(1)
                           .execution_options(unscoped_reason="the actor's own enterprise")).scalar()


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
    return list(column_names(field))
