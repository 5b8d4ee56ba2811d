"""Faults survived, on private servers this test stops and starts (tests/faults/conftest.py):
PostgreSQL restarted while the app serves pages, Redis restarted during a background export or down when one
is asked for. The worker killed in the middle of an import is tests/excel/test_background.py."""
from __future__ import annotations

import io
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

from tests.conftest import ADMIN_PASSWORD, Worker
from tests.helpers import FormClient, login, visible_text


def _app_on(database_url: str, tmp: Path, **overrides):
    """The shipped product on the private database: migrated, with the administrator."""
    from app import create_app
    from app.setup import migrate_database
    flask_app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, UPLOAD_FOLDER=tmp / "uploads", **overrides)
    with flask_app.app_context():
        assert migrate_database(echo=lambda *_: None) == 0
        sm = flask_app.appbuilder.sm
        sm.add_user("admin", "Admin", "User", "admin@example.invalid", sm.find_role("Admin"), ADMIN_PASSWORD)
    return flask_app


def _admin(flask_app) -> FormClient:
    client = FormClient(flask_app.test_client())
    login(client, "admin", ADMIN_PASSWORD)
    return client


def test_postgresql_restarted_while_pages_are_served(private_postgres, tmp_path):
    flask_app = _app_on(private_postgres.url, tmp_path)
    client = _admin(flask_app)
    assert client.get("/r/enterprise/list/").status_code == 200
    token = client.csrf_token("/r/enterprise/add")  # a form the user opened before the database went away

    private_postgres.stop()
    page = client.get("/r/enterprise/list/")
    assert page.status_code == 503
    shown = visible_text(page.get_data(as_text=True))
    assert "数据库暂时无法连接" in shown and "Traceback" not in shown and "OperationalError" not in shown
    api = client.get("/api/v1/enterprise")
    assert api.status_code == 503 and api.get_json()["error"] == "service_unavailable"
    assert client.get("/healthz").status_code == 200       # the process is up
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"].startswith("failing")
    saved = client.post("/r/enterprise/add", data={"name": "停库期间新增", "csrf_token": token})
    assert saved.status_code == 503 and "数据库暂时无法连接" in saved.get_data(as_text=True)

    private_postgres.start()
    # the same process, not restarted: the pool drops its dead connections and serves again
    page = client.get("/r/enterprise/list/")
    assert page.status_code == 200 and "数据库暂时无法连接" not in page.get_data(as_text=True)
    assert client.get("/readyz").get_json()["checks"]["database"] == "ok"
    svc = flask_app.extensions["safety"]
    with flask_app.app_context():
        names = svc.session.execute(text("SELECT count(*) FROM reg_enterprise WHERE name = '停库期间新增'")).scalar()
    assert names == 0  # nothing was half-written while the database was away


def _enterprises(flask_app, count: int) -> None:
    """`count` rows straight into the register's table (the export reads them; how they came is not tested)."""
    svc = flask_app.extensions["safety"]
    with flask_app.app_context():
        svc.session.execute(text(
            "INSERT INTO reg_enterprise (name, uscc, enterprise_type, region, address, legal_representative, department, "
            "created_at, updated_at) "
            "SELECT '常州测试企业' || n, lpad(n::text, 18, '9'), 'hc_production', '320411', '春江街道' || n || '号', '王伟', "
            "'emergency', now(), now() "
            "FROM generate_series(1, :count) AS n"), {"count": count})
        svc.session.commit()


def _wait_job(client, job_url: str, until, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        status = client.get(job_url + ".json").get_json()
        if until(status):
            return status
        time.sleep(0.05)
    pytest.fail(f"job {job_url} did not reach the state in {timeout} s: {status}")


def _export(client) -> str:
    response = client.get("/r/enterprise/export?format=xlsx")
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def _private_broker(monkeypatch, redis_url: str) -> None:
    """Celery lets CELERY_BROKER_URL/CELERY_RESULT_BACKEND in the environment win over its configuration."""
    monkeypatch.setenv("CELERY_BROKER_URL", redis_url)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", redis_url)


EXPORT_ROWS = 200_000


def test_redis_restarted_during_a_background_export(private_postgres, private_redis, tmp_path, monkeypatch):
    _private_broker(monkeypatch, private_redis.url)
    celery = {"broker_url": private_redis.url, "result_backend": private_redis.url,
              "task_default_queue": "faults-export", "task_always_eager": False}
    from config import TestConfig
    flask_app = _app_on(private_postgres.url, tmp_path, EXPORT_INLINE_ROWS=100,
                        CELERY={**TestConfig.CELERY, **celery})
    # enough rows that writing lasts seconds at the export's 50,000+ rows/s (30,000 were written before the status
    # page could see it running)
    _enterprises(flask_app, EXPORT_ROWS)
    worker = Worker(tmp_path / "uploads", TEST_DATABASE_URL=private_postgres.url, CELERY_QUEUE="faults-export",
                    CELERY_BROKER_URL=private_redis.url, CELERY_RESULT_BACKEND=private_redis.url)
    try:
        client = _admin(flask_app)
        job_url = _export(client)
        writing = _wait_job(client, job_url, lambda s: s["status"] != "queued" and s["stage"] == "written"
                            or s["status"] in ("done", "failed"))
        assert writing["status"] == "running", writing  # Redis goes away while the file is being written
        private_redis.restart()  # and comes back empty: it keeps nothing on disk
        finished = _wait_job(client, job_url, lambda s: s["status"] in ("done", "failed"))
        assert finished["status"] == "done", finished
        download = client.get(job_url + "/file")
        assert download.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(download.data), read_only=True).active
        assert sheet.max_row == EXPORT_ROWS + 1  # the whole file: the title row and every row
        # the worker reconnected to the new Redis: the next export runs too
        again = _wait_job(client, _export(client), lambda s: s["status"] in ("done", "failed"))
        assert again["status"] == "done" and again["total"] == EXPORT_ROWS
    finally:
        worker.stop()


def test_redis_down_when_a_background_export_is_asked_for(private_postgres, private_redis, tmp_path, monkeypatch):
    _private_broker(monkeypatch, private_redis.url)
    from config import TestConfig
    celery = {"broker_url": private_redis.url, "result_backend": private_redis.url,
              "task_default_queue": "faults-down", "task_always_eager": False}
    flask_app = _app_on(private_postgres.url, tmp_path, EXPORT_INLINE_ROWS=100, CELERY={**TestConfig.CELERY, **celery},
                        RATELIMIT_STORAGE_URI=private_redis.url)
    _enterprises(flask_app, 500)
    private_redis.stop()
    client = _admin(flask_app)  # signing in counts failures in Redis: it still works while Redis is away
    started = time.monotonic()
    job_url = _export(client)
    assert time.monotonic() - started < 15  # a clear answer, not a hung page
    status = client.get(job_url + ".json").get_json()
    assert status["status"] == "failed" and "后台任务服务暂时不可用" in status["message"]
    assert "后台任务服务暂时不可用" in visible_text(client.get(job_url).get_data(as_text=True))
    assert client.get(job_url + "/file").status_code == 404  # no file is offered
    private_redis.start()
    assert client.get("/r/enterprise/list/").status_code == 200
