"""Load benchmark: 50 signed-in users (locust) on the 1,000,000-row enterprise register, served by the production
server (scripts/serve: gunicorn with deploy/gunicorn.conf.py) on this machine.

    .venv/bin/pip install -r requirements-bench.txt     # locust, once
    .venv/bin/python bench/load.py [--duration 120] [--warmup 20] [--users 50] [--web-concurrency N] [--wait 1,3]

1. bench/list.py's database ``safety_bench`` (BENCH_DATABASE_URL overrides): created, migrated and filled with
   1,000,000 enterprises if it is not already (a few minutes the first time), its ``bench_admin`` (Admin, whole
   country) and ``bench_county`` (a regulator of the busiest county) accounts.
2. ``scripts/serve`` with SERVE=web (APP_CONFIG=production, a random SECRET_KEY, REDIS_URL on 127.0.0.1 Redis db 12,
   WEB_CONCURRENCY default 2 × cores + 1, a free port) and one Celery worker (SERVE=worker, on a queue of its own),
   each in a process group of its own; waits until /readyz says ready (database, Redis, the worker).
3. locust, headless, in a subprocess: --users users, half of them (--weights) the administrator and half the
   county regulator, each signing in itself, spawned --spawn-rate a second; once all have signed in, --warmup
   seconds, then --duration measured seconds, then the end. Each user loops over the list's first page, a random
   page, a quick search for a name fragment of the data, a random row's show page and a save (edit form, then POST
   with a changed telephone → 302), with --wait seconds of think time between the steps (bench/locustfile.py).
4. From every request's record (the sign-ins and the warm-up excluded): requests/s, p50/p95/max in ms per kind and
   overall; the failures of the whole run (warm-up and sign-ins included); the server's settings; the load average
   before and after; the CPU time each side used. VERDICT: PASS when no request failed; p95 against the list's
   100 ms is informational (the issue names no p95 target).

Every process it starts is stopped (its whole process group) at the end, on a failure or on Ctrl-C.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from html import unescape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

listbench = importlib.import_module("list")  # bench/list.py: database, enterprises, accounts, data facts

import requests  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
TARGET_P95_MS = listbench.TARGET_P95_MS  # the list's target: informational here
# what the production server must not inherit from this shell (the names scripts/serve reads for production)
PRODUCTION_NAMES = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
                    "RATELIMIT_STORAGE_URI", "LOG_FORMAT", "FILE_STORE", "S3_BUCKET", "APP_CONFIG", "SERVE",
                    "WEB_CONCURRENCY", "WEB_THREADS", "PORT", "BIND", "UPLOAD_FOLDER", "CELERY_QUEUE")
KINDS = ["list: first page", "list: random page", "search", "show", "save: edit form", "save: POST"]
LOGIN_KINDS = ["login: form", "login: POST"]
SIGN_IN_TIMEOUT = 300  # seconds for every user to have signed in (50 password checks queue on a busy machine)
SAMPLE_IDS = 5000  # rows each account picks its show and edit pages from
DEEPEST_PAGE = 5000  # the random page is 2 … this (list.py's deep page), or the account's last page if fewer
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------- the data each account works on


def account_rows(url: str, county: str) -> dict[str, list[int]]:
    """A random sample of the ids each account may see: any row for the administrator, the county's for the
    county regulator (its row scope is the county's townships)."""
    conn = listbench.raw_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT setseed(0.2024)")
            cur.execute(f"SELECT id FROM {listbench.TABLE} TABLESAMPLE BERNOULLI (1) REPEATABLE (2024) "
                        f"ORDER BY random() LIMIT %s", (SAMPLE_IDS,))
            admin = [row[0] for row in cur.fetchall()]
            cur.execute(f"SELECT id FROM {listbench.TABLE} WHERE region LIKE %s ORDER BY random() LIMIT %s",
                        (county + "%", SAMPLE_IDS))
            county_ids = [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
    return {"admin": admin, "county": county_ids}


def search_words(url: str) -> list[str]:
    """The brands of the generated names that the data holds (each in about 1 name in 48, like list.py's 鑫盛)."""
    from app.demo.scale import BRANDS

    conn = listbench.raw_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT name FROM {listbench.TABLE} TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT 2000")
            names = [row[0] for row in cur.fetchall()]
    finally:
        conn.close()
    return [brand for brand in BRANDS if any(brand in name for name in names)]


# ---------------------------------------------------------------- processes


class Processes:
    """The processes this run started, each the leader of its own process group; ``stop`` ends every group."""

    def __init__(self) -> None:
        self.items: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        with log.open("wb") as out:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        self.items.append((name, process, log))
        return process

    def check_alive(self) -> None:
        for name, process, log in self.items:
            if process.poll() is not None and name != "locust":
                raise SystemExit(f"{name} exited with {process.returncode}:\n{tail(log)}")

    def stop(self) -> None:
        """SIGTERM to every group (gunicorn and Celery shut down gracefully), SIGKILL to what is left after 40 s."""
        for _name, process, _log in reversed(self.items):
            signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 40
        for _name, process, _log in reversed(self.items):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            signal_group(process, signal.SIGKILL)  # the leader may be gone while its children are not
            if process.poll() is None:
                process.wait(10)


def signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


def server_env(database_url: str, port: int, args: argparse.Namespace, uploads: Path, queue: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_NAMES}
    env.update(APP_CONFIG="production", SECRET_KEY=secrets.token_urlsafe(48),
               DATABASE_URL=database_url.replace("postgresql://", "postgresql+psycopg2://", 1),
               REDIS_URL=REDIS_URL, CELERY_QUEUE=queue, PORT=str(port), WEB_CONCURRENCY=str(args.web_concurrency),
               WORKER_CONCURRENCY="1", WORKER_NAME=f"{queue}@%h", UPLOAD_FOLDER=str(uploads),
               LOG_LEVEL=args.log_level, PYTHON=str(Path(sys.executable)))
    if args.threads:
        env["WEB_THREADS"] = str(args.threads)
    return env


def gunicorn_settings(env: dict[str, str]) -> dict[str, Any]:
    """deploy/gunicorn.conf.py's values as the server sees them (it reads the environment when loaded)."""
    saved = {k: os.environ.get(k) for k in ("WEB_CONCURRENCY", "WEB_THREADS")}
    try:
        for key in saved:
            if key in env:
                os.environ[key] = env[key]
            else:
                os.environ.pop(key, None)
        conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return {k: conf[k] for k in ("workers", "worker_class", "threads", "timeout", "max_requests")}


def wait_ready(base: str, processes: Processes, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            response = requests.get(f"{base}/readyz", timeout=5)
            last = response.json()
            if response.status_code == 200:
                return last
        except (OSError, ValueError) as error:
            last = error
        time.sleep(1)
    raise SystemExit(f"{base} not ready in {timeout:.0f} s: {last}\n"
                     + "\n".join(f"--- {name}\n{tail(log)}" for name, _p, log in processes.items))


def group_cpu_seconds(process: subprocess.Popen) -> float:
    """user + sys CPU seconds of a process and its children, living and reaped (psutil, which locust brings)."""
    import psutil

    try:
        root = psutil.Process(process.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                times = p.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


def preflight(base: str, accounts: dict[str, dict[str, Any]]) -> None:
    """Each account signs in and opens one of its rows, so a wrong set-up stops here, not after minutes of load."""
    for label, account in accounts.items():
        http = requests.Session()
        cookies: dict[str, str] = {}

        def call(method: str, url: str, **kwargs: Any) -> requests.Response:
            response = http.request(method, f"{base}{url}", cookies=cookies, allow_redirects=False, timeout=60,
                                    **kwargs)
            cookies.update({c.name: c.value for c in response.cookies})
            return response

        found = CSRF.search(call("GET", "/login/").text)
        if not found:
            raise SystemExit("preflight: no csrf_token on /login/")
        signed = call("POST", "/login/", data={"csrf_token": unescape(found.group(1) or found.group(2)),
                                               "username": account["username"], "password": account["password"]})
        if signed.status_code != 302 or "/login" in signed.headers.get("Location", ""):
            raise SystemExit(f"preflight: {account['username']} could not sign in (HTTP {signed.status_code})")
        row = account["ids"][0]
        for url in (f"/r/enterprise/show/{row}", f"/r/enterprise/edit/{row}"):
            response = call("GET", url)
            if response.status_code != 200:
                raise SystemExit(f"preflight: {label} {account['username']} GET {url}: HTTP {response.status_code}")


# ---------------------------------------------------------------- figures


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (as bench/list.py)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def report(data: dict[str, Any]) -> dict[str, Any]:
    times, records = data["times"], data["records"]
    start, stop = times["measure"], times["stop"]
    window = max(stop - start, 1e-9)
    measured: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, int] = defaultdict(int)
    warmup_failures: dict[str, int] = defaultdict(int)
    everything: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for kind, started, ms, ok, error in records:
        everything[kind].append(ms)
        if not ok:
            errors[f"{kind}: {error}"] += 1
        if start <= started <= stop:
            measured[kind].append(ms)
            if not ok:
                failures[kind] += 1
        elif not ok:
            warmup_failures[kind] += 1

    print()
    print(f"=== measured: {window:.0f} s (requests started in that window); before it, {times['signed_in'] - times['start']:.0f} s"
          f" until every user had signed in and {start - times['signed_in']:.0f} s of warm-up ===")
    print(f"{'kind':<20} {'requests':>8} {'req/s':>7} {'fail':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    every: list[float] = []
    rows = [k for k in KINDS if k in measured] + sorted(k for k in measured if k not in KINDS + LOGIN_KINDS)
    for kind in rows:
        values = measured[kind]
        every += values
        print(f"{kind:<20} {len(values):8d} {len(values) / window:7.2f} {failures[kind]:5d} {pct(values, 50):8.1f} "
              f"{pct(values, 95):8.1f} {max(values):8.1f}")
    overall = {"requests": len(every), "rps": len(every) / window, "p50": pct(every, 50) if every else 0.0,
               "p95": pct(every, 95) if every else 0.0, "max": max(every) if every else 0.0}
    print(f"{'overall':<20} {overall['requests']:8d} {overall['rps']:7.2f} {sum(failures.values()):5d} "
          f"{overall['p50']:8.1f} {overall['p95']:8.1f} {overall['max']:8.1f}")
    signins = everything.get("login: POST", [])
    if signins:
        print(f"sign-ins (during the warm-up, not in the figures above): {len(signins)}, "
              f"p50 {pct(signins, 50):.0f} ms, max {max(signins):.0f} ms")
    total_requests = sum(len(v) for v in everything.values())
    total_errors = sum(errors.values())
    print(f"errors over the whole run (warm-up and sign-ins included): {total_errors} of {total_requests} requests"
          + (f" ({sum(warmup_failures.values())} outside the measured window)" if warmup_failures else ""))
    for message, count in sorted(errors.items(), key=lambda item: -item[1])[:15]:
        print(f"  {count:6d}  {message}")
    missing = [k for k in KINDS if k not in measured]
    return {"overall": overall, "errors": total_errors, "total": total_requests, "missing": missing,
            "worst": max(((pct(measured[k], 95), k) for k in measured), default=(0.0, "-"))}


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=120, help="measured seconds after the warm-up (120)")
    parser.add_argument("--warmup", type=float, default=20,
                        help="seconds left out once every user has signed in (the workers' first pages) (20)")
    parser.add_argument("--users", type=int, default=50, help="simulated users (50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second (10)")
    parser.add_argument("--weights", default="1:1", help="administrator : county regulator users (1:1)")
    parser.add_argument("--wait", default="1,3", help="think time between steps, MIN,MAX seconds (1,3); 0: none")
    parser.add_argument("--web-concurrency", type=int, default=(os.cpu_count() or 1) * 2 + 1,
                        help="gunicorn workers (WEB_CONCURRENCY; default 2 × cores + 1)")
    parser.add_argument("--threads", type=int, help="threads per gunicorn worker (WEB_THREADS; default the conf's)")
    parser.add_argument("--port", type=int, help="the server's port (default a free one)")
    parser.add_argument("--log-level", default="WARNING", help="the server's LOG_LEVEL (WARNING)")
    parser.add_argument("--no-migrate", action="store_true",
                        help="skip bench/list.py's migration check (minutes on a busy machine) when a previous run "
                             "already migrated the database with the same metadata")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out",
                        help="where locust's CSV files and the servers' logs go (bench/out, ignored by git)")
    args = parser.parse_args()
    admin_weight, _, county_weight = args.weights.partition(":")
    wait = [float(x) for x in args.wait.split(",")] if args.wait not in ("0", "") else [0.0, 0.0]
    if len(wait) == 1:
        wait = [wait[0], wait[0]]
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or shutil.which("locust")
    if locust is None:
        raise SystemExit("locust is not installed: .venv/bin/pip install -r requirements-bench.txt")

    # the data: bench/list.py's database, rows and accounts
    url = listbench.DATABASE_URL
    listbench.ensure_database(url)
    import logging
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    flask_app = listbench.make_app(url)
    if not args.no_migrate:
        listbench.migrate(flask_app)
    listbench.load_enterprises(url, listbench.ROWS, False)
    listbench.ensure_admin(flask_app)
    facts = listbench.data_facts(url)
    county_user, _, county_password = listbench.ensure_county_regulator(flask_app, facts).partition(":")
    with flask_app.app_context():  # its password too is reset on every run, as the administrator's
        sm = flask_app.appbuilder.sm
        sm.reset_password(sm.find_user(username=county_user).id, county_password)
    ids = account_rows(url, facts["county"])
    words = search_words(url)
    print(listbench.machine_facts(url))
    print(f"data: {facts['rows']:,} enterprises; administrator {listbench.ADMIN_USER} (whole country), "
          f"county regulator {county_user} ({facts['county_name']} {facts['county']}, {facts['county_rows']:,} rows); "
          f"{len(words)} search words ({', '.join(words[:6])} …)")

    run = Path(tempfile.mkdtemp(prefix="safety-load-"))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    accounts = {
        "admin": {"username": listbench.ADMIN_USER, "password": listbench.ADMIN_PASSWORD, "ids": ids["admin"],
                  "max_page": min(DEEPEST_PAGE, facts["rows"] // 20), "weight": int(admin_weight or 1)},
        "county": {"username": county_user, "password": county_password, "ids": ids["county"],
                   "max_page": min(DEEPEST_PAGE, facts["county_rows"] // 20), "weight": int(county_weight or 1)},
    }
    plan = {"accounts": accounts, "words": words, "wait": wait, "records": str(run / "records.json"),
            "users": args.users, "warmup": args.warmup, "duration": args.duration, "sign_in_timeout": SIGN_IN_TIMEOUT}
    (run / "plan.json").write_text(json.dumps(plan, ensure_ascii=False))
    classes = [name for name, weight in (("AdminUser", accounts["admin"]["weight"]),
                                         ("CountyUser", accounts["county"]["weight"])) if weight > 0]
    if not classes:
        raise SystemExit("--weights: at least one of the two must be above 0")

    processes = Processes()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in previous:
        signal.signal(sig, interrupted)
    try:
        port = args.port or free_port()
        base = f"http://127.0.0.1:{port}"
        queue = f"safety-load-{os.getpid()}"
        env = server_env(url, port, args, run / "uploads", queue)
        settings = gunicorn_settings(env)
        web_log, worker_log = args.out / f"load-{stamp}-web.log", args.out / f"load-{stamp}-worker.log"
        web = processes.start("web", [str(ROOT / "scripts" / "serve")], {**env, "SERVE": "web"}, web_log)
        worker = processes.start("worker", [str(ROOT / "scripts" / "serve")], {**env, "SERVE": "worker"}, worker_log)
        started = time.monotonic()
        ready = wait_ready(base, processes)
        print(f"server: {base} ready in {time.monotonic() - started:.0f} s ({ready['checks']}); gunicorn "
              f"{settings['workers']} workers × {settings['threads']} threads ({settings['worker_class']}, timeout "
              f"{settings['timeout']} s, max_requests {settings['max_requests']}); one Celery worker (queue {queue}); "
              f"APP_CONFIG=production, REDIS_URL {REDIS_URL}")
        preflight(base, {k: v for k, v in accounts.items() if v["weight"] > 0})

        # the locustfile ends the run itself (--duration after every sign-in and --warmup); -t is a safety limit
        limit = int(SIGN_IN_TIMEOUT + args.warmup + args.duration + 60)
        csv = args.out / f"load-{stamp}"
        argv = [locust, "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "-u", str(args.users),
                "-r", str(args.spawn_rate), "-t", f"{limit}s", "--host", base, "--csv", str(csv),
                "--stop-timeout", "30", "--only-summary", "--loglevel", "WARNING", *classes]
        mix = " : ".join(f"{name} {weight}" for name, weight in (("administrator", accounts["admin"]["weight"]),
                                                                 ("county", accounts["county"]["weight"])))
        print(f"locust: {args.users} users ({mix}), {args.spawn_rate:g}/s; once all have signed in, {args.warmup:g} s "
              f"warm-up + {args.duration:g} s measured; think time {wait[0]:g}–{wait[1]:g} s; locust's CSV: {csv}_*.csv")
        load_before = loadavg()
        cpu_before = {"web": group_cpu_seconds(web), "worker": group_cpu_seconds(worker)}
        locust_log = args.out / f"load-{stamp}-locust.log"
        runner = processes.start("locust", argv, {**os.environ, "BENCH_LOAD_PLAN": str(run / "plan.json")},
                                 locust_log)
        cpu_locust = 0.0
        began = time.monotonic()
        deadline = began + limit + 60
        while runner.poll() is None:
            processes.check_alive()
            cpu_locust = max(cpu_locust, group_cpu_seconds(runner))
            if time.monotonic() > deadline:
                raise SystemExit(f"locust still running {limit + 60} s after it started:\n{tail(locust_log)}")
            time.sleep(1)
        load_after = loadavg()
        cpu_after = {"web": group_cpu_seconds(web), "worker": group_cpu_seconds(worker)}
        records = run / "records.json"
        if not records.exists():
            raise SystemExit(f"locust exited with {runner.returncode} and recorded nothing:\n{tail(locust_log)}")
        elapsed = time.monotonic() - began
        data = json.loads(records.read_text())
        if "measure" not in data["times"]:
            raise SystemExit(f"locust ended (exit {runner.returncode}) before the measured window:\n{tail(locust_log)}")
        figures = report(data)
        web_cpu = cpu_after["web"] - cpu_before["web"]
        print(f"CPU seconds during the run: web {web_cpu:.0f} ({web_cpu / max(figures['total'], 1) * 1000:.0f} ms "
              f"a request), worker {cpu_after['worker'] - cpu_before['worker']:.0f}, locust ≥{cpu_locust:.0f}, "
              f"on {os.cpu_count()} cores over the {elapsed:.0f} s of the run")
        print(f"load average (1, 5, 15 min): before {load_before}; after {load_after} "
              "(the machine may be shared: compare runs made on the same machine)")
        overall, worst = figures["overall"], figures["worst"]
        p95_note = (f"p95 {overall['p95']:.0f} ms overall, worst kind "
                    f"{worst[1]} {worst[0]:.0f} ms ({'within' if worst[0] < TARGET_P95_MS else 'over'} the list's "
                    f"{TARGET_P95_MS:.0f} ms, informational)")
        print()
        if figures["errors"] or figures["missing"] or not overall["requests"]:
            why = [f"{figures['errors']} of {figures['total']} requests failed"] if figures["errors"] else []
            why += [f"no {', '.join(figures['missing'])} request measured"] if figures["missing"] else []
            print(f"VERDICT: FAIL - {'; '.join(why)} (target: 0 errors); {args.users} users, "
                  f"{overall['rps']:.1f} req/s; {p95_note}")
        else:
            print(f"VERDICT: PASS - 0 errors in {figures['total']:,} requests (target: 0 errors); {args.users} users, "
                  f"{overall['rps']:.1f} req/s; {p95_note}")
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the server and locust", file=sys.stderr)
        return 130
    finally:
        processes.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(run, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
