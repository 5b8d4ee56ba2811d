"""Export benchmark: all 1,000,000 enterprises of safety_bench (bench/list.py loads them) exported as .xlsx by the
engine (app.excel.export.write_export: scoped query streamed in batches, labels, xlsxwriter constant_memory),
against writing the same rows and the same values with openpyxl's write_only mode.

    .venv/bin/python bench/export.py [--rows 1000000]

Each side runs in a fresh subprocess so its peak RSS is its own. Targets: peak RSS < 200 MB and time ≤ 1.5× the
openpyxl write_only path.
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
    if kind == "engine":
        count = _limited(lambda: write_export(spec, arguments, "xlsx", target), rows)
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
    baseline = run("openpyxl", args.rows)
    print(f"rows: {engine[0]:,} enterprises (17 columns: labels of enum and tree fields, dates, numbers)")
    print(f"engine (xlsxwriter constant_memory): {engine[1]:7.1f} s, peak RSS {engine[2]:6.1f} MB "
          f"(the app with its dictionaries held {engine[4]:.0f} MB before the export), file {engine[3] / 1e6:.0f} MB")
    print(f"openpyxl write_only, same values:    {baseline[1]:7.1f} s, peak RSS {baseline[2]:6.1f} MB "
          f"(before: {baseline[4]:.0f} MB), file {baseline[3] / 1e6:.0f} MB")
    ratio = engine[1] / baseline[1]
    print(f"ratio engine / openpyxl: {ratio:.2f}x")
    ok = engine[2] < 200 and ratio <= 1.5
    print(f"VERDICT: {'PASS' if ok else 'FAIL'} - peak RSS {engine[2]:.0f} MB (target < 200 MB), "
          f"{ratio:.2f}x the openpyxl write_only time (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
