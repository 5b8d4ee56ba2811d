"""On the embedded default (SQLite, Celery inline) an import runs on a thread of the web process, not in the request:
the upload returns at once to the progress page, which shows the job queued, then running, then its result."""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

from tests.conftest import ADMIN_PASSWORD
from tests.helpers import FormClient, login, visible_text

from .workbook import enterprise_row, fill


@pytest.fixture(scope="module")
def embedded_app() -> Iterator[Any]:
    """The app as `./scripts/run` starts it (APP_CONFIG=embedded), on a SQLite file of its own."""
    from app import create_app
    from app.setup import migrate_database

    # tmpfs when there is one: SQLite syncs every commit of the migration to disk (minutes on a busy disk)
    folder = Path(tempfile.mkdtemp(prefix="embedded-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    flask_app = create_app("embedded", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'safety.db'}",
                           UPLOAD_FOLDER=folder / "uploads")
    assert flask_app.config["CELERY"]["task_always_eager"] and flask_app.config["JOB_RUNNER"] == "thread"
    with flask_app.app_context():
        assert migrate_database(echo=lambda *_: None) == 0
        sm = flask_app.appbuilder.sm
        sm.add_user("admin", "Admin", "User", "admin@example.invalid", sm.find_role("Admin"), ADMIN_PASSWORD)
    yield flask_app
    shutil.rmtree(folder, ignore_errors=True)


def _count(app: Any) -> int:
    svc = app.extensions["safety"]
    with app.app_context():
        return svc.session.execute(select(func.count()).select_from(svc.models["enterprise"])
                                   .execution_options(include_all_rows=True)).scalar_one()


def test_an_embedded_import_returns_at_once_to_the_progress_page_then_shows_the_result(embedded_app):
    client = FormClient(embedded_app.test_client())
    login(client, "admin", ADMIN_PASSWORD)
    template = client.get("/r/enterprise/template").data
    workbook = fill(template, [enterprise_row(n) for n in range(1, 2001)])
    # the job thread is still busy with an earlier job: the new one waits in the queue
    earlier = threading.Event()
    embedded_app.extensions["excel_runner"].pool.submit(earlier.wait, 120)
    response = client.post_form("/r/enterprise/import", {"file": (workbook, "两千家企业.xlsx"), "mode": "insert"},
                                page_url="/r/enterprise/import", content_type="multipart/form-data")
    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = visible_text(client.get(job_url).get_data(as_text=True))
    assert "排队中" in page and "处理中……可以离开本页稍后再来查看" in page
    assert client.get(job_url + ".json").get_json()["status"] == "queued"
    assert _count(embedded_app) == 0

    earlier.set()
    seen, deadline = [], time.monotonic() + 300
    while time.monotonic() < deadline:
        status = client.get(job_url + ".json").get_json()
        seen.append(status)
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert status["status"] == "done" and status["inserted"] == 2000, status
    # while it ran, the page was answered (SQLite does not lock the readers out) and showed it running
    assert any(s["status"] == "running" and s["stage"] in ("started", "read", "validated", "written") for s in seen)
    page = visible_text(client.get(job_url).get_data(as_text=True))
    assert "完成：新增 2000 条" in page
    assert _count(embedded_app) == 2000
