"""Background imports and exports: a job row per request, run by a Celery task (inline on the embedded default),
progress written on its own connection so the page can show it while the import's transaction is still open."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from celery import shared_task
from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from app.security.actor import acting_as, actor_from_id

from .errors import texts_path, write_error_workbook
from .export import write_export
from .retention import discard, fetch, publish, purge_expired
from .runner import thread_runner


def job_model() -> type:
    return current_app.extensions["safety"].models.engine["Job"]


def jobs_folder(kind: str) -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]).parent / "jobs" / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class ProgressWriter:
    """Progress and heartbeat of a running job, committed on a connection of its own, at most twice a second."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = 0.0
        self.engine = current_app.extensions["safety"].db.engine
        runner = thread_runner()
        self.runner = runner if runner is not None and runner.progress(job_id) is not None else None
        # on SQLite a second connection's write waits (seconds) for the import's own write lock: a job on this
        # process's thread keeps its progress in memory only, where the page reads it
        self.to_database = not (self.runner is not None and self.engine.dialect.name == "sqlite")

    def __call__(self, stage: str, done: int, total: int, force: bool = False) -> None:
        if self.runner is not None:
            self.runner.report(self.job_id, stage, done, total)
        now = time.monotonic()
        if not self.to_database or not force and now - self.last < 0.5:
            return
        self.last = now
        table = job_model().__table__
        try:
            with self.engine.begin() as conn:
                conn.execute(update(table).where(table.c.id == self.job_id).values(
                    stage=stage, done=done, total=total, heartbeat_at=datetime.now()))
        except OperationalError:
            # SQLite (the embedded default) has one writer: while the import writes, progress waits
            current_app.logger.debug("progress of job %s not recorded (database busy)", self.job_id)


def finish(job_id: int, status: str, **values: Any) -> None:
    table = job_model().__table__
    with current_app.extensions["safety"].db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == job_id).values(
            status=status, finished_at=datetime.now(), heartbeat_at=datetime.now(), **values))


def dispatch(name: str, job_id: int) -> None:
    """Start the job's task (``excel.import``, ``excel.export``) where this app runs its jobs. When the broker
    (Redis) cannot take it, the job fails at once with that reason: it never sits queued with nothing to run it."""
    task = current_app.extensions["celery"].tasks[name]
    runner = thread_runner()
    if runner is not None:
        runner.submit(task, job_id)
        return
    try:
        task.delay(job_id)
    except Exception:  # kombu's OperationalError, redis' ConnectionError: the broker is away
        current_app.logger.exception("job %s could not be sent to the workers", job_id)
        job = current_app.extensions["safety"].session.get(job_model(), job_id)
        with force_locale(job.locale if job is not None else None):
            message = _("The background task service cannot be reached at the moment (Redis); the job did not "
                        "start and nothing was changed. Try again in a few minutes; tell the administrator if it "
                        "lasts.")
        finish(job_id, "failed", message=message)
        if job is not None:
            discard(job.stored)


def refresh_state(job: Any) -> Any:
    """A running job whose worker stopped beating is marked failed: its transaction never committed."""
    runner = thread_runner()
    if runner is not None and runner.progress(job.id) is not None:
        return job  # queued or running on this process's thread: alive, whatever the database says
    stale = timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    if job.status == "running" and job.heartbeat_at and datetime.now() - job.heartbeat_at > stale:
        with force_locale(job.locale):
            message = _("The worker stopped before the job finished (it was killed or crashed); nothing was "
                        "written. Upload the file again.")
        finish(job.id, "failed", message=message)
        session = current_app.extensions["safety"].session
        session.expire(job)
        session.refresh(job)
    return job


def _begin(job: Any, progress: ProgressWriter) -> tuple[Any, Any]:
    """Mark the job running (its own commit, seen by the page that polls); the actor it runs as, its register."""
    progress("started", 0, job.total or 0, force=True)  # a total known when the job was made stays
    table = job_model().__table__
    svc = current_app.extensions["safety"]
    with svc.db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == job.id).values(status="running"))
    return (actor_from_id(job.user_id) if job.user_id else None), svc.registry.register(job.register)


