"""Stage 2 of docs/deploy.md on one machine: two web processes (gunicorn) and two Celery workers, started with
scripts/serve as production does, on one database and one Redis, each with a folder of its own (as on four
machines) and the files shared through an S3-compatible store (FILE_STORE=s3, s3rver). A user signs in on one web
process and goes on on the other (signed-cookie sessions, no stickiness); an import uploaded through each web
process is done by a worker and followed and listed through the other web process; the error workbook a worker
wrote for a refused file downloads through either; /readyz of either sees both workers and the store."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from html import unescape
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from tests.conftest import ADMIN_PASSWORD, ROOT
from tests.excel.workbook import enterprise_row, fill
from tests.helpers import CSRF, visible_text
from tests.production.test_s3_store import KEYS, S3Server
from tests.production.test_serve import _free_port
from tests.production.test_settings import PRODUCTION_NAMES


class Browser:
    """A requests session that keeps the cookies itself: production marks them Secure, which http.cookiejar would
    not send back over plain HTTP to 127.0.0.1 (behind nginx the site is HTTPS)."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}

    def _keep(self, response: requests.Response) -> requests.Response:
        for history in [*response.history, response]:
            self.cookies.update({c.name: c.value for c in history.cookies})
        return response

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self._keep(self.http.get(url, cookies=self.cookies, timeout=60, **kwargs))

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._keep(self.http.post(url, cookies=self.cookies, timeout=120, allow_redirects=False, **kwargs))

    def csrf(self, url: str) -> str:
        found = CSRF.search(self.get(url).text)
        assert found, f"no CSRF token on {url}"
        return unescape(found.group(1) or found.group(2))


