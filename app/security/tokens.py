"""Personal API tokens: an account creates and revokes its own in 个人中心 and sends one as
``Authorization: Bearer <token>``. The token is 256 random bits shown once; only its SHA-256 is stored (a token
cannot be guessed, so a slow hash would add nothing). A token acts as its account — same roles, same row scope —
until it expires or is revoked, and its use is not a sign-in: the login log records its creation and revocation
(account events), not every call as HTTP Basic does."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.audit.account_events import note_token_event

PREFIX = "sk_"
#: a token's last use is written at most this often (not once per call)
TOUCH_EVERY = timedelta(minutes=5)
VALIDITY_DAYS = (30, 90, 365)


def _table() -> Any:
    return current_app.extensions["safety"].models.engine["ApiToken"]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user_id: int, name: str, days: int) -> str:
    """A new token for the account; returns it (the only time it is known)."""
    token = PREFIX + secrets.token_urlsafe(32)
    session = current_app.extensions["safety"].session
    now = datetime.now()
    session.add(_table()(user_id=user_id, name=name[:100], prefix=token[:10], token_hash=_hash(token),
                         created_at=now, expires_at=now + timedelta(days=days)))
    note_token_event(session, user_id, f"created: {name[:100]} ({token[:10]}…)")
    session.commit()
    return token


def tokens_of(user_id: int) -> list[Any]:
    table = _table()
    session = current_app.extensions["safety"].session
    return list(session.scalars(select(table).where(table.user_id == user_id).order_by(table.id.desc())))


def revoke(user_id: int, token_id: int) -> bool:
    """Revoke one of the account's own tokens; False when it is not the account's (or already revoked)."""
    table = _table()
    session = current_app.extensions["safety"].session
    found = session.scalars(select(table).where(table.id == token_id, table.user_id == user_id,
                                                table.revoked_at.is_(None))).first()
    if found is None:
        return False
    found.revoked_at = datetime.now()
    note_token_event(session, user_id, f"revoked: {found.name} ({found.prefix}…)")
    session.commit()
    return True


def user_of(token: str) -> Any:
    """The active account a valid token belongs to, or None (unknown, expired, revoked, account disabled)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    table = _table()
    session = current_app.extensions["safety"].session
    found = session.scalars(select(table).where(table.token_hash == _hash(token))).first()
    now = datetime.now()
    if found is None or found.revoked_at is not None or found.expires_at <= now:
        return None
    user = current_app.appbuilder.sm.get_user_by_id(found.user_id)
    if user is None or not user.is_active:
        return None
    if found.last_used_at is None or now - found.last_used_at > TOUCH_EVERY:
        found.last_used_at = now
        session.commit()
    return user
