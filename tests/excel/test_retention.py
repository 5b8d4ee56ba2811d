"""Files of the Excel jobs do not pile up: an upload goes when its job ends (refused ones included), error workbooks
and exports go after EXCEL_RETENTION_HOURS, and template downloads and small exports leave no file and no open
descriptor behind."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from tests.helpers import visible_text

from .test_import import _upload
from .workbook import enterprise_row, fill


def _jobs(app) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]).parent / "jobs"


def _job(app, job_url):
    svc = app.extensions["safety"]
    with app.app_context():
        job = svc.session.get(svc.models.engine["Job"], int(job_url.rstrip("/").rsplit("/", 1)[-1]))
        svc.session.expunge(job)
        return job


def _uploads(app) -> set[str]:
    folder = _jobs(app) / "uploads"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_a_refused_upload_leaves_no_file(admin, db_app, monkeypatch):
    before = _uploads(db_app)
    job_url, page = _upload(admin, "enterprise", open(__file__, "rb"), name="企业.txt")
    assert "不接受" in page or ".txt" in page
    assert not Path(_job(db_app, job_url).stored).exists() and _uploads(db_app) == before
    # too large: refused after it was received, and deleted at once
    monkeypatch.setitem(db_app.config, "IMPORT_MAX_BYTES", 2048)
    template = admin.get("/r/enterprise/template").data
    job_url, page = _upload(admin, "enterprise", fill(template, [enterprise_row(n) for n in range(1, 40)]))
    assert "Split" not in page and "MB" in page
    assert _uploads(db_app) == before


def test_after_an_import_only_the_error_workbook_is_kept(admin, db_app):
    template = admin.get("/r/enterprise/template").data
    before = _uploads(db_app)
    job_url, page = _upload(admin, "enterprise", fill(template, [enterprise_row(1, region="火星")]))
    assert "问题" in page
    job = _job(db_app, job_url)
    assert _uploads(db_app) == before and not Path(job.stored).exists()
    assert Path(job.output).exists() and admin.get(job_url + "/file").status_code == 200
    job_url, page = _upload(admin, "enterprise", fill(template, [enterprise_row(2)]))
    assert "新增 1 条" in page and _uploads(db_app) == before


def _aged(path: Path, hours: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 100)
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_files_past_the_retention_are_deleted_by_the_scheduled_task(admin, db_app):
    hours = db_app.config["EXCEL_RETENTION_HOURS"]
    jobs = _jobs(db_app)
    old = [_aged(jobs / kind / f"old-{kind}.xlsx", hours + 1) for kind in ("uploads", "errors", "exports")]
    recent = [_aged(jobs / kind / f"recent-{kind}.xlsx", hours - 1) for kind in ("uploads", "errors", "exports")]
    waiting = _aged(jobs / "uploads" / "queued-long-ago.xlsx", hours + 5)
    svc = db_app.extensions["safety"]
    model = svc.models.engine["Job"]
    from datetime import datetime
    with db_app.app_context():
        export = model(kind="export", register="enterprise", user_id=1, locale="zh_Hans", mode="xlsx", status="done",
                       stage="done", done=3, total=3, output=str(old[2]), created_at=datetime.now())
        queued = model(kind="import", register="enterprise", user_id=1, locale="zh_Hans", mode="insert",
                       status="queued", stage="queued", done=0, total=0, stored=str(waiting), file_name="a.xlsx",
                       created_at=datetime.now())
        svc.session.add_all([export, queued])
        svc.session.commit()
        export_id = export.id
        # the task beat sends (Celery is inline in this app)
        assert db_app.extensions["celery"].tasks["excel.purge_files"].apply().get() == 3
    assert not any(p.exists() for p in old)
    assert all(p.exists() for p in recent) and waiting.exists()
    with db_app.app_context():
        assert svc.session.scalar(select(model.output).where(model.id == export_id)) is None
    # the export's page no longer offers a file that is gone
    page = visible_text(admin.get(f"/r/enterprise/jobs/{export_id}").get_data(as_text=True))
    assert "已删除" in page and admin.get(f"/r/enterprise/jobs/{export_id}/file").status_code == 404
    # by hand, the same sweep
    again = _aged(jobs / "exports" / "old-again.csv", hours + 2)
    result = db_app.test_cli_runner().invoke(args=["excel", "purge"])
    assert result.exit_code == 0 and "1" in result.output and not again.exists()
    for path in recent + [waiting]:
        path.unlink()


def test_a_new_job_sweeps_when_the_last_sweep_is_an_hour_old(admin, db_app):
    hours = db_app.config["EXCEL_RETENTION_HOURS"]
    jobs = _jobs(db_app)
    old = _aged(jobs / "errors" / "forgotten.xlsx", hours + 1)
    _aged(jobs / ".last-purge", 0.5)  # swept half an hour ago: creating a job costs one stat()
    template = admin.get("/r/enterprise/template").data
    _upload(admin, "enterprise", fill(template, [enterprise_row(1)]))
    assert old.exists()
    _aged(jobs / ".last-purge", 1.5)
    _upload(admin, "enterprise", fill(template, [enterprise_row(2)]))
    assert not old.exists()


def _descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_template_downloads_and_small_exports_leave_no_file_and_no_descriptor(admin, db_app, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert admin.get("/r/enterprise/template").status_code == 200  # warm: the first request opens what it keeps
    assert admin.get("/r/enterprise/export?format=xlsx").status_code == 200
    before = _descriptors()
    for _ in range(20):
        response = admin.get("/r/enterprise/template")
        assert response.status_code == 200 and response.data[:2] == b"PK"
        response.close()
    for fmt in ("xlsx", "csv") * 10:
        response = admin.get(f"/r/enterprise/export?format={fmt}")
        assert response.status_code == 200 and len(response.data) > 0
        response.close()
    assert _descriptors() <= before
    assert list(tmp_path.iterdir()) == []
