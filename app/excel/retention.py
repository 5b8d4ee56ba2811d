"""The files of the Excel jobs (uploads, error workbooks, exports) are kept EXCEL_RETENTION_HOURS, then deleted.

An upload is deleted as soon as its job ends (the error workbook, if any, is the file the user gets back); what
remains — error workbooks, exports, and uploads whose worker died — goes when it is older than the retention: on
the Celery beat schedule, at most once an hour when a job is created, and by `flask excel purge`."""
from __future__ import annotations

import time
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

KINDS = ("uploads", "errors", "exports", "documents")
#: a sweep started by a new job runs at most this often (the beat task and the CLI command always sweep)
SWEEP_INTERVAL_SECONDS = 3600
MARKER = ".last-purge"


def jobs_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]).parent / "jobs"


def discard(path: str | Path | None) -> None:
    """Delete a job's file now (a missing file is fine: the sweep or another process got there first)."""
    if path:
        Path(path).unlink(missing_ok=True)


def purge_expired(now: float | None = None) -> int:
    """Delete the job files older than the retention; returns how many. Files of jobs still queued or running are
    kept whatever their age, and a job whose file is gone no longer offers it for download."""
    from .jobs import job_model

    cutoff = (now if now is not None else time.time()) - current_app.config["EXCEL_RETENTION_HOURS"] * 3600
    session = current_app.extensions["safety"].session
    model = job_model()
    busy = {path for path in session.scalars(select(model.stored).where(model.status.in_(("queued", "running"))))
            if path}
    removed: list[str] = []
    root = jobs_root()
    for kind in KINDS:
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff and str(path) not in busy:
                    path.unlink()
                    removed.append(str(path))
            except FileNotFoundError:
                continue
    if removed:
        table = model.__table__
        with current_app.extensions["safety"].db.engine.begin() as conn:
            for start in range(0, len(removed), 500):
                conn.execute(update(table).where(table.c.output.in_(removed[start:start + 500])).values(output=None))
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).touch()
    return len(removed)


def purge_if_due() -> None:
    """The sweep a new job triggers: one stat() when the last sweep is recent, so creating a job stays cheap."""
    marker = jobs_root() / MARKER
    try:
        if time.time() - marker.stat().st_mtime < SWEEP_INTERVAL_SECONDS:
            return
    except FileNotFoundError:
        pass
    try:
        purge_expired()
    except OSError:  # housekeeping must never refuse the user's upload
        current_app.logger.exception("purge of expired job files failed")