def _start(env: dict[str, str], role: str, log: Path, **more: str) -> subprocess.Popen:
    return subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env={**env, "SERVE": role, **more},
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def _ready(base: str, logs: list[Path], timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            response = requests.get(f"{base}/readyz", timeout=5)
            last = response.json()
            if response.status_code == 200 and last["checks"].get("worker") == "ok (2)":
                return last
        except (OSError, ValueError, KeyError) as error:
            last = error
        time.sleep(1)
    raise AssertionError(f"{base} not ready with two workers: {last}\n" +
                         "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in logs))


def _import(browser: Browser, base: str, rows: list[list[Any]], name: str) -> str:
    template = browser.get(f"{base}/r/enterprise/template")
    assert template.status_code == 200
    token = browser.csrf(f"{base}/r/enterprise/import")
    response = browser.post(f"{base}/r/enterprise/import", data={"csrf_token": token, "mode": "insert"},
                            files={"file": (name, fill(template.content, rows).getvalue())})
    assert response.status_code == 302, response.text[-2000:]
    return re.sub(r"^https?://[^/]+", "", response.headers["Location"])


def _wait_done(browser: Browser, base: str, job: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = browser.get(f"{base}{job}.json").json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {job} not finished in {timeout} s: {status}")


def _count(flask_app: Any) -> int:
    svc = flask_app.extensions["safety"]
    with flask_app.app_context():
        return svc.session.execute(select(func.count()).select_from(svc.models["enterprise"])
                                   .execution_options(include_all_rows=True)).scalar_one()


def test_two_web_processes_and_two_workers_share_one_database_redis_and_object_store(db_app, tmp_path):
    s3 = S3Server(tmp_path)
    redis_url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_NAMES}
    env.update(APP_CONFIG="production", SECRET_KEY="t" * 48, DATABASE_URL=db_app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=redis_url, CELERY_QUEUE=f"safety-2x2-{os.getpid()}", WEB_CONCURRENCY="1",
               WORKER_CONCURRENCY="1", LOG_LEVEL="INFO", FILE_STORE="s3", S3_BUCKET="safety-files",
               S3_ENDPOINT_URL=s3.endpoint, **KEYS)
    ports = [_free_port(), _free_port()]
    names = ("web1", "web2", "worker1", "worker2")
    logs = [tmp_path / f"{name}.log" for name in names]
    folders = {name: str(tmp_path / name / "uploads") for name in names}  # nothing shared on disk
    processes = [_start(env, "web", logs[0], PORT=str(ports[0]), UPLOAD_FOLDER=folders["web1"]),
                 _start(env, "web", logs[1], PORT=str(ports[1]), UPLOAD_FOLDER=folders["web2"]),
                 _start(env, "worker", logs[2], WORKER_NAME="worker1@%h", UPLOAD_FOLDER=folders["worker1"]),
                 _start(env, "worker", logs[3], WORKER_NAME="worker2@%h", UPLOAD_FOLDER=folders["worker2"])]
    one, two = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        for base in (one, two):
            assert _ready(base, logs)["checks"] == {"database": "ok", "redis": "ok", "worker": "ok (2)",
                                                    "files": "ok"}

        # signed in on one web process, the session holds on the other
        browser = Browser()
        token = browser.csrf(f"{one}/login/")
        signed_in = browser.post(f"{one}/login/", data={"csrf_token": token, "username": "admin",
                                                        "password": ADMIN_PASSWORD})
        assert signed_in.status_code == 302 and "/login" not in signed_in.headers["Location"], signed_in.text[-1500:]
        assert "login" not in browser.get(f"{two}/r/enterprise/list/").url

        # an import uploaded through each web process, followed through the other
        first = _import(browser, one, [enterprise_row(n) for n in range(1, 151)], "第一批.xlsx")
        second = _import(browser, two, [enterprise_row(n) for n in range(151, 301)], "第二批.xlsx")
        done = [_wait_done(browser, two, first), _wait_done(browser, one, second)]
        assert [(d["status"], d["inserted"]) for d in done] == [("done", 150), ("done", 150)], done
        assert _count(db_app) == 300

        # the list through either web process shows every row of both imports
        for base in (one, two):
            page = visible_text(browser.get(f"{base}/r/enterprise/list/").text)
            assert "共 300 条" in page, page[-1500:]
            found = visible_text(browser.get(f"{base}/r/enterprise/list/", params={"q": "常州测试化工250有限公司"}).text)
            assert "常州测试化工250有限公司" in found
        # a file with a wrong row, through web 1: nothing written, the error workbook a worker wrote on its own
        # disk downloads through web 2
        bad = _import(browser, one, [enterprise_row(301), enterprise_row(302, region="火星")], "有错.xlsx")
        refused = _wait_done(browser, two, bad)
        assert refused["status"] == "done" and refused["problems"] >= 1 and refused["output"], refused
        assert _count(db_app) == 300
        workbook = browser.get(f"{two}{bad}/file")
        assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
        import openpyxl
        from io import BytesIO
        marked = openpyxl.load_workbook(BytesIO(workbook.content))
        assert "火星" in [c.value for row in marked.worksheets[1].iter_rows() for c in row]

        # the workers did the imports (each names the task it finished); the uploads passed through the store
        worker_logs = logs[2].read_text(errors="replace") + logs[3].read_text(errors="replace")
        assert worker_logs.count("succeeded in") >= 3, worker_logs[-3000:]
        assert not list(Path(folders["web1"]).parent.glob("jobs/errors/*"))  # web 1 never had the workbook …
        assert list(Path(folders["web2"]).parent.glob("jobs/errors/*"))      # … web 2 fetched it from the store
        workers = [Path(folders[name]).parent for name in ("worker1", "worker2")]
        written = [(w.name, p.suffix) for w in workers for p in w.glob("jobs/errors/*")]
        # by one worker: the workbook and its messages in every language (the page relabels it from them)
        assert sorted(suffix for _worker, suffix in written) == [".json", ".xlsx"] and len(set(written)) == 2
        assert len({worker for worker, _suffix in written}) == 1, written
    finally:
        s3.stop()
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
