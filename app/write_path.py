"""The one write path: every change of a register row is checked here before it is flushed, whatever made it.

Forms, the REST API, workflow steps and their effects, bulk changes (a script, a CLI command) and the rows an
import updates all reach the database through the ORM session, and one ``before_flush`` listener applies, in
this order, to each inserted, changed and deleted row of a register:

1. **field permissions** — the actor's rules may grant the action at all (``check_action``), and an edit leaves
   the fields that are read-only or hidden for the actor as they were (``check_fields``); a new row's read-only
   fields are dropped earlier, by the forms, the API and the import columns;
2. **row scope** — the row as stored and as it will be lies in the actor's write scope (``check_scope``);
3. **workflow state guard** — a state changes only through a transition, a frozen field keeps its value,
   a kept row is not deleted (app.workflow.guard.check_flush); then the register's cross-field ``rules``
   (``check_rules``; forms and the API report them on the field first, imports on the row, before this), and
   a reference with ``match`` points to a row that agrees with this one (``check_match``);
4. **audit** — after the flush, one audit row per inserted or deleted row and per changed field, in the same
   transaction (app.audit.recorder.record): a refused or rolled-back write leaves none;
5. **warnings** — the rows a user changed of registers that warnings watch are remembered, and after the commit
   one Celery task per register computes their warnings again (app.alerts: a fixed date, a rectified hazard
   resolves its warning at once; a rollback forgets them).

Account changes (app.security.accounts) are checked in the same pass. The system itself — no signed-in user:
the command line, migrations, demo data — is not a user going around a rule; steps 1 and 2 also let an
administrator through, and step 3 does not.

Imports write their new rows by PostgreSQL COPY, without the ORM: they call the same pure checks on every row
before anything is written (``refused_fields``, ``row_allowed``, ``frozen_fields``) and take their audit rows
from ``app.audit.recorder.import_entries`` — see docs/architecture.md.

The escape hatches, each explicit and greppable (tests/security/test_write_path.py lists them):
- reads outside the actor's scope: ``.execution_options(unscoped_reason="…")`` on one statement, or
  ``with unscoped(reason="…"):`` (app.security.row_scope) around engine-internal work;
- writes the engine has checked itself: ``app.workflow.guard.authorise`` (a transition and its effects);
- rows written without the ORM: ``app.excel.bulk.write_rows`` (imports, accounts made in bulk), and the generated
  rows of ``flask demo load --scale`` (``app.demo.scale``, COPY into empty registers, from the command line only).
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from flask import current_app
from flask_babel import gettext
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app import alerts, computed, counts, matching
from app.audit import account_events, recorder
from app.i18n import label_text
from app.metadata.rules import broken_rules, missing_required
from app.security import accounts, row_scope, view_as
from app.security.actor import Actor, current_actor, in_app
from app.security.policy import AccessDenied, AccessPolicy
from app.security.row_scope import check_action, check_fields, check_scope, register_of, unscoped
from app.workflow import guard

_INSTALLED = False


def install() -> None:
    """The read scope on every query and the write path on every flush (once per process)."""
    global _INSTALLED
    if _INSTALLED:
        return
    row_scope.install()
    guard.install()
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    # after the checks: the engine writes count fields, read-only for every user
    event.listen(Session, "before_flush", counts.recount)
    event.listen(Session, "before_flush", computed.recompute)
    # 5. after the commit, the warnings of the rows a user changed are computed again (a Celery task)
    event.listen(Session, "after_commit", alerts.queue_rechecks)
    event.listen(Session, "after_rollback", alerts.forget)
    _INSTALLED = True


def changes(session: Session) -> Iterator[tuple[Any, Any, str]]:
    """(register descriptor, row, action) of every register row this flush writes ('add', 'edit', 'delete');
    rows a workflow step wrote were checked by the workflow engine (guard.authorise) and are left out of
    steps 1 and 2, not of step 3."""
    for obj in list(session.new):
        spec = register_of(obj)
        if spec is not None and not guard.authorised(session, obj):
            yield spec, obj, "add"
    for obj in list(session.dirty):
        spec = register_of(obj)
        if spec is not None and session.is_modified(obj, include_collections=False) \
                and not guard.authorised(session, obj):
            yield spec, obj, "edit"
    for obj in list(session.deleted):
        spec = register_of(obj)
        if spec is not None:
            yield spec, obj, "delete"


def check_change(pol: AccessPolicy, actor: Actor, spec: Any, obj: Any, action: str) -> None:
    """Steps 1 and 2 for one row: raises AccessDenied (403, nothing written)."""
    check_action(pol, actor, spec, action)
    check_fields(pol, actor, spec, obj, action)
    check_scope(pol, actor, spec, obj, action)


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    view_as.refuse_flush(session, flush_context, instances)  # viewing as an enterprise writes nothing
    if not in_app():
        return
    actor = current_actor()
    row_scope.stamp(session, actor)
    if actor is not None and not actor.is_admin:
        pol = policy()
        for spec, obj, action in changes(session):
            check_change(pol, actor, spec, obj, action)
    accounts.make_enterprise_accounts(session)
    accounts.check_account_changes(session)
    recorder.refuse_audit_changes(session)
    guard.check_flush(session)
    check_rules(session)


class RuleBroken(guard.WorkflowRefused):
    """A write that breaks one of the register's cross-field rules (rules:); the message is the rule's own."""


def check_rules(session: Session) -> None:
    """Step 3b: every new row, and every changed row whose change touches a rule's fields, keeps the register's
    rules — whoever writes it (a form, the API, a workflow step that sets values, the system itself)."""
    for obj in (*session.new, *session.dirty):
        spec = register_of(obj)
        if spec is None or obj in session.deleted:
            continue
        check_match(session, spec, obj)
        if not (spec.rules or spec.has_required_when):
            continue
        if obj in session.new:
            touched = None
        else:
            attrs = sa_inspect(obj).attrs
            touched = {name for name in spec.field_map if name in attrs and attrs[name].history.has_changes()}
            if not touched:
                continue
        values = {f.name: getattr(obj, f.name, None) for f in spec.fields if f.stores_value and f.type != "geo"}
        for f in missing_required(spec, values):
            if touched is None or touched & ({f.name} | {c.field for c in f.required_when}):
                raise RuleBroken(gettext("%(columns)s: %(message)s", columns=label_text(f.label),
                                         message=gettext("This field is required.")))
        broken = broken_rules(spec, values, only_fields=touched)
        if broken:
            raise RuleBroken(label_text(broken[0].message))


def check_match(session: Session, spec: Any, obj: Any) -> None:
    """Step 3c: a reference with ``match`` points to a row that agrees with this one (app.matching), checked when
    the reference or a matched field is new or changed."""
    fields = matching.matching_fields(spec)
    if not fields:
        return
    names = {f.name for f in fields} | {own for f in fields for own in f.match.values()}
    state = sa_inspect(obj)
    if obj not in session.new:
        attrs = state.attrs
        if not any(attrs[c].history.has_changes() for n in names for c in (n, f"{n}_id") if c in attrs):
            return
    values = {}
    for name in names:
        if spec.field(name).type == "reference":
            chosen = state.dict.get(name)  # a row set on the relationship, not flushed yet (no lazy load here)
            values[name] = chosen.id if chosen is not None and chosen.id is not None else getattr(obj, f"{name}_id")
        else:
            values[name] = getattr(obj, name)
    broken = matching.check(session, spec, values)
    if broken:
        raise RuleBroken(broken[0].message(spec, current_app.extensions["safety"].registry))


def _after_flush(session: Session, flush_context: Any) -> None:
    recorder.record(session)
    account_events.record(session)
    if in_app():
        alerts.touched(session)


def policy() -> AccessPolicy:
    return current_app.extensions["safety_policy"]


# ---------------------------------------------------------------- pure checks for writes without the ORM
def refused_fields(spec: Any, actor: Actor | None, names: Iterable[str], action: str = "add") -> list[str]:
    """The fields among ``names`` the actor may not set in ``action`` (read-only or hidden in every rule that
    grants it, or read-only for everyone): an import leaves them out of its columns, an API call is refused."""
    locked = set() if actor is None else set(policy().read_only_fields(spec, actor, action))
    locked |= {f.name for f in spec.fields if f.read_only}
    return [name for name in names if name in locked]


def row_allowed(spec: Any, actor: Actor | None, row: Any, action: str) -> bool:
    """Steps 1 and 2 for a row that will be written without the ORM (a transient object holding the values an
    import would write, or the stored row it would update)."""
    if actor is None or actor.is_admin:
        return True
    pol = policy()
    try:
        check_action(pol, actor, spec, action)
        check_scope(pol, actor, spec, row, action)
    except AccessDenied:
        return False
    return True


def frozen_fields(spec: Any, state: str | None) -> frozenset[str]:
    """The fields a row in ``state`` keeps (step 3): none without a workflow, every field when frozen: all."""
    wf = spec.workflow
    found = wf.state(state) if wf is not None and state is not None else None
    if found is None or not found.frozen:
        return frozenset()
    return frozenset(spec.field_map) if found.frozen == "all" else frozenset(found.frozen)


__all__ = ["RuleBroken", "changes", "check_change", "check_rules", "frozen_fields", "install", "refused_fields", "row_allowed", "unscoped"]
