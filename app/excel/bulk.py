"""Bulk writes for imports: PostgreSQL COPY (ids reserved from the table's sequence first, so audit rows and
accounts can name them); other databases fall back to executemany."""
from __future__ import annotations

import csv
import io
import json

from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session


NULL = "\\N"  # COPY's NULL marker (an empty field is an empty string)
COPY_READ = 1 << 20  # characters psycopg2 reads from the text per call


def _csv_value(value: Any) -> Any:
    """What csv.writer needs for COPY … (FORMAT csv, NULL '\\N'): lists and dicts as JSON."""
    if value is None:
        return NULL
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def reserve_ids(session: Session, table: Table, count: int, sequence: str | None = None) -> list[int]:
    """``count`` new ids for ``table`` from its sequence (PostgreSQL)."""
    name = sequence or session.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                       {"t": table.name}).scalar_one()
    return list(session.execute(text("SELECT nextval(:s) FROM generate_series(1, :n)"),
                                {"s": name, "n": count}).scalars())


def write_rows(session: Session, table: Table, records: list[dict[str, Any]], sequence: str | None = None
               ) -> list[int]:
    """Insert the records in the session's transaction; returns their ids in order."""
    if not records:
        return []
    if session.get_bind().dialect.name != "postgresql":
        return list(session.execute(insert(table).returning(table.c.id), records).scalars())
    ids = reserve_ids(session, table, len(records), sequence)
    columns = sorted({key for record in records for key in record})
    structured = {c for c in columns if any(isinstance(r.get(c), (dict, list)) for r in records[:50])}
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the csv module quotes in C
    if structured:
        writer.writerows([row_id, *(_csv_value(r.get(c)) for c in columns)] for row_id, r in zip(ids, records))
    else:
        writer.writerows([row_id, *(NULL if (v := r.get(c)) is None else v for c in columns)]
                         for row_id, r in zip(ids, records))
    buffer.seek(0)
    cursor = session.connection().connection.cursor()
    # read in pieces of a million characters, not psycopg2's 8 KB: it takes the interpreter's lock for each read,
    # and an import writes on a second thread while the first converts (each read would wait for that thread)
    cursor.copy_expert(f"COPY {table.name} (id, {', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer,
                       size=COPY_READ)
    return ids
