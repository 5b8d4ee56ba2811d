"""Bulk writes for imports: PostgreSQL COPY (ids reserved from the table's sequence first, so audit rows and
accounts can name them); other databases fall back to executemany."""
from __future__ import annotations

import csv
import itertools
import json

from typing import Any, Iterator

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


NULL = "\\N"  # COPY's NULL marker (an empty field is an empty string)
ROWS_PER_READ = 500  # rows formatted per piece of COPY data (~150 KB of an enterprise row)


def _csv_value(value: Any) -> Any:
    """What csv.writer needs for COPY … (FORMAT csv, NULL '\\N'): lists and dicts as JSON."""
    if value is None:
        return NULL
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def reserve_ids(session: Session, table: Table, count: int, sequence: str | None = None) -> list[int]:
    """``count`` new ids for ``table`` from its sequence (PostgreSQL), in the session's transaction: one array
    through the driver's own cursor (a result of thousands of rows through SQLAlchemy costs three times more)."""
    cursor = session.connection().connection.cursor()
    if sequence is None:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table.name,))
        (sequence,) = cursor.fetchone()
    cursor.execute("SELECT array_agg(nextval(%s)) FROM generate_series(1, %s)", (sequence, count))
    return list(cursor.fetchone()[0])


class _CopySource:
    """COPY's input, formatted while it is sent: ``read`` turns the next rows into CSV text (by the csv module, in C)
    and psycopg2 sends it before asking for more. The server indexes the rows already sent while the next are
    formatted, instead of waiting for the whole text (for the register's rows, a second per 100,000); a full socket
    holds the formatting back, so only a few pieces are ever in memory."""

    def __init__(self, rows: Iterator[list[Any]], rows_per_read: int = ROWS_PER_READ):
        self._rows, self._per_read = rows, rows_per_read
        self._lines: list[str] = []
        self._csv = csv.writer(self)  # writerow hands each row's line to write()

    def write(self, line: str) -> None:
        self._lines.append(line)

    def read(self, size: int = -1) -> str:
        """The next rows' lines (``size`` is psycopg2's hint; a piece holds whole rows)."""
        self._csv.writerows(itertools.islice(self._rows, self._per_read))
        text = "".join(self._lines)
        self._lines.clear()
        return text


def write_rows(session: Session, table: Table, records: list[dict[str, Any]], sequence: str | None = None,
               ids: bool = True) -> list[int]:
    """Insert the records in the session's transaction; returns their ids in order. ``ids=False``: the table's
    own default numbers them (audit rows, which nothing names), and nothing is returned."""
    if not records:
        return []
    if session.get_bind().dialect.name != "postgresql":
        if not ids:
            session.execute(insert(table), records)
            return []
        return list(session.execute(insert(table).returning(table.c.id), records).scalars())
    numbers = reserve_ids(session, table, len(records), sequence) if ids else []
    columns = sorted({key for record in records for key in record})
    structured = {c for c in columns if any(isinstance(r.get(c), (dict, list)) for r in records[:50])}
    rows: Iterator[list[Any]]
    if structured:
        rows = ([*(_csv_value(r.get(c)) for c in columns)] for r in records)
    else:
        rows = ([*(NULL if (v := r.get(c)) is None else v for c in columns)] for r in records)
    names = ", ".join(columns)
    if ids:
        rows = ([row_id, *row] for row_id, row in zip(numbers, rows))
        names = f"id, {names}"
    cursor = session.connection().connection.cursor()
    cursor.copy_expert(f"COPY {table.name} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", _CopySource(rows))
    return numbers
