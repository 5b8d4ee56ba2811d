"""Hostile uploads are refused as a whole, with a message the user understands (zh_Hans), quickly and without
loading them into memory; the older formats (.xls, .csv in UTF-8 with BOM or GB18030) are read like the template.

The engine runs as the import job runs it (app.excel.importer.Importer, checking only). Memory and time are
measured in a forked copy of the test process, so the peak is that of the refusal alone (ru_maxrss of a child
starts at the child's own size, whatever the tests before did), and a file that makes a native library abort
takes the child down, not the test run.

Not here: an HTTP upload through POST /r/enterprise/import. config.TestConfig keeps Celery's task_always_eager
False (the broker is Redis db 15), so the import job only runs when a worker consumes it; these tests stay at the
Importer level.
"""
from __future__ import annotations

import faulthandler
import os
import pickle
import re
import resource
import signal
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

MB = 1024 * 1024
MEMORY_BUDGET_MB = 150
TIME_BUDGET_S = 20

#: the count is the rows holding values, read to the end of the sheet; "超过 N" when the scan's time budget ran out
ROWS_REFUSED = re.compile(r"^工作表有 (超过 )?([\d,]+) 行，一次最多导入 200,000 行，请拆分文件。$")


@dataclass
class Child:
    """How a piece of work went in a forked copy of this process."""

    kind: str | None            # 'result', 'error' (an exception, as text) or None (the child died)
    value: Any
    growth_mb: float | None     # peak RSS of the child above its size at the fork
    seconds: float | None
    signal: int                 # the signal that ended the child, 0 when it exited


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))


def in_child(flask_app: Any, work: Callable[[], Any], address_space_mb: int | None = None) -> Child:
    """``work()`` in a forked copy of the process, optionally with at most ``address_space_mb`` more address space
    than it has at the fork (RLIMIT_AS), so that a runaway allocation fails there instead of taking the machine."""
    from app.extensions import db
    with flask_app.app_context():
        db.session.remove()          # no connection checked out while forking
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        try:
            os.close(read_end)
            faulthandler.disable()     # a native abort ends the child quietly: the parent reports it
            os.environ["RUST_BACKTRACE"] = "0"
            signal.alarm(120)          # and a child that hangs is ended by the default SIGALRM action
            with flask_app.app_context():
                db.engine.dispose(close=False)  # the parent's pooled connections stay the parent's
            if address_space_mb:
                limit = _vm_size() + address_space_mb * MB
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start = time.monotonic()
            try:
                outcome: tuple[str, Any] = ("result", work())
            except BaseException as exc:  # noqa: BLE001 - reported to the parent as text
                outcome = ("error", f"{type(exc).__name__}: {exc}")
            seconds = time.monotonic() - start
            growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
            try:
                payload = pickle.dumps((outcome, growth, seconds))
            except Exception as exc:  # noqa: BLE001
                payload = pickle.dumps((("error", f"unpicklable result: {exc}"), growth, seconds))
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    ended_by = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    if not payload:
        return Child(None, None, None, None, ended_by)
    (kind, value), growth, seconds = pickle.loads(payload)
    child = Child(kind, value, growth, seconds, ended_by)
    print(f"child: {kind}, peak RSS +{growth:.1f} MB, {seconds:.2f} s")
    return child


def refused(report: Any) -> str:
    assert report.refused, f"not refused: {report.rows} rows, problems {[p.__dict__ for p in report.problems[:5]]}"
    assert not report.ok and report.rows == 0 and not report.problems
    return report.refused


# ---------------------------------------------------------------- size, zip bomb, rows: refused in flat memory

def test_the_measure_sees_memory_and_native_aborts(db_app):
    """The budget assertions below mean something: 200 MB touched in the child show, an abort is reported."""
    child = in_child(db_app, lambda: len(b"x" * (200 * MB)))
    assert child.kind == "result" and child.value == 200 * MB and 195 < child.growth_mb < 260, child
    died = in_child(db_app, os.abort)
    assert (died.kind, died.signal) == (None, signal.SIGABRT)


@pytest.mark.parametrize("name", ["million_rows.xlsx", "million_rows_nodim.xlsx"])
def test_a_million_rows_are_refused_quickly_in_flat_memory(db_app, run_import, excel_files, name):
    with zipfile.ZipFile(excel_files / name) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 90 * MB  # the fixture is what it says
    child = in_child(db_app, lambda: run_import("enterprise", name), address_space_mb=2048)
    assert child.kind == "result", child
    message = refused(child.value)
    match = ROWS_REFUSED.match(message)
    assert match, message
    counted = int(match.group(2).replace(",", ""))
    # the whole sheet was counted, or the time budget stopped the count past the limit: a true figure either way
    assert counted == 1_000_001 if not match.group(1) else 200_020 < counted < 1_000_001, message
    assert child.seconds < TIME_BUDGET_S, child
    assert child.growth_mb < MEMORY_BUDGET_MB, child


