"""The call signalled as in production: gunicorn with deploy/gunicorn.conf.py (gthread workers that hold the
WebSockets), two workers whose rooms meet in Redis. The regulator's and the enterprise's pages reach `connected`
whichever worker each socket lands on, an ICE restart goes through them, and a third account is refused by the
server with close code 4403."""
from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from types import SimpleNamespace

from playwright.sync_api import expect

from app.security.actor import acting_as
from app.workflow.engine import Upload
from tests.conftest import ROOT

from .conftest import World, png
from .test_call import open_page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready_for_a_call(world: World) -> None:
    """Appointment agreed, verification started and the 承诺书 signed (each step's own tests: test_service.py)."""
    with world.app.app_context():
        regulator, company = world.actor(world.regulator), world.actor(world.enterprise_user)
        with acting_as(regulator):
            world.checks.propose(world.application, regulator, datetime.now() + timedelta(hours=1))
        with acting_as(company):
            world.checks.confirm(world.application, company)
        with acting_as(regulator):
            world.checks.start(world.application, regulator)
        with acting_as(company):
            world.checks.sign(world.application, company, Upload("签名.png", io.BytesIO(png(64, 32))),
                              Upload("经办人.png", io.BytesIO(png())))


def test_a_call_through_two_gunicorn_workers_and_a_refusal(web_world: World, call_browser, db_app, tmp_path) -> None:
    world = web_world
    ready_for_a_call(world)
    port = free_port()
    redis = os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    env = {**os.environ, "APP_CONFIG": "test", "TEST_DATABASE_URL": db_app.config["SQLALCHEMY_DATABASE_URI"],
           "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "WEB_THREADS": "8",
           "UPLOAD_FOLDER": str(db_app.config["UPLOAD_FOLDER"]), "VIDEO_SIGNAL_REDIS_URL": redis,
           "RATELIMIT_STORAGE_URI": redis, "LOG_LEVEL": "warning"}
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
                                   "--access-logfile", "/dev/null", "run:app"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    server_at = SimpleNamespace(url=base)  # what test_call's open_page reads of a live server
    pages = []
    try:
        # the master listens before its workers have loaded the app (many seconds on a busy machine), and a
        # worker takes connections only once loaded: wait for an HTTP answer, not an open socket
        deadline, up = time.monotonic() + 180, False
        while time.monotonic() < deadline and server.poll() is None and not up:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    up = response.status == 200
            except OSError:
                time.sleep(0.5)
        assert up, log_path.read_text()[-3000:]
        url = f"{base}/video_check/{world.application}"
        regulator = open_page(call_browser, server_at, world.logins["regulator"])
        company = open_page(call_browser, server_at, world.logins["enterprise"])
        away = open_page(call_browser, server_at, world.logins["away"])
        pages = [regulator, company, away]
        for page in (regulator, company):
            page.goto(url)
        regulator.click("#call-start")
        company.click("#call-start")
        for page in (regulator, company):
            expect(page.locator("#call-state")).to_have_attribute("data-state", "connected", timeout=30_000)
        regulator.wait_for_function("""async () => {
            const pc = window.videoCheck.peer(); if (!pc) return false;
            const stats = await pc.getStats(); let frames = 0;
            stats.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded || 0; });
            return frames > 0; }""", timeout=20_000)
        # an ICE restart (what a failed connection, or one disconnected for 4 s, takes) asked by the enterprise's
        # side: the regulator offers new ICE credentials through the server and the call goes on
        ufrag = "() => (window.videoCheck.peer().localDescription.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1]"
        before = regulator.evaluate(ufrag)
        company.evaluate("() => window.videoCheck.restartIce()")
        regulator.wait_for_function(f"(before) => ({ufrag})() !== before", arg=before, timeout=20_000)
        for page in (regulator, company):
            expect(page.locator("#call-state")).to_have_attribute("data-state", "connected", timeout=30_000)
        refusal = away.evaluate("""(path) => new Promise(resolve => {
            const messages = []; const ws = new WebSocket('ws://' + location.host + path);
            ws.onmessage = e => messages.push(JSON.parse(e.data));
            ws.onclose = e => resolve({code: e.code, messages}); })""", f"/video_check/{world.application}/signal")
        assert refusal == {"code": 4403, "messages": [{"type": "refused", "reason": "not a party"}]}, refusal
        assert away.goto(url).status == 404
        regulator.click("#call-hangup")
    finally:
        for page in pages:
            page.context.close()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
