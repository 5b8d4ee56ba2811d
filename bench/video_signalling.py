"""Benchmark: the cloud verification's signalling (plugins/video_check) served as in production — gunicorn with
deploy/gunicorn.conf.py (gthread workers), rooms shared between the workers through Redis.

    .venv/bin/python bench/video_signalling.py [--runs 10] [--rooms 10,25,50,100,150] [--workers 2]

Needs PostgreSQL and Redis (as the tests) and Debian's chromium. It makes its own database (safety_video_bench),
one enterprise, its county regulator and as many licence applications in 核查 as the largest room count, each
with a started verification and a signed 承诺书.

1. "start call → connected": two headless Chromium pages (fake camera and microphone, loopback ICE, no ICE server)
   of the regulator and the enterprise of one application; the time from the regulator's click on 发起视频 (the
   enterprise clicks at the same moment) until both pages show `connected`. Median, min and max of --runs calls,
   each on freshly loaded pages.
2. "rooms": for each count N, N rooms of two WebSocket clients each (the parties' own signed-in sessions); each
   regulator client sends 20 probe messages 100 ms apart, timed until the enterprise client of the same room
   receives them through the server (both clients live in this process: one clock). Prints the median and p95
   latency; the verdict is the largest N whose p95 stays under 100 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = "safety_video_bench"
PG = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_test")
REDIS = os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/7")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(rooms: int, uploads: Path) -> dict:
    """The database, the accounts and ``rooms`` applications with a started, signed verification."""
    import io

    from sqlalchemy.engine import make_url

    from app.security.actor import acting_as, actor_from_id
    from app.workflow.engine import Upload
    from tests.conftest import make_app
    from tests.plugins.video_check.conftest import build_world, png
    from tests.security.factory import make_row

    os.environ["TEST_DATABASE_URL"] = str(make_url(PG).set(database=DB).render_as_string(hide_password=False))
    app = make_app(DB, uploads)
    with app.app_context():
        world = build_world(app)
        model = app.extensions["safety"].models["licence_application"]
        enterprise = app.extensions["safety"].session.get(model, world.application).enterprise
        ids = [world.application] + [make_row(world.svc, "licence_application", {
            "enterprise": enterprise, "applicant_name": f"危险化学品经营许可证（{i}）", "licence_type": "hazchem_business",
            "business_mode": ["other"], "verification_mode": "cloud"}, state="verifying").id for i in range(1, rooms)]
        regulator, company = actor_from_id(world.regulator), actor_from_id(world.enterprise_user)
        for application in ids:
            with acting_as(regulator):
                world.checks.propose(application, regulator, datetime.now() + timedelta(hours=1))
            with acting_as(company):
                world.checks.confirm(application, company)
            with acting_as(regulator):
                world.checks.start(application, regulator)
            with acting_as(company):
                world.checks.sign(application, company, Upload("s.png", io.BytesIO(png())),
                                  Upload("p.png", io.BytesIO(png())))
    return {"applications": ids, "logins": world.logins, "url": os.environ["TEST_DATABASE_URL"]}


def serve(port: int, workers: int, threads: int, database_url: str, uploads: Path) -> subprocess.Popen:
    env = {**os.environ, "APP_CONFIG": "test", "TEST_DATABASE_URL": database_url, "BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": str(workers), "WEB_THREADS": str(threads), "UPLOAD_FOLDER": str(uploads),
           "VIDEO_SIGNAL_REDIS_URL": REDIS, "RATELIMIT_STORAGE_URI": REDIS, "LOG_LEVEL": "warning"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--access-logfile",
                               "/dev/null", "run:app"], cwd=ROOT, env=env, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(3)  # every worker up
                return server
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not start")


def session_cookie(base: str, username: str) -> str:
    import re

    import requests
    from tests.security.factory import PASSWORD
    http = requests.Session()
    page = http.get(base + "/login/").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    http.post(base + "/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert "session" in http.cookies, "login failed"
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def time_calls(base: str, application: int, logins: dict, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright
    from tests.security.factory import PASSWORD
    timings = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--allow-loopback-in-peer-connection"])
        pages = []
        for who in ("regulator", "enterprise"):
            page = browser.new_context().new_page()
            page.goto(base + "/login/")
            page.fill("#username", logins[who])
            page.fill("#password", PASSWORD)
            page.click("[type=submit]")
            page.wait_for_url(base + "/")
            pages.append(page)
        for _ in range(runs):
            for page in pages:
                page.goto(f"{base}/video_check/{application}")
            started = time.perf_counter()
            for page in pages:
                page.click("#call-start")
            for page in pages:
                page.wait_for_selector("#call-state[data-state=connected]", timeout=30_000)
            timings.append(time.perf_counter() - started)
            for page in pages:
                page.click("#call-hangup")
        browser.close()
    return timings


def time_rooms(base: str, applications: list[int], cookies: dict, probes: int = 20) -> list[float]:
    """Latencies (s) of probe messages through ``len(applications)`` rooms at once."""
    from simple_websocket import Client
    ws_base = base.replace("http://", "ws://")
    pairs = []
    for application in applications:
        url = f"{ws_base}/video_check/{application}/signal"
        sender = Client.connect(url, headers={"Cookie": cookies["regulator"]})
        receiver = Client.connect(url, headers={"Cookie": cookies["enterprise"]})
        for client in (sender, receiver):
            first = json.loads(client.receive(timeout=10))
            assert first["type"] == "joined", first
        pairs.append((sender, receiver))
    time.sleep(1)  # every room's second party announced
    latencies: list[float] = []
    lock = threading.Lock()

    def room(sender, receiver) -> None:
        got = []
        for _ in range(probes):
            sender.send(json.dumps({"type": "probe", "t": time.perf_counter()}))
            while True:
                message = json.loads(receiver.receive(timeout=10))
                if message["type"] == "probe":
                    got.append(time.perf_counter() - message["t"])
                    break
            time.sleep(0.1)
        with lock:
            latencies.extend(got)

    threads = [threading.Thread(target=room, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for sender, receiver in pairs:
        sender.close()
        receiver.close()
    return latencies


def main() -> None:
    import tempfile
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rooms", default="10,25,50,100,150")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-calls", action="store_true", help="only the rooms")
    args = parser.parse_args()
    counts = [int(n) for n in args.rooms.split(",")]
    uploads = Path(tempfile.mkdtemp(prefix="video-bench-"))
    world = prepare(max(counts), uploads)
    port = free_port()
    # two threads per room (one per party's socket) plus room for ordinary requests
    server = serve(port, args.workers, max(counts) + 20, world["url"], uploads)
    base = f"http://127.0.0.1:{port}"
    try:
        calls = [0.0] if args.skip_calls else time_calls(base, world["applications"][0], world["logins"], args.runs)
        print(f"start call → connected ({args.runs} calls, gunicorn gthread × {args.workers} workers): "
              f"median {statistics.median(calls):.2f} s, min {min(calls):.2f} s, max {max(calls):.2f} s")
        cookies = {who: session_cookie(base, world["logins"][who]) for who in ("regulator", "enterprise")}
        held = 0
        for n in counts:
            latencies = sorted(time_rooms(base, world["applications"][:n], cookies))
            p95 = latencies[int(len(latencies) * 0.95) - 1]
            print(f"{n:4d} rooms ({2 * n} sockets): {len(latencies)} messages, median "
                  f"{statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
                  f"max {latencies[-1] * 1000:.1f} ms")
            if p95 < 0.1:
                held = n
            time.sleep(5)  # the server's handlers of the closed sockets end (their relay leaves its wait)
        print(f"VERDICT: {held} concurrent rooms with p95 message latency < 100 ms "
              f"(largest count tried: {max(counts)})")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
