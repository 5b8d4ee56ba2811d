"""The uploaded rows back as a workbook with an 错误说明 column and the refused cells highlighted, so the user
corrects them in place and uploads again."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from .reader import Limits, read_sheet

BAD = PatternFill("solid", fgColor="FFC7CE")
NOTE = Font(color="9C0006")


def write_error_workbook(importer: Any, upload: Path, original_name: str, target: Path) -> Path:
    titles = {c.name: c.titles() for c in importer.columns}
    sheet, positions = read_sheet(upload, original_name, titles, [], Limits(max_rows=10 ** 7))
    by_row: dict[int, list[Any]] = defaultdict(list)
    for problem in importer.report.problems:
        by_row[problem.row].append(problem)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet.name[:31])
    header = [WriteOnlyCell(ws, value=title) for title in sheet.headers]
    note_title = WriteOnlyCell(ws, value=_("Error description"))
    note_title.font = Font(bold=True, color="C00000")
    ws.append(header + [note_title])
    for number, raw in sheet.rows:
        problems = by_row.get(number, [])
        bad_columns = {positions.get(p.column): p for p in problems if p.column in positions}
        cells = []
        for index, value in enumerate(raw):
            cell = WriteOnlyCell(ws, value=value)
            if index in bad_columns:
                cell.fill = BAD
                cell.comment = Comment(bad_columns[index].message, "import")
            cells.append(cell)
        note = WriteOnlyCell(ws, value="；".join(f"{p.title + '：' if p.title else ''}{p.message}" for p in problems)
                             if problems else None)
        note.font = NOTE
        ws.append(cells + [note])
    target.parent.mkdir(parents=True, exist_ok=True)
    wb.save(target)
    return target
