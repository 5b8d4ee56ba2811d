"""scripts/serve in production mode: gunicorn, a Celery worker and beat really serve the app, and stop together."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from sqlalchemy.engine import make_url

from tests.conftest import PG_BASE, ROOT
from tests.production.test_settings import PRODUCTION_NAMES


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_serve_starts_web_worker_and_beat(app, tmp_path):
    """On the migrated test database (the `app` fixture): /healthz, /readyz with the real worker, the login page."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_NAMES}
    env.update(APP_CONFIG="production", SECRET_KEY="s" * 48, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL="redis://127.0.0.1:6379/15", CELERY_QUEUE=f"safety-serve-{os.getpid()}", PORT=str(port),
               WEB_CONCURRENCY="1", WORKER_CONCURRENCY="1", LOG_FORMAT="json", UPLOAD_FOLDER=str(tmp_path / "up"),
               BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"))
    assert make_url(PG_BASE).database == make_url(env["DATABASE_URL"]).database
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")  # the three processes share this offset: read it through another handle
    serve = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150
        ready = (0, {}, "")
        while time.monotonic() < deadline and serve.poll() is None:
            try:
                ready = _get(f"{base}/readyz")
            except OSError:
                ready = (0, {}, "")
            if ready[0] == 200:
                break
            time.sleep(1)
        assert ready[0] == 200, f"{ready}\n{log_path.read_text()[-3000:]}"
        assert json.loads(ready[2]) == {"status": "ready",
                                        "checks": {"database": "ok", "redis": "ok", "worker": "ok (1)"}}
        status, headers, body = _get(f"{base}/healthz")
        assert status == 200 and json.loads(body) == {"status": "ok"} and len(headers["X-Request-ID"]) == 32
        status, _, body = _get(f"{base}/login/")
        assert status == 200 and 'name="password"' in body
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(60)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
        log.close()
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    assert "Booting worker" in output                    # gunicorn
    assert "celery@" in output and "ready." in output   # the Celery worker
    assert "beat: Starting" in output                    # Celery beat
    # gunicorn's access lines end with the id the app sent back
    assert "GET /healthz HTTP/1.1\" 200" in output and "request_id=" in output
