"""List-page benchmark: /r/enterprise/list/ over 1,000,000 enterprises on PostgreSQL, through the Flask test client.

    .venv/bin/python bench/list.py [--requests 200] [--warmup 10] [--reload] [--explain-all]

1. Database ``safety_bench`` on 127.0.0.1:5432 (BENCH_DATABASE_URL overrides): created if missing, migrated with
   the shipped metadata (app.setup.migrate_database: schema, dictionaries, roles, permissions).
2. reg_enterprise is filled with 1,000,000 generated enterprises by COPY (skipped when it already holds exactly that
   many rows; --reload forces it): real township codes from sys_dictionary_item over the whole country, leaf
   enterprise types, departments, grades, statuses, dates, Chinese names and addresses, valid USCCs. The table's
   secondary indexes are dropped for the load and rebuilt from their own definitions, then VACUUM ANALYZE.
3. A user with the Admin role logs in (POST /login/ with the page's csrf_token); each URL is requested --warmup
   times, then --requests times; p50/p95/max in ms, against p95 < 100 ms. For a URL over the target, the SQL one
   request issues is captured (before/after_cursor_execute) and EXPLAIN (ANALYZE, BUFFERS) of each statement that
   reads reg_enterprise is printed.

Another user's view (a county-level regulator, once row scope exists) is one more call of ``bench_urls`` with that
user and its own URL list: see ``county_urls`` at the end of the file.
"""
from __future__ import annotations

import argparse
import gc
import io
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_bench")
ROWS = 1_000_000
TARGET_P95_MS = 100.0
ADMIN_USER, ADMIN_PASSWORD = "bench_admin", "Bench-Admin-2024"
TABLE = "reg_enterprise"
SEARCH_WORD = "鑫盛"  # one of BRANDS below: in about 1 name in 48

# ---------------------------------------------------------------- database and app


def server_connection(url: str) -> Any:
    """An autocommit connection to the server's ``postgres`` database (to create or drop ``url``'s database)."""
    parsed = make_url(url)
    conn = psycopg2.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username or "postgres",
                            password=parsed.password, dbname="postgres")
    conn.autocommit = True
    return conn


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    conn = server_connection(url)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{parsed.database}"')
            print(f"created database {parsed.database}")
    conn.close()


def make_app(url: str) -> Any:
    """The app as a production process builds it (create_app_or_exit: start-up's objects frozen out of the garbage
    collector's reach, app/__init__.py), so a full collection does not walk them in the middle of a timed request."""
    from app import create_app_or_exit
    from config import BaseConfig

    uploads = Path(tempfile.gettempdir()) / "safety-bench-uploads"
    # the count deadline of production (the test configuration waits 2 s so that tests never see "counting…")
    return create_app_or_exit("test", SQLALCHEMY_DATABASE_URI=url, UPLOAD_FOLDER=uploads,
                              LIST_COUNT_BUDGET_MS=BaseConfig.LIST_COUNT_BUDGET_MS)


def migrate(flask_app: Any) -> None:
    from app.setup import migrate_database

    started = time.perf_counter()
    with flask_app.app_context():
        lines: list[str] = []
        status = migrate_database(echo=lines.append)
    applied = [line for line in lines if line.startswith(("Applied", "Dictionary", "Refused"))]
    print(f"migrate_database: exit {status} in {time.perf_counter() - started:.1f} s"
          + (f" ({'; '.join(applied)})" if applied else " (nothing to change)"))
    if status != 0:
        raise SystemExit("\n".join(lines))
    # A server process does not migrate (create_app_or_exit freezes what start-up built, then serves): collect
    # what this process's migrate left and set the survivors aside too, or each full collection while the
    # benchmark serves walks them (measured: 55 ms every ~10 list requests, the p95 doubled).
    gc.collect()
    gc.freeze()


def ensure_admin(flask_app: Any, username: str = ADMIN_USER, password: str = ADMIN_PASSWORD) -> None:
    with flask_app.app_context():
        sm = flask_app.appbuilder.sm
        user = sm.find_user(username=username)
        if user is None:
            role = sm.find_role(flask_app.config["AUTH_ROLE_ADMIN"])
            if not sm.add_user(username, "基准", "管理员", f"{username}@example.invalid", role, password):
                raise SystemExit(f"could not create {username}")
            print(f"created user {username} (role Admin)")
        else:
            sm.reset_password(user.id, password)


