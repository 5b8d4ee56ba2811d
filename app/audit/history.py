"""A row's change history (修改记录) as people read it: field labels, dictionary labels, grouped per change."""
from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from flask import current_app, g
from flask_babel import gettext as _, pgettext
from sqlalchemy import select

from app.i18n import current_locale, label_text, list_separator
from app.models import column_names
from app.security.models import AppUser

from .recorder import SYSTEM_ACTOR


def operation_label(action: str) -> str:
    """新增 / 修改 / 删除 for an audit row's action."""
    return {"insert": pgettext("audit operation", "Added"), "update": pgettext("audit operation", "Changed"),
            "delete": pgettext("audit operation", "Deleted"),
            "scan": pgettext("audit operation", "Stamped scan uploaded"), "remind": pgettext("audit operation", "Reminded"),
            "view_as": pgettext("audit operation", "Viewed as enterprise")}.get(action, action)


def _cache(name: str) -> dict:
    """Labels looked up once per request (a log page shows the same users and rows many times)."""
    cache = g.get(name)
    if cache is None:
        cache = {}
        setattr(g, name, cache)
    return cache


def row_label(register: str, row_id: Any) -> str:
    """A register row as people know it, with its id: '常州某某化工有限公司 (#307)'; '#307' alone when the row
    is gone or outside the reader's scope (the row scope applies to this query as to any other)."""
    try:
        row_id = int(row_id)
    except (TypeError, ValueError):
        return "" if row_id is None else str(row_id)
    cache = _cache("_audit_row_labels")
    key = (register, row_id)
    if key not in cache:
        svc = current_app.extensions["safety"]
        model = svc.models[register] if register in svc.registry.registers else None
        row = svc.session.scalar(select(model).where(model.id == row_id)) if model is not None else None
        cache[key] = f"{row} (#{row_id})" if row is not None else f"#{row_id}"
    return cache[key]


def user_label(user_id: int | None, username: str | None) -> str:
    """Who made a change: the account's display name with its login ('新北区管理员 (xb_admin)')."""
    if not username:
        return ""
    if user_id is None and username == SYSTEM_ACTOR:
        return pgettext("audit actor", "System")  # written by no one signed in: demo data, a background task
    cache = _cache("_audit_user_labels")
    key = (user_id, username)
    if key not in cache:
        session = current_app.extensions["safety"].session
        user = session.get(AppUser, user_id) if user_id else None
        name = user.get_full_name().strip() if user is not None and user.username == username else ""
        cache[key] = f"{name} ({username})" if name and name != username else username
    return cache[key]


def readable(spec: Any, column: str | None, value: str | None) -> str:
    """A stored audit value shown with labels (enum/tree codes, booleans, lists of files, referenced rows)."""
    if value is None or column is None:
        return "" if value is None else value
    svc = current_app.extensions["safety"]
    if column == "parent_id" and spec.parent:
        return row_label(spec.parent, value)
    field = spec.field_map.get(column) or spec.field_map.get(column.rsplit("_", 1)[0])
    if field is None:
        return value
    if field.type == "reference" and column == f"{field.name}_id":
        return row_label(field.target, value)
    if field.type in ("enum", "tree"):
        try:
            codes = json.loads(value) if value.startswith("[") else [value]
        except ValueError:
            codes = [value]
        return list_separator().join(svc.dictionaries.path_label(field.dictionary, c) if field.type == "tree"
                        else svc.dictionaries.label(field.dictionary, c) for c in codes)
    if field.type == "boolean":
        return _("Yes") if value == "true" else _("No")
    if field.type in ("attachment", "image"):
        try:
            return list_separator().join(f.get("name", "") for f in json.loads(value))
        except ValueError:
            return value
    return value


def field_label(spec: Any, column: str | None) -> str:
    if column is None:
        return ""
    field = spec.field_map.get(column)
    if field is None and column.endswith(("_id", "_lat", "_lng")):
        field = spec.field_map.get(column.rsplit("_", 1)[0])
    if field is None:
        document = next((d for d in getattr(spec, "documents", ()) if d.name == column), None)
        if document is not None:  # a stamped scan uploaded for a document (§16.14)
            return label_text(document.label)
        return {"parent_id": _("Parent record")}.get(column, column)
    return label_text(field.label)


def snapshot_readable(spec: Any, text: str | None) -> str:
    """A created or deleted row's values as '法规类别：法律；时效状态：现行有效 …'."""
    try:
        snapshot = json.loads(text or "{}")
    except ValueError:
        return text or ""
    if "_import" in snapshot:
        return _("Imported from %(source)s", source=snapshot["_import"])
    colon, semicolon = (": ", "; ") if current_locale() == "en" else ("：", "；")
    return semicolon.join(f"{field_label(spec, column)}{colon}{readable(spec, column, value)}"
                          for column, value in snapshot.items())


def row_history(spec: Any, row_id: int, limit: int = 500, hidden: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Changes of one row, newest first, one entry per save: who, when, which fields old → new (fields hidden
    from the reader left out)."""
    hidden_columns = {c for name in hidden if name in spec.field_map for c in column_names(spec.field(name))}
    svc = current_app.extensions["safety"]
    audit = svc.models.engine["AuditLog"]
    entries = svc.session.scalars(select(audit).where(audit.register == spec.name, audit.row_id == row_id)
                                  .order_by(audit.id.desc()).limit(limit)).all()
    changes = []
    for (at, username, action), group in groupby(entries, key=lambda e: (e.at, e.username, e.action)):
        group = list(group)
        fields = []
        for e in reversed(group):
            if e.field is None and action in ("insert", "delete"):
                # a created or deleted row is one entry holding all its values
                snapshot = json.loads(e.new_value if action == "insert" else e.old_value or "{}")
                if "_import" in snapshot:  # written by an import: the file and its row
                    fields.append((_("Imported from"), "", snapshot["_import"]))
                    continue
                for column, value in snapshot.items():
                    if column not in hidden_columns:
                        old, new = (None, value) if action == "insert" else (value, None)
                        fields.append((field_label(spec, column), readable(spec, column, old),
                                       readable(spec, column, new)))
            elif e.field and e.field not in hidden_columns:
                fields.append((field_label(spec, e.field), readable(spec, e.field, e.old_value),
                               readable(spec, e.field, e.new_value)))
        changes.append({"at": at, "username": username, "user": user_label(group[0].user_id, username),
                        "action": action, "operation": operation_label(action), "fields": fields})
    return changes
