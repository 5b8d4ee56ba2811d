"""Where an import or export job runs: sent to Celery (a worker, as in production), or on a background thread of
the web process (JOB_RUNNER = "thread", the embedded default, where Celery is inline and would hold the request).

Both run the same Celery task, so the job row, the progress page and the result are the same; only the place
differs. The thread runs one job at a time (SQLite has one writer) and keeps the progress of its jobs in memory:
on SQLite a progress write would wait for the import's own write lock."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app

from app.extensions import db

RUNNERS = ("celery", "thread")


class ThreadRunner:
    """A single background thread of this process running job tasks in the order they were sent."""

    def __init__(self, app: Flask):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="excel-job")
        self.lock = threading.Lock()
        #: job id → its latest progress (stage, done, total), for the jobs queued or running here
        self.live: dict[int, tuple[str, int, int]] = {}

    def submit(self, task: Any, job_id: int) -> None:
        with self.lock:
            self.live[job_id] = ("queued", 0, 0)
        self.pool.submit(self._run, task, job_id)

    def _run(self, task: Any, job_id: int) -> None:
        try:
            # apply() runs the task here, inside the app context the app's Celery tasks push themselves
            task.apply(args=(job_id,), throw=False)
        finally:
            with self.lock:
                self.live.pop(job_id, None)

    def report(self, job_id: int, stage: str, done: int, total: int) -> None:
        with self.lock:
            if job_id in self.live:
                self.live[job_id] = (stage, done, total)

    def progress(self, job_id: int) -> tuple[str, int, int] | None:
        with self.lock:
            return self.live.get(job_id)


def init_app(app: Flask) -> None:
    runner = app.config.get("JOB_RUNNER", "celery")
    if runner not in RUNNERS:
        raise SystemExit(f"JOB_RUNNER={runner!r} is unknown; use one of: {', '.join(RUNNERS)}")
    app.extensions["excel_runner"] = ThreadRunner(app) if runner == "thread" else None
    if runner == "thread" and str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        _readers_beside_the_writer(app)


def _readers_beside_the_writer(app: Flask) -> None:
    """SQLite in WAL mode: the pages (the job's own progress page among them) keep reading while the job thread
    holds the write transaction of a long import; in the default rollback-journal mode they would wait for it and
    fail with "database is locked"."""
    from sqlalchemy import event


    def wal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    with app.app_context():
        event.listen(db.engine, "connect", wal)


def thread_runner() -> ThreadRunner | None:
    return current_app.extensions.get("excel_runner")
