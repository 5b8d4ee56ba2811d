"""The figures at a province's size in one run: `flask demo load --scale N` as users run it, then the enterprise
and hazard lists as an administrator and as a county regulator, over N enterprises and 5 × N hazards.

    .venv/bin/python bench/scale.py [--scale 1000000] [--requests 100] [--reload]

1. Database ``safety_bench_scale`` on 127.0.0.1:5432 (BENCH_SCALE_DATABASE_URL overrides): created if missing and
   migrated with the shipped metadata and plugins (so the charts' summaries and their triggers are in place).
2. When its enterprise register is empty (--reload drops the database first): `flask metadata migrate` then
   `flask demo load --scale N`, each a whole process with DATABASE_URL set, timed by the wall clock (the issue:
   "in a few minutes"). The load writes by COPY with the registers' secondary indexes dropped and rebuilt; the
   hazard summary's triggers run during it.
3. Through the Flask test client (bench/list.py's timing: --warmup untimed, then --requests timed per URL; p50,
   p95, max; the SQL of one request): the enterprise list and the hazard list, each first page, a deep page, a
   filter and a quick search, as an administrator (whole country) and as a regulator of the busiest county (its
   row scope: that county's townships). Target p95 < 100 ms per URL (the lists' figure in the README).

Start-up with every shipped register is bench/boot.py's (a); the README's scale table gathers the three.
"""
from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
listbench = importlib.import_module("list")  # bench/list.py: database, app, login, timing, EXPLAIN

DATABASE_URL = os.environ.get("BENCH_SCALE_DATABASE_URL",
                              "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_bench_scale")
SCALE = 1_000_000
HAZARD_WORD = "配电箱"   # one of the generated descriptions (app/demo/scale.py WORDS)
Target = listbench.Target


def drop_database(url: str) -> None:
    from sqlalchemy.engine import make_url
    parsed = make_url(url)
    conn = listbench.server_connection(url)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    conn.close()


def flask_command(*args: str) -> float:
    """One `flask …` command as a user runs it (APP_CONFIG=production would want its secrets: the embedded
    configuration pointed at this PostgreSQL database does the same work); its wall time in seconds."""
    env = {**os.environ, "FLASK_APP": "run", "APP_CONFIG": "embedded", "DATABASE_URL": DATABASE_URL,
           "UPLOAD_FOLDER": "/tmp/safety-bench-uploads"}
    started = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    took = time.perf_counter() - started
    tail = (done.stdout + done.stderr).strip().splitlines()[-6:]
    print(f"$ flask {' '.join(args)}  ({took:.0f} s, exit {done.returncode})")
    for line in tail:
        print(f"    {line[:200]}")
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed")
    return took


def hazard_facts(url: str, county: str) -> dict[str, Any]:
    conn = listbench.raw_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM reg_hazard")
            total = cur.fetchone()[0]
            cur.execute("""SELECT count(*) FROM reg_hazard h JOIN reg_enterprise e ON e.id = h.enterprise_id
                            WHERE left(e.region, 6) = %s""", (county,))
            in_county = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM reg_hazard WHERE state = 'pending'")
            pending = cur.fetchone()[0]
    finally:
        conn.close()
    return {"hazards": total, "county_hazards": in_county, "pending": pending}


def hazard_urls(facts: dict[str, Any], hazards: dict[str, Any]) -> list[Target]:
    base = "/r/hazard/list/"
    word = quote(HAZARD_WORD)
    return [
        Target(f"hazards: first page ({hazards['hazards']:,} rows)", base),
        Target("hazards: page 1000", f"{base}?page=1000"),
        Target(f"hazards: state 待整改 ({hazards['pending']:,} rows), sort -found_on",
               f"{base}?f.state=pending&sort=-found_on"),
        Target("hazards: level 重大隐患, sort -rectify_by", f"{base}?f.level=major&sort=-rectify_by"),
        Target(f"hazards: quick search q={HAZARD_WORD} (1 description in 15)", f"{base}?q={word}", max_requests=20),
    ]


