"""Resource-map benchmark (plugins/gis_map) on PostgreSQL: 100,000 enterprises placed over 常州市.

    .venv/bin/python bench/map.py [--rows 100000] [--requests 200] [--reload] [--browser]

1. Database ``safety_bench_map`` on 127.0.0.1:5432 (BENCH_MAP_DATABASE_URL overrides): created if missing,
   migrated with the shipped metadata and plugins; reg_enterprise filled by COPY (bench/list.py's helpers) with
   --rows enterprises in 常州's townships, their points uniform over the city's box, a risk level each; skipped
   when the table already holds that many rows (--reload forces it); VACUUM ANALYZE.
2. Radius search, 5 km around 常州市新北区 (31.81, 119.97): the SQL alone (bounding box on the indexed
   (location_lat, location_lng), then the exact haversine, sorted by distance) and the HTTP endpoint
   /gis_map/search.json, as the administrator; p50/p95/max of --requests runs, target p95 < 100 ms. The plan of
   the SQL is printed.
3. The map's data for every point in scope: /gis_map/layer/enterprise.json as the administrator (all rows) and as
   a county regulator (新北区): time to serve and size. With --browser, Debian's chromium opens /gis_map/ as the
   administrator and times the page until every point is clustered (data-ready), target < 2 s.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_spec = importlib.util.spec_from_file_location("bench_list", ROOT / "bench" / "list.py")
bench_list = importlib.util.module_from_spec(_spec)
sys.modules["bench_list"] = bench_list
_spec.loader.exec_module(bench_list)
from app.demo.scale import make_uscc  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_MAP_DATABASE_URL",
                              "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_bench_map")
TABLE = "reg_enterprise"
CITY = "3204"                                 # 常州市
CITY_BOX = (31.15, 119.14, 32.05, 120.20)     # south, west, north, east
CENTRE = (31.81, 119.97)                      # 新北区
RADIUS_KM = 5.0
TARGET_P95_MS = 100.0
TARGET_PAGE_S = 2.0
COLUMNS = ["name", "uscc", "enterprise_type", "region", "address", "legal_representative", "department", "status",
           "risk_level", "location_lat", "location_lng", "created_at", "updated_at"]
COUNTY_USER, COUNTY_PASSWORD = "bench_map_xinbei", "Bench-Map-2024"


def load(url: str, rows: int, reload: bool, seed: int = 15) -> None:
    conn = bench_list.raw_connection(url)
    from app.demo.scale import _esc as esc  # the COPY escaping of the shared generator (app/demo/scale.py)
    try:
        if bench_list.table_rows(conn) == rows and not reload:
            print(f"{TABLE} already holds {rows:,} rows: load skipped (--reload forces it)")
            return
        with conn.cursor() as cur:
            cur.execute("SELECT code FROM sys_dictionary_item WHERE dictionary = 'region' AND code LIKE %s "
                        "AND length(code) = 9", (CITY + "%",))
            townships = sorted(r[0] for r in cur.fetchall())
            cur.execute("""SELECT i.code FROM sys_dictionary_item i WHERE i.dictionary = 'enterprise_type'
                           AND NOT EXISTS (SELECT 1 FROM sys_dictionary_item c WHERE c.dictionary = 'enterprise_type'
                           AND c.parent_code = i.code) ORDER BY i.sort""")
            types = [r[0] for r in cur.fetchall()]
        rng = random.Random(seed)
        south, west, north, east = CITY_BOX
        buf = io.StringIO()
        now = "2026-12-03 08:00:00"
        for i in range(rows):
            town = rng.choice(townships)
            values = [f"常州地图基准企业{i:06d}有限公司", make_uscc(i, town[:6]), rng.choice(types), town,
                      f"常州市{i}号", "王伟", "emergency", "producing",
                      rng.choices(["major", "high", "general", "low"], [5, 15, 40, 40])[0],
                      f"{rng.uniform(south, north):.6f}", f"{rng.uniform(west, east):.6f}", now, now]
            buf.write("\t".join(esc(v) for v in values) + "\n")
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(f"TRUNCATE {TABLE} RESTART IDENTITY CASCADE")
            buf.seek(0)
            cur.copy_expert(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN", buf)
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"VACUUM ANALYZE {TABLE}")
        print(f"loaded {rows:,} enterprises by COPY in {time.perf_counter() - started:.1f} s")
    finally:
        conn.close()


def summary(label: str, times_ms: list[float], target: float | None = TARGET_P95_MS, extra: str = "") -> None:
    times = sorted(times_ms)
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
    verdict = "" if target is None else ("  OK" if p95 < target else f"  OVER {target:.0f} ms")
    print(f"{label:<48} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  max {times[-1]:7.1f} ms"
          f"  n={len(times)}{extra}{verdict}")


def county_user(flask_app: Any) -> None:
    with flask_app.app_context():
        svc = flask_app.extensions["safety"]
        sm = flask_app.appbuilder.sm
        user = sm.find_user(username=COUNTY_USER)
        if user is None:
            org = svc.models["organisation"](name="新北区应急管理局（基准）", region="320411", department="emergency",
                                             level="county")
            svc.session.add(org)
            svc.session.commit()
            user = sm.add_user(COUNTY_USER, "新北", "监管", f"{COUNTY_USER}@example.invalid", sm.find_role("regulator"),
                               COUNTY_PASSWORD)
            user.organisation_id = org.id
            sm.session.commit()
        else:
            sm.reset_password(user.id, COUNTY_PASSWORD)


def bench_sql(flask_app: Any, requests: int) -> None:
    from sqlalchemy import text

    from app.security.actor import acting_as
    from plugins.gis_map.geo import box_around, sql_distance_km, sql_in_box
    from sqlalchemy import Float, cast, select
    with flask_app.app_context(), acting_as(None):
        svc = flask_app.extensions["safety"]
        model = svc.models["enterprise"]
        lat, lng = model.location_lat, model.location_lng
        distance = sql_distance_km(lat, lng, *CENTRE).label("distance")
        stmt = select(model.id, model.name, cast(lat, Float), cast(lng, Float), distance) \
            .where(sql_in_box(lat, lng, box_around(*CENTRE, RADIUS_KM)), distance <= RADIUS_KM) \
            .order_by(distance, model.id)
        found = svc.session.execute(stmt).all()
        compiled = stmt.compile(svc.db.engine, compile_kwargs={"literal_binds": True})
        plan = svc.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
        times = []
        for _ in range(requests):
            t = time.perf_counter()
            svc.session.execute(stmt).all()
            times.append((time.perf_counter() - t) * 1000)
        summary(f"SQL: {RADIUS_KM:g} km around {CENTRE}", times, extra=f"  rows={len(found)}")
        print("  plan: " + "\n         ".join(plan[:12]))


def bench_http(flask_app: Any, username: str, password: str, url: str, requests: int, label: str,
               target: float | None = TARGET_P95_MS) -> None:
    client = flask_app.test_client()
    bench_list.login(client, username, password)
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    times = []
    for _ in range(requests):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
    size = len(response.get_data())
    summary(label, times, target, extra=f"  {size / 1024:,.0f} KiB")


def bench_browser(flask_app: Any) -> None:
    """Chromium opens the map as the administrator: until every point is clustered (data-ready)."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, LiveServer
    server = LiveServer(flask_app)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server.url + "/login/")
            page.fill("#username", bench_list.ADMIN_USER)
            page.fill("#password", bench_list.ADMIN_PASSWORD)
            page.click("[type=submit]")
            page.wait_for_url(server.url + "/")
            for run in range(3):
                t = time.perf_counter()
                page.goto(server.url + "/gis_map/")
                page.wait_for_selector("#gis-map[data-ready='1']", timeout=60_000)
                elapsed = time.perf_counter() - t
                count = page.locator('.gis-count[data-layer="enterprise"]').inner_text()
                verdict = "OK" if elapsed < TARGET_PAGE_S else f"OVER {TARGET_PAGE_S:g} s"
                print(f"browser: /gis_map/ until {count} points are clustered, run {run + 1}: {elapsed:.2f} s  {verdict}")
            browser.close()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args()
    bench_list.ensure_database(DATABASE_URL)
    flask_app = bench_list.make_app(DATABASE_URL)
    bench_list.migrate(flask_app)
    bench_list.ensure_admin(flask_app)
    load(DATABASE_URL, args.rows, args.reload)
    county_user(flask_app)
    bench_sql(flask_app, args.requests)
    search = f"/gis_map/search.json?lat={CENTRE[0]}&lng={CENTRE[1]}&radius={RADIUS_KM:g}"
    admin = (bench_list.ADMIN_USER, bench_list.ADMIN_PASSWORD)
    bench_http(flask_app, *admin, search, args.requests, f"HTTP: search.json {RADIUS_KM:g} km (admin)")
    bench_http(flask_app, COUNTY_USER, COUNTY_PASSWORD, search, args.requests,
               f"HTTP: search.json {RADIUS_KM:g} km (新北区 regulator)")
    layer_runs = max(5, args.requests // 20)
    bench_http(flask_app, *admin, "/gis_map/layer/enterprise.json", layer_runs,
               f"HTTP: layer of {args.rows:,} points (admin)", target=None)
    bench_http(flask_app, COUNTY_USER, COUNTY_PASSWORD, "/gis_map/layer/enterprise.json", layer_runs,
               "HTTP: layer in scope (新北区 regulator)", target=None)
    bench_http(flask_app, *admin, "/gis_map/", layer_runs, "HTTP: the map page's HTML (admin)", target=None)
    if args.browser:
        bench_browser(flask_app)


if __name__ == "__main__":
    main()
