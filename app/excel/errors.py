"""The error workbook: the user's own upload with the refused cells highlighted (each with a comment) and one
错误说明 column, so the user corrects it in place and uploads it again as it is.

An .xlsx upload is loaded and marked by openpyxl, so its other sheets (填写说明, the hidden list sheet), drop-downs,
styles and formulas stay, and every row keeps its number: the page's row numbers are the workbook's. An .xls or
.csv upload (openpyxl cannot write those), or an .xlsx too large to load whole, comes back as an .xlsx copy of its
data sheet's values, each row at its own number, read and written row by row (the first MAX_COPY_COMMENTS refused
cells carry a comment; every refused cell is filled and every refused row has its 错误说明). The 错误说明 column is recognised in every language and
replaced, never added twice, and the import ignores it.

The messages are written in the language of the user who ran the import; beside the workbook a small JSON file
keeps them as message ids and parameters (app.i18n.deferred), so a user who has switched language since downloads
the workbook with its notes and comments in the language they now read (``in_current_language``).
"""
from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from flask import current_app
from flask_babel import gettext as _

from app.i18n import current_locale
from app.i18n.deferred import freeze, render

from .reader import Limits, _read_csv, _read_workbook, clean_header

#: the fill of a refused cell and the font of its note (openpyxl styles: made where a workbook is marked)
BAD_COLOUR, NOTE_COLOUR = "FFC7CE", "9C0006"
AUTHOR = "import"
#: the note column's title in every UI language (a workbook marked in one language may come back in another)
NOTE_TITLES = {"错误说明", "錯誤說明", "Errordescription"}
#: data rows above which an .xlsx is copied by values instead of loaded whole: openpyxl holds every cell (about
#: 400 MB at 100,000 rows), and the import must stay under 300 MB
FULL_WORKBOOK_ROWS = 20_000
#: cell comments in a copy by values: openpyxl builds every comment's drawing in memory when it saves (20,000
#: comments took the import of 200,000 rows from 270 to 385 MB); past these, a refused cell is filled and its row's
#: 错误说明 says why, without a comment
MAX_COPY_COMMENTS = 2_000


def _problems_by_row(importer: Any) -> dict[int, list[Any]]:
    by_row: dict[int, list[Any]] = defaultdict(list)
    for problem in importer.report.all_problems:
        by_row[problem.row].append(problem)
    return by_row


def _note(problems: list[Any]) -> str:
    if current_locale() == "en":
        return "; ".join(f"{p.title + ': ' if p.title else ''}{p.message}" for p in problems)
    return "；".join(f"{p.title + '：' if p.title else ''}{p.message}" for p in problems)


def texts_path(target: Path) -> Path:
    """The error workbook's messages in every language, beside it (in_current_language relabels from them)."""
    return target.with_suffix(".json")