def test_a_sheet_over_the_limit_is_refused_with_its_real_row_count(db_app, run_import, excel_files, gen):
    """250,001 rows without a <dimension>: the refusal states what the file holds, not where a scan stopped."""
    with zipfile.ZipFile(excel_files / "rows_250001.xlsx") as archive:
        head = archive.open("xl/worksheets/sheet1.xml").read(4096)
    assert b"<dimension" not in head
    child = in_child(db_app, lambda: run_import("enterprise", "rows_250001.xlsx"), address_space_mb=2048)
    assert child.kind == "result", child
    assert refused(child.value) == f"工作表有 {gen.ROWS_250001:,} 行，一次最多导入 200,000 行，请拆分文件。"
    assert child.growth_mb < MEMORY_BUDGET_MB, child


def test_a_declared_area_with_one_styled_empty_cell_is_not_counted_as_rows(db_app, run_import, excel_files, gen):
    """Three rows, and a fill on the last column's cell of row 1,048,576: the sheet declares a million rows; the
    rows holding values are read."""
    from openpyxl.utils import get_column_letter
    last = get_column_letter(len(gen.import_columns("enterprise")))
    with zipfile.ZipFile(excel_files / "styled_last_row.xlsx") as archive:
        assert f'<dimension ref="A1:{last}1048576"/>'.encode() in archive.read("xl/worksheets/sheet2.xml")
    child = in_child(db_app, lambda: run_import("enterprise", "styled_last_row.xlsx"), address_space_mb=2048)
    assert child.kind == "result", child
    report = child.value
    assert report.refused is None, report.refused
    assert report.ok and report.rows == gen.STYLED_ROWS == 3 and report.valid == 3, report.problems[:3]
    assert child.growth_mb < MEMORY_BUDGET_MB, child


def test_a_zip_bomb_is_refused_before_it_is_inflated(db_app, run_import, excel_files):
    bomb = excel_files / "zip_bomb.xlsx"
    with zipfile.ZipFile(bomb) as archive:
        inflated = sum(info.file_size for info in archive.infolist())
    assert bomb.stat().st_size < 10 * MB and inflated >= 1024 * MB
    child = in_child(db_app, lambda: run_import("enterprise", "zip_bomb.xlsx"), address_space_mb=2048)
    assert child.kind == "result", child
    assert refused(child.value) == f"工作簿解压后为 {inflated // MB} MB，超过允许的 300 MB。"
    assert child.seconds < TIME_BUDGET_S, child
    assert child.growth_mb < MEMORY_BUDGET_MB, child


def test_a_50_mb_workbook_is_refused_by_its_size(run_import, excel_files):
    big = excel_files / "big_50mb.xlsx"
    assert big.stat().st_size >= 50 * MB
    with zipfile.ZipFile(big) as archive:  # a real workbook, padded
        assert "xl/worksheets/sheet2.xml" in archive.namelist()
    started = time.monotonic()
    assert refused(run_import("enterprise", "big_50mb.xlsx")) == "文件大小为 50.0 MB，一次最多导入 30 MB。"
    assert time.monotonic() - started < 2


def test_a_stray_cell_far_away_is_refused_not_allocated(db_app, run_import, excel_files):
    with zipfile.ZipFile(excel_files / "sparse_cells.xlsx") as archive:
        assert archive.getinfo("xl/worksheets/sheet2.xml").file_size < 100 * 1024
    child = in_child(db_app, lambda: run_import("enterprise", "sparse_cells.xlsx"), address_space_mb=2048)
    assert child.kind == "result", f"the import did not come back: {child}"
    assert refused(child.value)
    assert child.growth_mb < MEMORY_BUDGET_MB, child


@pytest.mark.parametrize("name", ["sparse_cells.xls", "wide.csv"])
def test_a_wide_old_format_file_stays_within_the_budget(db_app, run_import, name):
    child = in_child(db_app, lambda: run_import("enterprise", name), address_space_mb=4096)
    assert child.kind == "result", child
    assert child.seconds < TIME_BUDGET_S, child
    assert child.growth_mb < MEMORY_BUDGET_MB, child
    if name.endswith(".xls"):  # one cell at IV65536: refused from its records, before calamine builds the grid
        assert refused(child.value).startswith("工作表的使用区域为 65,536 行 × 256 列"), child.value


# ---------------------------------------------------------------- content that must not be read

def test_a_macro_workbook_renamed_to_xlsx_is_refused(run_import, excel_files):
    with zipfile.ZipFile(excel_files / "macro.xlsx") as archive:
        assert "xl/vbaProject.bin" in archive.namelist()
    assert refused(run_import("enterprise", "macro.xlsx")) == "工作簿中含有宏，请另存为普通 .xlsx 工作簿后重新上传。"


def test_a_macro_workbook_is_refused_by_its_name_too(db_app, excel_files):
    from .conftest import make_importer
    with db_app.test_request_context():
        report = make_importer(db_app, "enterprise").run(excel_files / "macro.xlsx", "企业信息.xlsm")
    assert refused(report) == "不接受含宏的工作簿（.xlsm），请另存为 .xlsx。"


FORMULA_MESSAGE = "该单元格是没有计算结果的公式，请改为粘贴数值（选择性粘贴 → 数值）。"


