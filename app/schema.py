"""Schema changes with Alembic autogenerate: additive changes applied, destructive ones refused with the plan."""
from __future__ import annotations

import warnings

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from alembic.operations import Operations, ops
from sqlalchemy import (JSON, BigInteger, Column, ForeignKeyConstraint, Integer, MetaData, Numeric, String, Text,
                        func, select, table)
from sqlalchemy.engine import Connection


@dataclass
class Step:
    """One operation of the plan, with a one-line description and whether it may lose data."""

    op: Any
    text: str
    destructive: bool = False
    reason: str = ""


@dataclass
class MigrationPlan:
    steps: list[Step] = field(default_factory=list)


    @property
    def additive(self) -> list[Step]:
        return [s for s in self.steps if not s.destructive]

    @property
    def destructive(self) -> list[Step]:
        return [s for s in self.steps if s.destructive]

    def describe(self) -> str:
        if not self.steps:
            return "The database matches the metadata: nothing to do."
        lines = []
        for step in self.steps:
            mark = "!" if step.destructive else "+"
            lines.append(f"  {mark} {step.text}" + (f"  [{step.reason}]" if step.reason else ""))
        return "\n".join(lines)


class StepFailed(Exception):
    """A step the database refused (e.g. a unique index over rows that repeat); nothing was applied."""

    def __init__(self, step: Step, error: Exception):
        self.step, self.error = step, error
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        super().__init__(f"{step.text}: {reason}")


def _flatten(operations: Iterable[Any]) -> list[Any]:
    flat = []
    for op in operations:
        if isinstance(op, ops.ModifyTableOps):
            flat.extend(_flatten(op.ops))
        else:
            flat.append(op)
    return flat


def _break_cycles(flat: list[Any]) -> list[Any]:
    """A new table's foreign key to a table created later in the same plan (a cycle of references) is left out of
    its CREATE TABLE and added once every table exists."""
    later = {op.table_name for op in flat if isinstance(op, ops.CreateTableOp)}
    added = []
    for op in flat:
        if not isinstance(op, ops.CreateTableOp):
            continue
        later.discard(op.table_name)
        deferred = [c for c in op.columns if isinstance(c, ForeignKeyConstraint) and c.referred_table.name in later]
        if not deferred:
            continue
        names = {element.parent.name for constraint in deferred for element in constraint.elements}
        skipped = {id(c) for c in deferred}
        columns = []
        for item in op.columns:
            if id(item) in skipped:
                continue
            if isinstance(item, Column) and item.name in names:
                item = Column(item.name, item.type, nullable=item.nullable, primary_key=item.primary_key,
                              server_default=item.server_default, comment=item.comment)
            columns.append(item)
        op.columns = columns
        for constraint in deferred:
            element = constraint.elements[0]
            added.append(ops.CreateForeignKeyOp(
                constraint.name or f"fk_{op.table_name}_{element.parent.name}", op.table_name,
                constraint.referred_table.name, [e.parent.name for e in constraint.elements],
                [e.column.name for e in constraint.elements], ondelete=constraint.ondelete))
    return flat + added


def _type_text(type_: Any) -> str:
    try:
        return str(type_.compile())
    except Exception:  # a dialect-specific type without a generic rendering
        return type(type_).__name__


def _narrowing(old: Any, new: Any) -> str | None:
    """Why changing ``old`` to ``new`` may lose data, or None when it only widens."""
    if isinstance(old, String) and isinstance(new, String) and not isinstance(new, Text):
        if old.length is None or (new.length is not None and new.length < old.length):
            return f"text shortened to {new.length} characters: longer values would be cut"
        return None
    if isinstance(old, String) and isinstance(new, Text):
        return None
    if isinstance(old, Integer) and isinstance(new, BigInteger):
        return None
    if isinstance(old, Numeric) and isinstance(new, Numeric):
        if (new.precision or 0) >= (old.precision or 0) and (new.scale or 0) >= (old.scale or 0):
            return None
        return "fewer digits: values would be rounded or refused"
    if isinstance(old, JSON) and isinstance(new, JSON):
        return None
    return f"type changes from {_type_text(old)} to {_type_text(new)}: existing values may not convert"


