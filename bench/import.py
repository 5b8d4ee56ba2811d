"""Import benchmark: 100,000 enterprise rows in a filled template, imported into a register that already holds
1,000,000 rows (database safety_bench of bench/list.py), against parsing the same file and loading it with
PostgreSQL COPY alone.

    .venv/bin/python bench/import.py [--rows 100000] [--import-only] [--check-only] [--bad-every N] [--varied]

Both paths run inside a transaction that is rolled back, so the register keeps its 1,000,000 rows. Prints rows/s
of the full import (parse + validate + dedup against the 1M rows + write + audit + enterprise accounts) and the
ratio to the COPY path, against the targets: ≥ 3,000 rows/s and ≤ 3× the COPY path. The full import runs in a
fresh subprocess, so its peak RSS (``ru_maxrss``: the app with its dictionaries loaded, as a running worker holds
them, plus the import) is its own; target < 300 MB at the largest file allowed (IMPORT_MAX_ROWS, 200,000 rows).
``--check-only`` runs the import as 校验 (dry run: everything checked, nothing written); ``--bad-every N`` makes
every Nth row wrong (an enterprise type not in the list) and writes the marked error workbook in the same process,
as the import job does, so its peak RSS counts.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_CONFIG", "test")

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/safety_bench")
OUT = ROOT / "bench" / "out"


def make_file(app, rows: int, path: Path, bad_every: int = 0, varied: bool = False) -> None:
    """The template filled by openpyxl-free fast writing (xlsxwriter), with the template's titles. ``varied``: the
    names, legal representatives and addresses are those of random rows of the register (enterprises of the whole
    country, as bench/list.py made them), so the trigram indexes of the quick search get as many different
    trigrams as real data gives them; otherwise they are numbered (常州基准企业N有限公司, 基准路N号)."""
    import random

    import xlsxwriter
    from stdnum.cn import uscc

    from app.excel.columns import import_columns

    svc = app.extensions["safety"]
    spec = svc.registry.register("enterprise")
    columns = import_columns(svc.registry, spec)
    rng = random.Random(5)
    drawn: list[tuple[str, str, str]] = []
    if varied:
        from sqlalchemy import text

        from app.extensions import db
        with app.app_context():
            db.session.execute(text("SELECT setseed(0.5)"))
            drawn = [tuple(r) for r in db.session.execute(text(
                "SELECT name, legal_representative, address FROM reg_enterprise ORDER BY random() LIMIT :n"),
                {"n": rows})]
    with app.test_request_context():
        towns = [c for c in svc.dictionaries.subtree_codes("region", "3204") if svc.dictionaries.is_leaf("region", c)]
        paths = [svc.dictionaries.path_label("region", c, sep="/", locale="zh_Hans") for c in towns]
        types = ["危险化学品生产单位", "危险化学品经营单位", "加油站", "城镇燃气充装企业", "餐饮企业"]
        chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = workbook.add_worksheet("企业信息收集表")
        titles = [("*" if c.required else "") + c.title("zh_Hans") for c in columns]
        sheet.write_row(0, 0, titles)
        for n in range(1, rows + 1):
            body = "91320411" + "".join(rng.choice(chars) for _ in range(9))
            values = {"name": f"常州基准企业{n}有限公司", "uscc": body + uscc.calc_check_digit(body),
                      "enterprise_type": rng.choice(types), "region": rng.choice(paths), "address": f"基准路{n}号",
                      "legal_representative": "王伟", "phone": "0519-85681234", "department": "应急管理",
                      "status": "在产", "scale": "小型", "grade": rng.choice("ABCD") + "级",
                      "safety_manager": "李娜", "safety_manager_mobile": f"139{n:08d}", "established_on": "2015-06-01",
                      "employee_count": str(rng.randint(3, 500)), "registered_capital": "100.5"}
            if drawn:
                name, person, address = drawn[(n - 1) % len(drawn)]
                # the address made new, as the unique rule (code, type, address) asks of a repeated draw
                values.update(name=name, legal_representative=person, address=f"{address}{n}室")
            if bad_every and n % bad_every == 0:
                values["enterprise_type"] = "不在列表中的类型"
            sheet.write_row(n, 0, [values.get(c.name, "") for c in columns])
        workbook.close()


def copy_path(app, path: Path, into_register: bool = False, gin_settings: bool = False) -> tuple[float, int]:
    """Parse with calamine, map the columns, COPY the cells as they are (no check at all): into the register's
    own table (its indexes maintained, rolled back after), or into a bare temporary table without indexes.
    ``gin_settings``: under the import's trigram-index settings (app/excel/importer.py, GIN_PENDING_LIST_LIMIT),
    the last 5,000 rows under the server's own limit, as the import writes its last chunk."""
    import python_calamine

    from app.extensions import db
    start = time.perf_counter()
    from app.excel.columns import import_columns
    grid = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    body = grid[1:]
    svc = app.extensions["safety"]
    columns = import_columns(svc.registry, svc.registry.register("enterprise"))
    names = [c.name for c in columns]
    buffer = io.StringIO()
    for row in body:
        buffer.write("\t".join("\\N" if v == "" else str(v).replace("\t", " ") for v in row[:len(names)]) + "\n")
    buffer.seek(0)
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if into_register:
                # the codes the cells would become (a COPY cannot look up labels): the same bytes to index
                coded = _as_codes(app, buffer, names)
                copy = f"COPY reg_enterprise ({', '.join(names)}) FROM STDIN"
                if gin_settings:
                    from app.excel.importer import GIN_FOLD_WORK_MEM, GIN_PENDING_LIST_LIMIT
                    lines = coded.getvalue().splitlines(keepends=True)
                    cursor.execute(f"SET LOCAL gin_pending_list_limit = '{GIN_PENDING_LIST_LIMIT}'")
                    cursor.execute(f"SET LOCAL work_mem = '{GIN_FOLD_WORK_MEM}'")
                    cursor.copy_expert(copy, io.StringIO("".join(lines[:-5000])))
                    cursor.execute("SET LOCAL gin_pending_list_limit TO DEFAULT")
                    cursor.copy_expert(copy, io.StringIO("".join(lines[-5000:])))
                else:
                    cursor.copy_expert(copy, coded)
            else:
                # the same columns, no constraint, no index: loaded as fast as PostgreSQL can
                cursor.execute(f"CREATE TEMP TABLE copy_target AS SELECT {', '.join(names)} FROM reg_enterprise "
                               "WITH NO DATA")
                cursor.copy_expert(f"COPY copy_target ({', '.join(names)}) FROM STDIN", buffer)
            raw.rollback()
        finally:
            raw.close()
    return time.perf_counter() - start, len(body)


