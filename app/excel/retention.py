"""The files of the Excel jobs (uploads, error workbooks, exports) are kept EXCEL_RETENTION_HOURS, then deleted.

With FILE_STORE=s3 every job file is also put into the shared store (``_jobs/<kind>/<name>``), so the worker that runs
an import need not be the machine that took the upload, nor the web machine that offers an export the worker that
wrote it (``publish`` and ``fetch``). An upload is deleted as soon as its job ends (the error workbook, if any, is the file the user gets back); what
remains — error workbooks, exports, and uploads whose worker died — goes when it is older than the retention: on
the Celery beat schedule, at most once an hour when a job is created, and by `flask excel purge`."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from app.storage import JOB_FILES

KINDS = ("uploads", "errors", "exports", "documents")
#: a sweep started by a new job runs at most this often (the beat task and the CLI command always sweep)
SWEEP_INTERVAL_SECONDS = 3600
MARKER = ".last-purge"


def jobs_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]).parent / "jobs"


def _shared_key(path: str | Path) -> str | None:
    """The object key of a job file when attachments live in a shared store (FILE_STORE=s3), else None. The key
    holds the file's kind and name only: another machine keeps its copy under its own jobs folder."""
    if current_app.extensions["safety"].files.kind == "local":
        return None
    path = Path(path)
    return f"{JOB_FILES}{path.parent.name}/{path.name}"


def publish(path: str | Path) -> None:
    """A job file written here (an upload on a web machine, an export or error workbook on a worker) is put into
    the shared store, where the machine that needs it next fetches it; nothing to do with a local store."""
    key = _shared_key(path)
    if key is not None:
        with Path(path).open("rb") as stream:
            current_app.extensions["safety"].files.put(key, stream, "application/octet-stream")


def fetch(path: str | Path) -> Path | None:
    """This machine's copy of a job file named by ``path`` (as the machine that made it recorded it): the file
    itself when it is here, else a copy from the shared store into this machine's jobs folder; None when gone."""
    path = Path(path)
    key = _shared_key(path)
    if key is None:
        return path if path.is_file() else None
    # a shared store: ``path`` is where the machine that made the file keeps it, meaningless here
    local = jobs_root() / path.parent.name / path.name
    if local.is_file():
        return local
    try:
        source = current_app.extensions["safety"].files.open(key)
    except FileNotFoundError:
        return None
    local.parent.mkdir(parents=True, exist_ok=True)
    partial = local.with_name(f".{local.name}.part")
    with source, partial.open("wb") as out:
        shutil.copyfileobj(source, out, 1024 * 1024)
    partial.replace(local)
    return local


def discard(path: str | Path | None) -> None:
    """Delete a job's file now, here and in the shared store (a missing file is fine: the sweep or another process
    got there first)."""
    if path:
        Path(path).unlink(missing_ok=True)
        key = _shared_key(path)
        if key is not None:
            current_app.extensions["safety"].files.delete(key)
            # and this machine's copy fetched from the store, when this is not the machine that made the file
            (jobs_root() / Path(path).parent.name / Path(path).name).unlink(missing_ok=True)


def purge_expired(now: float | None = None) -> int:
    """Delete the job files older than the retention; returns how many. Files of jobs still queued or running are
    kept whatever their age, and a job whose file is gone no longer offers it for download."""
    from .jobs import job_model  # app.excel.jobs imports this module at its top: a cycle at module level

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
    store = current_app.extensions["safety"].files
    if store.kind != "local":  # the shared copies, by the same rule (a copy here is only a cache of them)
        busy_keys = {_shared_key(path) for path in busy}
        for key, _size, modified in list(store.walk(JOB_FILES)):
            if modified < cutoff and key not in busy_keys:
                store.delete(key)
                kind, _slash, name = key.removeprefix(JOB_FILES).partition("/")
                removed += [str(p) for p in session.scalars(select(model.output).where(
                    model.output.like(f"%/{kind}/{name}"))) if p]
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
