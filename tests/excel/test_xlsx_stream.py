"""The streaming .xlsx reader (large sheets) gives exactly the rows calamine gives (small sheets), on workbooks from
the writers people use, and an import above the streaming threshold (lowered here) checks, refuses, marks and
writes its rows as any import does."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tests.helpers import visible_text

from .test_import import _count, _upload
from .workbook import enterprise_row, fill

#: fixtures calamine reads (the hostile ones, sparse_cells.xlsx among them, are refused before any parser sees them)
READABLE = ["chemicals.xlsx", "enterprise_errors.xlsx", "enterprise_messy.xlsx", "errors_workbook.xlsx",
            "formulas.xlsx", "many_problems.xlsx", "not_template.xlsx", "personnel.xlsx",
            "styled_last_row.xlsx", "upsert_blank.xlsx", "wrong_sheet.xlsx", "加油站检查清单.xlsx"]

ROWS = [
    ["名称", "日期", "时间", "日期时间", "数量", "金额", "是否", "备注"],
    ["常州甲（有限）公司", date(2024, 1, 31), time(9, 30), datetime(2024, 1, 31, 9, 30), 12, 100.5, True, " 前后空格 "],
    ["a&b<c>\"d'", date(1900, 1, 1), time(0, 0, 1), datetime(1904, 1, 2, 0, 0), -3, 1e-7, False, None],
    [None, None, None, None, None, None, None, None],  # a blank row in the middle
    ["重复", date(1999, 12, 31), None, None, 0, 12345678901234.5, None, "重复"],
    ["重复", None, None, None, None, None, None, "第二行\n换行"],
]


def _calamine(path: Path, sheet: str) -> list[list]:
    import python_calamine

    from app.excel.reader import _rows_from_a1
    return list(_rows_from_a1(python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet)))


def _streamed(path: Path, sheet: str) -> list[list]:
    from app.excel.reader import Limits, _scan_sheet, _xlsx_members
    from app.excel.xlsx_stream import stream_rows
    member = _xlsx_members(path)[sheet]
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        area = _scan_sheet(handle, Limits(), 10 ** 12)
    return list(stream_rows(path, member, area.widest))


def _same(path: Path) -> None:
    from app.excel.reader import _xlsx_members
    for sheet in _xlsx_members(path):
        expected, got = _calamine(path, sheet), _streamed(path, sheet)
        assert got == expected, (path.name, sheet)
        assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]


def _openpyxl_file(path: Path, epoch_1904: bool = False) -> Path:
    wb = openpyxl.Workbook()
    if epoch_1904:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "数据"
    for r, row in enumerate(ROWS, start=3):  # two empty rows and two empty columns before the data
        for c, value in enumerate(row, start=3):
            if value is not None:
                ws.cell(row=r, column=c, value=value)
    ws.cell(row=5, column=7).number_format = "0.00%"
    ws.cell(row=20, column=4).style = "Percent"  # a styled empty cell far below: not a row
    ws["K9"] = "=C4&D4"  # a formula openpyxl stores without a value: "" in both
    wb.save(path)
    return path


def _xlsxwriter_file(path: Path, inline: bool, epoch_1904: bool = False) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": inline, "date_1904": epoch_1904})
    ws = wb.add_worksheet("数据")
    formats = {date: wb.add_format({"num_format": "yyyy\"年\"m\"月\"d\"日\""}),
               time: wb.add_format({"num_format": "hh:mm:ss"}),
               datetime: wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})}
    duration = wb.add_format({"num_format": "[h]:mm"})
    for r, row in enumerate(ROWS):
        for c, value in enumerate(row):
            if isinstance(value, (date, time)):
                ws.write_datetime(r, c, value, formats[type(value)])
            elif value is not None:
                ws.write(r, c, value)
    ws.write_number(len(ROWS), 0, 1.25, duration)
    ws.write_formula(len(ROWS), 1, "=1+1", None, 2)
    wb.close()
    return path


@pytest.mark.parametrize("name", READABLE)
def test_the_fixtures_read_the_same_streamed_and_with_calamine(name, excel_files):
    _same(excel_files / name)


@pytest.mark.parametrize("writer", ["openpyxl", "openpyxl-1904", "xlsxwriter-shared", "xlsxwriter-inline",
                                    "xlsxwriter-1904"])
def test_dates_numbers_text_and_blanks_read_the_same_from_each_writer(tmp_path, writer):
    path = tmp_path / f"{writer}.xlsx"
    if writer.startswith("openpyxl"):
        _openpyxl_file(path, epoch_1904=writer.endswith("1904"))
    else:
        _xlsxwriter_file(path, inline=writer.endswith("inline"), epoch_1904=writer.endswith("1904"))
    _same(path)
    rows = _streamed(path, "数据")
    first = 2 if writer.startswith("openpyxl") else 0   # openpyxl's data starts at C3
    assert rows[first + 1][first:first + 7] == ["常州甲（有限）公司", date(2024, 1, 31), time(9, 30),
                                                datetime(2024, 1, 31, 9, 30), 12.0, 100.5, True]
    assert rows[first + 2][first] == "a&b<c>\"d'" and rows[first + 3] == [""] * len(rows[first + 3])


def test_a_sheet_in_another_shape_is_parsed_by_expat_with_the_same_values(tmp_path):
    """Cells whose attributes the fast pattern does not expect (here two spaces) go through the XML parser."""
    from app.excel import xlsx_stream
    plain = _openpyxl_file(tmp_path / "plain.xlsx")
    odd = tmp_path / "odd.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(odd, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<c r=", b"<c  r=")
            target.writestr(info, data)
    assert _streamed(odd, "数据") == _streamed(plain, "数据") == _calamine(plain, "数据")
    assert not xlsx_stream.FAST_CELL.search(zipfile.ZipFile(odd).read("xl/worksheets/sheet1.xml"))


def test_row_numbers_are_excels_when_the_sheet_starts_below_row_1(tmp_path):
    """calamine's rows start at row 1 even when the first used row is lower: the header found on row 5 is row 5."""
    from app.excel.reader import Limits, read_sheet
    path = _openpyxl_file(tmp_path / "low.xlsx")
    for stream_cells in (10 ** 9, 0):  # calamine, then streamed
        sheet, positions = read_sheet(path, "low.xlsx", {"name": {"名称"}, "note": {"备注"}}, ["数据"],
                                      Limits(stream_cells=stream_cells))
        rows = list(sheet.rows)
        assert sheet.header_row == 3 and positions == {"name": 2, "note": 9}
        assert [number for number, _cells in rows] == [4, 5, 7, 8]
        assert rows[0][1][2] == "常州甲（有限）公司" and rows[0][1][9] == " 前后空格 "


