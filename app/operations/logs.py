"""Logging from the environment (LOG_FORMAT plain|json, LOG_LEVEL) and one request id per request.

The id comes from the X-Request-ID header when a proxy set a sane one, otherwise it is generated; it is sent
back in the response header (gunicorn's access log prints it too) and carried by every log line of the request.
"""
from __future__ import annotations

import logging
import re
import sys
import uuid
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# a forwarded id is kept only if it cannot forge log lines or headers
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
PLAIN_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s request_id=%(request_id)s %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(process)d %(name)s %(request_id)s %(message)s"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or "-" outside a request) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class _AppHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler this module installs on the root logger (found and replaced by a second create_app)."""


def configure_logging(level: str = "INFO", fmt: str = "plain", stream: IO[str] | None = None) -> logging.Handler:
    """Root logger: one handler to stderr (or `stream`) in the chosen format, with request ids."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _AppHandler)]:
        root.removeHandler(old)
    handler = _AppHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "asctime": "time",
                                                                       "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # FAB reports every permission and role it creates at INFO: noise in a command's output and the journal
    logging.getLogger("flask_appbuilder").setLevel(max(logging.WARNING, root.level))
    return handler


def _assign_request_id() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex


def _send_request_id(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
    return response


def init_app(app: Flask) -> None:
    configure_logging(app.config.get("LOG_LEVEL", "INFO"), app.config.get("LOG_FORMAT", "plain"))
    # first of the before-request functions, so that every later log line of the request carries the id
    app.before_request_funcs.setdefault(None, []).insert(0, _assign_request_id)
    app.after_request(_send_request_id)


def current_request_id() -> Any:
    return g.get("request_id") if has_request_context() else None
