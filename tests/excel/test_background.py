"""The background path with a real Celery worker on Redis: progress, results kept, and a worker killed in the
middle of an import leaves nothing written and the job marked failed with the reason."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from tests.conftest import ADMIN_PASSWORD, truncate_registers
from tests.helpers import FormClient, login, visible_text

from .workbook import enterprise_row, fill


def _admin(app):
    client = FormClient(app.test_client())
    login(client, "admin", ADMIN_PASSWORD)
    return client


def _wait(client, job_url, until, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(job_url + ".json").get_json()
        if until(status):
            return status
        time.sleep(0.05)
    pytest.fail(f"job {job_url} did not reach the state in {timeout} s: {status}")


def _count(app):
    svc = app.extensions["safety"]
    with app.app_context():
        return svc.session.execute(select(func.count()).select_from(svc.models["enterprise"])
                                   .execution_options(include_all_rows=True)).scalar_one()


def _upload(client, rows, name):
    template = client.get("/r/enterprise/template").data
    response = client.post_form("/r/enterprise/import", {"file": (fill(template, rows), name), "mode": "insert"},
                                page_url="/r/enterprise/import", content_type="multipart/form-data")
    assert response.status_code == 302
    return response.headers["Location"]


def test_an_import_runs_on_the_worker_and_its_result_is_kept(worker_app, celery_worker):
    truncate_registers(worker_app)
    client = _admin(worker_app)
    job_url = _upload(client, [enterprise_row(n) for n in range(1, 301)], "三百家企业.xlsx")
    # the upload returns at once: the job is queued for the worker, not run in the request
    first = client.get(job_url + ".json").get_json()
    assert first["status"] in ("queued", "running")
    done = _wait(client, job_url, lambda s: s["status"] in ("done", "failed"))
    assert done["status"] == "done" and done["inserted"] == 300 and done["total"] == 300
    assert _count(worker_app) == 300
    # the user left and comes back: the page still has the result
    page = visible_text(_admin(worker_app).get(job_url).get_data(as_text=True))
    assert "完成：新增 300 条" in page
    assert "#" in visible_text(client.get("/r/enterprise/import").get_data(as_text=True))


def test_a_killed_worker_writes_nothing_and_the_job_says_why(worker_app, celery_worker):
    truncate_registers(worker_app)
    client = _admin(worker_app)
    rows = [enterprise_row(n, region="江苏省/常州市/新北区/春江街道") for n in range(1, 40_001)]
    job_url = _upload(client, rows, "四万家企业.xlsx")
    writing = _wait(client, job_url, lambda s: s["status"] == "failed" or s["stage"] == "written" and s["done"] > 0)
    assert writing["status"] == "running", writing
    celery_worker.kill()
    assert _count(worker_app) == 0  # rows written so far sit in the worker's open transaction, never committed
    time.sleep(worker_app.config["JOB_STALE_SECONDS"] + 1)
    failed = client.get(job_url + ".json").get_json()
    assert failed["status"] == "failed" and "后台处理进程在任务完成前中断" in failed["message"]
    assert _count(worker_app) == 0
    assert "失败" in visible_text(client.get(job_url).get_data(as_text=True))