def _as_codes(app, buffer: io.StringIO, names: list[str]) -> io.StringIO:
    """The parsed cells with labels swapped for the codes the register stores (enum, tree), via plain dicts."""
    svc = app.extensions["safety"]
    spec = svc.registry.register("enterprise")
    maps = {}
    with app.test_request_context():
        for index, name in enumerate(names):
            field = spec.field(name)
            if field.type in ("enum", "tree"):
                tree = svc.dictionaries.tree(field.dictionary)
                table = {label: codes[0] for label, codes in tree.by_label.items()}
                if field.type == "tree":
                    table.update({svc.dictionaries.path_label(field.dictionary, c, sep="/", locale="zh_Hans"): c
                                  for c in tree.nodes})
                maps[index] = table
    out = io.StringIO()
    for line in buffer.getvalue().splitlines():
        cells = line.split("\t")
        for index, table in maps.items():
            cells[index] = table.get(cells[index], cells[index])
        out.write("\t".join(cells) + "\n")
    out.seek(0)
    return out


def import_path(app, path: Path, check_only: bool = False) -> tuple[float, object]:
    from app.excel.errors import write_error_workbook
    from app.excel.importer import Importer
    from app.extensions import db

    with app.test_request_context():
        svc = app.extensions["safety"]
        svc.dictionaries.tree("region")  # a running worker has its dictionaries loaded
        start = time.perf_counter()
        importer = Importer(app, svc.registry.register("enterprise"), None, "insert", dry_run=check_only)
        # the import's own commit is turned into a rollback, so the 1,000,000 rows stay as they are
        session = db.session
        session.commit = session.flush  # type: ignore[method-assign]
        stages = {}
        importer.progress = lambda stage, done, total: stages.setdefault(stage, time.perf_counter() - start)
        report = importer.run(path, "企业信息.xlsx")
        if report.problem_count:  # as the import job does
            write_error_workbook(importer, path, "企业信息.xlsx", OUT / "errors" / f"{path.stem}-errors.xlsx")
            stages["error workbook"] = time.perf_counter() - start
        elapsed = time.perf_counter() - start
        print("  stages (s from the start): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
              + f", end {elapsed:.1f}")
        session.rollback()
    return elapsed, report


def vacuum(app) -> None:
    """VACUUM the tables an import writes. Every path here rolls back, which leaves 100,000 dead rows and their
    index entries behind; the next run's unique checks would step over them (the same file's codes), and with
    autovacuum off or behind, each run would be slower than the one before."""
    from app.extensions import db
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.autocommit = True
            cursor = raw.cursor()
            for table in ("reg_enterprise", "sys_audit_log", "ab_user", "ab_user_role"):
                cursor.execute(f"VACUUM {table}")
        finally:
            raw.driver_connection.autocommit = False
            raw.close()


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) / 1024


def child_import(path: Path, check_only: bool = False) -> None:
    """In a fresh process: the app, its dictionaries, then the import; prints one JSON line of figures."""
    app = _app()
    with app.app_context():
        app.extensions["safety"].dictionaries.tree("region")
    before = _rss_mb()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    seconds, report = import_path(app, path, check_only)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "before_mb": before,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "ok": report.ok,
                      "inserted": report.inserted, "refused": report.refused, "problem_count": report.problem_count,
                      "problems": [p.__dict__ for p in report.problems[:3]]}, ensure_ascii=False))


