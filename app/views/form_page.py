"""What the add and edit forms show around their fields: the error summary, the language of the date picker,
the session-timeout warning (with the keep-alive endpoint) and the way back."""
from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, jsonify, session, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext
from flask_login import current_user

from app.i18n import current_locale

#: the warning comes this long before an idle session ends
WARN_SECONDS = 120


def error_summary(form: Any, fieldsets: list[tuple[Any, dict]]) -> list[dict[str, str]]:
    """Each field in error, in the form's order: its id (the summary's link focuses it), label and first
    message; a child table counts once, for the rows in error."""
    found = []
    for _title, fieldset in fieldsets:
        for name in fieldset["fields"]:
            field = form[name]
            own = [str(e) for e in field.errors if not isinstance(e, (list, dict))]
            rows = [e for e in field.errors if isinstance(e, dict) and e]
            if own or rows:
                found.append({"id": field.id, "name": name, "label": str(field.label.text),
                              "message": own[0] if own else gettext("Some rows have errors.")})
    return found


def session_info() -> dict[str, Any] | None:
    """For a signed-in user: how long the session stays without activity, and a mark of this session (the form
    restores what was typed only when the user comes back in another session, after signing in again)."""
    if not current_user.is_authenticated:
        return None
    epoch = session.get("_form_epoch")
    if epoch is None:
        epoch = session["_form_epoch"] = secrets.token_hex(8)
    return {"epoch": epoch, "idle_seconds": int(current_app.config["SESSION_IDLE_MINUTES"] * 60),
            "warn_seconds": WARN_SECONDS, "ping_url": url_for("FormSessionApi.ping")}


def form_context(form: Any, fieldsets: list[tuple[Any, dict]], cancel_url: str | None = None) -> dict[str, Any]:
    """The form widget's arguments beside the form and its fieldsets."""
    return {"errors": error_summary(form, fieldsets), "form_locale": current_locale(),
            "form_session": session_info(), "cancel_url": cancel_url}


class FormSessionApi(BaseView):
    """「保持登录」: any request counts as activity; this one does nothing else."""

    route_base = "/session"

    @expose("/ping")
    def ping(self) -> Any:
        return jsonify(signed_in=bool(current_user.is_authenticated))
