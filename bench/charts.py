"""Chart benchmark: hazards counted per county for a province regulator, /charts/hazards_by_county/data, through the
Flask test client, over N hazards (default 5,000,000) of 100,000 enterprises on PostgreSQL.

    .venv/bin/python bench/charts.py [--hazards 5000000] [--enterprises 100000] [--requests 100] [--reload]
                                     [--without-summaries]

1. Database ``safety_bench_charts`` on 127.0.0.1:5432 (BENCH_CHARTS_DATABASE_URL overrides; not bench/list.py's
   ``safety_bench``): created if missing, migrated with the shipped metadata and plugins.
2. reg_enterprise is filled by bench/list.py's generator (COPY; real township codes over the whole country, 30 % in
   eleven busy cities), then reg_hazard by COPY: each hazard of a random enterprise, 88 % general, states spread
   over 待整改/挂牌督办/待确认/已整改, found within two years. Secondary indexes are dropped for the load and rebuilt
   from their own definitions, then VACUUM ANALYZE. Skipped when both tables already hold those counts.
3. A regulator of the province with the most enterprises (an organisation at province level, every department)
   logs in; the chart's data URL is requested --warmup times, then --requests times: p50/p95/max in ms against
   p95 < 500 ms; then the SQL of one request with EXPLAIN (ANALYZE, BUFFERS).

How the chart is computed (plugins/charts/query.py, summaries.py): from the summary ``chart_sum_hazards_per_enterprise``
(one row per enterprise with hazards: its count), kept by statement-level triggers on reg_hazard. The province's
row scope is written on the summary's enterprise column; the counts are joined to the enterprise's region and to the
region tree's materialised path (``sys_dictionary_item.path``, cut at the county with split_part). Hazards the user
sees only because they were handed over to it are counted from reg_hazard and added. The load writes with the
triggers off, so the summaries are rebuilt after it and always checked against a count of the register.
Figures: docs/plugins.md (charts, Performance) and the README's benchmark table.
"""
from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

listbench = importlib.import_module("list")  # bench/list.py: database, app, enterprises, login, timing, EXPLAIN

DATABASE_URL = os.environ.get("BENCH_CHARTS_DATABASE_URL",
                              "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_bench_charts")
HAZARDS, ENTERPRISES = 5_000_000, 100_000
TARGET_P95_MS = 500.0
CHART = "hazards_by_county"
USER, PASSWORD = "bench_province", "Bench-Province-2024"
from app.demo.scale import HAZARD_COLUMNS, hazard_lines  # noqa: E402  (shared with flask demo load --scale)


