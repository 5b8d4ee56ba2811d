"""Import a filled template: every row checked like the form (types, validators, drop-down values, references,
uniqueness in the file and in the register, row scope), then written all together or not at all. Rows stream
through in chunks (CHUNK_ROWS) inside one transaction: only compact keys of earlier chunks are kept (duplicates).

New rows go in with bulk inserts (one audit row each, enterprise accounts made in bulk); rows updated by the
'insert or update' mode go through the ORM, so the session's checks and per-field audit apply as on a form."""
from __future__ import annotations

import contextvars
import itertools
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from flask import current_app
from sqlalchemy import select, tuple_

from app import matching
from app.audit.recorder import import_entries
from app.computed import fill_records
from app.i18n.deferred import freeze, gettext as _, join, label
from app.metadata.spec import RegisterSpec
from app.security.actor import Actor
from app.security.policy import AccessPolicy
from app.write_path import frozen_fields, row_allowed
from app.workflow.freeze import frozen_among, reason_text

from app.security.accounts import create_accounts_for

from .bulk import write_rows
from .columns import Column, blank_policy, import_columns, import_read_only, import_target, one_cell_points
from .convert import CellError, convert_cell, convert_coordinate
from .import_rules import check_rules
from .reader import Limits, UnreadableFile, read_sheet

Progress = Callable[[str, int, int], None]
MAX_REPORTED = 2000   # problems listed on the page (the first ones, in row order)
#: problems kept for the error workbook; past this many, only the first problem of each further row is kept, so
#: every refused row is still marked while a file of nothing but mistakes cannot fill the memory
MAX_KEPT = 200_000
#: a cell holding only this empties the stored value when a row is updated (blank: keep leaves it as it is)
CLEAR_MARKERS = frozenset({"<清空>", "＜清空＞", "<清除>", "<clear>"})
CHUNK_ROWS = 5000     # rows converted, checked and written together (memory stays flat whatever the file's size)
#: the first chunk is smaller: nothing is written while it is converted and checked, so the database starts sooner
FIRST_CHUNK_ROWS = 1000
#: distinct cell texts remembered per column: enough for the drop-downs and a city's region paths, while a column
#: of unique values (names, codes) cycles through a small cache instead of keeping 20,000 texts and values each
CACHE_ENTRIES = 2_000
#: more unique values than this in a chunk are looked up by joining them (COPY into a temporary table), not listed
JOIN_KEYS = 2000
#: PostgreSQL settings while the chunks before the last are written into a register with trigram (GIN) indexes.
#: A GIN index takes new entries into a pending list and folds that list into the index when it passes
#: gin_pending_list_limit (4 MB by default), in work_mem: every fold rewrites the posting lists of the common
#: trigrams again. In a COPY of 100,000 rows of varied names and addresses into 1,000,000 enterprises, the four
#: trigram indexes took 11 of its 17 s, mostly in folds; with these settings the import's writes of the register's
#: rows went from 14.7 to 10.4 s. The last chunk is written under the server's own limit, so its first rows fold
#: the list and the import leaves no more pending than any other insert would (concurrent searches read a pending
#: list of at most this size meanwhile; docs/deploy.md, "PostgreSQL settings").
GIN_PENDING_LIST_LIMIT = "32MB"
GIN_FOLD_WORK_MEM = "128MB"


@dataclass
class CellProblem:
    row: int            # the row number in the uploaded file (1-based, as Excel shows it)
    column: str | None  # field name, None for the whole row
    title: str          # Text values (app.i18n.deferred): shown again in the language of whoever reads the report
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "title": self.title, "message": self.message,
                "i18n": {"title": freeze(self.title), "message": freeze(self.message)}}


@dataclass
class ImportReport:
    register: str
    mode: str
    sheet: str = ""
    header_row: int = 1
    rows: int = 0
    valid: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[CellProblem] = field(default_factory=list)
    problem_count: int = 0
    problem_rows: int = 0               # rows with at least one problem
    #: every problem kept for the error workbook (not stored with the job): see MAX_KEPT
    all_problems: list[CellProblem] = field(default_factory=list, repr=False)
    refused: str | None = None          # the whole file refused (not the template, too big …)
    written: bool = False
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.refused is None and self.problem_count == 0

    def add(self, problem: CellProblem, first_of_row: bool = True) -> None:
        self.problem_count += 1
        self.problem_rows += int(first_of_row)
        if first_of_row or len(self.all_problems) < MAX_KEPT:
            self.all_problems.append(problem)

    def sort_problems(self, order: dict[str, int]) -> None:
        """Problems in the file's order (row, then column), the page's list being the first of them: the checks
        find them stage by stage, not row by row."""
        self.all_problems.sort(key=lambda p: (p.row, order.get(p.column, -1)))
        self.problems = self.all_problems[:MAX_REPORTED]

    def as_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.__dict__.items() if k not in ("problems", "all_problems")},
                "refused_i18n": freeze(self.refused), "problems": [p.as_dict() for p in self.problems]}


@dataclass
class ParsedRow:
    number: int
    raw: list[Any]
    values: dict[str, Any]
    failed: bool = False
    existing_id: int | None = None
    #: columns left empty (upsert with blank: keep): an updated row keeps their stored values
    blank: tuple[str, ...] = ()
    #: reference cells naming no row the user sees: accepted on an updated row only if they name the row it
    #: already points to (a write checks the references it changes, not those it keeps)
    unseen: dict[str, str] = field(default_factory=dict)


