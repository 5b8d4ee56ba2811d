"""Security headers on every response: a Content-Security-Policy that lets pages load only from this site (the
product runs offline, so anything else is a mistake or an attack), no framing by other sites, no MIME sniffing,
no full URLs in the Referer sent elsewhere.

Inline scripts are still allowed: Flask-AppBuilder's own templates carry inline handlers. Everything the app
serves itself comes from 'self'.
"""
from __future__ import annotations

from flask import Flask, Response, current_app

POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; "
          "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")


def _add_headers(response: Response) -> Response:
    policy = current_app.config.get("CONTENT_SECURITY_POLICY", POLICY)
    if policy:
        response.headers.setdefault("Content-Security-Policy", policy)
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
