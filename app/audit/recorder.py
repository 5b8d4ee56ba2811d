"""One audit row per inserted or deleted row and per changed field, in the same transaction as the change (the
last step of the one write path, app/write_path.py): a write that is refused or rolled back leaves no audit row."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.models import column_names
from app.security.actor import current_actor, in_app
from app.security.policy import AccessDenied

#: the login recorded for a change no one signed in made (demo data, a background task without a user)
SYSTEM_ACTOR = "system"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def snapshot_text(spec: Any, values: dict[str, Any]) -> str:
    """A created (or deleted) row's values as one JSON object: one audit row per row, not per field."""
    return json.dumps({name: _text(values.get(name)) for name in _columns(spec) if values.get(name) not in (None, "", [])},
                      ensure_ascii=False)


def who(actor: Any, at: datetime) -> dict[str, Any]:
    """The columns of an audit row that say when and by whom (the system when there is no actor)."""
    return {"at": at, "user_id": actor.user_id if actor else None,
            "username": actor.username if actor else SYSTEM_ACTOR,
            "organisation_id": actor.organisation_id if actor else None}


def import_entries(spec: Any, actor: Any, row_ids: Iterable[int], sources: Iterable[str], at: datetime
                   ) -> list[dict[str, Any]]:
    """Audit rows for rows an import added in bulk, one per row, naming the file's row it came from (the values
    are that row's): a 'insert' entry like the one _record writes, compact enough for 200,000 rows. The caller
    writes them in the import's transaction (COPY), so a refused import leaves none."""
    base = {**who(actor, at), "register": spec.name, "action": "insert", "field": None, "old_value": None}
    return [{**base, "row_id": row_id, "new_value": json.dumps({"_import": source}, ensure_ascii=False)}
            for row_id, source in zip(row_ids, sources)]


def _columns(spec: Any) -> list[str]:
    names = [c for f in spec.stored_fields for c in column_names(f)]
    return names + (["parent_id"] if spec.parent else [])


def record(session: Session) -> None:
    """Step 4 of the write path (app/write_path.py), after the flush: the audit rows of what it wrote."""
    if not in_app():
        return
    rows = []
    when_who = who(current_actor(), datetime.now())
    for obj in session.new:
        spec = getattr(type(obj), "__register__", None)
        if spec is None:
            continue
        values = {name: getattr(obj, name, None) for name in _columns(spec)}
        rows.append({**when_who, "register": spec.name, "row_id": obj.id, "action": "insert", "field": None,
                     "old_value": None, "new_value": snapshot_text(spec, values)})
    for obj in session.dirty:
        spec = getattr(type(obj), "__register__", None)
        if spec is None:
            continue
        state = sa_inspect(obj)
        for name in _columns(spec):
            history = state.attrs[name].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if _text(old) == _text(new):
                continue
            rows.append({**when_who, "register": spec.name, "row_id": obj.id, "action": "update", "field": name,
                         "old_value": _text(old), "new_value": _text(new)})
    for obj in session.deleted:
        spec = getattr(type(obj), "__register__", None)
        if spec is None:
            continue
        values = {name: getattr(obj, name, None) for name in _columns(spec)}
        rows.append({**when_who, "register": spec.name, "row_id": obj.id, "action": "delete", "field": None,
                     "old_value": snapshot_text(spec, values), "new_value": None})
    if rows:
        table = current_app.extensions["safety"].models.engine["AuditLog"].__table__
        session.connection().execute(insert(table), rows)


def refuse_audit_changes(session: Session) -> None:
    """Audit rows are written by the engine only; no screen, API or import may change or delete them."""
    if not in_app():
        return
    audit = current_app.extensions["safety"].models.engine["AuditLog"]
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, audit):
            raise AccessDenied("audit rows cannot be changed")
