"""Account events of the operation log as people read them: field names, role labels, organisation names."""
from __future__ import annotations

import json

from flask import current_app
from flask_babel import gettext

from app.i18n import current_locale, label_text, list_separator
from app.security.models import AppUser

from .history import row_label, user_label


def account_field_label(name: str | None) -> str:
    return {"username": gettext("Login name"), "first_name": gettext("Name"), "last_name": gettext("Name"),
            "organisation_id": gettext("Organisation"), "enterprise_key": gettext("Enterprise code"),
            "active": gettext("Active"), "locked_until": gettext("Locked until"), "roles": gettext("Role"),
            "password": gettext("Password"), "api_token": gettext("API token")}.get(name or "", name or "")


def account_value(name: str | None, value: str | None) -> str:
    if value is None:
        return ""
    registry = current_app.extensions["safety"].registry
    if name == "user_id":
        user = current_app.extensions["safety"].session.get(AppUser, int(value))
        return f"{user_label(user.id, user.username)} (#{value})" if user is not None else f"#{value}"
    if name == "organisation_id" and registry.organisations:
        return row_label(registry.organisations.target, value)
    if name == "active":
        return gettext("Yes") if value == "true" else gettext("No")
    if name == "roles":
        try:
            names = json.loads(value)
        except ValueError:
            return value
        return list_separator().join(label_text(registry.roles[n].label) if n in registry.roles else n for n in names)
    if name == "password":
        return {"reset": gettext("Reset to a first password"), "changed": gettext("New password set")}.get(value, value)
    if name == "api_token":
        event, _, token = value.partition(": ")
        return (gettext("Created: %(token)s", token=token) if event == "created" else
                gettext("Revoked: %(token)s", token=token) if event == "revoked" else value)
    return value


def account_snapshot(text: str | None) -> str:
    """A created account: '登录名：xb_admin；角色：管理员 …'."""
    try:
        snapshot = json.loads(text or "{}")
    except ValueError:
        return text or ""
    colon, semicolon = (": ", "; ") if current_locale() == "en" else ("：", "；")
    return semicolon.join(f"{account_field_label(k)}{colon}{account_value(k, v)}" for k, v in snapshot.items())
