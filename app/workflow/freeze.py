"""Guards a register declares beyond its own states: frozen while a referenced row is in some states
(`frozen_while`) and when a row may be deleted (`deletable`). Each guard is one SQL condition (to-do lists,
list pages) and one check of a row with the reason in the user's language (flush guard, engine, row pages)."""
from __future__ import annotations

from typing import Any, Iterable

from flask_babel import gettext as _
from sqlalchemy import and_, not_, or_, select, true
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.i18n import label_text
from app.metadata.spec import FrozenWhile, RegisterSpec
from app.security.actor import Actor

from .conditions import conditions_sql


def _reference_id(row: Any, name: str, old: bool) -> Any:
    """The id a reference field holds now, or with ``old`` the one stored before this flush's changes."""
    column = f"{name}_id"
    attrs = sa_inspect(row).attrs
    if old and column in attrs:
        history = attrs[column].history
        if history.deleted:
            return history.deleted[0]
        if history.unchanged:
            return history.unchanged[0]
    value = getattr(row, column, None)
    if value is None and not old:
        related = getattr(row, name, None)  # set as an object, its id not flushed into the column yet
        value = getattr(related, "id", None)
    return value


def frozen_by(svc: Any, spec: RegisterSpec, row: Any, old: bool = False) -> tuple[FrozenWhile, Any] | None:
    """The frozen_while rule that holds for ``row`` and the referenced row's state, or None."""
    for rule in spec.frozen_while:
        ref_id = _reference_id(row, rule.reference, old)
        if ref_id is None:
            continue
        target_spec = svc.registry.register(spec.field(rule.reference).target)
        target = svc.models[target_spec.name]
        state = svc.session.execute(
            select(getattr(target, target_spec.workflow.field)).where(target.id == ref_id)
            .execution_options(unscoped_reason="the state of the row that freezes this one")).scalar_one_or_none()
        if state in rule.states:
            return rule, target_spec.workflow.state(state)
    return None


def frozen_reason(svc: Any, spec: RegisterSpec, row: Any, old: bool = False) -> str | None:
    """Why ``row`` cannot change now (None: it may), in the user's language."""
    found = frozen_by(svc, spec, row, old)
    return None if found is None else reason_text(spec, *found)


def reason_text(spec: RegisterSpec, rule: FrozenWhile, state: Any) -> str:
    if rule.reason is not None:
        return label_text(rule.reason)
    return _("%(field)s is “%(state)s”: this record can no longer be changed.",
             field=label_text(spec.field(rule.reference).label), state=label_text(state.label))


def frozen_among(svc: Any, spec: RegisterSpec, rule: FrozenWhile, ids: Iterable[int]) -> dict[int, Any]:
    """Of the referenced rows ``ids``, those in a state of ``rule`` (id → state): one query for a whole file."""
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    target_spec = svc.registry.register(spec.field(rule.reference).target)
    target = svc.models[target_spec.name]
    state = getattr(target, target_spec.workflow.field)
    found = svc.session.execute(select(target.id, state).where(target.id.in_(ids), state.in_(rule.states))
                                .execution_options(unscoped_reason="the states of the rows that freeze these")).all()
    return {row_id: target_spec.workflow.state(name) for row_id, name in found}


def not_frozen_sql(svc: Any, spec: RegisterSpec, model: type) -> ColumnElement:
    """Rows of ``model`` that no frozen_while rule holds (true() without rules)."""
    parts = []
    for rule in spec.frozen_while:
        target_spec = svc.registry.register(spec.field(rule.reference).target)
        # aliased: the referenced row freezes even when it is outside the actor's own scope
        target = aliased(svc.models[target_spec.name])
        column = getattr(model, f"{rule.reference}_id")
        parts.append(or_(column.is_(None), not_(column.in_(
            select(target.id).where(getattr(target, target_spec.workflow.field).in_(rule.states))))))
    return and_(*parts) if parts else true()


def deletable_sql(svc: Any, spec: RegisterSpec, model: type, actor: Actor | None) -> ColumnElement:
    """Rows of ``model`` that may be deleted as far as the workflow is concerned: not in a kept state, in one
    of ``deletable.states``, meeting ``deletable.when``, not frozen."""
    parts = [not_frozen_sql(svc, spec, model)]
    wf = spec.workflow
    if wf is not None:
        state = getattr(model, wf.field)
        kept = [s.name for s in wf.states if s.keep]
        if kept:
            parts.append(state.not_in(kept))
        if spec.deletable is not None and spec.deletable.states:
            parts.append(state.in_(spec.deletable.states))
    if spec.deletable is not None and spec.deletable.when:
        parts.append(conditions_sql(svc, spec, model, spec.deletable.when, actor))
    return and_(*parts)


def delete_refusal(svc: Any, engine: Any, spec: RegisterSpec, row: Any, actor: Actor | None) -> str | None:
    """Why ``row`` (as stored) may not be deleted by ``actor``, or None when it may."""
    wf = spec.workflow
    if wf is not None:
        state = wf.state(stored_value(row, wf.field))
        rule = spec.deletable
        if state is not None and (state.keep or rule is not None and rule.states and state.name not in rule.states):
            return _("A record in the state “%(state)s” cannot be deleted.", state=label_text(state.label))
    frozen = frozen_reason(svc, spec, row, old=True)
    if frozen is not None:
        return frozen
    rule = spec.deletable
    if rule is None or not rule.when:
        return None
    model = svc.models[spec.name]
    for condition in rule.when:
        stmt = select(model.id).where(model.id == row.id,
                                      conditions_sql(svc, spec, model, (condition,), actor))
        if svc.session.execute(stmt.execution_options(unscoped_reason="a delete guard's condition")).first() is None:
            if rule.reason is not None:
                return label_text(rule.reason)
            return engine.explain(spec, condition, _("Delete"))
    return None


def stored_value(row: Any, name: str) -> Any:
    """The value before this flush's changes (the state a row is deleted in, a parent it leaves)."""
    history = sa_inspect(row).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(row, name)