def test_formulas_without_values_are_not_imported(run_import, gen):
    """openpyxl stores formulas without a computed value: the rows are refused, cell by cell."""
    report = run_import("enterprise", "formulas.xlsx")
    assert report.refused is None and report.rows == 4 and not report.ok
    required = {(row, title) for row, title, _formula in gen.FORMULA_CELLS if title != "从业人数"}
    assert required <= {(p.row, p.title) for p in report.problems}


def test_each_formula_cell_is_reported_as_a_formula(run_import, gen):
    report = run_import("enterprise", "formulas.xlsx")
    expected = {(row, title, FORMULA_MESSAGE) for row, title, _formula in gen.FORMULA_CELLS}
    assert {(p.row, p.title, p.message) for p in report.problems} == expected


def test_a_damaged_workbook_is_refused_with_a_message(run_import):
    assert refused(run_import("enterprise", "damaged.xlsx")).startswith("工作簿已损坏，无法读取")


def test_a_truncated_old_format_workbook_is_refused_with_a_message(run_import, excel_files, tmp_path):
    whole = (excel_files / "enterprise.xls").read_bytes()
    cut = tmp_path / "enterprise.xls"
    cut.write_bytes(whole[:len(whole) // 2])  # the download stopped half way
    assert refused(run_import("enterprise", "enterprise.xls", path=cut)).startswith("工作簿已损坏，无法读取")


# ---------------------------------------------------------------- not the template

def test_an_unrelated_table_is_refused_naming_the_missing_required_columns(run_import, gen):
    missing = "、".join(title for _name, title, required in gen.import_columns("enterprise") if required)
    assert missing == "企业名称、统一社会信用代码、企业类型、属地、企业住所、法定代表人、行业主管部门"
    report = run_import("enterprise", "not_template.xlsx")
    assert refused(report) == f"这不是导入模板：缺少以下必填列：{missing}。请下载模板后填写。"
    assert (report.sheet, report.header_row) == ("通讯录", 2)


def test_data_on_a_sheet_without_the_required_columns_is_refused(run_import):
    report = run_import("enterprise", "wrong_sheet.xlsx")
    assert refused(report) == "这不是导入模板：缺少以下必填列：企业类型、属地、法定代表人、行业主管部门。请下载模板后填写。"
    assert report.sheet == "Sheet1"


# ---------------------------------------------------------------- older formats are read

@pytest.mark.parametrize("name", ["enterprise.xls", "enterprise.csv", "enterprise_gbk.csv"])
def test_xls_and_csv_files_are_read_like_the_template(run_import, excel_files, name):
    raw = (excel_files / name).read_bytes()
    if name == "enterprise.xls":
        assert raw.startswith(b"\xd0\xcf\x11\xe0")          # BIFF in an OLE2 container, not a renamed xlsx
    elif name == "enterprise.csv":
        assert raw.startswith(b"\xef\xbb\xbf")              # Excel's 'CSV UTF-8'
    else:
        raw.decode("gb18030")
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    report = run_import("enterprise", name)
    assert report.refused is None, report.refused
    assert report.ok, [(p.row, p.title, p.message) for p in report.problems]
    assert report.rows == 6 and report.valid == 6 and report.header_row == 1


def test_the_fixture_folder_is_written_once(excel_files, gen):
    """A second call finds every file and returns at once (the files are git-ignored, made by the tests)."""
    started = time.monotonic()
    assert gen.make_excel_fixtures() == excel_files
    assert time.monotonic() - started < 1
    assert all((excel_files / name).exists() for name in gen.FIXTURES)
    assert "tests/fixtures/excel/" in (Path(gen.ROOT) / ".gitignore").read_text().splitlines()


# ---------------------------------------------------------------- XML declarations: entity expansion, external entities

LAUGHS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
          b'<!ENTITY ext SYSTEM "file:///etc/passwd">]>\n')


@pytest.mark.parametrize("part", ["xl/styles.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"])
def test_a_workbook_declaring_entities_is_refused_before_any_parser_expands_them(run_import, excel_files, tmp_path,
                                                                                 part):
    """A 'billion laughs' or external-entity DTD in any part: refused as a whole, whichever parser would have read
    that part (the streaming reader's expat, defusedxml, calamine)."""
    source = excel_files / "enterprise_errors.xlsx"
    hostile = tmp_path / "entities.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(hostile, "w", zipfile.ZIP_DEFLATED) as out:
        names = original.namelist()
        assert part in names
        for name in names:
            data = original.read(name)
            if name == part:
                data = LAUGHS + (data.split(b"?>", 1)[1].lstrip() if data.startswith(b"<?xml") else data)
            out.writestr(name, data)
    message = refused(run_import("enterprise", "entities.xlsx", path=hostile))
    assert message.startswith("工作簿含有 Excel 从不写入的 XML 声明"), message


def test_the_streaming_parser_refuses_a_dtd_itself():
    from app.excel.xlsx_parts import XmlDeclarationRefused, safe_parser
    with pytest.raises(XmlDeclarationRefused):
        safe_parser().Parse(LAUGHS + b"<sst>&lol3;</sst>", True)