def count_of(conn: Any, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


def load(url: str, hazards: int, enterprises: int, reload: bool, chunk: int = 100_000) -> bool:
    """Fill the two registers (True) unless they already hold those counts (False)."""
    conn = listbench.raw_connection(url)
    try:
        if not reload and count_of(conn, "reg_enterprise") == enterprises and count_of(conn, "reg_hazard") == hazards:
            print(f"reg_enterprise {enterprises:,} and reg_hazard {hazards:,} rows already there: load skipped")
            return False
    finally:
        conn.close()
    listbench.load_enterprises(url, enterprises, True)   # TRUNCATE … CASCADE empties reg_hazard too
    conn = listbench.raw_connection(url)
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("TRUNCATE reg_hazard RESTART IDENTITY CASCADE")
        cur.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                        WHERE x.indrelid = 'reg_hazard'::regclass AND NOT x.indisprimary
                          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)""")
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("ALTER TABLE reg_hazard DISABLE TRIGGER ALL")  # the FK checks: ids are 1..enterprises
        for begin in range(0, hazards, chunk):
            n = min(chunk, hazards - begin)
            cur.copy_expert(f"COPY reg_hazard ({', '.join(HAZARD_COLUMNS)}) FROM STDIN",
                            io.StringIO(hazard_lines(begin, n, enterprises, 2026)))
            if (begin + n) % 1_000_000 == 0 or begin + n == hazards:
                print(f"  {begin + n:>10,} hazards  {time.perf_counter() - started:6.0f} s", flush=True)
        cur.execute("ALTER TABLE reg_hazard ENABLE TRIGGER ALL")
        t = time.perf_counter()
        for _, definition in indexes:
            cur.execute(definition)
        print(f"  {len(indexes)} indexes rebuilt in {time.perf_counter() - t:.0f} s")
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE reg_hazard")
        cur.execute("VACUUM ANALYZE reg_enterprise")
    conn.close()
    print(f"  hazards loaded in {time.perf_counter() - started:.0f} s")
    return True


def keep_summaries(flask_app: Any, rebuild_all: bool) -> None:
    """The load wrote with the triggers off: refill the charts' summaries, then check them against a count of the
    register (plugins/charts/summaries.py)."""
    from app.extensions import db
    from plugins.charts import summaries
    with flask_app.app_context():
        for summary in flask_app.extensions["charts"].summaries.values():
            if rebuild_all:
                t = time.perf_counter()
                rows = summaries.rebuild(db.engine, summary)
                print(f"  summary {summary.name}: rebuilt, {rows:,} rows in {time.perf_counter() - t:.1f} s")
            t = time.perf_counter()
            off = summaries.differences(db.engine, summary)
            print(f"  summary {summary.name}: {off} groups differ from a count of the register "
                  f"(checked in {time.perf_counter() - t:.1f} s)")
            if off:
                raise SystemExit(f"summary {summary.name} is out of step with reg_hazard")


def summary_read(flask_app: Any) -> str | None:
    """Which summary the chart is counted from, for the province user."""
    from app.security.actor import acting_as, actor_for
    with flask_app.test_request_context():
        actor = actor_for(flask_app.appbuilder.sm.find_user(username=USER))
        with acting_as(actor):
            service = flask_app.extensions["charts"]
            return service.data(service.chart(CHART, actor), actor).summary


def province_of_most(url: str) -> tuple[str, str, int]:
    conn = listbench.raw_connection(url)
    with conn.cursor() as cur:
        cur.execute("""SELECT left(e.region, 2), count(*) FROM reg_hazard h JOIN reg_enterprise e
                         ON e.id = h.enterprise_id GROUP BY 1 ORDER BY 2 DESC LIMIT 1""")
        code, rows = cur.fetchone()
        cur.execute("SELECT label_zh FROM sys_dictionary_item WHERE dictionary = 'region' AND code = %s", (code,))
        name = cur.fetchone()[0]
    conn.close()
    return code, name, rows


def ensure_province_regulator(flask_app: Any, region: str, name: str) -> None:
    with flask_app.app_context():
        sm = flask_app.appbuilder.sm
        svc = flask_app.extensions["safety"]
        user = sm.find_user(username=USER)
        if user is None:
            org = svc.models["organisation"](name=f"{name}应急管理厅", level="province", region=region)
            svc.session.add(org)
            svc.session.commit()
            user = sm.add_user(USER, "省级", "监管人员", "province@bench.invalid", sm.find_role("regulator"), PASSWORD)
            user.organisation_id = org.id
            svc.session.commit()
        else:
            sm.reset_password(user.id, PASSWORD)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hazards", type=int, default=HAZARDS)
    parser.add_argument("--enterprises", type=int, default=ENTERPRISES)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--without-summaries", action="store_true",
                        help="count reg_hazard itself (the path before the summaries), for comparison")
    args = parser.parse_args()

    import logging
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    listbench.ensure_database(DATABASE_URL)
    flask_app = listbench.make_app(DATABASE_URL)
    listbench.migrate(flask_app)
    loaded = load(DATABASE_URL, args.hazards, args.enterprises, args.reload)
    keep_summaries(flask_app, rebuild_all=loaded)
    region, name, rows = province_of_most(DATABASE_URL)
    ensure_province_regulator(flask_app, region, name)
    print(f"{os.cpu_count()} CPUs; {args.hazards:,} hazards of {args.enterprises:,} enterprises; "
          f"province user {USER} of {name} ({region}), whose scope holds {rows:,} hazards")
    if args.without_summaries:
        flask_app.extensions["charts"]._ready = {}   # no summary is installed, as far as the charts know
    from app.extensions import db
    with flask_app.app_context():
        log = listbench.StatementLog(db.engine)
    target = listbench.Target(f"{CHART} as a province regulator", f"/charts/{CHART}/data")
    listbench.TARGET_P95_MS = TARGET_P95_MS
    results = listbench.bench_urls(flask_app, USER, PASSWORD, [target], args.requests, args.warmup, log)
    listbench.print_results(f"charts over {args.hazards:,} hazards", results)
    client = flask_app.test_client()
    listbench.login(client, USER, PASSWORD)
    data = client.get(f"/charts/{CHART}/data").get_json()
    print(f"total {data['total']:,}; top counties: "
          + ", ".join(f"{s['label']} {s['value']:,.0f}" for s in data["slices"][:5]))
    print(f"counted from: {summary_read(flask_app) or 'reg_hazard itself (no summary fits)'}")
    listbench.explain(flask_app, results[0])
    return 0 if results[0].p95 < TARGET_P95_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
