"""FAB's security manager with the engine's user model, per-request permission checks, login throttling
(app/security/login_guard.py) and login log, and the language that follows the user."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, g, request, session
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from flask_appbuilder.security.sqla.models import Permission, PermissionView, ViewMenu, assoc_permissionview_role
from flask_appbuilder.security.views import AuthDBView as FabAuthDBView
from flask_babel import gettext
from flask_login import user_logged_in
from sqlalchemy import insert, select

from app.services import services

from . import login_guard
from .models import AppUser
from .passwords import first_password_matches, first_password_state, is_default_password


class AuthDBView(FabAuthDBView):
    """FAB's login, on a page that shows the captcha when the account asks for one."""

    login_template = "security/login.html"


class SecurityManager(FabSecurityManager):
    user_model = AppUser
    authdbview = AuthDBView

    def __init__(self, appbuilder: Any):
        super().__init__(appbuilder)
        user_logged_in.connect(_restore_locale, weak=False)

    # one query for a request's permissions instead of one per menu item (117 → 1 on a list page)
    def _has_view_access(self, user: object, permission_name: str, view_name: str) -> bool:
        return (permission_name, view_name) in self.request_permissions(user)[0]

    def request_permissions(self, user: object) -> tuple[frozenset[tuple[str, str]], int]:
        """The user's (permission, view) pairs, read once per request, and their fingerprint (the menu's cache key
        changes with them: a role given or a permission taken shows in the next page's menu)."""
        cache = g.get("_permissions")
        if cache is None or cache[0] != getattr(user, "id", None):
            pairs = frozenset(self.get_user_permissions(user))
            cache = (getattr(user, "id", None), pairs, hash(pairs))
            g._permissions = cache
        return cache[1], cache[2]

    def get_user_permissions(self, user: Any) -> set[tuple[str, str]]:
        """FAB's answer (the (permission, view) pairs of every role of the user and its groups) in one Core query
        for all the database roles: FAB loads each role's PermissionView objects with their Permission and ViewMenu
        through the ORM, ~1,900 objects for the administrator and 8–15 ms of every page (its menu asks)."""
        roles = self.get_user_roles(user)
        result: set[tuple[str, str]] = set()
        db_roles = []
        for role in roles:
            if role.name in self.builtin_roles:
                result.update(self.get_role_permissions(role))
            else:
                db_roles.append(role.id)
        if db_roles:
            pairs = select(Permission.name, ViewMenu.name).select_from(PermissionView).join(
                Permission, Permission.id == PermissionView.permission_id).join(
                ViewMenu, ViewMenu.id == PermissionView.view_menu_id).join(
                assoc_permissionview_role,
                assoc_permissionview_role.c.permission_view_id == PermissionView.id).where(
                assoc_permissionview_role.c.role_id.in_(db_roles))
            result.update((p, v) for p, v in self.session.execute(pairs))
        return result

    def register_views(self) -> None:
        super().register_views()
        # failed logins per client address (the address ProxyFix trusts), counted in RATELIMIT_STORAGE_URI
        self.limiter.limit(lambda: current_app.config["LOGIN_FAILURE_RATE_LIMIT"], methods=["POST"],
                           deduct_when=login_guard.failed_login)(self.auth_view.blueprint)
        self.appbuilder.add_view_no_menu(login_guard.CaptchaView())

    def auth_user_db(self, username: str, password: str) -> Any:
        """FAB's password check behind the captcha and the wait of an account with repeated failures."""
        user = self.find_user(username=username)
        now = datetime.now()
        if login_guard.captcha_required(user) and not login_guard.captcha_answered():
            session[login_guard.SESSION_NEEDED] = True
            flash(gettext("Type the characters of the picture to sign in to this account."), "danger")
            _log_login(username, user.id, False, "captcha")
            return None
        if wait := login_guard.wait_seconds(user, now):
            flash(gettext("Too many failed logins on this account: try again in %(n)s seconds.", n=wait), "danger")
            _log_login(username, user.id, False, "wait")
            return None
        default = is_default_password(user.password, user.username, password) if user is not None else None
        if default is True and user.is_active:
            self.update_user_auth_stat(user, True)
            result = user
        elif default is False:
            if first_password_state(user.password) == "expired" and first_password_matches(user.password, password):
                flash(gettext("This first password has expired: ask your regulator to issue a new one."), "danger")
            self.update_user_auth_stat(user, False)
            result = None
        else:
            result = super().auth_user_db(username, password)
        if result is not None:
            session.pop(login_guard.SESSION_NEEDED, None)
            if result.locked_until:
                result.locked_until = None
                self.update_user(result)
            _log_login(username, result.id, True, None)
            return result
        login_guard.after_failure(user, now)
        if user is not None:
            self.update_user(user)
        _log_login(username, user.id if user else None, False, "password" if user else "unknown user")
        return None


def _log_login(username: str, user_id: int | None, success: bool, reason: str | None) -> None:
    svc = current_app.extensions["safety"]
    table = svc.models.engine["LoginLog"].__table__
    # the socket's peer, or what the trusted proxies forwarded (app/operations/proxies.py): never a raw header
    ip = request.remote_addr if request else None
    svc.session.execute(insert(table), {"at": datetime.now(), "username": username[:100], "user_id": user_id,
                                        "success": success, "reason": reason, "ip": ip})
    svc.session.commit()


def _restore_locale(sender: Any, user: Any) -> None:
    """At login the UI switches to the language this user chose last time."""
    locale = getattr(user, "locale", None)
    if locale and locale in sender.config["LANGUAGES"]:
        session["locale"] = locale


def remember_locale(response: Any) -> Any:
    """After /lang/<locale>, keep the choice on the user's account too (it sticks across sessions)."""
    if request.endpoint == "LocaleView.index" and response.status_code in (301, 302):
        user = getattr(g, "user", None)
        locale = session.get("locale")
        if user is not None and user.is_authenticated and getattr(user, "locale", None) != locale:
            db_session = services().session
            user.locale = locale
            db_session.commit()
    return response
