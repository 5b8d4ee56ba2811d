"""Stream the rows of one .xlsx worksheet, one chunk of its XML at a time, giving the values python-calamine gives.

python-calamine loads a whole sheet before its first row can be read (about 1.2 KB per row of the enterprise
template: 350 MB at 200,000 rows, see python-calamine issue #42); this reader holds one chunk of rows at a time,
plus the shared strings in a compact form (xlsx_parts.SharedStrings). The reader (app.excel.reader) chooses it for
large sheets only (``STREAM_CELLS``): calamine is faster.

How: the sheet's XML is read in 1 MB chunks cut at a row boundary. The cells of a chunk are matched by one regular
expression (the C regex engine does the scanning) for the shapes every common writer uses (Excel, WPS, LibreOffice,
openpyxl, xlsxwriter: ``<c r="B7" s="3" t="s"><v>12</v></c>``, inline strings with a single ``<t>``, formulas with
their cached value). A chunk holding any other shape (rich inline text, attributes in another order, cells without
``r``, namespace prefixes…) is parsed by the standard library's expat instead, with the same rules.

Values are those of python-calamine: numbers are floats, a number whose style is a date or time format becomes a
date (whole number), a time (below 1) or a datetime, a duration format ([h]:mm) a timedelta; booleans; shared and
inline strings (trimmed unless xml:space="preserve", phonetic runs left out, _xHHHH_ escapes undone); formula
results; "" for an empty cell, an error (#N/A) or a formula whose result was never computed. 1904 workbooks count
from 1904-01-01. Each row is a list from column A; the empty rows before and between the used ones come as rows
of "" (calamine's iter_rows starts at row 1 too).
"""
from __future__ import annotations

import re
import zipfile
from typing import Any, Iterator

from .xlsx_parts import (OTHER, SharedStrings, excel_datetime, iso_value, read_shared_strings, read_styles,
                         safe_parser, text_of_t, workbook_sheets)

CHUNK_BYTES = 1024 * 1024
#: one cell as the common writers write it: column, row, style, type, cached value or single inline text
FAST_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})(\d+)"(?: s="(\d+)")?(?: t="([a-zA-Z]+)")?\s*'
    rb'(?:/>|>(?:<f(?:\s[^>]*)?(?:/>|>[^<]*</f>))?'
    rb'(?:<v>([^<]*)</v>|<v/>|<is><t( xml:space="preserve")?>([^<]*)</t></is>)?</c>)')
ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#\d+|amp|lt|gt|quot|apos);")
ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _unescape(text: str) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1)
        if name[0] == "#":
            return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
        return ENTITIES[name]
    return ENTITY.sub(one, text)


_COLUMNS: dict[Any, int] = {}


def _column(letters: Any) -> int:
    """'AB' (str or bytes) → 27 (0-based)."""
    number = _COLUMNS.get(letters)
    if number is None:
        number = 0
        for char in (letters.decode() if isinstance(letters, bytes) else letters).upper():
            number = number * 26 + ord(char) - 64
        number -= 1
        _COLUMNS[letters] = number
    return number


def stream_rows(path: Any, member: str, width: int) -> Iterator[list[Any]]:
    """The rows of one worksheet (a zip member) from row 1, each a list of at least ``width`` values."""
    with zipfile.ZipFile(path) as archive:
        _sheets, is_1904, parts = workbook_sheets(archive)
        rows = _Rows(read_shared_strings(archive, parts.get("sharedStrings")),
                     read_styles(archive, parts.get("styles")), is_1904, width)
        with archive.open(member) as handle:
            tail, opener = b"", None
            while True:
                chunk = handle.read(CHUNK_BYTES)
                window = tail + chunk
                if opener is None:
                    # the sheet's elements carry the prefix of its root (<x:row …>) when a writer declares it so
                    root = ROOT.search(window)
                    opener = b"<" + (root.group(1) or b"") + b"row" if root else b"<row"
                    rows.prefixed = opener != b"<row"
                cut = window.rfind(opener) if chunk else len(window)
                if cut <= 0 and chunk:
                    tail = window  # no row starts in this window yet (the sheet's head, or one very long row)
                    continue
                rows.read(window[:cut])
                tail = window[cut:]
                if not chunk:
                    rows.finish_row()
                yield from rows.ready
                rows.ready.clear()
                if not chunk:
                    return


