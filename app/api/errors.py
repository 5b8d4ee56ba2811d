"""Every refusal of the REST API as one JSON shape: {"error": code, "message": text, "fields": {path: [texts]}},
the message in the user's UI language. Registered for the API blueprint and, for what routing refuses before a
blueprint is chosen (unknown path, wrong method), for any path under /api/."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask, Response, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.operations.outages import database_unavailable

#: status → (error code, default message); the codes are the stable part a client branches on
CODES: dict[int, tuple[str, Any]] = {
    400: ("bad_request", _l("The request cannot be read.")),
    401: ("unauthorized", _l("Sign in first (HTTP Basic or the session of the web page).")),
    403: ("forbidden", _l("You may not do this.")),
    404: ("not_found", _l("No such record, or you may not see it.")),
    405: ("method_not_allowed", _l("This method is not allowed on this address.")),
    409: ("conflict", _l("The request conflicts with the record's current state.")),
    412: ("precondition_failed", _l("The record was changed after you read it (If-Match): read it again and "
                                    "resend your change.")),
    413: ("too_large", _l("The request is too large.")),
    422: ("invalid", _l("Some fields are not valid.")),
    429: ("too_many_requests", _l("Too many requests: try again later.")),
    500: ("server_error", _l("The server failed; the error has been logged.")),
    503: ("service_unavailable", _l("The database cannot be reached at the moment; nothing was changed. Try "
                                    "again later.")),
}


class ApiError(Exception):
    """A refusal with its status, code, message and per-field messages."""

    def __init__(self, status: int, message: Any = None, fields: Mapping[str, list[str]] | None = None,
                 code: str | None = None):
        super().__init__(message)
        default_code, default_message = CODES.get(status, CODES[500] if status >= 500 else CODES[400])
        self.status, self.code = status, code or default_code
        self.message = str(message if message is not None else default_message)
        self.fields = {name: [str(m) for m in texts] for name, texts in (fields or {}).items()}


def error_response(error: ApiError) -> Response:
    response = jsonify(error=error.code, message=error.message, fields=error.fields)
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="api", charset="UTF-8"'
    return response


def form_errors(errors: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """WTForms' nested errors as flat paths: a child row's field is 'items[0].result', the table's own
    messages (row counts) stay on 'items'."""
    flat: dict[str, list[str]] = {}
    for name, value in errors.items():
        path = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(form_errors(value, f"{path}."))
            continue
        for index, item in enumerate(value if isinstance(value, (list, tuple)) else [value]):
            if isinstance(item, Mapping):
                flat.update(form_errors(item, f"{path}[{index}]."))
            elif isinstance(item, (list, tuple)):
                if item:
                    flat.setdefault(f"{path}[{index}]", []).extend(str(m) for m in item)
            else:
                flat.setdefault(path, []).append(str(item))
    return flat


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _http_error(exc: HTTPException) -> Any:
    if not is_api_request():
        return exc  # the page's own error handling
    return error_response(ApiError(exc.code or 500))


def _unexpected(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if database_unavailable(exc):
        current_app.logger.error("API request while the database is unavailable: %s %s", request.method, request.path)
        return error_response(ApiError(503))
    current_app.logger.exception("API request failed: %s %s", request.method, request.path)
    return error_response(ApiError(500))


def _json_refusals(response: Response) -> Response:
    """The last word under /api/: a refusal answered by another handler (an HTML 404 page, a rate limiter's
    page) becomes the JSON shape with the status's own code and message."""
    if is_api_request() and response.status_code >= 400 and not response.is_json:
        status = response.status_code
        replacement = error_response(ApiError(status if status in CODES else (500 if status >= 500 else 400)))
        replacement.status_code = status
        for header in ("Retry-After", "WWW-Authenticate", "Allow"):
            if header in response.headers:
                replacement.headers[header] = response.headers[header]
        return replacement
    return response


def register_handlers(blueprint: Any) -> None:
    """Once, when the blueprint is made (a blueprint serves every app of the process)."""
    blueprint.register_error_handler(ApiError, error_response)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(Exception, _unexpected)


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, error_response)
    # routing refusals (404, 405) happen before a blueprint is chosen: the app-level handler decides by path
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_json_refusals)