def _classify(op: Any, empty_tables: set[str]) -> Step:
    if isinstance(op, ops.CreateTableOp):
        columns = [c for c in op.columns if isinstance(c, Column)]
        return Step(op, f"create table {op.table_name} ({len(columns)} columns)")
    if isinstance(op, ops.DropTableOp):
        return Step(op, f"drop table {op.table_name}", True, "all its rows would be lost")
    if isinstance(op, ops.AddColumnOp):
        col = op.column
        text = f"add column {op.table_name}.{col.name} {_type_text(col.type)}"
        if not col.nullable and col.server_default is None and op.table_name not in empty_tables:
            return Step(op, text + " NOT NULL", True,
                        "a required field without a default cannot be added to a table that has rows; "
                        "give the field a default, or add it optional, fill it, then make it required")
        return Step(op, text + ("" if col.nullable else " NOT NULL with a default"))
    if isinstance(op, ops.DropColumnOp):
        return Step(op, f"drop column {op.table_name}.{op.column_name}", True, "its values would be lost")
    if isinstance(op, ops.CreateIndexOp):
        kind = "unique index" if op.unique else "index"
        return Step(op, f"create {kind} {op.index_name} on {op.table_name} ({', '.join(getattr(c, 'name', str(c)) for c in op.columns)})")
    if isinstance(op, ops.DropIndexOp):
        return Step(op, f"drop index {op.index_name} on {op.table_name}")
    if isinstance(op, ops.AlterColumnOp):
        if op.modify_name:
            return Step(op, f"rename column {op.table_name}.{op.column_name} → {op.modify_name}")
        parts, reason = [], None
        if op.modify_type is not None:
            parts.append(f"type {_type_text(op.existing_type)} → {_type_text(op.modify_type)}")
            reason = _narrowing(op.existing_type, op.modify_type)
        if op.modify_nullable is not None:
            parts.append("nullable" if op.modify_nullable else "NOT NULL")
            if op.modify_nullable is False:
                reason = reason or "rows with an empty value would make this fail"
        text = f"alter column {op.table_name}.{op.column_name}: {', '.join(parts) or 'details'}"
        return Step(op, text, reason is not None, reason or "")
    if isinstance(op, (ops.CreateForeignKeyOp, ops.CreateUniqueConstraintOp)):
        return Step(op, f"add constraint {op.constraint_name} on {op.source_table if hasattr(op, 'source_table') else op.table_name}")
    if isinstance(op, ops.DropConstraintOp):
        return Step(op, f"drop constraint {op.constraint_name} on {op.table_name}")
    return Step(op, f"{type(op).__name__}", True, "not an operation the engine applies on its own")


def _apply_renames(flat: list[Any], renames: dict[tuple[str, str], str]) -> list[Any]:
    """Turn drop(old) + add(new) into a rename where a field declares ``renamed_from: old``."""
    drops = {(op.table_name, op.column_name): op for op in flat if isinstance(op, ops.DropColumnOp)}
    adds = {(op.table_name, op.column.name): op for op in flat if isinstance(op, ops.AddColumnOp)}
    result = list(flat)
    for (table_name, old), new in renames.items():
        if (table_name, old) in drops and (table_name, new) in adds:
            result.remove(drops[(table_name, old)])
            add = adds[(table_name, new)]
            index = result.index(add)
            result[index] = ops.AlterColumnOp(table_name, old, modify_name=new, existing_type=add.column.type,
                                              existing_nullable=True)
    return result


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # tables that only exist in the database and are not ours (e.g. Celery's) are left alone
    if type_ == "table" and reflected and compare_to is None:
        return bool(name) and name.startswith(("reg_", "sys_", "ab_"))
    return True


