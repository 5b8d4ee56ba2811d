"""A Celery worker's sign of life: a Redis key per worker and queue, rewritten every WORKER_HEARTBEAT_SECONDS.

Chosen over `celery inspect ping` because a ping is broadcast to every worker on the broker (another
deployment's worker on the same Redis would answer) and costs a round trip to each; the key names the queue
this app sends to, expires after three missed beats (a killed worker) and is removed at a clean shutdown.
"""
from __future__ import annotations

import threading
from typing import Any

import redis
from celery.signals import worker_ready, worker_shutdown
from flask import Flask, current_app

KEY_PREFIX = "safety:worker-heartbeat"
_state: dict[str, Any] = {}


def key_pattern(queue: str) -> str:
    return f"{KEY_PREFIX}:{queue}:*"


def _key(queue: str, hostname: str) -> str:
    return f"{KEY_PREFIX}:{queue}:{hostname}"


def redis_client(app: Flask) -> redis.Redis:
    """The broker's Redis, with short timeouts: a health check must answer quickly even when Redis does not."""
    return redis.Redis.from_url(app.config["CELERY"]["broker_url"], socket_timeout=1, socket_connect_timeout=1)


def _beat(app: Flask, key: str, period: float, stop: threading.Event) -> None:
    client = redis_client(app)
    while not stop.is_set():
        try:
            client.set(key, "1", ex=int(period * 3))
        except redis.RedisError:
            pass  # Redis is away: the key expires and /readyz says so; keep trying
        stop.wait(period)


def _on_ready(sender: Any = None, **_: Any) -> None:
    from app.celery_worker import flask_app  # builds the app when imported: in the worker only, once it is ready
    queue = flask_app.config["CELERY"]["task_default_queue"]
    key = _key(queue, getattr(sender, "hostname", None) or "worker")
    period = float(flask_app.config.get("WORKER_HEARTBEAT_SECONDS", 10))
    redis_client(flask_app).set(key, "1", ex=int(period * 3))  # before "ready." is logged
    stop = threading.Event()
    thread = threading.Thread(target=_beat, args=(flask_app, key, period, stop), daemon=True,
                              name="safety-heartbeat")
    thread.start()
    _state.update(app=flask_app, key=key, stop=stop)


def _on_shutdown(**_: Any) -> None:
    if "stop" in _state:
        _state["stop"].set()
        try:
            redis_client(_state["app"]).delete(_state["key"])
        except redis.RedisError:
            pass


def install() -> None:
    """Connect the worker signals (they fire only in a `celery worker` process; weak=False keeps them alive)."""
    worker_ready.connect(_on_ready, weak=False, dispatch_uid="safety-heartbeat-ready")
    worker_shutdown.connect(_on_shutdown, weak=False, dispatch_uid="safety-heartbeat-shutdown")


def live_workers(app: Flask | None = None) -> int:
    """How many workers consuming this app's queue have beaten recently."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    client = redis_client(app)
    queue = app.config["CELERY"]["task_default_queue"]
    return sum(1 for _ in client.scan_iter(match=key_pattern(queue), count=100))
