"""Read an uploaded spreadsheet safely: refuse hostile files before parsing, find the header row, give raw rows.

xlsx/xls are parsed by python-calamine (12× faster than openpyxl), csv by the standard library. Size, the
uncompressed size of the zip, macros and the row count are checked before anything is loaded into memory.

calamine holds a whole sheet in memory before its first row is read (about 70 bytes a cell: 350 MB for 200,000
rows of the enterprise template). An .xlsx sheet whose used area (rows holding values × the widest column holding
one, measured by the scan that checks the file) is over ``Limits.stream_cells`` (IMPORT_STREAM_CELLS, 500,000
cells: about 30,000 rows of 17 columns) is therefore streamed by app.excel.xlsx_stream instead, which gives the same
values chunk by chunk at about 1.6× calamine's CPU time; smaller sheets keep calamine's speed.
"""
from __future__ import annotations

import csv
import io
import itertools
import re
import struct
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator
from defusedxml.ElementTree import iterparse

from app.i18n.deferred import gettext as _

EXCEL_TYPES = (".xlsx", ".xls", ".csv")


class UnreadableFile(Exception):
    """The file is refused as a whole (type, size, content); the message is for the user."""


@dataclass
class Limits:
    max_bytes: int = 30 * 1024 * 1024
    max_uncompressed: int = 300 * 1024 * 1024
    max_ratio: int = 200
    max_rows: int = 200_000
    #: rows × columns of a sheet's used area: a parser holds the area densely (one stray cell at XFD200000
    #: would be 3 billion cells)
    max_cells: int = 10_000_000
    max_columns: int = 16_384
    #: seconds the row count of an .xlsx may take once it is over max_rows (a refusal states the count it reached)
    scan_seconds: float = 10.0
    #: an .xlsx sheet whose used area has more cells is streamed (app.excel.xlsx_stream) rather than loaded whole
    #: by calamine (see the module docstring)
    stream_cells: int = 500_000


@dataclass
class Sheet:
    """The data rows of the template's sheet: header cells as written and each row with its Excel number."""

    name: str
    header_row: int                       # 1-based row of the header in the file
    headers: list[str]
    #: read once, as they are consumed (a large sheet is never held as a whole)
    rows: Iterator[tuple[int, list[Any]]] = field(default_factory=lambda: iter(()))
    #: rows below the header in the used area, blank ones included (for progress)
    expected_rows: int = 0
    #: (row, column) of cells holding a formula whose result was never computed (a program wrote it, not Excel)
    formulas: set[tuple[int, int]] = field(default_factory=set)


def clean_header(value: Any) -> str:
    """A header cell without required marks, spaces and width differences: '*企业名称 ' → '企业名称'."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = re.sub(r"\s+", "", text)
    return text.strip("*＊")


def _check_zip(path: Path, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise UnreadableFile(_("The file is not an Excel workbook (.xlsx) even though its name says so."))
    with archive:
        names = archive.namelist()
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise UnreadableFile(_("The workbook contains macros; save it as a plain .xlsx workbook and upload again."))
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
            raise UnreadableFile(_("The file is not an Excel workbook (.xlsx) even though its name says so."))
        total = sum(info.file_size for info in archive.infolist())
        packed = sum(info.compress_size for info in archive.infolist()) or 1
        if total > limits.max_uncompressed or total / packed > limits.max_ratio:
            raise UnreadableFile(_("The workbook unpacks to %(size)s MB, more than the %(limit)s MB allowed.",
                                   size=total // (1024 * 1024), limit=limits.max_uncompressed // (1024 * 1024)))
        for name in names:
            if name.endswith((".xml", ".rels")) and _declares_a_dtd(archive, name):
                raise UnreadableFile(_("The workbook contains XML declarations (a DTD or entities) that Excel never "
                                       "writes; it is refused for safety. Open it in Excel, save it again and upload "
                                       "the saved file."))


def _declares_a_dtd(archive: zipfile.ZipFile, name: str) -> bool:
    """A DTD (entity expansion: 'billion laughs', external entities) can only stand before an XML part's root
    element, so the part's head tells; every parser behind this one refuses DTDs too (defusedxml, expat handlers)."""
    with archive.open(name) as handle:
        head = handle.read(4096)
    return b"<!DOCTYPE" in head or b"<!ENTITY" in head


