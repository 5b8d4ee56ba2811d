"""The parts of an .xlsx workbook that give a cell its value, read as python-calamine reads them: the sheets and
their members, the 1904 flag, the styles' date and duration formats and the shared strings (kept compact).
"""
from __future__ import annotations

import math
import posixpath
import re
import zipfile
from array import array
from datetime import date, datetime, time, timedelta
from pyexpat import ParserCreate
from typing import Any, Callable

OTHER, DATETIME, DURATION = 0, 1, 2
#: built-in number formats (no numFmt element) that show a date or time, and the one that shows a duration
BUILTIN_DATES = frozenset([*range(14, 23), *range(27, 37), 45, 47, *range(50, 59)])
BUILTIN_DURATION = 46
FEED_BYTES = 256 * 1024



class XmlDeclarationRefused(ValueError):
    """An XML part declares a DTD: Excel never writes one, entity expansion is an attack."""


def _refuse_dtd(*_args: Any) -> None:
    raise XmlDeclarationRefused("a DTD or entity declaration in a workbook part")


def safe_parser() -> Any:
    """An expat parser (text buffered) that refuses a DTD and any entity declaration, as defusedxml's parsers do."""
    parser = ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    return parser

def format_kind(code: str) -> int:
    """Whether a custom number format shows a date/time, a duration or something else, by calamine's rules: the
    first section only; quoted text, escaped (backslash), skipped (_) and fill (*) characters and bracketed parts
    such as [Red] or [$-804] say nothing; [h], [mm] or [ss] make a duration; d, m, y, h or s make a date, as does
    an AM/PM marker."""
    escaped = quoted = after_a = hms = False
    brackets, previous = 0, " "
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\*":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == ";":
            return OTHER
        elif char == "[":
            brackets += 1
        elif char == "]" and brackets == 1 and hms:
            return DURATION
        elif char == "]":
            brackets = max(brackets - 1, 0)
        elif brackets == 0 and not after_a and char in "aA":
            after_a = True
        elif brackets == 0 and after_a and char in "pm/PM":
            return DATETIME
        elif brackets == 0 and not after_a and char in "dmhysDMHYS":
            return DATETIME
        elif not (hms and char.lower() == previous.lower()):
            hms = previous == "[" and char in "mhsMHS"
        previous = char
    return OTHER


def excel_datetime(value: float, kind: int, is_1904: bool) -> Any:
    """A serial number as calamine turns it into a Python value (milliseconds rounded, Excel's 1900 leap-year bug
    kept: serials below 60 count from 1899-12-31)."""
    milliseconds = round(value * 86_400_000)
    if kind == DURATION:
        return timedelta(milliseconds=milliseconds)
    if is_1904:
        epoch = datetime(1904, 1, 1)
    else:
        epoch = datetime(1899, 12, 31) if value < 60 else datetime(1899, 12, 30)
    try:
        moment = epoch + timedelta(milliseconds=milliseconds)
    except OverflowError:
        return value  # past the year 9999: calamine keeps the number
    if value < 1:
        return moment.time()
    if value == math.floor(value):
        return moment.date()
    return moment


def iso_value(text: str) -> Any:
    """A t="d" cell (ISO 8601, written by strict-mode writers)."""
    try:
        if "T" in text or " " in text:
            return datetime.fromisoformat(text.rstrip("Z"))
        if ":" in text:
            return time.fromisoformat(text)
        return date.fromisoformat(text)
    except ValueError:
        return text


