"""App-factory fixtures on a real PostgreSQL (and Redis where a feature uses it); Playwright on Debian's chromium.

A service that does not answer stops the run with the command that starts it: tests never skip for that.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

# pytest-xdist runs the suite in several processes (./scripts/test: one per core). Each takes its own databases
# (safety_test_gw1, safety_test_gw1_engine, …) and its own Redis database for the broker and the rate-limit counts,
# so no test sees another process's rows, queue or counts. Set before config.py is imported by any fixture.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    _n = int(XDIST_WORKER.removeprefix("gw"))
    _base = make_url(os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_test"))
    os.environ["TEST_DATABASE_URL"] = _base.set(database=f"{_base.database}_{XDIST_WORKER}").render_as_string(
        hide_password=False)
    for _key in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "RATELIMIT_STORAGE_URI"):
        _given = os.environ.get(_key, "redis://127.0.0.1:6379/15")  # TestConfig's default
        _server, _, _db = _given.rpartition("/")
        os.environ[_key] = f"{_server}/{(int(_db or 0) - _n) % 16}"

from tests.helpers import FormClient, login  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_BASE = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_test")
ADMIN_PASSWORD = "Admin-Test-2024"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


# The longest files first (./scripts/test passes --no-loadscope-reorder, so pytest-xdist hands out files in this
# order, one file to one process): started last, the 18-minute crawl alone would make the run's tail. Figures from
# the run's --durations list; the rest keeps the collection order.
SLOW_FIRST = ("tests/test_crawl.py", "tests/api/test_schemathesis.py", "tests/security/test_scope_matrix.py",
              "tests/test_crawl_sqlite.py", "tests/faults/test_outages.py", "tests/production/test_backup.py",
              "tests/registers/test_goods_demo.py", "tests/excel/test_background.py")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(SLOW_FIRST)))


def _service_down(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except OSError:
        return True


_services_answered = False


def require_services() -> None:
    """PostgreSQL and Redis must answer before the first app, database or worker of the run is made: otherwise the run
    stops with the command that starts them (never a skip). Tests that need neither (the descriptors' checks, the
    diagrams, the validators) run without them, so they are checked here, on first use, not at the session's start."""
    global _services_answered
    if _services_answered:
        return
    from config import TestConfig
    database = make_url(PG_BASE)
    redis = make_url(TestConfig.RATELIMIT_STORAGE_URI)
    problems = []
    if _service_down(database.host or "127.0.0.1", database.port or 5432):
        problems.append(f"PostgreSQL does not answer on {database.host}:{database.port or 5432} — start it with "
                        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
                        "(./scripts/test does this for you)")
    if _service_down(redis.host or "127.0.0.1", redis.port or 6379):
        problems.append(f"Redis does not answer on {redis.host}:{redis.port or 6379} — start it with "
                        "`redis-server --daemonize yes --bind 127.0.0.1 --port 6379`")
    if problems:
        pytest.exit("\n".join(problems), returncode=3)
    _services_answered = True


def database_url(name: str) -> str:
    """The URL of database ``name`` on the test server; under pytest-xdist, a name of this process's own."""
    if XDIST_WORKER and not name.endswith(f"_{XDIST_WORKER}") and f"_{XDIST_WORKER}_" not in name:
        name = f"{name}_{XDIST_WORKER}"
    return str(make_url(PG_BASE).set(database=name).render_as_string(hide_password=False))


def recreate_database(url: str) -> None:
    require_services()
    parsed = make_url(url)
    conn = psycopg2.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username or "postgres",
                            password=parsed.password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (parsed.database,))
        cur.execute(f'DROP DATABASE IF EXISTS "{parsed.database}"')
        cur.execute(f'CREATE DATABASE "{parsed.database}"')
    conn.close()


def make_app(db_name: str, tmp: Path, metadata_dirs: list[Path] | None = None, **overrides: Any):  # noqa: D103
    """A migrated app on its own fresh PostgreSQL database, with the admin account."""
    from app import create_app
    from app.setup import migrate_database

    url = database_url(db_name)
    recreate_database(url)
    flask_app = create_app("test", metadata_dirs=metadata_dirs, SQLALCHEMY_DATABASE_URI=url,
                           UPLOAD_FOLDER=tmp / "uploads", **overrides)
    with flask_app.app_context():
        assert migrate_database(echo=lambda *_: None) == 0
        sm = flask_app.appbuilder.sm
        sm.add_user("admin", "Admin", "User", "admin@example.invalid", sm.find_role("Admin"), ADMIN_PASSWORD)
    return flask_app


EAGER = {"task_always_eager": True, "task_eager_propagates": True, "broker_url": "memory://",
         "result_backend": "cache+memory://"}


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory):
    """The product as shipped (metadata/), on database safety_test; background tasks run inline."""
    from config import TestConfig
    return make_app(make_url(PG_BASE).database, tmp_path_factory.mktemp("app"),
                    CELERY={**TestConfig.CELERY, **EAGER})


@pytest.fixture(scope="session")
def engine_app(tmp_path_factory: pytest.TempPathFactory):
    """The engine on a register it was not written for (tests/fixtures/metadata/engine)."""
    return make_app(make_url(PG_BASE).database + "_engine", tmp_path_factory.mktemp("engine"),
                    metadata_dirs=[FIXTURES / "metadata" / "engine"])