@dataclass
class Prepared:
    """A checked chunk ready to be written: the new rows' records and file row numbers, the rows that update
    stored ones, or (import into a parent) every row."""
    records: list[dict[str, Any]]
    numbers: list[int]
    updates: list[ParsedRow]
    children: list[ParsedRow]
    now: datetime
    last: bool = False  # the file's last chunk


class Importer:
    def __init__(self, app: Any, spec: RegisterSpec, actor: Actor | None, mode: str = "insert",
                 progress: Progress | None = None, dry_run: bool = False):
        """``mode``: 'insert' (new rows only) or 'upsert' (update the rows found by import.key); ``dry_run``
        checks everything and writes nothing (校验)."""
        if mode not in ("insert", "upsert"):
            raise ValueError(f"unknown import mode {mode!r}: 'insert' or 'upsert' (and dry_run=True to check only)")
        self.app, self.spec, self.actor, self.mode, self.dry_run = app, spec, actor, mode, dry_run
        self.svc = app.extensions["safety"]
        self.policy: AccessPolicy = app.extensions["safety_policy"]
        self.target = import_target(self.svc.registry, spec)
        # a role's read-only fields are no columns of its import: never read from the file, never written
        self.columns = import_columns(self.svc.registry, spec, import_read_only(self.policy, self.svc.registry, spec,
                                                                                  actor))
        self.keep_blank = mode == "upsert" and blank_policy(spec) == "keep"
        self.model = self.svc.models[self.target.name]
        #: the fields that are not one column of their own name (references, points) → their type
        self.special = {f.name: f.type for f in self.target.fields if f.type in ("reference", "geo")}
        self.progress = progress or (lambda stage, done, total: None)
        self.report = ImportReport(register=spec.name, mode=mode, dry_run=dry_run)

    # ---------------------------------------------------------------- reading
    def run(self, path: Path, original_name: str) -> ImportReport:
        self.file_name = Path(original_name).name
        limits = Limits(**{k: current_app.config[f"IMPORT_{k.upper()}"] for k in Limits.__dataclass_fields__
                           if f"IMPORT_{k.upper()}" in current_app.config})
        titles = {c.name: c.titles() for c in self.columns}
        # a point's one-cell column of older templates ("31.85, 119.97"), read when its 经度/纬度 are absent
        self.one_cell = one_cell_points(self.columns)
        titles.update({name: c.titles() for name, c in self.one_cell.items()})
        imp = self.spec.import_
        sheet_titles = [imp.sheet.text(loc) for loc in ("zh_Hans", "zh_Hant", "en")] if imp and imp.sheet else []
        sheet_titles += [self.target.label.text(loc) for loc in ("zh_Hans", "zh_Hant", "en")]
        try:
            sheet, positions = read_sheet(path, original_name, titles, sheet_titles, limits)
        except UnreadableFile as exc:
            self.report.refused = exc.args[0]
            return self.report
        self.report.sheet, self.report.header_row = sheet.name, sheet.header_row
        missing = [c for c in self.columns if c.required and c.name not in positions
                   and not (c.axis and c.field.name in positions)]
        if missing:
            self.report.refused = _("This is not the template: these required columns are missing: %(columns)s. "
                                    "Download the template and fill it in.",
                                    columns=join(label(c.title_label()) for c in missing))
            return self.report
        self.positions = positions
        self.formulas = sheet.formulas
        # every unique rule's values seen so far → the first row holding them (compact: the rows themselves go)
        self._seen: dict[tuple[str, ...], dict[Any, int]] = {}
        self._caches: dict[str, dict[Any, tuple[bool, Any]]] = {c.name: {} for c in self.columns}
        self._children: list[ParsedRow] = []
        self._stage = "read"  # "written" once the first chunk is written
        expected = max(sheet.expected_rows, 0)
        session = self.svc.session
        # Rows stream through in chunks: each is converted, checked and — while no row so far has a problem —
        # written in the import's one transaction; one problem anywhere and the transaction is rolled back, so
        # the file is still written all together or not at all, without holding all its rows. On PostgreSQL a
        # chunk is written on a second thread while this one reads and converts the next: the database indexes
        # the rows while Python parses (the writes wait on the server, which releases the interpreter).
        writer = _Writer(self._write, background=self._writes_in_background())
        # New rows only, written in the background: the register's rows that already hold a chunk's unique values
        # are looked up on a connection of its own while the previous chunk is written. It cannot see this
        # import's own rows, and need not: a value repeated within the file is found among the earlier chunks'
        # keys (self._seen) before the register is asked, and nothing else in the register is changed.
        ahead = writer.pool is not None and self.mode == "insert" and not self.dry_run \
            and not (self.spec.import_ and self.spec.import_.into)
        self._lookup: Any = None  # that connection, opened by the first chunk large enough to need it
        self._prefetched: dict[tuple[str, ...], dict[tuple, int]] = {}
        # the cross-field rules too, when they read nothing a later check changes (a reference's cell becomes an
        # id) or the database: their problems are kept for the rows the other checks leave standing
        early_rules = ahead and not matching.matching_fields(self.target) \
            and not any(c.field.type == "reference" for c in self.columns)
        self._early_rule_problems: list[tuple[ParsedRow, Column | None, str]] | None = None
        self._gin_folding = False  # whether GIN_PENDING_LIST_LIMIT and GIN_FOLD_WORK_MEM are in force (_write)
        try:
            for chunk, last in _chunks(sheet.rows, CHUNK_ROWS, min(FIRST_CHUNK_ROWS, CHUNK_ROWS)):
                parsed = self._convert(chunk, expected)
                self.report.rows += len(parsed)
                if ahead:
                    self._prefetch_existing(parsed)
                if early_rules:
                    found: list[tuple[ParsedRow, Column | None, str]] = []
                    check_rules(self, parsed, lambda row, column, message: found.append((row, column, message)))
                    self._early_rule_problems = found
                writer.wait()  # the checks below use the connection: the previous chunk is written first
                if writer.wrote:
                    self._stage = "written"
                    self.progress(self._stage, self.report.rows - len(parsed), max(expected, self.report.rows))
                # each step beats (the progress writer keeps at most two a second): a job silent for
                # JOB_STALE_SECONDS is taken for one whose worker died
                for check in (self._resolve_references, self._check_duplicates, self._kept_references, self._check_scope,
                              self._check_workflow, self._check_locked, self._check_frozen_while,
                              self._check_rules):
                    check(parsed)
                    self.progress(self._stage, self.report.rows, max(expected, self.report.rows))
                self.report.valid += sum(1 for row in parsed if not row.failed)
                if not self.report.problem_count and not self.dry_run:
                    writer.submit(self._prepare(parsed, last))
                del parsed, chunk  # the rows themselves are not kept while the next chunk is read (memory)
            writer.wait()
            if writer.wrote:
                self._stage = "written"
                self.progress(self._stage, self.report.rows, max(expected, self.report.rows))
        except UnreadableFile as exc:
            writer.close()
            session.rollback()
            self.report.refused = exc.args[0]
            return self._nothing_written()
        finally:
            writer.close()
            if self._lookup is not None:
                self._lookup.close()
        if not self.report.rows:
            self.report.refused = _("The sheet '%(sheet)s' has no data rows below its titles.", sheet=sheet.name)
            return self.report
        self.report.sort_problems({c.name: i for i, c in enumerate(self.columns)})
        self.progress("validated", self.report.rows, self.report.rows)
        if self.report.problem_count or self.dry_run:
            session.rollback()
            return self._nothing_written()
        if self.spec.import_ and self.spec.import_.into:
            self._write_into_parent(self._children, Path(original_name).stem)
        session.commit()
        self.report.written = True
        return self.report

    def _writes_in_background(self) -> bool:
        """Whether chunks are written on a second thread: PostgreSQL only (SQLite's connection belongs to the thread
        that opened it, and the embedded database's files are small). The converting thread must then not touch
        the session while a chunk is written: the dictionaries its cells need are loaded here, beforehand."""
        if self.svc.session.get_bind().dialect.name != "postgresql":
            return False
        for column in [*self.columns, *self.one_cell.values()]:
            if getattr(column.field, "dictionary", None):
                self.svc.dictionaries.tree(column.field.dictionary)
        return True

    def _nothing_written(self) -> ImportReport:
        self.report.inserted = self.report.updated = self.report.unchanged = 0
        return self.report

    def problem(self, row: ParsedRow, column: Column | None, message: str) -> None:
        self.report.add(CellProblem(row.number, column.name if column else None,
                                    label(column.title_label()) if column else "", message), first_of_row=not row.failed)
        row.failed = True

    def _convert(self, rows: list[tuple[int, list[Any]]], expected: int = 0) -> list[ParsedRow]:
        parsed = []
        dictionaries = self.svc.dictionaries
        # the same cell text converts to the same value: 应急管理, 在产 or a region path are converted once (a
        # cache is emptied when it grows large: a column of unique names would otherwise keep every row's text)
        plan = [(column, column.name, self.positions.get(column.name), self._caches[column.name],
                 _default(column.field)) for column in self.columns]
        keep_blank = self.keep_blank
        formulas = self.formulas
        for index, (number, raw) in enumerate(rows):
            if index % 1000 == 0:
                done = self.report.rows + index
                self.progress(self._stage, done, max(expected, done))
            row = ParsedRow(number, raw, {})
            width = len(raw)
            blank = []
            for column, name, position, cache, default in plan:
                cell = raw[position] if position is not None and position < width else None
                if formulas and (number, position) in formulas:
                    self.problem(row, column, _("The cell holds a formula without a computed value; paste its "
                                                "value instead (Paste Special → Values)."))
                    continue
                if isinstance(cell, str) and cell[:1] in ("<", "＜") and cell.strip() in CLEAR_MARKERS:
                    cell = None  # emptied on purpose: checked as an empty cell, and written even when blanks keep
                elif keep_blank and (cell is None or isinstance(cell, str) and not cell.strip()):
                    blank.append(name)
                hit = cache.get(cell)
                if hit is None:
                    try:
                        hit = (True, convert_coordinate(column.axis, cell) if column.axis
                               else convert_cell(column.field, cell, dictionaries))
                    except CellError as exc:
                        hit = (False, exc.args[0])
                    if len(cache) >= CACHE_ENTRIES:
                        cache.clear()
                    cache[cell] = hit
                if not hit[0]:
                    self.problem(row, column, hit[1])
                    continue
                value = hit[1]
                if value is None and default is not None:
                    value = default
                row.values[name] = value
            if self.one_cell:
                self._join_points(row, raw, blank)
            if blank:
                row.blank = tuple(blank)
            parsed.append(row)
        return parsed

    def _join_points(self, row: ParsedRow, raw: list[Any], blank: list[str]) -> None:
        """A point's 经度 and 纬度 cells → its value (lat, lng); both or neither; an older file's one cell
        "31.85, 119.97" when it has no 经度/纬度 columns; the field's bounds."""
        for name, whole in self.one_cell.items():
            axes = {c.axis: c for c in self.columns if c.field.name == name}
            if any(c.name not in row.values for c in axes.values()):
                for c in axes.values():
                    row.values.pop(c.name, None)
                continue  # an axis cell was refused; its problem is already reported
            lng, lat = (row.values.pop(axes[a].name, None) for a in ("lng", "lat"))
            column: Column = axes["lng"]
            value = None
            if lng is not None and lat is not None:
                value = (lat, lng)
            elif lng is not None or lat is not None:
                column = axes["lat" if lat is None else "lng"]
                self.problem(row, column, _("Fill in both the longitude and the latitude, or neither."))
                continue
            elif name in self.positions:
                position = self.positions[name]
                cell = raw[position] if position < len(raw) else None
                column = whole
                try:
                    value = convert_cell(whole.field, cell, self.svc.dictionaries)
                except CellError as exc:
                    self.problem(row, whole, exc.args[0])
                    continue
            bounds = getattr(whole.field, "bounds", None)
            if value is not None and bounds and not (bounds[0][0] <= value[0] <= bounds[1][0]
                                                     and bounds[0][1] <= value[1] <= bounds[1][1]):
                self.problem(row, column, _("The point lies outside the allowed area (latitude %(a)s–%(b)s, "
                                            "longitude %(c)s–%(d)s).", a=bounds[0][0], b=bounds[1][0],
                                            c=bounds[0][1], d=bounds[1][1]))
                continue
            axis_names = [c.name for c in axes.values()]
            if value is None and all(n in blank for n in axis_names) and name not in self.positions:
                blank.append(name)
            for n in axis_names:
                if n in blank:
                    blank.remove(n)
            if value is None and whole.field.required:
                self.problem(row, axes["lng"], _("This field is required."))
                continue
            row.values[name] = value

    # ---------------------------------------------------------------- rules over many rows
    def _resolve_references(self, parsed: list[ParsedRow]) -> None:
        """Reference cells name a row of the other register by its title (or #id), among the rows the
        importing user may see."""
        for column in self.columns:
            if column.field.type != "reference":
                continue
            target_spec = self.svc.registry.register(column.field.target)
            target = self.svc.models[target_spec.name]
            title = column.field.display or target_spec.title_field
            wanted = {row.values.get(column.name) for row in parsed if row.values.get(column.name)}
            found: dict[str, list[int]] = {}
            texts = [w for w in wanted if not w.startswith("#")]
            ids = [int(w[1:]) for w in wanted if w.startswith("#") and w[1:].isdigit()]
            for start in range(0, len(texts), 1000):
                for row_id, text in self.svc.session.execute(
                        select(target.id, getattr(target, title)).where(
                            getattr(target, title).in_(texts[start:start + 1000]))):
                    found.setdefault(str(text), []).append(row_id)
            if ids:
                for (row_id,) in self.svc.session.execute(select(target.id).where(target.id.in_(ids))):
                    found[f"#{row_id}"] = [row_id]
            for row in parsed:
                text = row.values.get(column.name)
                if not text:
                    continue
                matches = found.get(text, [])
                if not matches and self.mode == "upsert" and column.name not in self._key():
                    row.unseen[column.name] = text  # may be the reference the updated row keeps (resolved later)
                    row.values.pop(column.name, None)  # not compared as text by the duplicate checks meanwhile
                elif not matches:
                    self.problem(row, column, _("'%(value)s' does not exist or is not available to you.", value=text))
                elif len(matches) > 1:
                    self.problem(row, column, _("'%(value)s' names several records; write #<id> instead.",
                                                value=text))
                else:
                    row.values[column.name] = matches[0]

    def _kept_references(self, parsed: list[ParsedRow]) -> None:
        """A reference cell that names no row the user sees is accepted on a row being updated when it names the
        row that row already points to (an inspector of one department updating a check of an enterprise it
        does not oversee, the enterprise unchanged); anything else is refused as before."""
        for row in parsed:
            for name, text in row.unseen.items():
                column = next(c for c in self.columns if c.name == name)
                kept = self._stored_reference(row.existing_id, column) if row.existing_id else None
                if kept is not None and text in kept[1]:
                    row.values[name] = kept[0]
                else:
                    row.values.pop(name, None)
                    self.problem(row, column, _("'%(value)s' does not exist or is not available to you.", value=text))

    def _stored_reference(self, row_id: int, column: Any) -> tuple[int, set[str]] | None:
        """The id a stored row's reference points to and the texts that name it (its title, #id)."""
        stored = self.svc.session.execute(select(getattr(self.model, f"{column.name}_id")).where(
            self.model.id == row_id).execution_options(unscoped_reason="the reference an updated row keeps")
        ).scalar_one_or_none()
        if stored is None:
            return None
        target_spec = self.svc.registry.register(column.field.target)
        target = self.svc.models[target_spec.name]
        title = getattr(target, column.field.display or target_spec.title_field)
        text = self.svc.session.execute(select(title).where(target.id == stored).execution_options(
            unscoped_reason="the title of the row an updated row keeps pointing to")).scalar_one_or_none()
        return stored, {f"#{stored}", *([str(text)] if text is not None else [])}

    def _unique_rules(self) -> list[tuple[tuple[str, ...], Any]]:
        spec = self.target
        rules = [((f.name,), None) for f in spec.stored_fields if f.unique]
        rules += [(rule.fields, rule.message) for rule in spec.unique]
        return [(names, message) for names, message in rules if all(n in {c.name for c in self.columns}
                                                                    for n in names)]

    def _key(self) -> tuple[str, ...]:
        return tuple(self.spec.import_.key) if self.spec.import_ and self.spec.import_.key else ()

    def _column_of(self, name: str) -> Any:
        field = self.target.field(name)
        return getattr(self.model, f"{name}_id" if field.type == "reference" else name)

    def _existing(self, names: tuple[str, ...], keys: set[tuple]) -> dict[tuple, int]:
        """Rows of the whole register (not only the importer's scope) already holding these values."""
        found: dict[tuple, int] = {}
        keys = [k for k in keys if all(v is not None for v in k)]
        if names in self._prefetched:
            prefetched = self._prefetched[names]
            return {key: prefetched[key] for key in keys if key in prefetched}
        columns = [self._column_of(n) for n in names]
        if len(keys) > JOIN_KEYS and self.svc.session.get_bind().dialect.name == "postgresql":
            return self._existing_by_join(self.svc.session.connection(), columns, keys)
        for start in range(0, len(keys), 2000):
            chunk = keys[start:start + 2000]
            condition = columns[0].in_([k[0] for k in chunk]) if len(names) == 1 else tuple_(*columns).in_(chunk)
            stmt = select(self.model.id, *columns).where(condition) \
                .execution_options(unscoped_reason="uniqueness over every row")
            for row_id, *values in self.svc.session.execute(stmt):
                found[tuple(values)] = row_id
        return found

    def _prefetch_existing(self, parsed: list[ParsedRow]) -> None:
        """A chunk's unique values already in the register, looked up on a connection of the import's own (see
        run())."""
        self._prefetched = {}
        for names, _message in self._unique_rules():
            if any(name in self.special for name in names):
                continue  # a reference's cell is a text until _resolve_references makes it an id
            keys = {tuple(row.values.get(n) for n in names) for row in parsed}
            keys = {key for key in keys if all(v not in (None, "") for v in key)}
            if len(keys) > JOIN_KEYS:
                if self._lookup is None:
                    self._lookup = self.svc.session.get_bind().connect()
                with self._lookup.begin():
                    self._prefetched[names] = self._existing_by_join(self._lookup, [self._column_of(n) for n in names],
                                                                     list(keys))

    def _existing_by_join(self, connection: Any, columns: list[Any], keys: list[tuple]) -> dict[tuple, int]:
        """Many keys at once: COPY them into a temporary table and join it on the register's unique index."""
        import csv
        import io
        names_sql = ", ".join(f"k{i}" for i in range(len(columns)))
        types = ", ".join(f"k{i} {column.type.compile(dialect=connection.dialect)}" for i, column in enumerate(columns))
        connection.exec_driver_sql("DROP TABLE IF EXISTS import_keys")
        connection.exec_driver_sql(f"CREATE TEMP TABLE import_keys ({types}) ON COMMIT DROP")
        buffer = io.StringIO()
        csv.writer(buffer).writerows(keys)
        buffer.seek(0)
        connection.connection.cursor().copy_expert(f"COPY import_keys ({names_sql}) FROM STDIN WITH (FORMAT csv)",
                                                   buffer)
        table = self.model.__table__.name
        on = " AND ".join(f"t.{column.name} = k.k{i}" for i, column in enumerate(columns))
        rows = connection.exec_driver_sql(
            f"SELECT t.id, {', '.join(f't.{c.name}' for c in columns)} FROM {table} t JOIN import_keys k ON {on}")
        found = {tuple(values): row_id for row_id, *values in rows}
        connection.exec_driver_sql("DROP TABLE import_keys")
        return found

    def _check_duplicates(self, parsed: list[ParsedRow]) -> None:
        key = self._key()
        columns = {c.name: c for c in self.columns}
        for names, message in self._unique_rules():
            first = self._seen.setdefault(names, {})
            rows_by_key: dict[tuple, list[ParsedRow]] = {}
            for row in parsed:
                values = tuple(row.values.get(n) for n in names)
                if any(v in (None, "") for v in values):
                    continue  # as in the database, a combination with an empty part repeats nothing
                seen = _compact_key(values)
                if seen in first:
                    self.problem(row, columns[names[0]], _("Duplicate of row %(row)s of this file (%(what)s).",
                                                           row=first[seen], what=self._titles(names)))
                else:
                    first[seen] = row.number
                    rows_by_key.setdefault(values, []).append(row)
            existing = self._existing(names, set(rows_by_key))
            for values, row_id in existing.items():
                for row in rows_by_key.get(values, []):
                    if key and set(names) == set(key) and self.mode == "upsert":
                        row.existing_id = row_id  # the row to update
                        continue
                    if self.mode == "upsert" and key:
                        matched = self._existing(key, {tuple(row.values.get(n) for n in key)})
                        if row_id in matched.values():
                            continue  # the same row, found by its key: it will be updated
                    text = label(message) if message else _("already exists in the register (#%(id)s)",
                                                                  id=row_id)
                    self.problem(row, columns[names[0]], _("Already in the register: %(reason)s", reason=text))
        if self.mode == "upsert" and key:
            wanted = {tuple(row.values.get(n) for n in key): row for row in parsed if not row.failed}
            for values, row_id in self._existing(key, set(wanted)).items():
                if values in wanted:
                    wanted[values].existing_id = row_id

    def _titles(self, names: tuple[str, ...]) -> str:
        return join(label(self.target.field(n).label) for n in names)

    def _check_scope(self, parsed: list[ParsedRow]) -> None:
        """Each row must fall in the importing user's scope, as a new row or as the row it updates."""
        if self.actor is None or self.actor.is_admin:
            return
        owner = self.svc.registry.owner_of(self.target)
        if self.spec.import_ and self.spec.import_.into:
            return  # rows of one new parent: the parent is checked when it is written
        existing_ids = [row.existing_id for row in parsed if row.existing_id]
        editable = set()
        if existing_ids:
            condition = self.policy.write_condition(owner, self.actor, "edit")
            stmt = select(self.model.id).where(self.model.id.in_(existing_ids))
            if condition is not None:
                stmt = stmt.where(condition)
            editable = set(self.svc.session.scalars(
                stmt.execution_options(unscoped_reason="write scope in the condition")))
        for row in parsed:
            if row.failed:
                continue
            if row.existing_id:
                if row.existing_id not in editable:
                    self.problem(row, None, _("The existing record #%(id)s is outside your jurisdiction; it cannot "
                                              "be updated.", id=row.existing_id))
                continue
            probe = self._transient(row.values)
            if not row_allowed(self.target, self.actor, probe, "add"):
                self._out_of_scope(row, probe)

    def _out_of_scope(self, row: ParsedRow, probe: Any) -> None:
        """A new row the importing user may not add: reported on the column that puts it outside the user's
        scope (属地, 行业主管部门, the enterprise) with the scope it misses, where a column of the file does."""
        assert self.actor is not None
        by_field = {c.field.name: c for c in self.columns}
        for kind, name in self.policy.scope_misses(self.target, self.actor, probe, "add"):
            column = by_field.get(name) if name else None
            if column is None:
                continue
            own = self.target.ownership
            if kind == "jurisdiction" and self.actor.region_code and own.region:
                dictionary = self._anchor_field(own.region).dictionary
                region = self.svc.dictionaries.path_label(dictionary, self.actor.region_code)
                self.problem(row, column, _("Outside your jurisdiction (%(region)s): you may not add a row here.",
                                            region=region))
            elif kind == "department" and self.actor.department and own.department:
                dictionary = self._anchor_field(own.department).dictionary
                department = self.svc.dictionaries.label(dictionary, self.actor.department) if dictionary \
                    else self.actor.department
                self.problem(row, column, _("Not your department (%(department)s): you may not add this row.",
                                            department=department))
            else:
                self.problem(row, column, _("Outside your jurisdiction: you may not add this row."))
            return
        self.problem(row, None, _("This row is outside your jurisdiction (region, department or "
                                  "enterprise); you may not add it."))

    def _anchor_field(self, path: str) -> Any:
        """The field a scope anchor names: 'region', or 'enterprise.region' through the reference."""
        head, _dot, tail = path.partition(".")
        field = self.target.field(head)
        return self.svc.registry.register(field.target).field(tail) if tail else field

    def _check_workflow(self, parsed: list[ParsedRow]) -> None:
        """A row to update must not change what its workflow state has frozen (a confirmed hazard, an issued
        licence): reported on the row, like any other problem, before anything is written."""
        wf = self.target.workflow
        if wf is None or self.spec.import_ and self.spec.import_.into:
            return
        for row in parsed:
            if row.failed or not row.existing_id:
                continue
            obj = self.svc.session.get(self.model, row.existing_id)
            frozen = frozen_fields(self.target, getattr(obj, wf.field))
            if not frozen:
                continue
            state = wf.state(getattr(obj, wf.field))
            for column in self._changed_columns(obj, row, frozen):
                self.problem(row, column, _("The existing record #%(id)s is “%(state)s”: this column can no "
                                            "longer be changed.", id=row.existing_id, state=label(state.label)))

    def _check_locked(self, parsed: list[ParsedRow]) -> None:
        """A row to update must not change a field the user may not edit (read-only in the rules that grant
        'edit'), as a form would refuse it: a problem of the cell, not a failed job."""
        if self.actor is None or self.actor.is_admin or self.spec.import_ and self.spec.import_.into:
            return
        locked = self.policy.read_only_fields(self.target, self.actor, "edit")
        if not locked:
            return
        for row in parsed:
            if row.failed or not row.existing_id:
                continue
            obj = self.svc.session.get(self.model, row.existing_id)
            for column in self._changed_columns(obj, row, locked):
                self.problem(row, column, _("You may not change this column of the existing record #%(id)s.",
                                            id=row.existing_id))

    def _changed_columns(self, obj: Any, row: ParsedRow, names: set[str] | frozenset[str]) -> list[Column]:
        """The columns among ``names`` whose cell would change the stored row (a kept blank changes nothing)."""
        changed, seen = [], set()
        for column in self.columns:
            name = column.field.name  # a point's two columns hold one field
            if name in seen or name not in names or name not in row.values or name in row.blank:
                continue
            seen.add(name)
            record = self._record({name: row.values[name]})
            if any(getattr(obj, key) != value for key, value in record.items()):
                changed.append(column)
        return changed

    def _check_frozen_while(self, parsed: list[ParsedRow]) -> None:
        """No row added to, moved out of or changed in the list of a referenced row that freezes it
        (frozen_while: an approved task's enterprises), reported on the row before anything is written."""
        if self.spec.import_ and self.spec.import_.into:
            return
        for rule in self.target.frozen_while:
            column = f"{rule.reference}_id"
            rows = [row for row in parsed if not row.failed]
            stored = dict(self.svc.session.execute(
                select(self.model.id, getattr(self.model, column))
                .where(self.model.id.in_([r.existing_id for r in rows if r.existing_id]))
                .execution_options(unscoped_reason="the stored references of the rows an import updates")).all()) \
                if any(r.existing_id for r in rows) else {}
            wanted = {row.number: (row.values.get(rule.reference), stored.get(row.existing_id)) for row in rows}
            frozen = frozen_among(self.svc, self.target, rule, [i for pair in wanted.values() for i in pair])
            for row in rows:
                state = next((frozen[i] for i in wanted[row.number] if i in frozen), None)
                if state is not None:
                    self.problem(row, None, reason_text(self.target, rule, state))

    def _check_rules(self, parsed: list[ParsedRow]) -> None:
        found, self._early_rule_problems = self._early_rule_problems, None
        if found is None:
            check_rules(self, parsed)
            return
        standing = {row.number for row in parsed if not row.failed}  # as check_rules skips refused rows
        for row, column, message in found:
            if row.number in standing:
                self.problem(row, column, message)

    def _transient(self, values: dict[str, Any]) -> Any:
        obj = self.model()
        for name, value in values.items():
            field = self.target.field(name)
            if field.type == "reference":
                setattr(obj, f"{name}_id", value)
            elif field.type == "geo":
                setattr(obj, f"{name}_lat", value[0] if value else None)
                setattr(obj, f"{name}_lng", value[1] if value else None)
            else:
                setattr(obj, name, value)
        if self.actor is not None:
            obj.created_by_id, obj.organisation_id = self.actor.user_id, self.actor.organisation_id
        return obj

    # ---------------------------------------------------------------- writing
    def _record(self, values: dict[str, Any]) -> dict[str, Any]:
        """A row's values as the table's columns: a reference as <name>_id, a point as <name>_lat/_lng."""
        special = self.special
        if not special.keys() & values.keys():
            return dict(values)
        record: dict[str, Any] = {}
        for name, value in values.items():
            kind = special.get(name)
            if kind == "reference":
                record[f"{name}_id"] = value
            elif kind == "geo":
                record[f"{name}_lat"], record[f"{name}_lng"] = value if value else (None, None)
            else:
                record[name] = value
        return record

    def _prepare(self, parsed: list[ParsedRow], last: bool = False) -> Prepared:
        """A chunk's new rows as the table's records (with who and when), made by the reading thread while the
        previous chunk is written."""
        now = datetime.now()
        if self.spec.import_ and self.spec.import_.into:
            return Prepared([], [], [], parsed, now, last)
        who = {"created_by_id": self.actor.user_id if self.actor else None,
               "updated_by_id": self.actor.user_id if self.actor else None,
               "organisation_id": self.actor.organisation_id if self.actor else None,
               "created_at": now, "updated_at": now}
        new = [row for row in parsed if not row.existing_id]
        return Prepared([{**self._record(row.values), **who} for row in new], [row.number for row in new],
                        [row for row in parsed if row.existing_id], [], now, last)

    def _write(self, chunk: Prepared) -> None:
        """One chunk of checked rows, in the import's transaction (committed by run() when every row passed)."""
        if self.spec.import_ and self.spec.import_.into:
            self._children.extend(chunk.children)  # the parent row is made once every row is known
            return
        self._fold_gin_in_bulk(not chunk.last)
        self._insert(chunk)
        if chunk.updates:
            self._update(chunk.updates)
            # flushed, its scope checks and per-field audit done: the chunk's rows need not stay in the session
            # (a whole file of updated objects would be the memory the chunks save)
            session = self.svc.session
            session.flush()
            for obj in [o for o in session.identity_map.values() if isinstance(o, self.model)]:
                session.expunge(obj)

    def _insert(self, chunk: Prepared) -> None:
        if not chunk.records:
            return
        session = self.svc.session
        table = self.model.__table__
        audit = self.svc.models.engine["AuditLog"].__table__
        records = chunk.records
        fill_records(session, self.spec, records)
        ids = write_rows(session, table, records)
        write_rows(session, audit, import_entries(self.target, self.actor, ids,
                                                  (f"{self.file_name}#{number}" for number in chunk.numbers), chunk.now),
                   ids=False)
        create_accounts_for(session, self.target, records)
        self.report.inserted += len(records)

    def _fold_gin_in_bulk(self, bulk: bool) -> None:
        """GIN_PENDING_LIST_LIMIT and GIN_FOLD_WORK_MEM while ``bulk`` (a chunk before the last), the server's own
        pending list limit again for the last one (work_mem stays: its first rows fold the list). Local to the
        import's transaction; PostgreSQL registers with trigram indexes only."""
        if bulk == self._gin_folding:
            return
        if bulk and not any(index.dialect_options["postgresql"].get("using") == "gin"
                            for index in self.model.__table__.indexes):
            return
        connection = self.svc.session.connection()
        if connection.dialect.name != "postgresql":
            return
        if bulk:
            connection.exec_driver_sql(f"SET LOCAL gin_pending_list_limit = '{GIN_PENDING_LIST_LIMIT}'")
            connection.exec_driver_sql(f"SET LOCAL work_mem = '{GIN_FOLD_WORK_MEM}'")
        else:
            connection.exec_driver_sql("SET LOCAL gin_pending_list_limit TO DEFAULT")
        self._gin_folding = bulk

    def _update(self, rows: list[ParsedRow]) -> None:
        """Existing rows go through the ORM: the flush checks scope and locked fields, the audit is per field."""
        session = self.svc.session
        for index, row in enumerate(rows):
            obj = session.get(self.model, row.existing_id)
            changed = False
            kept = row.blank
            values = {name: value for name, value in row.values.items() if name not in kept} if kept else row.values
            for name, value in self._record(values).items():
                if getattr(obj, name) != value:
                    setattr(obj, name, value)
                    changed = True
            if changed:
                self.report.updated += 1
            else:
                self.report.unchanged += 1
            if index % 500 == 0:
                session.flush()

    def _write_into_parent(self, parsed: list[ParsedRow], file_stem: str) -> None:
        """One new parent row named after the file, the sheet's rows as its children (003 checklists)."""
        imp = self.spec.import_
        parent_model = self.svc.models[self.spec.name]
        parent = parent_model()
        setattr(parent, imp.file_name, file_stem[:getattr(self.spec.field(imp.file_name), "length", 255)])
        for f in self.spec.stored_fields:
            if f.default is not None and f.default not in ("today", "now") and f.name != imp.file_name:
                setattr(parent, f.name, f.default)
        children = []
        for row in parsed:
            child = self.model()
            for name, value in self._record(row.values).items():
                setattr(child, name, value)
            children.append(child)
        setattr(parent, imp.into, children)
        self.svc.session.add(parent)
        self.svc.session.flush()  # the session's checks: may this user add one, in its scope
        self.report.inserted = len(children)


