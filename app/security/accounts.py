"""Accounts: which accounts an administrator may manage (roles.yaml `accounts`), enterprise accounts made for
every enterprise row, password resets; the checks run on every flush (in the one write path, app/write_path.py),
whatever screen made the change."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from flask import current_app
from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.audit.account_events import note_password_reset
from app.excel.bulk import write_rows

from .actor import Actor, current_actor, in_app
from .models import AppUser
from .passwords import PENDING_MARK, issue_first_password
from .policy import AccessDenied

GUARDED = ("username", "organisation_id", "enterprise_key", "active")


def manageable(actor: Actor) -> dict[int, set[str]]:
    """organisation id → roles whose accounts the actor may create and manage there."""
    svc = current_app.extensions["safety"]
    registry = svc.registry
    org = registry.organisations
    model = svc.models[org.target]
    if actor.is_admin:
        ids = svc.session.scalars(select(model.id)
                                  .execution_options(unscoped_reason="organisations an admin manages")).all()
        return {i: set(registry.roles) for i in ids}
    pairs: dict[int, set[str]] = {}
    for name in actor.roles:
        role = registry.roles.get(name)
        if role is None or not actor.organisation_id:
            continue
        for rule in role.accounts:
            if rule.where == "own_organisation":
                pairs.setdefault(actor.organisation_id, set()).add(rule.role)
            else:
                children = svc.session.scalars(
                    select(model.id).where(getattr(model, f"{org.parent}_id") == actor.organisation_id)
                    .execution_options(unscoped_reason="organisations below the actor")).all()
                for child in children:
                    pairs.setdefault(child, set()).add(rule.role)
    return pairs


def may_manage(actor: Actor, user: AppUser, roles: set[str] | None = None, organisation_id: Any = "current") -> bool:
    if actor.is_admin:
        return True
    pairs = manageable(actor)
    org_id = user.organisation_id if organisation_id == "current" else organisation_id
    names = roles if roles is not None else {r.name for r in user.roles}
    return org_id in pairs and bool(names) and names <= pairs[org_id]


def make_enterprise_accounts(session: Session) -> None:
    """Every new enterprise row gets an account (login = its code) unless one with that login exists."""
    if not in_app():
        return
    svc = current_app.extensions["safety"]
    config = svc.registry.enterprise_accounts
    if config is None:
        return
    model = svc.models[config.target]
    sm = current_app.appbuilder.sm
    role = None
    for obj in list(session.dirty):
        if isinstance(obj, model):
            _follow_code_change(session, obj, config)
    for obj in list(session.new):
        if not isinstance(obj, model):
            continue
        login = getattr(obj, config.login)
        if not login or _account_exists(session, login):
            continue
        role = role or sm.find_role(config.role)
        user = AppUser(username=login, first_name=str(getattr(obj, config.name) or login)[:64], last_name="",
                       email=f"{login.lower()}@enterprise.invalid", active=True, roles=[role] if role else [],
                       enterprise_key=login, must_change_password=True,
                       password=PENDING_MARK)  # no password until its regulator issues the first one
        user._made_by_engine = True
        session.add(user)


def _follow_code_change(session: Session, row: Any, config: Any) -> None:
    """A corrected enterprise code moves its account along, unless another row still has the old code."""
    history = sa_inspect(row).attrs[config.login].history
    if not history.deleted or not history.added:
        return
    old, new = history.deleted[0], history.added[0]
    model = type(row)
    still_used = session.execute(select(model.id).where(getattr(model, config.login) == old, model.id != row.id)
                                 .execution_options(unscoped_reason="is the old code still used").limit(1)).first()
    user = session.execute(select(AppUser).where(AppUser.username == old)).scalar_one_or_none()
    if user is None or still_used or _account_exists(session, new):
        return
    user.username = new
    user.enterprise_key = new
    user._made_by_engine = True


def create_missing_enterprise_accounts(session: Session, progress: Callable[[int], Any] | None = None,
                                       chunk: int = 20_000) -> int:
    """Accounts for enterprise rows that have none (rows entered before enterprise_accounts was configured),
    written in bulk like an import's, ``chunk`` rows at a time in the order of their ids, each chunk committed.

    Memory stays that of one chunk whatever the register's size (10,000,000 enterprises once meant 10,000,000
    tuples held at once), and an interrupted run keeps what it wrote: the next one goes on from there.
    ``progress`` is told the running total after each chunk."""
    svc = current_app.extensions["safety"]
    config = svc.registry.enterprise_accounts
    if config is None:
        return 0
    model = svc.models[config.target]
    login = getattr(model, config.login)
    # NOT EXISTS (an anti-join), never NOT IN (SELECT …): PostgreSQL cannot hash a NOT IN over a million
    # accounts and falls back to a nested scan that does not finish (bench database, 1,000,000 enterprises)
    has_account = select(AppUser.id).where(AppUser.username == login).exists()
    spec = svc.registry.register(config.target)
    made, last = 0, 0
    while True:
        missing = session.execute(
            select(model.id, login, getattr(model, config.name))
            .where(model.id > last, login.is_not(None), login != "", ~has_account)
            .order_by(model.id).limit(chunk).execution_options(unscoped_reason="rows without an account")).all()
        if not missing:
            return made
        last = missing[-1][0]
        made += create_accounts_for(session, spec, [{config.login: code, config.name: name}
                                                    for _id, code, name in missing])
        session.commit()
        if progress is not None:
            progress(made)


def _account_exists(session: Session, login: str) -> bool:
    for obj in session.new:
        if isinstance(obj, AppUser) and obj.username == login:
            return True
    return session.execute(select(AppUser.id).where(AppUser.username == login)).first() is not None


def check_account_changes(session: Session) -> None:
    """Only an administrator of the right level changes who an account is, where it belongs, what it may do."""
    if not in_app():
        return
    actor = current_actor()
    if actor is None or actor.is_admin:
        return
    for obj in list(session.new):
        if isinstance(obj, AppUser) and not getattr(obj, "_made_by_engine", False):
            if not may_manage(actor, obj, {r.name for r in obj.roles}, obj.organisation_id):
                raise AccessDenied(f"{actor.username} may not create the account {obj.username}")
    for obj in list(session.dirty):
        if not isinstance(obj, AppUser) or getattr(obj, "_made_by_engine", False):
            continue
        state = sa_inspect(obj)
        changed = [name for name in GUARDED if state.attrs[name].history.has_changes()]
        roles_changed = state.attrs["roles"].history.has_changes()
        password_changed = state.attrs["password"].history.has_changes()
        if not changed and not roles_changed and not (password_changed and obj.id != actor.user_id):
            continue
        old_org = state.attrs["organisation_id"].history.deleted[0] if state.attrs["organisation_id"].history.deleted \
            else obj.organisation_id
        old_roles = {r.name for r in (state.attrs["roles"].history.unchanged + state.attrs["roles"].history.deleted)}
        if obj.id == actor.user_id and not changed and not roles_changed:
            continue
        if not changed and not roles_changed and obj.enterprise_key and may_reset_enterprise(actor, obj.enterprise_key):
            continue
        if not (may_manage(actor, obj, old_roles or None, old_org) and may_manage(actor, obj)):
            raise AccessDenied(f"{actor.username} may not change the account {obj.username}")


def new_account(login: str, name: str, role: str, organisation_id: int | None) -> tuple[AppUser, str]:
    """An organisation's account (账号管理's add form, the batch import), not yet added to the session, with a first
    password to be changed at the first login; returns it and that password, to be shown once."""
    sm = current_app.appbuilder.sm
    user = AppUser(username=login, first_name=name, last_name="", email=f"{login.lower()}@accounts.invalid",
                   active=True, roles=[sm.find_role(role)], organisation_id=organisation_id,
                   must_change_password=True)
    return user, issue_first_password(user)


def reset_password(user: AppUser) -> str:
    """Issue a new random first password, to be changed at the next login; returns it for the administrator to
    read once."""
    password = issue_first_password(user)
    user.locked_until = None
    user.fail_login_count = 0
    user.changed_on = datetime.now()
    from sqlalchemy.orm import object_session

    session = object_session(user)
    if session is not None:
        note_password_reset(session, user)
    return password


def may_reset_enterprise(actor: Actor, key: str) -> bool:
    """A regulator may reset an enterprise account whose enterprise rows it may edit."""
    svc = current_app.extensions["safety"]
    config = svc.registry.enterprise_accounts
    if config is None:
        return False
    policy = current_app.extensions["safety_policy"]
    spec = svc.registry.register(config.target)
    model = svc.models[config.target]
    condition = policy.write_condition(spec, actor, "edit")
    stmt = select(model.id).where(getattr(model, config.login) == key)
    if condition is not None:
        stmt = stmt.where(condition)
    return svc.session.execute(stmt.execution_options(unscoped_reason="write scope in the condition")
                               .limit(1)).first() is not None


def create_accounts_for(session: Session, spec: Any, records: list[dict[str, Any]]) -> int:
    """Accounts for enterprise rows written in bulk (an import): one INSERT for the users, one for their role."""
    svc = current_app.extensions["safety"]
    config = svc.registry.enterprise_accounts
    if config is None or config.target != spec.name:
        return 0
    wanted: dict[str, str] = {}
    for record in records:
        login = record.get(config.login)
        if login and login not in wanted:
            wanted[login] = str(record.get(config.name) or login)[:64]
    existing: set[str] = set()
    logins = list(wanted)
    if session.get_bind().dialect.name == "postgresql":
        # one array parameter: an IN list of thousands of parameters costs more to build than to answer
        existing = set(session.scalars(select(AppUser.username).where(
            AppUser.username == any_(bindparam("logins", logins, type_=ARRAY(AppUser.username.type))))))
    else:
        for start in range(0, len(logins), 2000):
            existing |= set(session.scalars(select(AppUser.username).where(
                AppUser.username.in_(logins[start:start + 2000]))))
    new = [login for login in logins if login not in existing]
    if not new:
        return 0
    from flask_appbuilder.security.sqla.models import assoc_user_role

    role = current_app.appbuilder.sm.find_role(config.role)
    now = datetime.now()
    ids = write_rows(session, AppUser.__table__, [{
        "username": login, "first_name": wanted[login], "last_name": "", "email": f"{login.lower()}@enterprise.invalid",
        "active": True, "enterprise_key": login, "must_change_password": True, "created_on": now, "changed_on": now,
        "password": PENDING_MARK} for login in new], sequence="ab_user_id_seq")
    if role is not None:
        write_rows(session, assoc_user_role, [{"user_id": i, "role_id": role.id} for i in ids],
                   sequence="ab_user_role_id_seq")
    return len(new)