class SharedStrings:
    """The workbook's shared strings, compact: one UTF-8 buffer and the offset where each string starts."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._starts = array("Q", [0])

    def append(self, text: str) -> None:
        self._buffer += text.encode("utf-8")
        self._starts.append(len(self._buffer))

    def __getitem__(self, index: int) -> str:
        starts = self._starts
        return self._buffer[starts[index]:starts[index + 1]].decode("utf-8")

    def __len__(self) -> int:
        return len(self._starts) - 1


#: a character written as _xHHHH_ (a line break as _x000D_, an underscore before such a pattern as _x005F_)
ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
XML_SPACE = " \t\r\n"


def text_of_t(parts: list[str], preserve: bool) -> str:
    """The text of one <t> element as calamine reads it: trimmed unless xml:space="preserve", escapes undone."""
    text = "".join(parts)
    if not preserve:
        text = text.strip(XML_SPACE)
    return ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def parse_xml(handle: Any, start: Callable | None = None, end: Callable | None = None,
           text: Callable | None = None) -> None:
    parser = safe_parser()
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if text:
        parser.CharacterDataHandler = text
    while chunk := handle.read(FEED_BYTES):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def read_shared_strings(archive: zipfile.ZipFile, member: str | None) -> SharedStrings:
    strings = SharedStrings()
    if member is None or member not in archive.NameToInfo:
        return strings
    parts: list[str] = []      # the <t> texts of the current <si>
    current: list[str] = []    # the current <t>'s character data
    state = {"phonetic": 0, "text": False, "preserve": False}

    def start(name: str, attrs: dict) -> None:
        local = _local(name)
        if local == "t":
            state["text"] = not state["phonetic"]
            state["preserve"] = attrs.get("xml:space") == "preserve"
            current.clear()
        elif local == "rPh":
            state["phonetic"] += 1
        elif local == "si":
            parts.clear()

    def end(name: str) -> None:
        local = _local(name)
        if local == "t":
            if state["text"]:
                parts.append(text_of_t(current, state["preserve"]))
            state["text"] = False
        elif local == "rPh":
            state["phonetic"] -= 1
        elif local == "si":
            strings.append("".join(parts))

    def text(data: str) -> None:
        if state["text"]:
            current.append(data)

    with archive.open(member) as handle:
        parse_xml(handle, start, end, text)
    return strings


def read_styles(archive: zipfile.ZipFile, member: str | None) -> list[int]:
    """The kind (OTHER, DATETIME, DURATION) of each cell style (cellXfs), by its number format."""
    kinds: list[int] = []
    if member is None or member not in archive.NameToInfo:
        return kinds
    custom: dict[int, int] = {}
    xf_formats: list[int] = []
    inside = {"cellXfs": False}

    def start(name: str, attrs: dict) -> None:
        local = _local(name)
        if local == "numFmt":
            custom[int(attrs.get("numFmtId", -1))] = format_kind(attrs.get("formatCode", ""))
        elif local == "cellXfs":
            inside["cellXfs"] = True
        elif local == "xf" and inside["cellXfs"]:
            xf_formats.append(int(attrs.get("numFmtId", 0)))

    def end(name: str) -> None:
        if _local(name) == "cellXfs":
            inside["cellXfs"] = False

    with archive.open(member) as handle:
        parse_xml(handle, start, end)
    for number in xf_formats:
        if number in custom:
            kinds.append(custom[number])
        else:
            kinds.append(DATETIME if number in BUILTIN_DATES else DURATION if number == BUILTIN_DURATION else OTHER)
    return kinds


def workbook_sheets(archive: zipfile.ZipFile) -> tuple[list[tuple[str, str]], bool, dict[str, str]]:
    """(sheet name, worksheet member) in the workbook's order, whether it counts dates from 1904, and the members
    of the shared strings and styles ('sharedStrings', 'styles')."""
    targets: dict[str, tuple[str, str]] = {}
    with archive.open("xl/_rels/workbook.xml.rels") as handle:
        def relation(name: str, attrs: dict) -> None:
            if _local(name) == "Relationship":
                target = attrs.get("Target", "")
                member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join("xl", target))
                targets[attrs.get("Id", "")] = (attrs.get("Type", "").rsplit("/", 1)[-1], member)
        parse_xml(handle, relation)
    sheets: list[tuple[str, str]] = []
    flags = {"1904": False}
    with archive.open("xl/workbook.xml") as handle:
        def element(name: str, attrs: dict) -> None:
            local = _local(name)
            if local == "sheet":
                relation_id = next((v for k, v in attrs.items() if _local(k) == "id"), "")
                kind, member = targets.get(relation_id, ("", ""))
                if kind == "worksheet":
                    sheets.append((attrs.get("name", ""), member))
            elif local == "workbookPr":
                flags["1904"] = attrs.get("date1904", "0").lower() in ("1", "true")
        parse_xml(handle, element)
    parts = {kind: member for kind, member in targets.values() if kind in ("sharedStrings", "styles")}
    return sheets, flags["1904"], parts