@shared_task(name="excel.import", acks_late=False)
def import_task(job_id: int) -> str:
    from .importer import Importer  # the import task's alone: not loaded at start-up (~7 ms)

    svc = current_app.extensions["safety"]
    session = svc.session
    job = session.get(job_model(), job_id)
    upload = job.stored  # read now: the import's commit or rollback expires the job object
    progress = ProgressWriter(job_id)
    finish_values: dict[str, Any]
    try:
        actor, spec = _begin(job, progress)
        with acting_as(actor), force_locale(job.locale):
            dry_run = json.loads(job.arguments or "{}").get("dry_run", False)
            importer = Importer(current_app, spec, actor, job.mode or "insert", progress, dry_run=dry_run)
            source = fetch(job.stored)  # taken on another machine: its copy in the shared store
            if source is None:
                raise FileNotFoundError(_("The uploaded file is no longer there; upload it again."))
            report = importer.run(source, job.file_name)
            output = None
            if report.problem_count:
                output = str(write_error_workbook(importer, source, job.file_name,
                                                  jobs_folder("errors") / f"{job_id}.xlsx"))
                publish(output)
                if texts_path(Path(output)).exists():
                    publish(texts_path(Path(output)))
        finish_values = {"result": json.dumps(report.as_dict(), ensure_ascii=False, default=str), "output": output,
                         "stage": "done", "done": report.rows, "total": report.rows}
    except Exception as exc:  # the job fails as a whole; the import's own transaction is rolled back
        session.rollback()
        current_app.logger.exception("import job %s failed", job_id)
        finish(job_id, "failed", message=f"{type(exc).__name__}: {exc}"[:2000])
        return "failed"
    finally:
        session.remove() if hasattr(session, "remove") else None
        # the upload has served: refused, failed or imported, only the error workbook (if any) is kept
        discard(upload)
    finish(job_id, "done", **finish_values)
    return "done"


def run_file_job(job_id: int, kind: str, suffix: str,
                 write: Callable[[Any, Any, dict[str, Any], Path, ProgressWriter], int]) -> str:
    """A job that writes one file (an export, a zip of documents) as its user, in its language:
    ``write(spec, actor, arguments, target, progress)`` returns the row count; a failure fails the job with
    its reason and offers no file."""
    svc = current_app.extensions["safety"]
    session = svc.session
    job = session.get(job_model(), job_id)
    progress = ProgressWriter(job_id)
    arguments = json.loads(job.arguments or "{}")
    try:
        actor, spec = _begin(job, progress)
        target = jobs_folder(kind) / f"{job_id}.{suffix}"
        with acting_as(actor), force_locale(job.locale):
            count = write(spec, actor, arguments, target, progress)
        publish(target)
    except Exception as exc:
        session.rollback()
        current_app.logger.exception("%s job %s failed", kind, job_id)
        finish(job_id, "failed", message=f"{type(exc).__name__}: {exc}"[:2000])
        return "failed"
    finally:
        session.remove() if hasattr(session, "remove") else None
    finish(job_id, "done", output=str(target), stage="done", done=count, total=count)
    return "done"


@shared_task(name="excel.export")
def export_task(job_id: int) -> str:
    mode = current_app.extensions["safety"].session.get(job_model(), job_id).mode
    return run_file_job(job_id, "exports", mode, lambda spec, actor, arguments, target, progress:
                        write_export(spec, arguments, mode, target, progress))


@shared_task(name="excel.purge_files")
def purge_files_task() -> int:
    """Job files past EXCEL_RETENTION_HOURS (scheduled by beat; `flask excel purge` runs it by hand)."""
    return purge_expired()


def user_jobs(user_id: int, register: str, limit: int = 20) -> list[Any]:
    model = job_model()
    return list(current_app.extensions["safety"].session.scalars(
        select(model).where(model.user_id == user_id, model.register == register)
        .order_by(model.id.desc()).limit(limit)))