class _Writer:
    """Writes one chunk at a time, on a thread of its own (``background``) or at once. ``wait`` returns when the
    chunk submitted last is written and raises what its write raised; ``wrote`` says whether anything was."""

    def __init__(self, write: Callable[[Prepared], None], background: bool):
        self.write, self.wrote = write, False
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") if background else None
        self.pending: Future | None = None

    def submit(self, chunk: Prepared) -> None:
        self.wait()
        if self.pool is None:
            self.write(chunk)
            self.wrote = True
            return
        # the same application context (and so the same session and transaction) on the writing thread
        self.pending = self.pool.submit(contextvars.copy_context().run, self.write, chunk)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()
            self.wrote = True

    def close(self) -> None:
        """Let a write under way finish (its error is not raised again: the import is failing already), then stop
        the thread."""
        if self.pending is not None:
            wait([self.pending])
            self.pending = None
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None


def _chunks(rows: Iterable[tuple[int, list[Any]]], size: int, first: int | None = None
            ) -> Iterator[tuple[list[tuple[int, list[Any]]], bool]]:
    """The rows in chunks (``first`` rows, then ``size``), each with whether it is the last: one row is read ahead."""
    iterator = iter(rows)
    chunk = list(itertools.islice(iterator, first or size))
    while chunk:
        ahead = next(iterator, None)
        if ahead is None:
            yield chunk, True
            return
        yield chunk, False
        chunk = [ahead, *itertools.islice(iterator, size - 1)]


def _compact_key(values: tuple) -> Any:
    """The key a row's unique values are remembered by for the rest of the file: text values as one UTF-8 bytes
    (a third of a tuple of Python strings: 200,000 rows keep about 25 MB less), anything else as the tuple."""
    if all(type(v) is str and "\x1f" not in v for v in values):
        return "\x1f".join(values).encode()
    return values


def _default(field: Any) -> Any:
    """What an empty cell takes: the field's default, with 'today' and 'now' as of this import."""
    if field.default == "today":
        return date.today()
    if field.default == "now":
        return datetime.now().replace(microsecond=0)
    return field.default


__all__ = ["CellProblem", "ImportReport", "Importer"]
