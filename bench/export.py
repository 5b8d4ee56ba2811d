"""Export benchmark: all 1,000,000 enterprises of safety_bench (bench/list.py loads them) exported as .xlsx by the
engine (app.excel.export.write_export: scoped query streamed in batches, labels), with its default writer
(rustpy-xlsxwriter fed a generator) and with its fallback (xlsxwriter constant_memory), against the bare Rust
writer on precomputed values (no query, no labels: the writer's own floor) and openpyxl's write_only mode on the
same values.

    .venv/bin/python bench/export.py [--rows 1000000]

Each side runs in a fresh subprocess so its peak RSS is its own. Targets: ≥ 50,000 rows/s end to end for the
default writer, peak RSS < 200 MB.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_bench")


def child(kind: str, rows: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("APP_CONFIG", "test")
    import logging
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    from app import create_app
    app = create_app("test", SQLALCHEMY_DATABASE_URI=DATABASE_URL, UPLOAD_FOLDER=OUT / "uploads")
    arguments = {"size": ["500"], "sort": ["id"]}
    from app.security.actor import acting_as, actor_for
    with app.test_request_context():
        svc = app.extensions["safety"]
        svc.dictionaries.tree("region")  # a running server has its dictionaries loaded
        spec = svc.registry.register("enterprise")
        admin = app.appbuilder.sm.find_user(username="bench_admin")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with acting_as(actor_for(admin)):
            count, elapsed, target = _timed(kind, spec, arguments, rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{kind} {count} {elapsed:.3f} {peak:.1f} {target.stat().st_size} {before:.1f}")


def _timed(kind: str, spec, arguments, rows: int) -> tuple[int, float, Path]:
    from app.excel.export import write_export
    target = OUT / f"export-{kind}.xlsx"
    start = time.perf_counter()
    if kind in ("engine", "xlsxwriter"):
        from flask import current_app
        current_app.config["EXPORT_RUST_WRITER"] = kind == "engine"
        count = _limited(lambda: write_export(spec, arguments, "xlsx", target), rows)
    elif kind == "bare":
        return bare_writer(rows, target)
    else:
        count = openpyxl_baseline(spec, arguments, target, rows)
    return count, time.perf_counter() - start, target


def _limited(run, rows: int) -> int:
    """The engine's export of the first ``rows`` rows (the whole register when it has that many)."""
    from app.excel import export as module
    original = module.rows_to_export

    def limited(spec, arguments):
        for index, row in enumerate(original(spec, arguments)):
            if index >= rows:
                return
            yield row

    module.rows_to_export = limited
    try:
        return run()
    finally:
        module.rows_to_export = original


def bare_writer(rows: int, target: Path) -> tuple[int, float, Path]:
    """The Rust writer alone: ``rows`` precomputed records of 17 values like an enterprise's (12 texts, numbers,
    dates), timed from the first record to the saved file."""
    from datetime import date, datetime

    from rustpy_xlsxwriter import FastExcel
    titles = [f"c{i}" for i in range(17)]
    sample = [f"常州市新北区春江街道{i}号" for i in range(12)] + [42, 3.5, date(2019, 5, 17),
                                                                datetime(2024, 1, 31, 9, 30), "A级"]
    record = dict(zip(titles, sample))
    start = time.perf_counter()
    FastExcel(str(target)).sheet("bare", (record for _ in range(rows))).save()
    return rows, time.perf_counter() - start, target


def openpyxl_baseline(spec, arguments, target: Path, rows: int) -> int:
    """The same rows and values (same query, same label lookups) written with openpyxl write_only."""
    from openpyxl import Workbook

    from app.excel.export import _title, _value, export_columns, rows_to_export
    from app.i18n import current_locale
    from flask import current_app
    dictionaries = current_app.extensions["safety"].dictionaries
    columns = export_columns(spec)
    locale = current_locale()
    labels: dict = {}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("enterprises")
    sheet.append([_title(c) for c in columns])
    count = 0
    for row in rows_to_export(spec, arguments):
        if count >= rows:
            break
        sheet.append([_value(c, row, dictionaries, locale, labels) for c in columns])
        count += 1
    workbook.save(target)
    return count


def run(kind: str, rows: int) -> tuple[int, float, float, int, float]:
    output = subprocess.run([sys.executable, __file__, "--child", kind, "--rows", str(rows)], capture_output=True,
                            text=True, cwd=ROOT, check=True).stdout.strip().splitlines()[-1]
    _, count, elapsed, peak, size, before = output.split()
    return int(count), float(elapsed), float(peak), int(size), float(before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    engine = run("engine", args.rows)
    fallback = run("xlsxwriter", args.rows)
    bare = run("bare", args.rows)
    baseline = run("openpyxl", args.rows)
    print(f"rows: {engine[0]:,} enterprises (17 columns: labels of enum and tree fields, dates, numbers)")
    for name, figures in (("engine, rustpy-xlsxwriter (default)", engine), ("engine, xlsxwriter (fallback)", fallback),
                          ("bare Rust writer, fixed values", bare), ("openpyxl write_only, same values", baseline)):
        print(f"{name:<38} {figures[1]:7.1f} s  {figures[0] / figures[1]:9,.0f} rows/s  peak RSS {figures[2]:6.1f} MB "
              f"(before: {figures[4]:.0f} MB)  file {figures[3] / 1e6:.0f} MB")
    speed = engine[0] / engine[1]
    ok = engine[2] < 200 and speed >= 50_000
    print(f"VERDICT: {'PASS' if ok else 'FAIL'} - {speed:,.0f} rows/s (target >= 50,000), peak RSS {engine[2]:.0f} MB "
          f"(target < 200 MB); {fallback[1] / engine[1]:.2f}x faster than xlsxwriter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
