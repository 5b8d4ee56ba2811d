"""Rules about rows that every path shares (screens, API, imports): what still refers to a row."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select


def blocking_references(svc: Any, spec: Any, row_id: int) -> list[tuple[Any, int]]:
    """(register, count) of the rows that still refer to ``row_id`` — a row with any cannot be deleted (004 Q27).
    Counted over every row, not only those the actor sees: a hidden reference blocks the delete too."""
    found = []
    for other, field in svc.registry.referrers(spec.name):
        model = svc.models[other.name]
        count = svc.session.execute(
            select(func.count()).select_from(model).where(getattr(model, f"{field.name}_id") == row_id)
            .execution_options(unscoped_reason="a hidden reference blocks a delete too")).scalar_one()
        if count:
            found.append((other, count))
    return found


def scoped_get(session: Any, model: type, row_id: Any) -> Any:
    """The row by id if the actor may see it. Always a query: Session.get() may answer from the identity map,
    where a row loaded by an unscoped engine check would bypass the row scope."""
    if row_id is None:
        return None
    return session.execute(select(model).where(model.id == row_id)).scalar_one_or_none()