def county_hazard_urls(facts: dict[str, Any], hazards: dict[str, Any]) -> list[Target]:
    base = "/r/hazard/list/"
    return [
        Target(f"county hazards: first page ({hazards['county_hazards']:,} rows in scope)", base),
        Target("county hazards: page 20", f"{base}?page=20"),
        Target("county hazards: state 待整改, sort -found_on", f"{base}?f.state=pending&sort=-found_on"),
        Target(f"county hazards: quick search q={HAZARD_WORD}", f"{base}?q={quote(HAZARD_WORD)}", max_requests=20),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=SCALE, help=f"enterprises (hazards: 5 ×; default {SCALE:,})")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reload", action="store_true", help="drop the database and load it again")
    parser.add_argument("--only", default="", help="only the groups whose title contains this ('county regulator, "
                                                   "hazards'), to look at one after a change")
    args = parser.parse_args()

    import logging
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    if args.reload:
        drop_database(DATABASE_URL)
    listbench.ensure_database(DATABASE_URL)
    conn = listbench.raw_connection(DATABASE_URL)
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('reg_enterprise') IS NOT NULL")
        exists = cur.fetchone()[0]
        rows = 0
        if exists:
            cur.execute("SELECT count(*) FROM reg_enterprise")
            rows = cur.fetchone()[0]
    conn.close()
    timings: dict[str, float] = {}
    if rows == 0:
        timings["migrate"] = flask_command("metadata", "migrate")
        timings["load"] = flask_command("demo", "load", "--scale", str(args.scale))
    else:
        print(f"reg_enterprise holds {rows:,} rows: load skipped (--reload to redo it)")

    flask_app = listbench.make_app(DATABASE_URL)
    listbench.migrate(flask_app)   # a second migrate on the full database: must finish in seconds
    listbench.ensure_admin(flask_app)
    facts = listbench.data_facts(DATABASE_URL)
    hazards = hazard_facts(DATABASE_URL, facts["county"])
    county_user, _, county_password = listbench.ensure_county_regulator(flask_app, facts).partition(":")
    print(listbench.machine_facts(DATABASE_URL))
    print(f"data: {facts['rows']:,} enterprises, {hazards['hazards']:,} hazards; county {facts['county_name']} "
          f"({facts['county']}): {facts['county_rows']:,} enterprises, {hazards['county_hazards']:,} hazards")

    from app.extensions import db
    with flask_app.app_context():
        log = listbench.StatementLog(db.engine)
    admin = listbench.ADMIN_USER, listbench.ADMIN_PASSWORD
    results = []
    for title, user, targets in (
            ("administrator, enterprises", admin, listbench.admin_urls(facts)[:5]),
            ("administrator, hazards", admin, hazard_urls(facts, hazards)),
            ("county regulator, enterprises", (county_user, county_password), listbench.county_urls(facts)[:4]),
            ("county regulator, hazards", (county_user, county_password), county_hazard_urls(facts, hazards))):
        if args.only not in title:
            continue
        found = listbench.bench_urls(flask_app, user[0], user[1], targets, args.requests, args.warmup, log)
        listbench.print_results(title, found)
        results += found
    slow = [r for r in results if r.p95 >= listbench.TARGET_P95_MS]
    for r in slow:
        listbench.explain(flask_app, r)
    print()
    if timings:
        print(f"flask metadata migrate {timings['migrate']:.0f} s; flask demo load --scale {args.scale:,} "
              f"{timings['load']:.0f} s ({timings['load'] / 60:.1f} min)")
    print(f"VERDICT: {'PASS' if not slow else 'FAIL'} - {len(results) - len(slow)} of {len(results)} list URLs under "
          f"p95 < {listbench.TARGET_P95_MS:.0f} ms (worst p95 {max(r.p95 for r in results):.0f} ms)")
    return 0 if not slow else 1


if __name__ == "__main__":
    raise SystemExit(main())
