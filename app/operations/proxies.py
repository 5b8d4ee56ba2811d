"""The client's address behind reverse proxies: only as many X-Forwarded-* hops as TRUSTED_PROXIES are believed.

With 0 (the default) the headers are ignored and request.remote_addr is the socket's peer, so a client cannot
choose the address the login log records or the rate-limit bucket it counts against. With N, werkzeug's
ProxyFix takes the N-th address from the right, the one the outermost trusted proxy saw.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    """WSGI middleware reading TRUSTED_PROXIES at each request, so a test (or an operator) can change it."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Any]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._fixes: dict[int, ProxyFix] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        hops = int(self.app.config.get("TRUSTED_PROXIES") or 0)
        if hops <= 0:
            return self.wsgi_app(environ, start_response)
        fix = self._fixes.get(hops)
        if fix is None:
            fix = self._fixes[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops,
                                               x_prefix=hops)
        return fix(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = TrustedProxies(app, app.wsgi_app)  # type: ignore[method-assign]