#: a row holding at least one cell with a value, inline text or a formula; a styled empty cell
#: (<c r="T1048576" s="1"/>, or <c …></c> as openpyxl writes it) holds nothing and makes no row
VALUE_ROW = re.compile(rb'<row(?:\s[^>]*)?(?<!/)>\s*(?:<c\s[^>]*(?:/>|>\s*</c>)\s*)*<c\s[^>]*>\s*<(?:v|is|f)[\s>/]')
#: a cell holding a value (a formula without its computed value holds none: calamine's area leaves it out too), as
#: every common writer writes it (r first); OTHER_CELL finds a cell written otherwise, then VALUE_CELL_ANY measures
VALUE_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})\d+"[^>]*(?<!/)>\s*(?:<f[^>]*(?:/>|>[^<]*</f>)\s*)?'
                               rb'(?:<v>[^<]|<is[\s>])')
VALUE_CELL_ANY = re.compile(rb'<c\s(?:[^>]*?\s)?r="([A-Z]{1,3})\d+"[^>]*(?<!/)>\s*(?:<f[^>]*(?:/>|>[^<]*</f>)\s*)?'
                            rb'(?:<v>[^<]|<is[\s>])')
OTHER_CELL = re.compile(rb'<c\s(?!r=")')
ROW_NUMBER = re.compile(rb'<row[^>]*?\sr="(\d+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


@dataclass
class _SheetArea:
    """What the streaming scan of one worksheet found: rows holding values, where the last of them is, the widest
    column holding a value, and whether it was read to its end (the time budget may stop it)."""

    rows: int = 0
    last_row: int = 0
    widest: int = 0
    formulas: bool = False
    complete: bool = True


def _scan_sheet(handle: Any, limits: Limits, deadline: float) -> _SheetArea:
    """Stream one worksheet's XML and measure its area by the cells that hold something, not by its declared
    <dimension> or its styled empty cells (a parser skips those). Whole rows are cut at a '<row' boundary, so a row
    is never split between two chunks. Past the row limit only rows are counted, so the refusal states the real
    count; the time budget stops a sheet of hundreds of MB of empty rows."""
    area = _SheetArea()
    ordinal, tail, over = 0, b"", False
    while True:
        chunk = handle.read(1024 * 1024)
        window = tail + chunk
        cut = window.rfind(b"<row") if chunk else len(window)
        if cut <= 0 and chunk:
            if len(window) < 16 * 1024 * 1024:
                tail = window  # no row starts in this window yet (the sheet's head, or one very long row)
                continue
            cut = len(window)  # not a sheet a spreadsheet program writes: measured as it comes
        body, tail = window[:cut], window[cut:]
        found = VALUE_ROW.findall(body)
        area.rows += len(found)
        if not over:
            area.formulas = area.formulas or b"<f>" in body or b"<f " in body
            columns = set((VALUE_CELL_ANY if OTHER_CELL.search(body) else VALUE_CELL_COLUMN).findall(body))
            if columns:
                area.widest = max(area.widest, max(_column_number(c) for c in columns))
            ordinal += body.count(b"<row ") + body.count(b"<row>")
            if found:
                number = ROW_NUMBER.match(found[-1])
                # rows written without r="…" are numbered by their position, as a parser numbers them
                area.last_row = int(number.group(1)) if number else ordinal
            over = area.rows > limits.max_rows + 20
        if not chunk:
            return area
        if over and time.monotonic() > deadline:
            area.complete = False
            return area


def _xlsx_scan(path: Path, limits: Limits) -> tuple[int, bool, set[tuple[int, int]], dict[str, _SheetArea]]:
    """The largest count of rows holding values among the worksheets, whether that count is complete (the time
    budget may stop a huge sheet), the cells holding a formula without a computed value, and each worksheet's
    area by its zip member.

    The XML is streamed in chunks (nothing is kept in memory); rows are found by a regular expression (C speed),
    and only a sheet that contains formulas at all is parsed for them."""
    most = 0
    formulas: set[tuple[int, int]] = set()
    areas: dict[str, _SheetArea] = {}
    deadline = time.monotonic() + limits.scan_seconds
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            with archive.open(name) as handle:
                area = areas[name] = _scan_sheet(handle, limits, deadline)
            if area.rows > limits.max_rows + 20:
                return area.rows, area.complete, formulas, areas
            if area.last_row * max(area.widest, 1) > limits.max_cells or area.widest > limits.max_columns:
                raise UnreadableFile(_too_wide(area.last_row, area.widest, limits))
            most = max(most, area.rows)
            if area.formulas:
                formulas |= _formula_cells(archive, name)
    return most, True, formulas, areas


#: BIFF records that hold a cell and start with its row and column (2 bytes each)
_XLS_CELLS = {0x0006, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00D6, 0x00BD, 0x00BE}
_XLS_MULTI = {0x00BD, 0x00BE}  # MULRK, MULBLANK: a run of cells whose last column ends the record
_XLS_DIMENSIONS, _XLS_BOF = 0x0200, 0x0809


def _xls_used_area(path: Path) -> tuple[int, int]:
    """The largest used area (rows, columns) of the worksheets of an Excel 97-2003 workbook, from its BIFF records.

    calamine builds each sheet as a dense grid of its used area: one cell far from the data would cost gigabytes
    before a row is checked. Both the declared area (DIMENSIONS) and the cells actually present count, so a file
    that under-declares is measured too. The records are walked without decoding any value."""
    import olefile
    try:
        with olefile.OleFileIO(str(path)) as container:
            name = next((n for n in ("Workbook", "Book") if container.exists(n)), None)
            if name is None:
                raise UnreadableFile(_("The file is not an Excel 97-2003 workbook (.xls) even though its name says "
                                       "so."))
            data = container.openstream(name).read()
    except (OSError, ValueError, struct.error) as exc:  # olefile reports a malformed container so
        raise UnreadableFile(_("The workbook is damaged and cannot be read; open it in Excel, save it again "
                               "and upload the saved file. (%(reason)s)", reason=str(exc)[:120]))
    rows = columns = sheet_rows = sheet_columns = 0
    offset, end = 0, len(data) - 4
    while offset <= end:
        kind, length = struct.unpack_from("<HH", data, offset)
        body = offset + 4
        if kind == _XLS_BOF:  # a new substream (the globals, then one per sheet)
            rows, columns = max(rows, sheet_rows), max(columns, sheet_columns)
            sheet_rows = sheet_columns = 0
        elif kind == _XLS_DIMENSIONS and length >= 14:  # BIFF8: first row, last row + 1 (4 bytes); columns (2)
            (last_row,), (last_column,) = struct.unpack_from("<I", data, body + 4), struct.unpack_from("<H", data,
                                                                                                       body + 10)
            sheet_rows, sheet_columns = max(sheet_rows, last_row), max(sheet_columns, last_column)
        elif kind == _XLS_DIMENSIONS and length >= 10:  # BIFF5: 2-byte rows
            last_row, _first, last_column = struct.unpack_from("<HHH", data, body + 2)
            sheet_rows, sheet_columns = max(sheet_rows, last_row), max(sheet_columns, last_column)
        elif kind in _XLS_CELLS and length >= 4 and body + length <= len(data):
            row, column = struct.unpack_from("<HH", data, body)
            if kind in _XLS_MULTI and length >= 6:
                column = struct.unpack_from("<H", data, body + length - 2)[0]
            sheet_rows, sheet_columns = max(sheet_rows, row + 1), max(sheet_columns, column + 1)
        offset = body + length
    return max(rows, sheet_rows), max(columns, sheet_columns)


def _too_wide(rows: int, columns: int, limits: Limits) -> str:
    return _("The sheet's used area is %(rows)s rows × %(columns)s columns, more than %(cells)s cells: a cell far "
             "from the data (or a whole formatted column) makes it so. Delete the empty rows and columns after the "
             "data and upload again.", rows=f"{rows:,}", columns=f"{columns:,}", cells=f"{limits.max_cells:,}")


def _formula_cells(archive: zipfile.ZipFile, name: str) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    with archive.open(name) as handle:
        for _event, element in iterparse(handle, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "row":
                element.clear()
            elif tag == "c" and len(found) < 1000:
                children = {child.tag.rsplit("}", 1)[-1]: child.text for child in element}
                # a program that writes a formula stores no result (or an empty one): Excel computes it on opening
                if "f" in children and not children.get("v"):
                    found.add(_cell_position(element.get("r", "")))
    return found


def _cell_position(ref: str) -> tuple[int, int]:
    """'C12' → (12, 2): 1-based row, 0-based column."""
    match = re.match(r"([A-Z]+)(\d+)", ref)
    if not match:
        return (0, 0)
    column = 0
    for char in match.group(1):
        column = column * 26 + ord(char) - 64
    return int(match.group(2)), column - 1


def check_file(path: Path, original_name: str, limits: Limits
               ) -> tuple[str, set[tuple[int, int]], dict[str, _SheetArea]]:
    """Refuse what must not be parsed; returns the kind ('xlsx', 'xls', 'csv'), the formula cells that carry no
    computed value and (.xlsx) each worksheet's area by its zip member."""
    suffix = Path(original_name).suffix.lower()
    if suffix == ".xlsm":
        raise UnreadableFile(_("Macro-enabled workbooks (.xlsm) are not accepted; save it as .xlsx."))
    if suffix not in EXCEL_TYPES:
        raise UnreadableFile(_("Upload the template as an Excel file (.xlsx); %(ext)s files are not accepted.",
                               ext=suffix or _("files without extension")))
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise UnreadableFile(_("The file has %(size)s MB; at most %(limit)s MB can be imported at once.",
                               size=round(size / 1024 / 1024, 1), limit=limits.max_bytes // (1024 * 1024)))
    with path.open("rb") as handle:
        magic = handle.read(8)
    if suffix == ".xlsx":
        if not magic.startswith(b"PK"):
            raise UnreadableFile(_("The file is not an Excel workbook (.xlsx) even though its name says so."))
        _check_zip(path, limits)
        try:
            most, complete, formulas, areas = _xlsx_scan(path, limits)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise UnreadableFile(_("The workbook is damaged and cannot be read; open it in Excel, save it again "
                                   "and upload the saved file. (%(reason)s)", reason=str(exc)[:120]))
        if most > limits.max_rows + 20:
            counted = f"{most:,}" if complete else _("more than %(n)s", n=f"{most:,}")
            raise UnreadableFile(_("The sheet has %(rows)s rows; at most %(limit)s rows can be imported at once. "
                                   "Split the file.", rows=counted, limit=f"{limits.max_rows:,}"))
        return "xlsx", formulas, areas
    if suffix == ".xls":
        if not magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise UnreadableFile(_("The file is not an Excel 97-2003 workbook (.xls) even though its name says so."))
        rows, columns = _xls_used_area(path)
        if rows > limits.max_rows + 20:
            raise UnreadableFile(_("The sheet has %(rows)s rows; at most %(limit)s rows can be imported at once. "
                                   "Split the file.", rows=f"{rows:,}", limit=f"{limits.max_rows:,}"))
        if rows * columns > limits.max_cells or columns > limits.max_columns:
            raise UnreadableFile(_too_wide(rows, columns, limits))
        return "xls", set(), {}
    return "csv", set(), {}


def _read_csv(path: Path, limits: Limits) -> tuple[Iterator[list[Any]], int]:
    """The rows of a CSV file, parsed as they are consumed, and how many there are: the file is checked (columns,
    rows) by a first pass that keeps nothing, so a large file is never a Python grid."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile(_("The CSV file is neither UTF-8 nor GB18030 text."))
    del raw
    for line in io.StringIO(text):
        # counted before parsing: a line of ten million commas must not become ten million cells
        if line.count(",") >= limits.max_columns:
            raise UnreadableFile(_("A line of the CSV file has %(n)s columns; at most %(limit)s are read.",
                                   n=f"{line.count(',') + 1:,}", limit=f"{limits.max_columns:,}"))
    csv.field_size_limit(1024 * 1024)
    count = 0
    for row in csv.reader(io.StringIO(text)):
        if len(row) > limits.max_columns:
            raise UnreadableFile(_("A line of the CSV file has %(n)s columns; at most %(limit)s are read.",
                                   n=f"{len(row):,}", limit=f"{limits.max_columns:,}"))
        count += 1
        if count > limits.max_rows + 20:
            raise UnreadableFile(_("The sheet has %(rows)s rows; at most %(limit)s rows can be imported at once. "
                                   "Split the file.", rows=_("more than %(n)s", n=f"{limits.max_rows:,}"),
                                   limit=f"{limits.max_rows:,}"))
    return csv.reader(io.StringIO(text)), count


def _read_workbook(path: Path, sheet_titles: Iterable[str], limits: Limits,
                   areas: dict[str, _SheetArea] | None = None) -> tuple[str, Iterator[list[Any]], int]:
    """The chosen sheet's rows from A1, one list at a time, and the number of the last row holding a value.

    A large .xlsx sheet (see the module docstring) is streamed; any other sheet is parsed by calamine, which holds
    it in its compact form while Python objects are made per row as they are consumed. ``areas`` are the scan's
    (the sheet is scanned here when they are not given)."""
    members = _xlsx_members(path)  # None for an .xls
    if members:
        chosen = _choose_sheet(list(members), sheet_titles)
        member = members[chosen]
        area = (areas or {}).get(member)
        if area is None and member:
            with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
                area = _scan_sheet(handle, limits, time.monotonic() + limits.scan_seconds)
        if area is not None and area.last_row * max(area.widest, 1) > limits.stream_cells:
            from .xlsx_stream import stream_rows  # reading uploads alone: not loaded at start-up
            return chosen, stream_rows(path, member, area.widest), area.last_row
    import python_calamine
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # a damaged or password-protected file: calamine says which
        raise UnreadableFile(_("The workbook cannot be read: %(reason)s", reason=str(exc)[:200]))
    chosen = _choose_sheet(workbook.sheet_names, sheet_titles)
    sheet = workbook.get_sheet_by_name(chosen)
    return chosen, _rows_from_a1(sheet), (sheet.end[0] + 1 if sheet.end else 0)


def _xlsx_members(path: Path) -> dict[str, str] | None:
    """Sheet name → worksheet member of an .xlsx (workbook order), or None when the workbook's own parts cannot be
    read (calamine then reads it, or says why it cannot)."""
    from .xlsx_parts import workbook_sheets  # reading uploads alone: not loaded at start-up
    try:
        with zipfile.ZipFile(path) as archive:
            sheets, _1904, _parts = workbook_sheets(archive)
    except Exception:  # noqa: BLE001 - any damage here is calamine's to report
        return None
    return dict(sheets) or None


def _choose_sheet(names: list[str], sheet_titles: Iterable[str]) -> str:
    """The template's data sheet: the one named as the register's sheet, else the first that is not the
    instructions."""
    wanted = {clean_header(t) for t in sheet_titles}
    chosen = next((n for n in names if clean_header(n) in wanted), None)
    if chosen is None:
        chosen = next((n for n in names if clean_header(n) not in INSTRUCTION_TITLES), names[0] if names else None)
    if chosen is None:
        raise UnreadableFile(_("The workbook has no sheet."))
    return chosen


def _rows_from_a1(sheet: Any) -> Iterator[list[Any]]:
    # iter_rows starts at row 1 (python-calamine 0.9 yields the empty rows above the first used cell) but at the
    # first used column: the empty columns before it keep the columns as Excel shows them
    first_column = (sheet.start or (0, 0))[1]
    pad = [""] * first_column
    for row in sheet.iter_rows():
        yield pad + row if first_column else row


INSTRUCTION_TITLES = {"填写说明", "填寫說明", "Instructions", "下拉选项", "下拉選項", "Lists"}


def read_sheet(path: Path, original_name: str, expected: dict[str, set[str]], sheet_titles: Iterable[str],
               limits: Limits) -> tuple[Sheet, dict[str, int]]:
    """The data sheet and, for each expected column (name → accepted titles), its index in the rows."""
    kind, formulas, areas = check_file(path, original_name, limits)
    if kind == "csv":
        grid, height = _read_csv(path, limits)
        name = Path(original_name).stem
    else:
        name, grid, height = _read_workbook(path, sheet_titles, limits, areas)
    top = list(itertools.islice(grid, 15))
    titles = {clean_header(t): column for column, accepted in expected.items() for t in accepted}
    # the header is the first of the top rows that names most columns (title rows may sit above it)
    best, best_hits = None, 0
    for index, row in enumerate(top):
        hits = sum(1 for cell in row[:200] if cell not in (None, "") and clean_header(cell) in titles)
        if hits > best_hits:
            best, best_hits = index, hits
    if best is None or best_hits == 0:
        raise UnreadableFile(_("This is not the template: no column title was recognised on sheet '%(sheet)s'. "
                               "Download the template and fill it in.", sheet=name))
    header = [str(c or "").strip() for c in top[best]]
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        column = titles.get(clean_header(cell))
        if column and column not in positions:
            positions[column] = index
    sheet = Sheet(name=name, header_row=best + 1, headers=header, formulas=formulas,
                  expected_rows=max(height - best - 1, 0),
                  rows=_data_rows(itertools.chain(top[best + 1:], grid), best + 2, header, positions, limits))
    return sheet, positions


def _data_rows(grid: Iterator[list[Any]], start: int, header: list[str], positions: dict[str, int],
               limits: Limits) -> Iterator[tuple[int, list[Any]]]:
    """(Excel row number, cells) of the rows below the header, read as they are consumed."""
    width = len(header)
    mapped = sorted(positions.values())
    for offset, row in enumerate(grid, start=start):
        if offset > limits.max_rows + 20:  # the scan before parsing refuses such files; this guards the others
            raise UnreadableFile(_("The sheet has %(rows)s rows; at most %(limit)s rows can be imported at once. "
                                   "Split the file.", rows=_("more than %(n)s", n=f"{limits.max_rows:,}"),
                                   limit=f"{limits.max_rows:,}"))
        values = list(row[:width]) + [None] * max(0, width - len(row))
        # blank rows a person leaves between or after the data, and notes typed beside the table, are not rows
        if all(values[i] is None or (isinstance(values[i], str) and not values[i].strip()) for i in mapped):
            continue
        yield offset, values