def raw_connection(url: str) -> Any:
    parsed = make_url(url)
    return psycopg2.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username or "postgres",
                            password=parsed.password, dbname=parsed.database)


# ---------------------------------------------------------------- generated enterprises
# the generator lives with the demo (`flask demo load --scale`), so the benchmarks and the demo share it
from app.demo.scale import COLUMNS, generate_lines, read_reference  # noqa: E402
from app.demo.scale import BUSY_CITIES, BUSY_SHARE  # noqa: E402,F401


def table_rows(conn: Any) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE}")
        return cur.fetchone()[0]


def load_enterprises(url: str, rows: int, reload: bool, seed: int = 2024, chunk: int = 50_000) -> None:
    conn = raw_connection(url)
    try:
        present = table_rows(conn)
        if present == rows and not reload:
            print(f"{TABLE} already holds {present:,} rows: load skipped (--reload forces it)")
            return
        ref = read_reference(conn)
        print(f"loading {rows:,} rows into {TABLE} ({present:,} there now): {len(ref.townships):,} townships "
              f"({len(ref.busy_townships):,} in the {len(BUSY_CITIES)} busy cities, {BUSY_SHARE:.0%} of rows), "
              f"{len(ref.types)} enterprise types")
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '512MB'")
            cur.execute(f"TRUNCATE {TABLE} RESTART IDENTITY CASCADE")
            cur.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
                             JOIN pg_class i ON i.oid = x.indexrelid
                            WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
                              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)""", (TABLE,))
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            generate_s = copy_s = 0.0
            for start in range(0, rows, chunk):
                t = time.perf_counter()
                buf = io.StringIO("".join(generate_lines(ref, start, min(chunk, rows - start), seed)))
                generate_s += time.perf_counter() - t
                t = time.perf_counter()
                cur.copy_expert(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN", buf)
                copy_s += time.perf_counter() - t
                done = start + min(chunk, rows - start)
                if done % 200_000 == 0 or done == rows:
                    print(f"  {done:>9,} rows  generate {generate_s:5.1f} s  COPY {copy_s:5.1f} s", flush=True)
            t = time.perf_counter()
            for name, definition in indexes:
                cur.execute(definition)
            index_s = time.perf_counter() - t
        conn.commit()
        print(f"  {len(indexes)} indexes rebuilt in {index_s:.1f} s")
        conn.autocommit = True
        t = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        elapsed = time.perf_counter() - started
        print(f"  VACUUM ANALYZE {time.perf_counter() - t:.1f} s; loaded in {elapsed:.0f} s "
              f"({rows / elapsed:,.0f} rows/s all in)")
    finally:
        conn.close()


# ---------------------------------------------------------------- facts the URLs are built from


def data_facts(url: str) -> dict[str, Any]:
    conn = raw_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT left(region, 4), count(*) FROM {TABLE} GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
            city, city_rows = cur.fetchone()
            cur.execute(f"SELECT count(*) FROM {TABLE} WHERE left(region, 4) = %s AND grade = 'A'", (city,))
            city_a = cur.fetchone()[0]
            cur.execute(f"SELECT left(region, 2), count(*) FROM {TABLE} GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
            province, province_rows = cur.fetchone()
            cur.execute(f"SELECT count(*) FROM {TABLE} WHERE name LIKE %s", (f"%{SEARCH_WORD}%",))
            word_rows = cur.fetchone()[0]
            # a specific enterprise, as a user types it: city and brand, the first characters of a real name
            cur.execute(f"SELECT name FROM {TABLE} WHERE id = (SELECT min(id) + 123456 FROM {TABLE})")
            specific = cur.fetchone()[0][:4]
            cur.execute(f"SELECT count(*) FROM {TABLE} WHERE name LIKE %s", (f"%{specific}%",))
            specific_rows = cur.fetchone()[0]
            cur.execute(f"""SELECT left(region, 6), count(*) FROM {TABLE} WHERE left(region, 4) = %s
                             GROUP BY 1 ORDER BY 2 DESC LIMIT 1""", (city,))
            county, county_rows = cur.fetchone()
            cur.execute("SELECT code, label_zh FROM sys_dictionary_item WHERE dictionary = 'region' AND code IN %s",
                        ((city, province, county),))
            names = dict(cur.fetchall())
            total = table_rows(conn)
    finally:
        conn.close()
    return {"city": city, "city_name": names.get(city, city), "city_rows": city_rows, "city_a": city_a,
            "province": province, "province_name": names.get(province, province), "province_rows": province_rows,
            "word": SEARCH_WORD, "word_rows": word_rows, "specific": specific, "specific_rows": specific_rows,
            "county": county, "county_name": names.get(county, county), "county_rows": county_rows, "rows": total}


@dataclass
class Target:
    """One URL to time; ``max_requests`` bounds the timed requests of a URL known to take seconds."""

    label: str
    url: str
    max_requests: int | None = None


def admin_urls(facts: dict[str, Any]) -> list[Target]:
    """What an administrator (whole country) is timed on."""
    base = "/r/enterprise/list/"
    return [
        Target("first page", base),
        Target("page 5000", f"{base}?page=5000"),
        Target(f"city {facts['city_name']} + grade A, sort -established_on ({facts['city_a']:,} rows)",
               f"{base}?f.region={facts['city']}&f.grade=A&sort=-established_on"),
        Target(f"province {facts['province_name']} subtree ({facts['province_rows']:,} rows)",
               f"{base}?f.region={facts['province']}"),
        Target(f"quick search q={facts['word']} (~{facts['word_rows']:,} names)", f"{base}?q={quote(facts['word'])}"),
        # beyond the brief's five: the search a user makes for one enterprise (few matches: the worst case)
        Target(f"quick search q={facts['specific']} (one enterprise: {facts['specific_rows']:,} names)",
               f"{base}?q={quote(facts['specific'])}", max_requests=20),
    ]


def county_urls(facts: dict[str, Any]) -> list[Target]:
    """The screens a county-level regulator uses; its row scope (not the URL) limits them to its county.

    Run with ``--county-user USER:PASSWORD`` once such a user exists (its organisation in county
    ``facts['county']``, the busiest county of the busiest city); the admin's figures are printed first.
    """
    base = "/r/enterprise/list/"
    return [
        Target(f"county first page (county {facts['county_name']} {facts['county']}, {facts['county_rows']:,} rows)",
               base),
        Target("county page 50", f"{base}?page=50"),
        Target("county grade A, sort -established_on", f"{base}?f.grade=A&sort=-established_on"),
        Target(f"county quick search q={facts['word']}", f"{base}?q={quote(facts['word'])}"),
        Target(f"county quick search q={facts['specific']}", f"{base}?q={quote(facts['specific'])}", max_requests=20),
    ]


# ---------------------------------------------------------------- timing


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def login(client: Any, username: str, password: str) -> None:
    html = client.get("/login/").get_data(as_text=True)
    match = CSRF.search(html)
    if not match:
        raise SystemExit("no csrf_token on /login/")
    response = client.post("/login/", data={"username": username, "password": password,
                                             "csrf_token": match.group(1) or match.group(2)})
    if response.status_code != 302:
        raise SystemExit(f"login of {username} failed: HTTP {response.status_code}")


class StatementLog:
    """SQL statements (with their parameters and time) issued while ``on`` is set."""

    def __init__(self, engine: Any):
        self.on = False
        self.items: list[tuple[str, Any, float]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        started = conn.info["bench_started"].pop()
        if self.on:
            self.items.append((statement, parameters, (time.perf_counter() - started) * 1000))


@dataclass
class Result:
    label: str
    url: str
    times_ms: list[float]
    statements: list[tuple[str, Any, float]]
    bytes: int
    count_ms: list[float] = field(default_factory=list)  # /count/ fetched after a page that did not wait for it
    deferred: int = 0                                    # timed pages that came without their count

    def pct(self, p: float) -> float:
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]

    @property
    def p95(self) -> float:
        return self.pct(95)


def bench_urls(flask_app: Any, username: str, password: str, targets: list[Target], requests: int,
               warmup: int, log: StatementLog) -> list[Result]:
    """Log ``username`` in and time every URL: warm-up requests, then ``requests`` timed ones, one URL at a time."""
    client = flask_app.test_client()
    login(client, username, password)
    results = []
    for target in targets:
        label, url = target.label, target.url
        count = min(requests, target.max_requests or requests)
        for _ in range(warmup if count == requests else min(warmup, 2)):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
        log.items.clear()
        log.on = True
        response = client.get(url)  # one request with its SQL captured (not among the timed ones)
        log.on = False
        statements = list(log.items)
        size = len(response.get_data())
        times, count_ms, deferred = [], [], 0
        for _ in range(count):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
            found = COUNT_URL.search(response.get_data(as_text=True))
            if found:  # the browser asks for the count next: timed too, as what the user waits for the figure
                deferred += 1
                t = time.perf_counter()
                counted = client.get(found.group(1).replace("&amp;", "&"))
                count_ms.append((time.perf_counter() - t) * 1000)
                if counted.status_code != 200:
                    raise SystemExit(f"{url}: count HTTP {counted.status_code}")
        results.append(Result(label, url, times, statements, size, count_ms, deferred))
    return results


#: a list page that came without its count names where the browser fetches it
COUNT_URL = re.compile(r'id="list-total"[^>]*data-count-url="([^"]+)"')


def print_results(title: str, results: list[Result]) -> None:
    print()
    print(f"=== {title}: ms per request ===")
    print(f"{'n':>4} {'p50':>7} {'p95':>7} {'max':>7} {'SQL':>4} {'SQL ms':>7} {'rest':>6}  URL")
    for r in results:
        sql_ms = sum(s[2] for s in r.statements)
        flag = "" if r.p95 < TARGET_P95_MS else "  <-- over"
        print(f"{len(r.times_ms):4d} {r.pct(50):7.1f} {r.p95:7.1f} {max(r.times_ms):7.1f} {len(r.statements):4d} "
              f"{sql_ms:7.1f} {r.pct(50) - sql_ms:6.1f}  {r.label}{flag}\n{'':47s}{r.url}")
        if r.deferred:
            counts = sorted(r.count_ms)
            print(f"{'':47s}{r.deferred} of {len(r.times_ms)} pages came without their count (over "
                  f"LIST_COUNT_BUDGET_MS); the count, fetched next: p50 {counts[len(counts) // 2]:.0f} ms, "
                  f"p95 {counts[min(len(counts) - 1, int(0.95 * len(counts)))]:.0f} ms")
    print("(SQL, SQL ms: the statements of one captured request and their time; rest: p50 minus that, i.e. Python,"
          " templates, session and login)")


def explain(flask_app: Any, result: Result) -> None:
    from app.extensions import db

    print()
    print(f"--- {result.label}: {result.url}")
    print(f"    p95 {result.p95:.1f} ms; {len(result.statements)} statements, "
          f"{sum(s[2] for s in result.statements):.1f} ms of SQL in the captured request:")
    for statement, _, ms in result.statements:
        print(f"    {ms:7.2f} ms  {' '.join(statement.split())[:150]}")
    with flask_app.app_context():
        with db.engine.connect() as conn:
            for statement, parameters, ms in result.statements:
                if TABLE not in statement:
                    continue
                print()
                print(f"    [{ms:.1f} ms in the request] {' '.join(statement.split())}")
                print(f"    parameters: {parameters}")
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
                for line in plan:
                    print(f"      {line}")
            conn.rollback()


def machine_facts(url: str) -> str:
    conn = raw_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
            cur.execute("SELECT current_setting('shared_buffers'), current_setting('work_mem'), "
                        "current_setting('random_page_cost'), current_setting('jit')")
            shared, work_mem, rpc, jit = cur.fetchone()
            cur.execute(f"SELECT pg_size_pretty(pg_total_relation_size('{TABLE}'))")
            size = cur.fetchone()[0]
    finally:
        conn.close()
    return (f"{os.cpu_count()} CPUs; PostgreSQL {version} (shared_buffers {shared}, work_mem {work_mem}, "
            f"random_page_cost {rpc}, jit {jit}); {TABLE} with indexes {size}")


COUNTY_USER, COUNTY_PASSWORD = "bench_county", "Bench-County-2024"


def ensure_county_regulator(flask_app: Any, facts: dict[str, Any]) -> str:
    """A regulator whose organisation supervises the busiest county (every department): its row scope is the
    county's townships."""
    with flask_app.app_context():
        sm = flask_app.appbuilder.sm
        svc = flask_app.extensions["safety"]
        if sm.find_user(username=COUNTY_USER) is None:
            org_model = svc.models["organisation"]
            org = org_model(name=f"{facts['county_name']}应急管理局", level="county", region=facts["county"])
            svc.session.add(org)
            svc.session.commit()
            user = sm.add_user(COUNTY_USER, "县级", "监管人员", "county@bench.invalid", sm.find_role("regulator"),
                               COUNTY_PASSWORD)
            user.organisation_id = org.id
            svc.session.commit()
    return f"{COUNTY_USER}:{COUNTY_PASSWORD}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per URL (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per URL first (default 10)")
    parser.add_argument("--rows", type=int, default=ROWS, help=f"enterprises to load (default {ROWS:,})")
    parser.add_argument("--reload", action="store_true", help="load the rows even if the count already matches")
    parser.add_argument("--explain-all", action="store_true", help="print the plans of every URL, not only slow ones")
    parser.add_argument("--county-user", metavar="USER:PASSWORD",
                        help="also time county_urls() as this (existing) county-level regulator")
    parser.add_argument("--county", action="store_true",
                        help="also time county_urls() as a regulator of the busiest county (made if missing)")
    parser.add_argument("--skip-migrate", action="store_true",
                        help="the database was migrated by an earlier run of this same code (at 10,000,000 rows the "
                             "first migrate also creates an account per enterprise: 24 minutes)")
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    import logging
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    flask_app = make_app(DATABASE_URL)
    if args.skip_migrate:
        gc.collect()
        gc.freeze()
    else:
        migrate(flask_app)
    load_enterprises(DATABASE_URL, args.rows, args.reload)
    ensure_admin(flask_app)
    facts = data_facts(DATABASE_URL)
    print(machine_facts(DATABASE_URL) + f"; LIST_COUNT_BUDGET_MS {flask_app.config['LIST_COUNT_BUDGET_MS']}")
    print(f"data: {facts['rows']:,} enterprises; busiest city {facts['city']} {facts['city_name']} "
          f"{facts['city_rows']:,} rows ({facts['city_a']:,} grade A); busiest province {facts['province']} "
          f"{facts['province_name']} {facts['province_rows']:,} rows; busiest county {facts['county']} "
          f"{facts['county_name']} {facts['county_rows']:,} rows; '{facts['word']}' in {facts['word_rows']:,} names, "
          f"'{facts['specific']}' in {facts['specific_rows']:,}")

    from app.extensions import db
    with flask_app.app_context():
        log = StatementLog(db.engine)
    results = bench_urls(flask_app, ADMIN_USER, ADMIN_PASSWORD, admin_urls(facts), args.requests, args.warmup, log)
    print_results(f"administrator ({ADMIN_USER}, whole country)", results)
    if args.county and not args.county_user:
        args.county_user = ensure_county_regulator(flask_app, facts)
    if args.county_user:
        user, _, password = args.county_user.partition(":")
        county = bench_urls(flask_app, user, password, county_urls(facts), args.requests, args.warmup, log)
        print_results(f"county-level regulator ({user})", county)
        results += county

    slow = [r for r in results if r.p95 >= TARGET_P95_MS]
    for r in results if args.explain_all else slow:
        explain(flask_app, r)
    print()
    if slow:
        print(f"VERDICT: FAIL - {len(slow)} of {len(results)} URLs over p95 < {TARGET_P95_MS:.0f} ms: "
              + "; ".join(f"{r.label.split(' (')[0]} p95 {r.p95:.0f} ms" for r in slow))
    else:
        print(f"VERDICT: PASS - all {len(results)} URLs under p95 < {TARGET_P95_MS:.0f} ms "
              f"(worst p95 {max(r.p95 for r in results):.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
