"""Error pages in the UI language inside the layout (403, 404, 405, 400 and a missing CSRF token, 429, 500, and 503
while the database is away); a 500 and a 503 need no database; JSON under /api/."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from app.operations.outages import database_unavailable
from app.api.errors import ApiError, error_response  # the API's one error shape
from app.security.policy import AccessDenied

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
    413: (_l("The upload is too large"),
          _l("The file or form sent is larger than this page accepts. Nothing was saved: send a smaller file.")),
    429: (_l("Too many requests"),
          _l("Too many requests came from this address in a short time. Wait a few minutes, then try again.")),
    503: (_l("The database cannot be reached at the moment"),
          _l("The system cannot reach its database just now (it may be restarting). Nothing was changed. Try "
             "again in a minute; tell the administrator if it lasts.")),
    500: (_l("Something went wrong"),
          _l("The server could not complete the request; nothing was changed. Tell the administrator if it "
             "happens again.")),
}


def error_page(error: Any) -> Any:
    """Any HTTP error (or AccessDenied): whatever the request started is rolled back, then a page in the
    layout, or JSON for the API. A 500 or 503 is drawn without the menu and the counts: the database may be what failed."""
    code = 403 if isinstance(error, AccessDenied) else getattr(error, "code", None) or 500
    if code not in MESSAGES:
        return error if isinstance(error, HTTPException) else InternalServerError()
    try:
        current_app.extensions["safety"].session.rollback()
    except Exception:  # noqa: BLE001 - a database that is gone must not turn the error page into another 500
        current_app.logger.exception("rollback failed while answering %s", code)
    if request.path.startswith("/api/"):
        return error_response(ApiError(code))
    if code == 429 and request.blueprint == "PublicFormView":
        return render_template("public/limited.html", appbuilder=current_app.appbuilder,
                               base_template=current_app.appbuilder.base_template), 429
    without_db = code in (500, 503)
    if without_db and "_login_user" not in g:
        # the account could not be read (the database is away): draw the page for nobody rather than fail again
        g._login_user = current_app.login_manager.anonymous_user()
    if "user" not in g:  # refused before FAB's own before_request ran (a missing CSRF token): the menu needs it
        from flask_login import current_user
        g.user = current_user
    title, message = MESSAGES[code]
    appbuilder = current_app.appbuilder
    return render_template("errors/page.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                           code=code, title=title, message=message, page_crumb=str(title),
                           layout_without_db=without_db), code


def database_error_page(exc: Exception) -> Any:
    """A page while the database is away (503, no menu: it needs the database), any other driver error a 500."""
    if database_unavailable(exc):
        current_app.logger.error("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return error_page(ServiceUnavailable())
    current_app.logger.exception("database error")
    return error_page(InternalServerError())


def register_error_pages(app: Flask) -> None:
    from sqlalchemy.exc import DBAPIError

    app.register_error_handler(AccessDenied, error_page)
    app.register_error_handler(DBAPIError, database_error_page)
    for code in MESSAGES:
        app.register_error_handler(code, error_page)
