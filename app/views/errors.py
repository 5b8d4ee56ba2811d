"""Error pages in the UI language inside the layout (403, 404, 405, 400 and a missing CSRF token, 429, 500); a 500
needs no database; JSON under /api/."""
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
    413: (_l("The upload is too large"),
          _l("The file or form sent is larger than this page accepts. Nothing was saved: send a smaller file.")),
    429: (_l("Too many requests"),
          _l("Too many requests came from this address in a short time. Wait a few minutes, then try again.")),
    500: (_l("Something went wrong"),
          _l("The server could not complete the request; nothing was changed. Tell the administrator if it "
             "happens again.")),
}


def error_page(error: Any) -> Any:
    """Any HTTP error (or AccessDenied): whatever the request started is rolled back, then a page in the
    layout, or JSON for the API. A 500 is drawn without the menu and the counts: the database may be what failed."""
    from app.security.policy import AccessDenied
    code = 403 if isinstance(error, AccessDenied) else getattr(error, "code", None) or 500
    if code not in MESSAGES:
        return error if isinstance(error, HTTPException) else InternalServerError()
    try:
        current_app.extensions["safety"].session.rollback()
    except Exception:  # noqa: BLE001 - a database that is gone must not turn the error page into another 500
        current_app.logger.exception("rollback failed while answering %s", code)
    if request.path.startswith("/api/"):
        from app.api.errors import ApiError, error_response  # the API's one error shape
        return error_response(ApiError(code))
    if code == 429 and request.blueprint == "PublicFormView":
        return render_template("public/limited.html", appbuilder=current_app.appbuilder,
                               base_template=current_app.appbuilder.base_template), 429
    if "user" not in g:  # refused before FAB's own before_request ran (a missing CSRF token): the menu needs it
        from flask_login import current_user
        g.user = current_user
    title, message = MESSAGES[code]
    appbuilder = current_app.appbuilder
    return render_template("errors/page.html", appbuilder=appbuilder, base_template=appbuilder.base_template,
                           code=code, title=title, message=message, page_crumb=str(title),
                           layout_without_db=code == 500), code


def register_error_pages(app: Flask) -> None:
    from app.security.policy import AccessDenied
    app.register_error_handler(AccessDenied, error_page)
    for code in MESSAGES:
        app.register_error_handler(code, error_page)
