"""A transition's conditions as SQL: the same WHERE decides whether a row's page offers the button, whether the
transition may be taken, and which rows are in someone's to-do list."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from sqlalchemy import String, and_, cast, exists, false, not_, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.metadata.spec import Condition, RegisterSpec
from app.security.actor import Actor

from .values import source_value


Source = tuple[RegisterSpec, Any]  # the row whose transition creates rows: '$field' values are its fields


def conditions_sql(svc: Any, spec: RegisterSpec, model: type, conditions: Iterable[Condition],
                   actor: Actor | None, source: Source | None = None) -> ColumnElement:
    """AND of the conditions on rows of ``model`` (``true()`` when there are none)."""
    parts = [condition_sql(svc, spec, model, c, actor, source) for c in conditions]
    return and_(*parts) if parts else true()


def condition_sql(svc: Any, spec: RegisterSpec, model: type, condition: Condition, actor: Actor | None,
                  source: Source | None = None) -> ColumnElement:
    parts: list[ColumnElement] = []
    if condition.field:
        parts.append(_field_sql(svc, spec, model, condition, source))
    # the organisation conditions bind an organisation's users; administrators act for any organisation
    admin = actor is None or actor.is_admin
    if condition.same_organisation and not admin:
        parts.append(model.organisation_id == actor.organisation_id if actor.organisation_id else false())
    if condition.parent_organisation and not admin:
        parts.append(_below(svc, model, actor))
    if condition.user_organisation and not admin:
        column = getattr(model, f"{condition.user_organisation}_id")
        parts.append(column == actor.organisation_id if actor.organisation_id else false())
    if condition.before:
        column = getattr(model, condition.before)
        parts.append(or_(column.is_(None), column >= date.today()))
    if condition.rows:
        parts.append(_all_rows_in(svc, spec, model, condition))
    if condition.any:
        parts.append(or_(*(condition_sql(svc, spec, model, c, actor, source) for c in condition.any)))
    if condition.all:
        parts.append(and_(*(condition_sql(svc, spec, model, c, actor, source) for c in condition.all)))
    if condition.not_ is not None:
        parts.append(not_(condition_sql(svc, spec, model, condition.not_, actor, source)))
    # an organisation condition alone binds no administrator: the condition holds for them
    return and_(*parts) if parts else true()


def _field_sql(svc: Any, spec: RegisterSpec, model: type, condition: Condition,
               source: Source | None) -> ColumnElement:
    field, column = field_column(svc, spec, model, condition.field)

    def bound(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("$") and source is not None:
            return source_value(source[0], source[1], value[1:])
        return value

    parts: list[ColumnElement] = []
    if condition.equals is not None:
        parts.append(column == bound(condition.equals))
    if condition.in_ is not None:
        parts.append(column.in_([bound(v) for v in condition.in_]))
    if condition.not_in is not None:
        parts.append(or_(column.is_(None), column.not_in([bound(v) for v in condition.not_in])))
    if condition.includes is not None:
        # a multiple enum is a JSON list of codes; codes are plain identifiers, so the quoted code is unambiguous
        parts.append(cast(column, String).like(f'%"{condition.includes}"%'))
    for key, compare in (("above", column.__gt__), ("at_least", column.__ge__), ("below", column.__lt__),
                         ("at_most", column.__le__)):
        if getattr(condition, key) is not None:  # an empty value compares as nothing: the condition fails
            parts.append(compare(getattr(condition, key)))
    if condition.is_set is not None:
        filled = column.is_not(None)
        if field is not None and field.type in ("string", "text"):
            filled = and_(filled, column != "")
        parts.append(filled if condition.is_set else not_(filled))
    return and_(*parts) if len(parts) > 1 else parts[0]


def field_column(svc: Any, spec: RegisterSpec, model: type, name: str) -> tuple[Any, ColumnElement]:
    """The field a condition names and its SQL: a field of the row, or ``<reference>.<field>`` of the row the
    reference points to (``task.state``), read by a correlated sub-select (no row: NULL)."""
    head, _, tail = name.partition(".")
    field = spec.field(head)
    if not tail:
        return field, getattr(model, f"{field.name}_id" if field.type == "reference" else field.name)
    target_spec = svc.registry.register(field.target)
    target = aliased(svc.models[target_spec.name])
    if tail not in target_spec.field_map:  # the workflow state of the row pointed to (task.state)
        return None, select(getattr(target, tail)).where(target.id == getattr(model, f"{head}_id")).scalar_subquery()
    other = target_spec.field(tail)
    column = getattr(target, f"{other.name}_id" if other.type == "reference" else other.name)
    return other, select(column).where(target.id == getattr(model, f"{head}_id")).scalar_subquery()


def _below(svc: Any, model: type, actor: Actor) -> ColumnElement:
    """The row's organisation is directly below the actor's (上级审批: the level above approves)."""
    org = svc.registry.organisations
    if org is None or not actor.organisation_id:
        return false()
    organisations = svc.models[org.target]
    return model.organisation_id.in_(
        select(organisations.id).where(getattr(organisations, f"{org.parent}_id") == actor.organisation_id))


def _all_rows_in(svc: Any, spec: RegisterSpec, model: type, condition: Condition) -> ColumnElement:
    """No row of the named set is outside ``all_in`` (true when there are none)."""
    head, _, tail = condition.rows.partition(".")
    # aliased: the rows may be of the same register (a task's copies below it point to it)
    if tail:
        other_spec = svc.registry.register(head)
        other = aliased(svc.models[head])
        link = getattr(other, f"{tail}_id") == model.id
    else:
        other_spec = svc.registry.register(spec.field(head).target)
        other = aliased(svc.models[other_spec.name])
        link = other.parent_id == model.id
    state = getattr(other, other_spec.workflow.field)
    return not_(exists(select(other.id).where(link, state.not_in(condition.all_in))))
