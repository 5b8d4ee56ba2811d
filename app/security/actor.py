"""Who is acting: the signed-in user (or the user a background task acts for), with what scope."""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import select


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    roles: frozenset[str]
    is_admin: bool
    organisation_id: int | None = None
    region_code: str | None = None
    region_path: str | None = None
    department: str | None = None
    level: str | None = None
    enterprise_key: str | None = None
    #: the goods classes its organisation's department oversees (roles.yaml goods_classes); None: every class
    goods_classes: frozenset[str] | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Actor(None, "", frozenset(), False)
_acting: ContextVar[Actor | None] = ContextVar("acting_actor", default=None)


@contextlib.contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Run a block (a background task, a test) as ``actor``; None inside means 'the system'."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


class _System:
    """Marker for engine work outside any request (CLI, migrations): no row scope."""


SYSTEM = _System()


def current_actor() -> Actor | None:
    """The actor of this request or task; None for the system (command line, migrations)."""
    acting = _acting.get()
    if acting is not None:
        return acting
    if not has_request_context():
        return None
    cached = g.get("_actor")
    if cached is not None:
        return cached
    # while the user and the actor are loaded, their own queries run as an anonymous actor (no recursion)
    g._actor = ANONYMOUS
    user = g.get("user")
    if user is None:
        from flask_login import current_user
        user = current_user
    if user is None or not getattr(user, "is_authenticated", False):
        g._actor = None
        return ANONYMOUS
    actor = actor_for(user)
    g._actor = actor
    return actor


def signed_in_actor() -> Actor:
    """The actor of a screen that needs an account: 401 for an anonymous visitor."""
    from flask import abort
    actor = current_actor()
    if actor is None or actor.is_anonymous:
        abort(401)
    return actor


def actor_for(user: Any) -> Actor:
    """The scope of an account: its roles, its organisation's region and department, its enterprise code."""
    svc = current_app.extensions["safety"]
    roles = frozenset(role.name for role in user.roles)
    admin = current_app.config.get("AUTH_ROLE_ADMIN", "Admin") in roles
    org = svc.registry.organisations
    region = department = level = path = None
    organisation_id = getattr(user, "organisation_id", None)
    if org and organisation_id:
        model = svc.models[org.target]
        row = svc.session.execute(select(model).where(model.id == organisation_id)
                                  .execution_options(unscoped_reason="the actor's organisation")).scalar_one_or_none()
        if row is not None:
            region = getattr(row, org.region)
            department = getattr(row, org.department)
            level = getattr(row, org.level)
            path = svc.dictionaries.path_of(svc.registry.register(org.target).field(org.region).dictionary, region) \
                if region else None
    goods = svc.registry.goods_classes
    return Actor(user.id, user.username, roles, admin, organisation_id, region, path, department, level,
                 getattr(user, "enterprise_key", None), goods.classes_of(department) if goods else None)


def actor_from_id(user_id: int) -> Actor:
    """For a background task: the actor of the user who started it."""
    sm = current_app.appbuilder.sm
    return actor_for(sm.get_user_by_id(user_id))


def in_app() -> bool:
    return has_app_context() and "safety" in current_app.extensions
