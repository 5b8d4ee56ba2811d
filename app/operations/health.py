"""/healthz (the process answers) and /readyz (database, Redis, a worker, the object store if used): JSON, no login, 200 or 503.

A load balancer sends traffic only to ready web processes; a supervisor restarts one whose /healthz fails.
"""
from __future__ import annotations

from typing import Any, Callable

import redis
from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import text

from app.extensions import csrf, db
from app.operations import heartbeat

bp = Blueprint("operations", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


def _database() -> str:
    with db.engine.connect() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 2000") if db.engine.dialect.name == "postgresql"
                     else text("SELECT 1"))
        conn.execute(text("SELECT 1"))
    return "ok"


def _uses_redis() -> bool:
    return str(current_app.config["CELERY"].get("broker_url", "")).startswith(("redis://", "rediss://"))


def _redis() -> str:
    if not _uses_redis():
        return "not used"  # the embedded default: tasks run inline, counts in memory
    heartbeat.redis_client(current_app).ping()
    return "ok"


def _worker() -> str:
    if current_app.config["CELERY"].get("task_always_eager"):
        return "inline"  # no worker needed: tasks run in the web process
    count = heartbeat.live_workers()
    if not count:
        raise RuntimeError("no Celery worker heartbeat for queue "
                           f"{current_app.config['CELERY']['task_default_queue']!r}")
    return f"ok ({count})"


def _files() -> str | None:
    """The object store's bucket answers (FILE_STORE=s3); a local folder is not checked (None: not listed)."""
    store = current_app.extensions["safety"].files
    if store.kind != "s3":
        return None
    store.check()
    return "ok"


CHECKS: dict[str, Callable[[], str | None]] = {"database": _database, "redis": _redis, "worker": _worker,
                                                "files": _files}


@bp.get("/readyz")
def readyz() -> Any:
    results: dict[str, str] = {}
    ready = True
    for name, check in CHECKS.items():
        try:
            result = check()
            if result is not None:
                results[name] = result
        except (Exception, redis.RedisError) as exc:  # any failure is "not ready", with the reason shown
            ready = False
            results[name] = f"failing: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
    response = jsonify(status="ready" if ready else "not ready", checks=results)
    response.status_code = 200 if ready else 503
    return response


PROBES = {"/healthz": healthz, "/readyz": readyz}


def _answer_probes_first() -> Any:
    """The probes answer before any other before_request: those read the signed-in account from the database,
    and /healthz must say the process is up while the database is away (a cookie sent along changes nothing)."""
    probe = PROBES.get(request.path)
    return probe() if probe is not None and request.method in ("GET", "HEAD") else None


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _answer_probes_first)
    csrf.exempt(bp)
