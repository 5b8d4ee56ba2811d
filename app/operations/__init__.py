"""Serving and operating: settings check, trusted proxies, logging with request ids, health routes, heartbeat,
security headers, request size limits."""
from __future__ import annotations

from flask import Flask

from app.operations import headers, health, heartbeat, logs, proxies, sizes
from app.operations.settings import check_production_settings

__all__ = ["check_production_settings", "init_app"]


def init_app(app: Flask) -> None:
    """Wire the operating concerns into the app (called once by create_app)."""
    proxies.init_app(app)
    health.init_app(app)  # its probes answer right after the request id is assigned (logs' hook runs first)
    logs.init_app(app)
    headers.init_app(app)
    sizes.init_app(app)
    heartbeat.install()