def plan_migration(connection: Connection, metadatas: Sequence[MetaData],
                   renames: dict[tuple[str, str], str] | None = None) -> MigrationPlan:
    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "include_object": _include_object,
        "render_as_batch": connection.dialect.name == "sqlite"})
    with warnings.catch_warnings():
        # PostGIS's geography column (app/models/spatial.py) is reflected as an unknown type and left as it is
        warnings.filterwarnings("ignore", message="Did not recognize type 'geography'")
        # two registers referring to each other (a check remembers its hazard, the hazard names its check):
        # their tables cannot be ordered; _break_cycles adds those references after both tables exist
        warnings.filterwarnings("ignore", message="Cannot correctly sort tables")
        # SQLite cannot reflect an expression index (ab_user's lower(username), app/security/models.py): Alembic
        # leaves it out of the comparison there; PostgreSQL compares it
        warnings.filterwarnings("ignore", message=".*expression-based index")
        script = produce_migrations(context, list(metadatas))
    flat = _flatten(script.upgrade_ops.ops)
    flat = _apply_renames(flat, renames or {})
    # create tables first (parents before children), indexes after their tables
    order = {ops.CreateTableOp: 0, ops.AddColumnOp: 1, ops.AlterColumnOp: 2, ops.CreateIndexOp: 3}
    flat.sort(key=lambda op: order.get(type(op), 4))
    flat = _break_cycles(flat)
    if connection.dialect.name == "sqlite":
        # SQLite cannot add or drop a foreign key on an existing table (its RENAME COLUMN rewrites the
        # references itself); the column changes go ahead without the constraint operations
        flat = [op for op in flat if not isinstance(op, ops.CreateForeignKeyOp)
                and not (isinstance(op, ops.DropConstraintOp) and op.constraint_type == "foreignkey")]
    empty = {name for name in {getattr(op, "table_name", None) for op in flat if isinstance(op, ops.AddColumnOp)}
             if name and not connection.execute(select(func.count()).select_from(table(name))).scalar()}
    return MigrationPlan([_classify(op, empty) for op in flat])


def create_sequences(connection: Connection, metadatas: Sequence[MetaData]) -> None:
    """Sequences the tables name (FAB's ab_*_id_seq): autogenerate does not compare them."""
    if not connection.dialect.supports_sequences:
        return
    for metadata in metadatas:
        for sequence in metadata._sequences.values():
            sequence.create(connection, checkfirst=True)


def apply_plan(connection: Connection, plan: MigrationPlan, allow_destructive: bool = False) -> list[Step]:
    """Apply the additive steps (and the destructive ones when allowed); returns what was applied."""
    context = MigrationContext.configure(connection, opts={"render_as_batch": connection.dialect.name == "sqlite"})
    operations = Operations(context)
    applied = []
    for step in plan.steps:
        if step.destructive and not allow_destructive:
            continue
        try:
            with connection.begin_nested():
                if connection.dialect.name == "sqlite" and isinstance(step.op, (ops.AlterColumnOp, ops.DropColumnOp)):
                    _apply_sqlite_batch(operations, step.op)
                else:
                    operations.invoke(step.op)
        except Exception as exc:  # the database's own refusal, reported with the step that caused it
            raise StepFailed(step, exc) from exc
        applied.append(step)
    return applied


def _apply_sqlite_batch(operations: Operations, op: Any) -> None:
    """SQLite cannot alter a column in place: Alembic's batch mode copies the table."""
    with operations.batch_alter_table(op.table_name) as batch:
        if isinstance(op, ops.DropColumnOp):
            batch.drop_column(op.column_name)
        else:
            batch.alter_column(op.column_name, new_column_name=op.modify_name, type_=op.modify_type,
                               nullable=op.modify_nullable, existing_type=op.existing_type)


def render_sql(plan: MigrationPlan, dialect_name: str, allow_destructive: bool = False) -> str:
    """The plan as the SQL statements `migrate` would run, for a reviewer; refused steps appear as comments.

    Alembic renders each operation in its offline ("as_sql") mode for the database's dialect; nothing is
    executed. SQLite's column changes copy the table (batch mode), which needs the live table: they are named
    in a comment instead of rendered.
    """
    import io

    lines = [f"-- Schema plan ({len(plan.steps)} step(s)), rendered for {dialect_name}; review, then run "
             "`flask metadata migrate` to apply it in one transaction.", "BEGIN;"]
    for step in plan.steps:
        lines.append(f"\n-- {'!' if step.destructive else '+'} {step.text}" + (f"  [{step.reason}]" if step.reason else ""))
        if step.destructive and not allow_destructive:
            lines.append("-- refused: could lose data (only applied with --allow-destructive)")
            continue
        if dialect_name == "sqlite" and isinstance(step.op, (ops.AlterColumnOp, ops.DropColumnOp)):
            lines.append("-- SQLite: applied by copying the table (Alembic batch mode); not rendered here")
            continue
        buffer = io.StringIO()
        context = MigrationContext.configure(dialect_name=dialect_name,
                                             opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True})
        Operations(context).invoke(step.op)
        lines.append(buffer.getvalue().strip())
    lines.append("\nCOMMIT;")
    return "\n".join(lines) + "\n"
