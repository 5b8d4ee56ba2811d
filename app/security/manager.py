"""FAB's security manager with the engine's user model and the language that follows the user."""
from __future__ import annotations

from typing import Any

from flask import g, request, session
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from flask_login import user_logged_in

from .models import AppUser


class SecurityManager(FabSecurityManager):
    user_model = AppUser

    def __init__(self, appbuilder: Any):
        super().__init__(appbuilder)
        user_logged_in.connect(_restore_locale, weak=False)


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
