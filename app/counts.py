"""Count fields (``count`` on an integer field): kept equal to the number of child rows meeting the count's
conditions on every flush, whatever wrote the rows (forms, API, workflow effects, demo data)."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy.orm import Session

from app.metadata.spec import Condition, RegisterSpec
from app.security.row_scope import register_of

def holds(spec: RegisterSpec, row: Any, condition: Condition) -> bool:
    """A field condition on one row in memory (the language of docs/metadata.md §16.4, field keys only)."""
    field = spec.field(condition.field)
    value = getattr(row, f"{field.name}_id" if field.type == "reference" else field.name)
    empty = value is None or value == "" or value == []
    if condition.equals is not None and value != condition.equals:
        return False
    if condition.in_ is not None and value not in condition.in_:
        return False
    if condition.not_in is not None and not empty and value in condition.not_in:
        return False
    if condition.includes is not None and condition.includes not in (value or []):
        return False
    if condition.is_set is not None and condition.is_set == empty:
        return False
    for key, compare in (("above", lambda a, b: a > b), ("at_least", lambda a, b: a >= b),
                         ("below", lambda a, b: a < b), ("at_most", lambda a, b: a <= b)):
        limit = getattr(condition, key)
        if limit is not None and (empty or not compare(value, limit)):
            return False
    return True


def count_rows(spec: RegisterSpec, rows: Iterable[Any], conditions: Iterable[Condition]) -> int:
    conditions = tuple(conditions)
    return sum(1 for row in rows if all(holds(spec, row, c) for c in conditions))


def recount(session: Session, flush_context: Any, instances: Any) -> None:
    """Before a flush (app.write_path installs it after its checks, so the engine's own writes of these read-only
    fields are not refused): each count field of a parent whose child rows change is set again."""
    parents: dict[int, Any] = {}
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        spec = register_of(obj)
        if spec is None:
            continue
        if spec.parent:
            obj = getattr(obj, "parent", None)
            spec = register_of(obj) if obj is not None else None
        if spec is not None and obj not in session.deleted and _counts(spec):
            parents[id(obj)] = (spec, obj)
    for spec, obj in parents.values():
        for field in _counts(spec):
            child_spec = register_of_class(getattr(type(obj), field.count.children).property.mapper.class_)
            rows = [r for r in getattr(obj, field.count.children) or [] if r not in session.deleted]
            value = count_rows(child_spec, rows, field.count.when)
            if getattr(obj, field.name) != value:
                setattr(obj, field.name, value)


def _counts(spec: RegisterSpec) -> list[Any]:
    return [f for f in spec.fields if getattr(f, "count", None) is not None]


def register_of_class(cls: type) -> RegisterSpec:
    return cls.__register__
