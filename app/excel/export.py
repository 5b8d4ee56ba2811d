"""Export the rows of a list (all pages of the current filters and search, or the rows ticked) as .xlsx or .csv,
streamed: xlsxwriter's constant-memory mode and a server-side cursor keep memory flat at any row count.

Titles in the user's language, dictionary labels instead of codes; text that a spreadsheet would run as a
formula (= + - @ …) is written as text (quote prefix in .xlsx, a leading ' in .csv)."""
from __future__ import annotations

import csv
import itertools
import threading
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from queue import Full, Queue
from typing import Any, Callable, Generator, Iterator, Sequence

import xlsxwriter
from flask import current_app
from sqlalchemy import Row
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from app.i18n import current_locale, label_text
from app.models import column_names
from app.security.actor import current_actor
from app.query import listing
from app.query.formatting import plain_value
from .columns import split_points

_UNSET = object()
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: rows per fetch from the server-side cursor: up to three batches are in memory at once (one being fetched, one
#: queued, one being converted); 500 rather than 2,000 kept a 1,000,000-row export's peak RSS at 198 MB instead
#: of 207 MB, at the same speed (bench/export.py)
BATCH = 500
SYSTEM_TITLES = {"id": ("编号", "ID"), "created_at": ("创建时间", "Created"), "updated_at": ("更新时间", "Updated")}


def export_columns(spec: Any) -> list[Any]:
    """Fields (or system column names) of the export, without those hidden from the actor."""
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    return split_points([spec.field(n) if n in spec.field_map else n for n in spec.export_columns
                         if n not in hidden])


def _title(column: Any) -> str:
    if isinstance(column, str):
        zh, en = SYSTEM_TITLES.get(column, (column, column))
        return en if current_locale() == "en" else zh
    return label_text(column.label)


def _value(column: Any, row: Any, dictionaries: Any, locale: str, labels: dict | None = None) -> Any:
    """One cell's value, as the export writes it (typed numbers and dates, label texts, None for empty): the
    whole-column converters below do the same per batch; this is the per-row reference they are tested against."""
    if isinstance(column, str):
        value = getattr(row, column)
    elif column.type in TYPED:
        value = getattr(row, column.name)
    else:
        value = _UNSET
    if value is not _UNSET:
        if isinstance(value, datetime):
            return value.replace(microsecond=0)  # whole seconds in either writer (shown to the minute)
        return float(value) if isinstance(value, Decimal) else value
    if labels is not None and column.type in LABELLED:
        raw = getattr(row, column.name)
        key = (column.name, raw if not isinstance(raw, list) else tuple(raw))
        text = labels.get(key)
        if text is None:
            text = labels[key] = plain_value(column, row, dictionaries, locale)
    else:
        text = plain_value(column, row, dictionaries, locale)
    return text if text != "" else None


#: stored types whose value is written as it is (a number or a date); every other type is written as text
TYPED = ("integer", "decimal", "date", "datetime")
#: types with a few distinct values whose text is a label: computed once per distinct value
LABELLED = ("enum", "tree", "boolean")
#: types stored as text that is written as it is (empty text: an empty cell)
TEXT = ("string", "text")


class _Labels(dict):  # type: ignore[type-arg]
    """Cell values of one labelled column by stored value (a multiple enum's list as a tuple), each computed by
    plain_value on first sight: a million rows have a handful of grades, a few dozen types. Looked up with the C
    ``dict.__getitem__`` (``__missing__`` only for a value not seen yet)."""

    def __init__(self, column: Any, dictionaries: Any, locale: str):
        super().__init__()
        self.column, self.dictionaries, self.locale = column, dictionaries, locale
        if getattr(column, "dictionary", None):
            dictionaries.tree(column.dictionary)  # loaded now, not while the cursor is read in a thread

    def __missing__(self, raw: Any) -> Any:
        stored = list(raw) if isinstance(raw, tuple) else raw
        text = plain_value(self.column, _Stored(self.column.name, stored), self.dictionaries, self.locale)
        value = self[raw] = text if text != "" else None
        return value


class _PathLabels(_Labels):
    """A tree field's labels, '江苏省 / 常州市 / 新北区' (DictionaryService.path_label): a node's path is its parent's
    path and its own label, so each node is labelled once, not once per level under it (a million enterprises have
    40,000 townships of 3,000 counties)."""

    def __init__(self, column: Any, dictionaries: Any, locale: str):
        super().__init__(column, dictionaries, locale)
        self.nodes = dictionaries.tree(column.dictionary).nodes
        self.paths: dict[int, tuple[str, int]] = {}  # id(node) → (its path, its depth), for nodes with children

    def __missing__(self, raw: Any) -> Any:
        node = self.nodes.get(str(raw)) if raw is not None and raw != "" else None
        text = self._path(node) if node is not None else None
        if text is None:  # empty, unknown, or deeper than path_label goes: plain_value says
            return super().__missing__(raw)
        value = self[raw] = text if text != "" else None
        return value

    def _path(self, node: Any) -> str | None:
        chain = []
        while node is not None and id(node) not in self.paths:
            chain.append(node)
            if len(chain) > 16:
                return None
            node = self.nodes.get(node.parent) if node.parent else None
        text, depth = self.paths[id(node)] if node is not None else ("", 0)
        for item in reversed(chain):
            depth += 1
            if depth > 16:  # DictionaryService.ancestors stops at 16 levels
                return None
            text = f"{text} / {item.label(self.locale)}" if depth > 1 else item.label(self.locale)
            if item.children:  # a leaf's path is only its own cell's: kept once, in this dict
                self.paths[id(item)] = (text, depth)
        return text


class _Stored:
    """A row with one attribute: what plain_value reads for a labelled column."""

    def __init__(self, name: str, value: Any):
        setattr(self, name, value)


def _seconds(value: Any) -> Any:
    return value.replace(microsecond=0) if isinstance(value, datetime) else value


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _typed(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0)
    return float(value) if isinstance(value, Decimal) else value


def _as_key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


Converter = Callable[[Sequence[Any], Sequence[Any]], Sequence[Any]]


def _converter(column: Any, index: int | None, dictionaries: Any, locale: str) -> Converter:
    """A whole column of a batch at once, ``(stored values, rows) -> cell values``, built once per export: the
    same values as ``_value`` cell by cell, with no per-cell dispatch on the column."""
    kind = ("integer" if column == "id" else "system") if isinstance(column, str) else column.type
    if index is None:  # read from the row itself (a reference's display, files, …)
        return lambda values, rows: [text if (text := plain_value(column, row, dictionaries, locale)) != ""
                                     else None for row in rows]
    if kind in ("integer", "date"):
        return lambda values, rows: values
    if kind == "datetime":
        return lambda values, rows: list(map(_seconds, values))
    if kind == "decimal":
        return lambda values, rows: list(map(_number, values))
    if kind == "system":
        return lambda values, rows: list(map(_typed, values))
    if kind in TEXT:
        return lambda values, rows: [value or None for value in values]
    labels = (_PathLabels if kind == "tree" else _Labels)(column, dictionaries, locale)
    if kind == "enum" and column.multiple:
        return lambda values, rows: list(map(labels.__getitem__, map(_as_key, values)))
    return lambda values, rows: list(map(labels.__getitem__, values))


def _stored_name(column: Any) -> str | None:
    """The attribute a column's value is read from when it is converted column-wise (None: from the row)."""
    if isinstance(column, str):
        return column
    if column.type in TYPED or column.type in TEXT or column.type in LABELLED:
        return column.name
    return None


def row_batches(spec: Any, arguments: dict[str, Any], columns: list[Any], dictionaries: Any,
                locale: str) -> Generator[list[tuple[Any, ...]], None, None]:
    """The export's rows in batches, each row a tuple of its cells' values in ``columns`` order, as both writers
    and the .csv take them: numbers and dates typed (datetimes to whole seconds, decimals as floats), labels of
    enum, tree and boolean fields in ``locale``, text as it is, None for an empty cell."""
    names = [_stored_name(c) for c in columns]
    wanted = list(dict.fromkeys(n for n in names if n is not None))
    position = {name: i for i, name in enumerate(wanted)}
    convert = [_converter(c, position[n] if n is not None else None, dictionaries, locale)
               for c, n in zip(columns, names)]
    indexes = [position[n] if n is not None else None for n in names]
    tuples = all(i is not None for i in indexes)  # no column reads its row by attribute
    for rows, stored in _stored_batches(spec, arguments, wanted, tuples):
        values: list[Any] = list(zip(*stored)) if stored else [()] * len(wanted)
        cells = [fn(values[i] if i is not None else (), rows) for fn, i in zip(convert, indexes)]
        yield list(zip(*cells))


def _stored_batches(spec: Any, arguments: dict[str, Any], wanted: list[str],
                    tuples: bool = False) -> Iterator[tuple[Sequence[Any], Sequence[Sequence[Any]]]]:
    """(rows, the ``wanted`` attributes of each row as a sequence) per batch of the scoped query."""
    for rows in _query_batches(spec, arguments, wanted, tuples):
        if rows and isinstance(rows[0], (Row, tuple)):
            yield rows, rows  # the query selected ``wanted`` first, in that order: a row is the sequence
        else:
            yield rows, list(map(attrgetter(*wanted), rows)) if len(wanted) > 1 else \
                [(getattr(row, wanted[0]),) for row in rows] if wanted else [() for _ in rows]


def _query_batches(spec: Any, arguments: dict[str, Any], wanted: list[str],
                   tuples: bool = False) -> Iterator[Sequence[Any]]:
    """The rows the list shows for these arguments (every page), through the row scope (the statement goes
    through the ORM session, whose loader criteria scope it), fetched from a server-side cursor in batches:
    ORM objects when a reference is exported, else plain rows of the ``wanted`` columns first, then any other
    stored column a column reads — read by position only when ``tuples`` (they may be the driver's tuples),
    else rows whose columns are also attributes."""
    svc = current_app.extensions["safety"]
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    args = MultiDict([(k, v) for k, values in arguments.items() for v in (values if isinstance(values, list)
                                                                             else [values])])
    req = listing.parse_list_args(spec, args, hidden=hidden)
    model = svc.models[spec.name]
    stmt = listing.select_matching(spec, model, req, svc.dictionaries, svc.dictionary_item)
    references = [f.name for f in spec.fields if f.type == "reference" and f.name in spec.export_columns]
    if references:
        stmt = stmt.options(*(selectinload(getattr(model, name)) for name in references))
        result = svc.session.execute(stmt.execution_options(yield_per=BATCH)).scalars()
    else:
        # only the exported columns, as plain rows: no ORM object per row (3× faster on a million rows)
        others = {"id"} | {c for n in spec.export_columns if n in spec.field_map
                           for c in column_names(spec.field(n))} | {n for n in spec.export_columns
                                                                     if n not in spec.field_map}
        names = wanted + sorted(others - set(wanted))
        selected = [getattr(model, n) for n in names]
        result = svc.session.execute(stmt.with_only_columns(*selected).execution_options(yield_per=BATCH))
        yield from _prefetched(_plain_batches(result, selected, tuples))
        return
    yield from result.partitions()


def _plain_batches(result: Any, selected: Sequence[Any], tuples: bool) -> Iterator[Sequence[Any]]:
    """The batches of an ORM statement that selects columns only, read from its cursor result: the statement was
    compiled and executed by the session (so its row scope is in it), and its rows are the cursor result's rows in
    the same order, with the types' result processing (dates on SQLite). The ORM's own per-row step, which
    rebuilds each row column by column, doubles the cost of a million rows and adds nothing to plain columns."""
    raw = getattr(result, "raw", None)
    if raw is None or not hasattr(raw, "fetchmany"):
        yield from result.partitions()
        return
    # the first batch through the cursor result, which holds the row it read ahead on execution (a server-side
    # cursor's first row) and hands it out first: after a full batch it holds none, and the driver's cursor has
    # the rest
    try:
        batch = raw.fetchmany(BATCH)
        fetch = raw.cursor.fetchmany if tuples and len(batch) == BATCH and \
            _driver_values_as_they_are(raw, selected) else raw.fetchmany
        while batch:
            yield batch
            batch = fetch(BATCH)
    finally:
        raw.close()  # the server-side cursor, read to its end by the driver or left early, is closed now


def _driver_values_as_they_are(raw: Any, selected: Sequence[Any]) -> bool:
    """Whether no selected column's type changes what the driver returns (psycopg2's str, int, date, datetime,
    Decimal), so the driver's own rows are the rows SQLAlchemy would build, minus a Row per row. On SQLite, a
    date column is text that SQLAlchemy parses: there the cursor result's rows are used."""
    dialect, description = raw.context.dialect, raw.cursor.description
    if description is None or len(description) != len(selected):
        return False
    return all(column.type.dialect_impl(dialect).result_processor(dialect, entry[1]) is None
               for column, entry in zip(selected, description))


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


_DONE = object()


def _prefetched(batches: Iterator[Any]) -> Iterator[Any]:
    """``batches``, the next one read from the cursor by a thread while this one is converted and written: the
    wait for PostgreSQL's FETCH (psycopg2 releases the GIL for it) overlaps the Python work. Plain rows only (no
    ORM object, no lazy load); the statement was executed by the session (row scope) before, and the thread is
    joined before the generator returns, so nothing else uses the connection meanwhile."""
    queue: Queue[Any] = Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.2)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(_DONE)
        except BaseException as error:  # handed to the reader, raised there
            put(_Failed(error))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()  # in this thread, before the join: the cursor is closed before the session goes on

    thread = threading.Thread(target=read, name="export-fetch", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


def rows_to_export(spec: Any, arguments: dict[str, Any]) -> Iterator[Any]:
    """The rows the list shows for these arguments (every page), through the row scope, one by one."""
    for rows in _query_batches(spec, arguments, []):
        yield from rows


def write_export(spec: Any, arguments: dict[str, Any], fmt: str, target: Path,
                 progress: Callable[[str, int, int], None] | None = None, total: int = 0) -> int:
    """Write the file; returns the number of rows."""
    svc = current_app.extensions["safety"]
    columns = export_columns(spec)
    locale = current_locale()
    titles = [_title(c) for c in columns]
    source = row_batches(spec, arguments, columns, svc.dictionaries, locale)
    try:  # closed at once whatever happens: its reading thread (if any) ends before the session is used again
        return _write(spec, fmt, target, columns, titles, source, progress, total)
    finally:
        source.close()


def _write(spec: Any, fmt: str, target: Path, columns: list[Any], titles: list[str],
           batches: Iterator[list[tuple[Any, ...]]], progress: Callable[[str, int, int], None] | None,
           total: int) -> int:
    progress = progress or (lambda stage, done, all_: None)
    target.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    if fmt == "csv":
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(titles)
            for batch in batches:
                writer.writerows([_csv_cell(v) for v in row] for row in batch)
                count += len(batch)
                progress("written", count, total)
        return count
    sheet_name = (label_text(spec.export.sheet) if spec.export and spec.export.sheet else label_text(spec.label))[:31]
    first = next((batch for batch in batches if batch), None)  # the Rust writer takes its titles from a record
    batches = itertools.chain([first], batches) if first is not None else iter(())
    if first is not None and rust_writer_available() and len(set(titles)) == len(titles):
        return _write_xlsx_rust(target, sheet_name, columns, titles, batches, progress, total)
    workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True, "strings_to_formulas": False,
                                                 "strings_to_numbers": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet(sheet_name)
    bold = workbook.add_format({"bold": True, "bg_color": "#DCE6F1"})
    as_text = workbook.add_format({"quote_prefix": True})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for index, title in enumerate(titles):
        sheet.write_string(0, index, title, bold)
        sheet.set_column(index, index, max(10, min(40, len(title) * 2 + 4)))
    sheet.freeze_panes(1, 0)
    for batch in batches:
        for row in batch:
            count += 1
            for index, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    sheet.write_datetime(count, index, value, moment)
                elif isinstance(value, date):
                    sheet.write_datetime(count, index, datetime.combine(value, datetime.min.time()), day)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    sheet.write_number(count, index, value)
                else:
                    text = str(value)
                    # never a formula: write_string stores text, the quote prefix keeps it text when edited
                    sheet.write_string(count, index, text, as_text if text.startswith(FORMULA_START) else None)
        progress("written", count, total)
    workbook.close()
    return count


def rust_writer_available() -> bool:
    """rustpy-xlsxwriter (rust_xlsxwriter behind a Python generator) where its wheel installs; else xlsxwriter."""
    if not current_app.config.get("EXPORT_RUST_WRITER", True):
        return False
    try:
        import rustpy_xlsxwriter  # noqa: F401
    except ImportError:
        return False
    return True


def _write_xlsx_rust(target: Path, sheet_name: str, columns: list[Any], titles: list[str],
                     batches: Iterator[list[tuple[Any, ...]]], progress: Callable[[str, int, int], None],
                     total: int) -> int:
    """The same workbook as the xlsxwriter path — bold tinted titles, frozen first row, the same widths, dates as
    dates, numbers as numbers, text as text cells with the quote prefix (a text column's every cell, so none is
    ever read as a formula, even when edited) — written by Rust from an iterator of records (a dict per row, the
    only row it takes) in constant memory: about 3× the rows per second of xlsxwriter (bench/export.py)."""
    from rustpy_xlsxwriter import FastExcel, Format
    formats: list[Any] = []
    kinds = []
    for column in columns:
        kind = "integer" if isinstance(column, str) and column == "id" else \
            "datetime" if isinstance(column, str) else column.type
        kinds.append(kind)
        formats.append(Format().set_num_format("yyyy-mm-dd") if kind == "date" else
                       Format().set_num_format("yyyy-mm-dd hh:mm") if kind == "datetime" else
                       None if kind in ("integer", "decimal") else Format().set_quote_prefix())
    # a column whose values may be other than None, int, float, date and str is made text (a bool: 'True')
    loose = [i for i, c in enumerate(columns) if isinstance(c, str) and c not in ("id", "created_at", "updated_at")]
    widths = [float(max(10, min(40, len(title) * 2 + 4))) for title in titles]
    count = 0

    def records() -> Iterator[Iterator[dict[str, Any]]]:
        nonlocal count
        for batch in batches:
            if loose:
                batch = [_rust_cells(row, loose) for row in batch]
            yield map(dict, map(zip, itertools.repeat(titles), batch))  # made one by one as the writer takes them
            count += len(batch)
            progress("written", count, total)

    (FastExcel(str(target)).freeze(row=1)
     .sheet(sheet_name, itertools.chain.from_iterable(records()), column_widths=widths, column_formats=formats,
            header_format=Format().set_bold().set_background_color("#DCE6F1"))
     .save())
    return count


def _rust_cells(row: tuple[Any, ...], loose: list[int]) -> tuple[Any, ...]:
    cells = list(row)
    for i in loose:
        value = cells[i]
        if isinstance(value, bool) or value is not None and not isinstance(value, (int, float, date, str)):
            cells[i] = str(value)
    return tuple(cells)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value
