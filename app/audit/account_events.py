"""Account events in the operation log (操作日志): accounts created, their login, name, organisation, roles,
active flag and lock changed, passwords changed or reset — written in the same transaction as the change,
never a password or its hash."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.security.actor import current_actor, in_app
from app.security.models import AppUser

from .recorder import SYSTEM_ACTOR

#: the `register` of account events in sys_audit_log (no register of the metadata has this name: no ids collide)
ACCOUNT_LOG = "account"
#: the account attributes an event is written for (login statistics are the login log's)
LOGGED = ("username", "first_name", "last_name", "organisation_id", "enterprise_key", "active", "locked_until")

def note_password_reset(session: Session, user: AppUser) -> None:
    """A reset sets the same first-password mark an untouched account has: no attribute shows it, so the code
    that resets says so (written at the next flush)."""
    session.info.setdefault("password_resets", set()).add(user.id)


def note_token_event(session: Session, user_id: int, event: str) -> None:
    """An API token created or revoked ('created: 数据对接 (sk_AbCdEfG)'): written at the next flush."""
    session.info.setdefault("token_events", []).append((user_id, event))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return str(value)


def _role_names(roles: Any) -> str:
    return json.dumps(sorted(r.name for r in roles or []), ensure_ascii=False)


def record(session: Session) -> None:
    """Step 4 of the write path for accounts (app.write_path): one operation-log row per account event."""
    if not in_app():
        return
    actor = current_actor()
    who = {"at": datetime.now(), "user_id": actor.user_id if actor else None,
           "username": (actor.username if actor else "") or SYSTEM_ACTOR,
           "organisation_id": actor.organisation_id if actor else None, "register": ACCOUNT_LOG}
    rows = []
    resets = session.info.pop("password_resets", set())
    for user in session.new:
        if isinstance(user, AppUser):
            snapshot = {name: _text(getattr(user, name, None)) for name in LOGGED if getattr(user, name, None)}
            snapshot["roles"] = _role_names(user.roles)
            rows.append({**who, "row_id": user.id, "action": "insert", "field": None, "old_value": None,
                         "new_value": json.dumps(snapshot, ensure_ascii=False)})
    for user in session.dirty:
        if not isinstance(user, AppUser):
            continue
        state = sa_inspect(user)
        for name in LOGGED:
            history = state.attrs[name].history
            if history.has_changes():
                old = _text(history.deleted[0] if history.deleted else None)
                new = _text(history.added[0] if history.added else None)
                if old != new:
                    rows.append({**who, "row_id": user.id, "action": "update", "field": name, "old_value": old,
                                 "new_value": new})
        roles = state.attrs["roles"].history
        if roles.added or roles.deleted:
            rows.append({**who, "row_id": user.id, "action": "update", "field": "roles",
                         "old_value": _role_names(list(roles.unchanged) + list(roles.deleted)),
                         "new_value": _role_names(list(roles.unchanged) + list(roles.added))})
        password = state.attrs["password"].history
        if password.added and user.id not in resets:
            rows.append({**who, "row_id": user.id, "action": "update", "field": "password", "old_value": None,
                         "new_value": "changed"})
    for user_id, event in session.info.pop("token_events", []):
        rows.append({**who, "row_id": user_id, "action": "update", "field": "api_token", "old_value": None,
                     "new_value": event})
    for user_id in sorted(resets):
        rows.append({**who, "row_id": user_id, "action": "update", "field": "password", "old_value": None,
                     "new_value": "reset"})
    if rows:
        table = current_app.extensions["safety"].models.engine["AuditLog"].__table__
        session.connection().execute(insert(table), rows)
