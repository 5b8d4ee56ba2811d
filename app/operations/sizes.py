"""Request size limits by who sends: a signed-in user may upload an import of up to MAX_CONTENT_LENGTH (200 MB);
a request without a session — the login form, the public forms (企业注册申请), the public draw pages — gets
ANONYMOUS_MAX_CONTENT_LENGTH (default 20 MB), so nobody without an account can make the server read 200 MB.
The API's HTTP Basic requests sign in before their body is read and keep the full limit."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user


def _limit_anonymous() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return  # nothing to read: no need to look the account up (/healthz answers while the database is away)
    if request.authorization is not None or current_user.is_authenticated:
        return
    request.max_content_length = current_app.config["ANONYMOUS_MAX_CONTENT_LENGTH"]


def init_app(app: Flask) -> None:
    # first of all: Flask-WTF's CSRF check reads the form in its own before_request
    app.before_request_funcs.setdefault(None, []).insert(0, _limit_anonymous)