def run_import(path: Path, check_only: bool = False) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child-import", str(path)]
                          + (["--check-only"] if check_only else []), capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    lines = done.stdout.strip().splitlines()
    print("\n".join(lines[:-1]))
    return json.loads(lines[-1])


def _app():
    from app import create_app
    import logging
    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    return create_app("test", SQLALCHEMY_DATABASE_URI=DATABASE_URL, UPLOAD_FOLDER=OUT / "uploads")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--import-only", action="store_true", help="skip the two COPY paths")
    parser.add_argument("--check-only", action="store_true", help="校验: check every row, write nothing")
    parser.add_argument("--bad-every", type=int, default=0, metavar="N",
                        help="make every Nth row wrong and write the error workbook (implies --import-only)")
    parser.add_argument("--varied", action="store_true",
                        help="names, legal representatives and addresses drawn from the register's own rows")
    parser.add_argument("--child-import", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(Path(args.child_import), args.check_only)
        return 0
    args.import_only = args.import_only or bool(args.bad_every)
    app = _app()
    with app.app_context():
        from sqlalchemy import text
        from app.extensions import db
        existing = db.session.execute(text("SELECT count(*) FROM reg_enterprise")).scalar()
    OUT.mkdir(parents=True, exist_ok=True)
    stem = f"import-{args.rows}" + (f"-bad{args.bad_every}" if args.bad_every else "") \
        + ("-varied" if args.varied else "")
    path = OUT / f"{stem}.xlsx"
    if not path.exists():
        make_file(app, args.rows, path, args.bad_every, args.varied)
    print(f"file: {path.name}, {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB; register holds {existing:,} rows")
    vacuum(app)
    figures = run_import(path, args.check_only)
    if args.bad_every:
        assert figures["problem_count"] == args.rows // args.bad_every and not figures["inserted"], figures
    elif args.check_only:
        assert figures["ok"] and not figures["inserted"], figures
    else:
        assert figures["ok"] and figures["inserted"] == args.rows, figures
    import_seconds, peak = figures["seconds"], figures["peak_mb"]
    rate = args.rows / import_seconds
    what = ("check only (校验), nothing written" if args.check_only else "write, audit, enterprise accounts")
    if args.bad_every:
        what += f"; {figures['problem_count']:,} wrong rows, nothing written, the error workbook written"
    print(f"{'check only' if args.check_only else 'full import'}:          {import_seconds:6.2f} s  ({rate:,.0f} "
          f"rows/s; parse, check every cell, dedup against {existing:,} rows, {what})")
    print(f"CPU time of the importing process: {figures['cpu_seconds']:.1f} s (PostgreSQL's own work not included; "
          f"steadier than the wall time on a shared machine)")
    print(f"peak RSS of the importing process: {peak:.0f} MB (the app with its dictionaries held "
          f"{figures['before_mb']:.0f} MB before the import)")
    verdict = [f"{rate:,.0f} rows/s (target >= 3,000)", f"peak RSS {peak:.0f} MB (target < 300 MB)"]
    ok = rate >= 3000 and peak < 300
    if not args.import_only:
        vacuum(app)
        bare_seconds, copied = copy_path(app, path)
        print(f"parse + COPY into a bare table (no index):      {bare_seconds:6.2f} s  "
              f"({copied / bare_seconds:,.0f} rows/s)")
        vacuum(app)
        copy_seconds, copied = copy_path(app, path, into_register=True)
        print(f"parse + COPY into the register (its 26 indexes): {copy_seconds:6.2f} s  "
              f"({copied / copy_seconds:,.0f} rows/s)")
        vacuum(app)
        tuned_seconds, _ = copy_path(app, path, into_register=True, gin_settings=True)
        print(f"the same under the import's trigram-index settings: {tuned_seconds:6.2f} s  "
              f"({copied / tuned_seconds:,.0f} rows/s)")
        ratio = import_seconds / copy_seconds
        print(f"ratio import / COPY into the register: {ratio:.2f}x (under the same trigram-index settings: "
              f"{import_seconds / tuned_seconds:.2f}x);  / COPY into a bare table: {import_seconds / bare_seconds:.2f}x")
        verdict.append(f"{ratio:.2f}x the COPY path into the register (target <= 3x)")
        ok = ok and ratio <= 3
        # the production issue's stricter figures, reported beside the verdict (this machine's COPY alone sets how
        # far the first can go: the import writes the same rows into the same 26 indexes, and more)
        print(f"production targets: >= 10,000 rows/s {'met' if rate >= 10_000 else 'NOT met'} ({rate:,.0f}; the "
              f"COPY path alone {copied / copy_seconds:,.0f}), <= 1.5x the COPY path "
              f"{'met' if ratio <= 1.5 else 'NOT met'} ({ratio:.2f}x)")
    print(f"VERDICT: {'PASS' if ok else 'FAIL'} - " + ", ".join(verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
