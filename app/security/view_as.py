"""A regulator's read-only view as an enterprise (查看企业端, in place of the seed's 快速登录企业端): from an
enterprise's page, a user of the roles of ``enterprise_accounts.view_as`` sees that enterprise's account's screens
— its menu, its rows, its scope — while every write is refused: any request but GET/HEAD/OPTIONS (leaving
excepted), any ORM flush and any INSERT/UPDATE/DELETE statement. Start and stop are written to the operation log
(who, which enterprise, as which account); a banner on every page says so, with one button to leave."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Flask, abort, current_app, flash, g, has_request_context, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.audit.recorder import who
from app.security.policy import AccessDenied
from app.query.urls import register_url
from app.security.actor import actor_for, current_actor

SESSION_KEY = "view_as"
#: the action of the start/stop rows in the operation log (sys_audit_log), on the enterprise's row
VIEW_AS_ACTION = "view_as"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
#: endpoints that may be posted to while viewing: leaving, and signing out
LEAVING = {"ViewAsView.stop", "AuthDBView.logout"}


def viewing() -> dict[str, Any] | None:
    """The view-as of this request ({by, by_name, enterprise, name, user, username}), or None."""
    return g.get("view_as") if has_request_context() else None


def may_view_as(actor: Any) -> bool:
    """A regulator (no enterprise of its own) holding a role of ``enterprise_accounts.view_as``, or an
    administrator when view-as is declared at all."""
    svc = current_app.extensions["safety"]
    accounts = svc.registry.enterprise_accounts
    if accounts is None or not accounts.view_as or actor is None or actor.is_anonymous or actor.enterprise_key:
        return False
    return actor.is_admin or bool(set(accounts.view_as) & set(actor.roles))


def _enterprise_in_scope(actor: Any, enterprise_id: int) -> Any:
    """The enterprise row if the actor's read scope holds it (None otherwise)."""
    svc = current_app.extensions["safety"]
    accounts = svc.registry.enterprise_accounts
    spec, model = svc.registry.register(accounts.target), svc.models[accounts.target]
    condition = current_app.extensions["safety_policy"].read_condition(spec, actor)
    stmt = select(model).where(model.id == enterprise_id)
    if condition is not None:
        stmt = stmt.where(condition)
    return svc.session.execute(stmt.execution_options(unscoped_reason="the viewer's read scope is in the WHERE")
                               ).scalar_one_or_none()


def _account_of(enterprise: Any) -> Any:
    svc = current_app.extensions["safety"]
    accounts = svc.registry.enterprise_accounts
    User = current_app.appbuilder.sm.user_model
    login = getattr(enterprise, accounts.login)
    if not login:
        return None
    return svc.session.scalars(select(User).where(User.enterprise_key == login, User.active.is_(True))
                               .order_by(User.id)).first()


def _log(actor: Any, enterprise_id: int, what: str, account: str) -> None:
    svc = current_app.extensions["safety"]
    table = svc.models.engine["AuditLog"].__table__
    row = {**who(actor, datetime.now()), "register": svc.registry.enterprise_accounts.target,
           "row_id": enterprise_id, "action": VIEW_AS_ACTION, "field": what, "old_value": None,
           "new_value": json.dumps({"account": account}, ensure_ascii=False)}
    svc.session.connection().execute(insert(table), row)
    svc.session.commit()


def swap_user() -> Any:
    """Before each request (after the session rules): while viewing, the request runs as the enterprise's account
    — FAB's menu and permissions, the row scope, every screen — and only reads."""
    state = session.get(SESSION_KEY)
    if not state:
        return None
    user = g.get("user")
    if user is None or not getattr(user, "is_authenticated", False) or user.id != state.get("by"):
        session.pop(SESSION_KEY, None)     # signed out, or another account signed in: the view ends
        return None
    svc = current_app.extensions["safety"]
    User = current_app.appbuilder.sm.user_model
    account = svc.session.get(User, state.get("user"))
    if account is None or not account.active:
        session.pop(SESSION_KEY, None)
        return None
    g.view_as = {**state, "by_name": user.username, "username": account.username}
    g.user = account
    g._login_user = account
    g.pop("_actor", None)
    g.pop("_permissions", None)
    if request.method not in SAFE_METHODS and request.endpoint not in LEAVING:
        abort(403, gettext("Read-only: you are viewing as an enterprise. Leave the enterprise view to make changes."))
    return None


def refuse_flush(session_: Session, flush_context: Any, instances: Any) -> None:
    """No row is written while viewing, whatever path tries (a GET that marks a message read included)."""
    if viewing() and (session_.new or session_.dirty or session_.deleted):
        raise AccessDenied("read-only: viewing as an enterprise")


def refuse_statements(state: Any) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and viewing():
        raise AccessDenied("read-only: viewing as an enterprise")


def banner() -> dict[str, Any]:
    return {"view_as": viewing()}


class ViewAsView(BaseView):
    route_base = "/view-as"
    default_view = "stop"

    @expose("/<int:enterprise_id>", methods=["POST"])
    def start(self, enterprise_id: int) -> Any:
        if viewing():
            abort(403)
        actor = current_actor()
        if actor is None or actor.is_anonymous:
            abort(401)
        if not may_view_as(actor):
            abort(403)
        enterprise = _enterprise_in_scope(actor, enterprise_id)
        if enterprise is None:
            abort(404)
        account = _account_of(enterprise)
        target = current_app.extensions["safety"].registry.enterprise_accounts.target
        if account is None:
            flash(gettext("This enterprise has no active account to view as."), "warning")
            return redirect(register_url(target, "show", pk=enterprise_id))
        _log(actor, enterprise_id, "start", account.username)
        session[SESSION_KEY] = {"by": actor.user_id, "enterprise": enterprise_id, "name": str(enterprise),
                                "user": account.id}
        return redirect(url_for("HomeView.index"))

    @expose("/stop", methods=["POST"])
    def stop(self) -> Any:
        state = viewing()
        if not state:
            return redirect("/")
        # written as the regulator, with writes allowed again for this one row
        g.pop("view_as", None)
        session.pop(SESSION_KEY, None)
        real = current_app.appbuilder.sm.get_user_by_id(state["by"])
        _log(actor_for(real), state["enterprise"], "stop", state["username"])
        target = current_app.extensions["safety"].registry.enterprise_accounts.target
        return redirect(register_url(target, "show", pk=state["enterprise"]))


def init_app(app: Flask) -> None:
    # refuse_flush and refuse_statements run inside the one write path (app.write_path) and the read scope's
    # statement hook (app.security.row_scope), not as listeners of their own
    app.before_request(swap_user)
    app.context_processor(banner)