def write_error_workbook(importer: Any, upload: Path, original_name: str, target: Path) -> Path:
    """Write the marked workbook to ``target`` (.xlsx) and return it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if importer.report.rows <= FULL_WORKBOOK_ROWS:
        _write_texts(importer, texts_path(target))
    if Path(original_name).suffix.lower() == ".xlsx" and importer.report.rows <= FULL_WORKBOOK_ROWS:
        try:
            _mark_own_workbook(importer, upload, target)
            return target
        except Exception:  # a workbook calamine reads and openpyxl does not (rare writers): its values instead
            current_app.logger.warning("error workbook: %s not loadable by openpyxl, values copied", original_name,
                                       exc_info=True)
    _write_marked_copy(importer, upload, original_name, target)
    return target


def _mark_own_workbook(importer: Any, upload: Path, target: Path) -> None:
    from openpyxl import load_workbook  # on first use: 0.4 s of every start
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    BAD, NOTE = PatternFill("solid", fgColor=BAD_COLOUR), Font(color=NOTE_COLOUR)
    report = importer.report
    wb = load_workbook(upload)
    ws = wb[report.sheet]
    header = report.header_row
    note_column, last = None, 0
    for cell in ws[header]:
        if cell.value not in (None, ""):
            last = cell.column
            if clean_header(cell.value) in NOTE_TITLES:
                note_column = cell.column
    if note_column is None:
        note_column = last + 1
        ws.column_dimensions[get_column_letter(note_column)].width = 50
    title = ws.cell(row=header, column=note_column, value=_("Error description"))
    title.font = Font(bold=True, color="C00000")
    # the marks of an earlier import of this workbook go: only this import's problems are shown
    for row in ws.iter_rows(min_row=header + 1):
        for cell in row:
            if cell.column == note_column:
                cell.value = None
            elif cell.comment is not None and cell.comment.author == AUTHOR:
                cell.comment, cell.fill = None, PatternFill()
    positions = importer.positions
    for number, problems in _problems_by_row(importer).items():
        for problem in problems:
            if problem.column in positions:
                cell = ws.cell(row=number, column=positions[problem.column] + 1)
                cell.fill = BAD
                text = problem.message if cell.comment is None else f"{cell.comment.text}\n{problem.message}"
                cell.comment = Comment(text, AUTHOR)
        note = ws.cell(row=number, column=note_column, value=_note(problems))
        note.font = NOTE
    wb.save(target)


def _write_marked_copy(importer: Any, upload: Path, original_name: str, target: Path) -> None:
    """The data sheet's values written row by row as they are read (a large upload is streamed, never held)."""
    from openpyxl import Workbook  # on first use: 0.4 s of every start
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    BAD, NOTE = PatternFill("solid", fgColor=BAD_COLOUR), Font(color=NOTE_COLOUR)
    report = importer.report
    limits = Limits(**{k: current_app.config[f"IMPORT_{k.upper()}"] for k in ("stream_cells",)
                       if f"IMPORT_{k.upper()}" in current_app.config})
    if Path(original_name).suffix.lower() == ".csv":
        grid: Iterable[list[Any]] = _read_csv(upload, Limits(max_rows=10 ** 7))[0]
    else:
        grid = _read_workbook(upload, [report.sheet], limits)[1]
    header = report.header_row
    note_index = comments = 0
    by_row = _problems_by_row(importer)
    positions = importer.positions
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(report.sheet[:31])
    for number, values in enumerate(grid, start=1):
        values = [None if v == "" else v for v in values]
        if number == header:
            titles = [clean_header(v) for v in values]
            note_index = next((i for i, t in enumerate(titles) if t in NOTE_TITLES), len(titles))
        values += [None] * (note_index + 1 - len(values))
        cells = [WriteOnlyCell(ws, value=v) for v in values]
        if number == header:
            cells[note_index] = WriteOnlyCell(ws, value=_("Error description"))
            cells[note_index].font = Font(bold=True, color="C00000")
        elif number > header:
            problems = by_row.get(number, [])
            for problem in problems:
                if problem.column in positions:
                    cell = cells[positions[problem.column]]
                    cell.fill = BAD
                    if comments < MAX_COPY_COMMENTS:
                        cell.comment = Comment(problem.message, AUTHOR)
                        comments += 1
            cells[note_index] = WriteOnlyCell(ws, value=_note(problems) if problems else None)
            cells[note_index].font = NOTE
        ws.append(cells)
    wb.save(target)


def _write_texts(importer: Any, path: Path) -> None:
    """The problems as message ids and parameters, for showing the workbook in another language later."""
    report = importer.report
    problems = [{"row": p.row, "position": importer.positions.get(p.column), "title": freeze(p.title),
                 "message": freeze(p.message)} for p in report.all_problems]
    path.write_text(json.dumps({"locale": current_locale(), "sheet": report.sheet, "header_row": report.header_row,
                                "problems": problems}, ensure_ascii=False, default=str), encoding="utf-8")


class _Shown:
    """One stored problem rendered in the current language (what _note reads)."""

    def __init__(self, stored: dict[str, Any]):
        self.title, self.message = render(stored["title"]) or "", render(stored["message"])


def in_current_language(workbook: Path) -> io.BytesIO | None:
    """The error workbook with its notes and comments in the current language; None when it is already in it (or
    was too large to keep its messages), and the file is sent as it is."""
    from openpyxl import load_workbook  # on first use: 0.4 s of every start
    from openpyxl.comments import Comment
    texts = texts_path(workbook)
    if not texts.exists():
        return None
    data = json.loads(texts.read_text(encoding="utf-8"))
    if data["locale"] == current_locale():
        return None
    wb = load_workbook(workbook)
    ws = wb[data["sheet"]] if data["sheet"] in wb.sheetnames else wb.worksheets[0]
    header = data["header_row"]
    note_column = next((c.column for c in ws[header] if clean_header(c.value) in NOTE_TITLES), None)
    if note_column is None:
        return None
    ws.cell(row=header, column=note_column, value=_("Error description"))
    by_row: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for stored in data["problems"]:
        by_row[stored["row"]].append(stored)
    for number, stored_problems in by_row.items():
        shown = [_Shown(p) for p in stored_problems]
        ws.cell(row=number, column=note_column).value = _note(shown)
        comments: dict[int, list[str]] = defaultdict(list)
        for stored, problem in zip(stored_problems, shown):
            if stored["position"] is not None:
                comments[stored["position"] + 1].append(problem.message)
        for column, messages in comments.items():
            cell = ws.cell(row=number, column=column)
            if cell.comment is not None and cell.comment.author == AUTHOR:
                cell.comment = Comment("\n".join(messages), AUTHOR)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer
