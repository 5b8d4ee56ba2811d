"""Export benchmark: all 1,000,000 enterprises of safety_bench (bench/list.py loads them) exported as .xlsx by the
engine (app.excel.export.write_export: scoped query streamed in batches, labels), with its default writer
(rustpy-xlsxwriter fed a generator) and with its fallback (xlsxwriter constant_memory), against the bare Rust
writer on precomputed values (no query, no labels: the writer's own floor) and openpyxl's write_only mode on the
same values.

    .venv/bin/python bench/export.py [--rows 1000000] [--only engine --only bare]

With no safety_bench yet, bench/list.py loads it (about 3 minutes). Each line gives wall-clock rows/s and rows per
CPU second of the process (the second is less at the mercy of other work on the machine).

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
KINDS = ["engine", "xlsxwriter", "bare", "openpyxl"]
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_bench")


def child(kind: str, rows: int) -> None:
    sys.path.insert(0, str(ROOT))
    OUT.mkdir(parents=True, exist_ok=True)
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
        cpu = time.process_time()
        with acting_as(actor_for(admin)):
            count, elapsed, target = _timed(kind, spec, arguments, rows)
        cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{kind} {count} {elapsed:.3f} {peak:.1f} {target.stat().st_size} {before:.1f} {cpu:.3f}")


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
    original = module._query_batches

    def limited(spec, arguments, wanted, *more):
        left = rows
        for batch in original(spec, arguments, wanted, *more):
            if left <= 0:
                return
            yield batch[:left]
            left -= len(batch)

    module._query_batches = limited
    try:
        return run()
    finally:
        module._query_batches = original


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

    from app.excel.export import _title, export_columns, row_batches
    from app.i18n import current_locale
    from flask import current_app
    dictionaries = current_app.extensions["safety"].dictionaries
    columns = export_columns(spec)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("enterprises")
    sheet.append([_title(c) for c in columns])
    count = 0
    for batch in row_batches(spec, arguments, columns, dictionaries, current_locale()):
        for row in batch[:rows - count]:
            sheet.append(row)
        count += min(len(batch), rows - count)
        if count >= rows:
            break
    workbook.save(target)
    return count


def run(kind: str, rows: int) -> tuple[int, float, float, int, float, float]:
    output = subprocess.run([sys.executable, __file__, "--child", kind, "--rows", str(rows)], capture_output=True,
                            text=True, cwd=ROOT, check=True).stdout.strip().splitlines()[-1]
    _, count, elapsed, peak, size, before, cpu = output.split()
    return int(count), float(elapsed), float(peak), int(size), float(before), float(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child")
    parser.add_argument("--only", action="append", choices=KINDS, help="run only these (repeatable)")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    kinds = args.only or KINDS
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else "?"
    figures = {kind: run(kind, args.rows) for kind in kinds}
    print(f"rows: {next(iter(figures.values()))[0]:,} enterprises (17 columns: labels of enum and tree fields, dates, "
          f"numbers); load average before: {' '.join(load)}, after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    for kind, name in zip(KINDS, ("engine, rustpy-xlsxwriter (default)", "engine, xlsxwriter (fallback)",
                                  "bare Rust writer, fixed values", "openpyxl write_only, same values")):
        if kind in figures:
            f = figures[kind]
            print(f"{name:<38} {f[1]:7.1f} s  {f[0] / f[1]:9,.0f} rows/s  ({f[0] / f[5]:9,.0f} per CPU second)  "
                  f"peak RSS {f[2]:6.1f} MB (before: {f[4]:.0f} MB)  file {f[3] / 1e6:.0f} MB")
    if "engine" not in figures:
        return 0
    engine = figures["engine"]
    speed = engine[0] / engine[1]
    ok = engine[2] < 200 and speed >= 50_000
    faster = f"; {figures['xlsxwriter'][1] / engine[1]:.2f}x faster than xlsxwriter" if "xlsxwriter" in figures else ""
    print(f"VERDICT: {'PASS' if ok else 'FAIL'} - {speed:,.0f} rows/s (target >= 50,000), peak RSS {engine[2]:.0f} MB "
          f"(target < 200 MB){faster}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
