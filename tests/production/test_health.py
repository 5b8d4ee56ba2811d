"""/healthz and /readyz on real PostgreSQL and Redis, with a real Celery worker and without one."""
from __future__ import annotations

import time

from app.operations import heartbeat


def test_healthz_answers_without_login_or_database(db_app):
    response = db_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_on_the_inline_configuration(db_app):
    """Tasks run inline here (no broker): the database is checked, Redis and a worker are not needed."""
    response = db_app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready",
                                   "checks": {"database": "ok", "redis": "not used", "worker": "inline"}}


def _readyz(flask_app, want: int, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while True:
        response = flask_app.test_client().get("/readyz")
        if response.status_code == want or time.monotonic() > deadline:
            return response
        time.sleep(0.3)


def test_readyz_with_a_running_then_a_stopped_worker(worker_app, celery_worker):
    ready = _readyz(worker_app, 200)
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok", "worker": "ok (1)"}}
    with worker_app.app_context():
        assert heartbeat.live_workers(worker_app) == 1
    celery_worker.stop()  # a clean shutdown removes its heartbeat at once
    stopped = _readyz(worker_app, 503, timeout=5)
    assert stopped.status_code == 503
    body = stopped.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert body["checks"]["worker"].startswith("failing: RuntimeError: no Celery worker heartbeat for queue")


def test_readyz_when_redis_does_not_answer(worker_app):
    celery = worker_app.config["CELERY"]
    configured = celery["broker_url"]
    celery["broker_url"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = worker_app.test_client().get("/readyz")
    finally:
        celery["broker_url"] = configured
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"].startswith("failing: ConnectionError")
    assert checks["worker"].startswith("failing: ConnectionError")