def test_a_large_import_is_streamed_and_checked_marked_and_written_like_any_other(admin, db_app, monkeypatch):
    """Above IMPORT_STREAM_CELLS (lowered to 0: every sheet streams) and in 4 KB chunks of XML: the problems at
    their rows, the marked copy of a large file at the same rows (comments on the first ones only), check-only
    writing nothing, then every row."""
    from app.excel import errors, xlsx_stream
    monkeypatch.setitem(db_app.config, "IMPORT_STREAM_CELLS", 0)
    monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(errors, "FULL_WORKBOOK_ROWS", 2)
    monkeypatch.setattr(errors, "MAX_COPY_COMMENTS", 1)
    template = admin.get("/r/enterprise/template").data
    rows = [enterprise_row(n) for n in range(1, 1201)]
    rows[699] = enterprise_row(700, enterprise_type="燃气公司")
    rows[1199] = enterprise_row(1, name="第二次出现")
    job_url, page = _upload(admin, "enterprise", fill(template, rows))
    assert "2 行中发现 2 个问题，未写入任何数据" in page, page[-600:]
    assert "1200 / 1200" in page
    assert "“燃气公司”不在可选范围内" in page and "重复于文件第 2 行" in page
    marked = openpyxl.load_workbook(io.BytesIO(admin.get(job_url + "/file").data)).worksheets[0]
    header = [c.value for c in marked[1]]
    notes = [r for r in range(2, marked.max_row + 1) if marked.cell(row=r, column=len(header)).value]
    assert header[-1] == "错误说明" and notes == [701, 1201]
    assert marked.cell(row=701, column=1).value == "常州测试化工700有限公司"
    # every refused cell filled; comments on the first MAX_COPY_COMMENTS only (the 错误说明 column says the rest)
    assert "燃气公司" in marked.cell(row=701, column=3).comment.text
    assert marked.cell(row=1201, column=2).fill.fgColor.rgb.endswith("FFC7CE")
    assert marked.cell(row=1201, column=2).comment is None
    assert _count(db_app, "enterprise") == 0

    rows[699], rows[1199] = enterprise_row(700), enterprise_row(1200)
    _, page = _upload(admin, "enterprise", fill(template, rows), dry_run=True)
    assert "校验通过；仅校验，未写入数据" in page and _count(db_app, "enterprise") == 0
    _, page = _upload(admin, "enterprise", fill(template, rows))
    assert "完成：新增 1,200 条" in page or "完成：新增 1200 条" in page, visible_text(page)[:400]
    assert _count(db_app, "enterprise") == 1200