def _truncate(session: Any, tables: list[str]) -> None:
    """TRUNCATE, again after a deadlock: the live server of the browser tests may still be answering a request a
    closed page sent (a poll, a map layer) while it reads the same tables."""
    from sqlalchemy.exc import OperationalError
    for attempt in range(5):
        try:
            session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as exc:
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
            session.rollback()
            time.sleep(0.5)


def truncate_registers(flask_app: Any) -> None:
    from app.extensions import db
    with flask_app.app_context():
        # TRUNCATE … CASCADE takes them together: no order needed (two registers may refer to each other)
        tables = [t.name for t in flask_app.extensions["safety"].models.metadata.tables.values()
                  if t.name.startswith("reg_") or t.name in ("sys_audit_log", "sys_login_log", "sys_workflow_history", "sys_job",
                                                                   "sys_message", "sys_list_preference", "sys_warning",
                                                                   "sys_api_token", "sys_document",
                                                                   "sys_document_counter")]
        if tables:
            _truncate(db.session, tables)
        # accounts made by earlier tests (enterprise accounts, demo users) go too; the administrator stays
        db.session.execute(text("DELETE FROM ab_user_role WHERE user_id IN "
                                "(SELECT id FROM ab_user WHERE username <> 'admin')"))
        db.session.execute(text("DELETE FROM ab_user WHERE username <> 'admin'"))
        db.session.commit()


def reset_users(flask_app: Any) -> None:
    """Languages chosen by earlier tests stick to the accounts: forget them."""
    from app.extensions import db
    with flask_app.app_context():
        db.session.execute(text("UPDATE ab_user SET locale = NULL"))
        db.session.commit()


@pytest.fixture
def db_app(app):
    """The shipped app with empty registers."""
    truncate_registers(app)
    reset_users(app)
    app.appbuilder.sm.limiter.reset()  # the public forms' per-address counts (in Redis) of earlier tests
    yield app
    from app.extensions import db
    with app.app_context():
        db.session.remove()


@pytest.fixture
def admin(db_app) -> FormClient:
    client = FormClient(db_app.test_client())
    login(client, "admin", ADMIN_PASSWORD)
    return client


@pytest.fixture
def engine_admin(engine_app) -> FormClient:
    truncate_registers(engine_app)
    client = FormClient(engine_app.test_client())
    login(client, "admin", ADMIN_PASSWORD)
    return client


# ---------------------------------------------------------------- browser

class LiveServer:
    """The app served on a free port in a thread, for the browser."""

    def __init__(self, flask_app: Any):
        import logging
        from werkzeug.serving import make_server
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """One Playwright for the whole run: its sync API refuses a second instance in the same process, so every
    browser a test needs (the plain one below, the video call's with fake media) is launched from this one."""
    from playwright.sync_api import expect, sync_playwright
    expect.set_options(timeout=30_000)  # as the pages' default below (expect's own default is 5 s)
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.exit("Debian's chromium is missing: apt-get install chromium (./scripts/test does this)", returncode=3)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[Any]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--no-first-run", "--disable-sync"])
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser, live_server, tmp_path) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    # generous: the suite runs one process per core, each with its own browser and server, on a shared machine;
    # a wait ends as soon as its condition holds, so a passing test is not slower for it
    page.set_default_timeout(30_000)
    page.base_url = live_server.url  # type: ignore[attr-defined]
    yield page
    context.close()


# ---------------------------------------------------------------- a real Celery worker on Redis

WORKER_DB = make_url(PG_BASE).database + "_worker"
WORKER_QUEUE = f"safety-test-{os.getpid()}"


class Worker:
    """`celery -A app.celery_worker worker` in a subprocess, on its own queue, against the worker database."""

    def __init__(self, uploads: Path, **settings: str):
        """``settings``: more environment for the worker (e.g. TODAY_FILE, the day the warnings' tests set)."""
        import subprocess
        import sys
        require_services()
        self.log = uploads.parent / "worker.log"
        env = dict(os.environ, APP_CONFIG="test", TEST_DATABASE_URL=database_url(WORKER_DB), CELERY_QUEUE=WORKER_QUEUE,
                   UPLOAD_FOLDER=str(uploads))
        env.update(settings)  # a fault test's own database, broker and queue replace the defaults
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.celery_worker", "worker", "--pool=solo", "-Q", env["CELERY_QUEUE"],
             "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the Celery worker exited: {self.log.read_text()[-2000:]}")
            if "ready." in self.log.read_text():
                return
            time.sleep(0.3)
        pytest.fail(f"the Celery worker did not start in {timeout} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        import signal
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except Exception:
                self.process.kill()


@pytest.fixture(scope="session")
def worker_app(tmp_path_factory: pytest.TempPathFactory):
    """The product on database safety_test_worker, sending its background tasks to Redis (not inline)."""
    from config import TestConfig
    tmp = tmp_path_factory.mktemp("worker")
    flask_app = make_app(WORKER_DB, tmp, JOB_STALE_SECONDS=5,
                         CELERY={**TestConfig.CELERY, "task_default_queue": WORKER_QUEUE})
    flask_app.config["WORKER_UPLOADS"] = tmp / "uploads"
    return flask_app


@pytest.fixture
def celery_worker(worker_app) -> Iterator[Worker]:
    worker = Worker(Path(worker_app.config["UPLOAD_FOLDER"]))
    yield worker
    worker.stop()