class _Rows:
    """Cells → rows: a chunk's cells are matched by FAST_CELL when every cell of it has that shape, parsed by expat
    otherwise; a finished row waits in ``ready`` until the chunk is done."""

    def __init__(self, strings: SharedStrings, kinds: list[int], is_1904: bool, width: int):
        self.strings, self.kinds, self.is_1904, self.width = strings, kinds, is_1904, max(width, 0)
        self.ready: list[list[Any]] = []
        self.emitted = 0          # the number of the last row handed out (rows before it were handed out too)
        self.row_number = 0       # the row being filled
        self.row: list[Any] = [""] * self.width
        self.has_value = False
        self.prefixed = False     # the sheet's elements carry a prefix (<x:c …>): the fast pattern does not apply

    def read(self, body: bytes) -> None:
        first = ROW_START.search(body)
        if first is None:
            return
        end = body.rfind(b"</sheetData>")
        if end < 0:
            end = body.rfind(b"sheetData>")
            end = body.rfind(b"<", 0, end) if end >= 0 else len(body)
        body = body[first.start():end if end > first.start() else len(body)]
        cells = FAST_CELL.findall(body)
        every_cell = body.count(b"<c ") + body.count(b"<c>")
        if not self.prefixed and len(cells) == every_cell and b"<c\t" not in body and b"<c\n" not in body:
            self._fast(cells)
        else:
            _ChunkParser(self).parse(body)

    def _fast(self, cells: list[tuple[bytes, ...]]) -> None:
        strings, current = self.strings, None
        row = self.row
        for letters, number, style, kind, value, preserve, inline in cells:
            if number != current:
                current = number
                self.start_row(int(number))
                row = self.row
            if kind == b"s":
                if not value:
                    continue
                cell: Any = strings[int(value)]
            elif not kind or kind == b"n":
                if not value:
                    continue
                cell = self.number(value.decode(), style)
            elif kind == b"inlineStr":
                text = inline.decode()
                cell = text_of_t([_unescape(text) if "&" in text else text], bool(preserve))
            else:
                text = value.decode()
                cell = self.typed(kind.decode(), _unescape(text) if "&" in text else text)
            if cell == "" and kind != b"e":
                continue
            column = _column(letters)
            if column >= len(row):
                row.extend([""] * (column + 1 - len(row)))
            row[column] = cell
            self.has_value = True

    def start_row(self, number: int) -> int:
        """Finish the row being filled and start row ``number``."""
        self.finish_row()
        self.row_number, self.row, self.has_value = number, [""] * self.width, False
        return number

    def finish_row(self) -> None:
        """Hand out the row being filled (when it holds a value), after the empty rows since the last one."""
        if not self.has_value:
            return
        gap = self.row_number - 1 - self.emitted
        if gap > 0:
            self.ready.extend([""] * self.width for _ in range(gap))
        self.ready.append(self.row)
        self.emitted = max(self.emitted, self.row_number)
        self.has_value = False

    def number(self, text: str, style: Any) -> Any:
        if text[0] <= " " or text[-1] <= " ":
            return text  # calamine keeps a number written with spaces as the text it is
        number = float(text)
        if style and self.kinds:
            index = int(style)
            kind = self.kinds[index] if index < len(self.kinds) else OTHER
            if kind:
                return excel_datetime(number, kind, self.is_1904)
        return number

    def typed(self, kind: str, text: str) -> Any:
        """A cell of type str (a formula's text), b, d or e (an error reads as empty), from its (unescaped) text."""
        if kind == "str":
            return text
        if kind == "b":
            return text in ("1", "true")
        if kind == "d":
            return iso_value(text) if text else ""
        return ""


class _ChunkParser:
    """expat over one chunk of whole rows (wrapped in one element; prefixes need no declaration without namespace
    processing): a cell's attributes at its start, the text of <v> or of each <t> of <is>, its value at its end."""

    def __init__(self, rows: _Rows):
        self.rows = rows
        self.column = -1
        self.cell_type: str | None = None
        self.style: str | None = None
        self.text: list[str] = []
        self.inline: list[str] = []
        self.collect = False
        self.preserve = False
        self.phonetic = 0

    def parse(self, body: bytes) -> None:
        parser = safe_parser()
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.Parse(b"<chunk>" + body + b"</chunk>", True)

    def start(self, name: str, attrs: dict) -> None:
        tag = name.rsplit(":", 1)[-1]
        if tag == "c":
            ref = attrs.get("r")
            self.column = _column(ref.rstrip("0123456789")) if ref else self.column + 1
            self.cell_type, self.style = attrs.get("t"), attrs.get("s")
            self.text, self.inline = [], []
        elif tag == "v":
            self.collect, self.text = True, []
        elif tag == "t":
            self.collect = self.cell_type == "inlineStr" and not self.phonetic
            self.preserve = attrs.get("xml:space") == "preserve"
            self.text = []
        elif tag == "row":
            number = attrs.get("r")
            self.rows.start_row(int(number) if number else self.rows.row_number + 1)
            self.column = -1
        elif tag == "rPh":
            self.phonetic += 1

    def characters(self, data: str) -> None:
        if self.collect:
            self.text.append(data)

    def end(self, name: str) -> None:
        tag = name.rsplit(":", 1)[-1]
        if tag == "v":
            self.collect = False
        elif tag == "t":
            if self.collect:
                self.inline.append(text_of_t(self.text, self.preserve))
            self.collect = False
        elif tag == "c":
            self.cell()
        elif tag == "rPh":
            self.phonetic -= 1

    def cell(self) -> None:
        rows, kind = self.rows, self.cell_type
        if kind == "inlineStr":
            value: Any = "".join(self.inline)
        else:
            text = "".join(self.text) if self.text else ""
            if not text:
                return
            if kind is None or kind == "n":
                value = rows.number(text, self.style)
            elif kind == "s":
                value = rows.strings[int(text)]
            else:
                value = rows.typed(kind, text)
        if value == "" and kind != "e":
            return
        row = rows.row
        if self.column >= len(row):
            row.extend([""] * (self.column + 1 - len(row)))
        row[self.column] = value
        rows.has_value = True
