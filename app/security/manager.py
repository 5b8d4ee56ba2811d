"""FAB's security manager with the engine's user model, per-request permission checks, login throttling and
login log, and the language that follows the user."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app, flash, g, request, session
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from flask_babel import gettext
from flask_login import user_logged_in
from sqlalchemy import insert

from .models import AppUser
from .passwords import is_default_password


class SecurityManager(FabSecurityManager):
    user_model = AppUser

    def __init__(self, appbuilder: Any):
        super().__init__(appbuilder)
        user_logged_in.connect(_restore_locale, weak=False)

    # one query for a request's permissions instead of one per menu item (117 → 1 on a list page)
    def _has_view_access(self, user: object, permission_name: str, view_name: str) -> bool:
        cache = g.get("_permissions")
        if cache is None or cache[0] != getattr(user, "id", None):
            cache = (getattr(user, "id", None), self.get_user_permissions(user))
            g._permissions = cache
        return (permission_name, view_name) in cache[1]

    def auth_user_db(self, username: str, password: str) -> Any:
        """FAB's password check, refused while the account is locked; locks after repeated failures."""
        user = self.find_user(username=username)
        now = datetime.now()
        if user is not None and user.locked_until and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            flash(gettext("This account is locked after repeated failed logins; try again in %(n)s minutes.",
                          n=minutes), "danger")
            _log_login(username, user.id, False, "locked")
            return None
        default = is_default_password(user.password, user.username, password) if user is not None else None
        if default is True and user.is_active:
            self.update_user_auth_stat(user, True)
            result = user
        elif default is False:
            self.update_user_auth_stat(user, False)
            result = None
        else:
            result = super().auth_user_db(username, password)
        if result is not None:
            if result.locked_until:
                result.locked_until = None
                self.update_user(result)
            _log_login(username, result.id, True, None)
            return result
        if user is not None:
            limit = current_app.config["LOGIN_FAILURES_BEFORE_LOCK"]
            if (user.fail_login_count or 0) >= limit:
                user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
                user.fail_login_count = 0
                self.update_user(user)
                flash(gettext("Too many failed logins: the account is locked for %(n)s minutes.",
                              n=current_app.config["LOGIN_LOCK_MINUTES"]), "danger")
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
            from app.services import services
            db_session = services().session
            user.locale = locale
            db_session.commit()
    return response
