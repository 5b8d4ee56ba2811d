"""Error pages in the UI language with the normal layout and menu (403, 404, 405, 400, 500); JSON under /api/."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

# code → (title, what happened and what to do), in words a user reads
MESSAGES = {
    400: (_l("The request could not be understood"),
          _l("The form may have expired or been sent twice. Reload the page and try again.")),
    403: (_l("Not allowed"),
          _l("Your account may not do this, or the record is outside your jurisdiction. Nothing was changed.")),
    404: (_l("Not found"),
          _l("This page or record does not exist: the link may be out of date, or the record was deleted "
             "in the meantime.")),
    405: (_l("This action cannot be opened as a page"),
          _l("Use the buttons on the record's page instead of the address bar.")),
    500: (_l("Something went wrong"),
          _l("The server could not complete the request; nothing was changed. Tell the administrator if it "
             "happens again.")),
}


def error_page(error: Any) -> Any:
    """Any HTTP error (or AccessDenied): whatever the request started is rolled back, then a page in the
    layout, or JSON for the API."""
    from app.security.policy import AccessDenied
    code = 403 if isinstance(error, AccessDenied) else getattr(error, "code", None) or 500
    if code not in MESSAGES:
        return error if isinstance(error, HTTPException) else InternalServerError()
    current_app.extensions["safety"].session.rollback()
    title, message = MESSAGES[code]
    if request.path.startswith("/api/"):
        from app.api.errors import ApiError, error_response  # the API's one error shape
        return error_response(ApiError(code))
    if "user" not in g:  # refused before FAB's own before_request ran (a missing CSRF token): the menu needs it
        from flask_login import current_user
        g.user = current_user
    appbuilder = current_app.appbuilder
    return render_template("errors/page.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                           code=code, title=title, message=message), code


def register_error_pages(app: Flask) -> None:
    from app.security.policy import AccessDenied
    app.register_error_handler(AccessDenied, error_page)
    for code in MESSAGES:
        app.register_error_handler(code, error_page)
