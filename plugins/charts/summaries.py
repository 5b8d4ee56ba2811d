"""Counts kept ahead of time for the charts (metadata/summaries/*.yaml): a table per summary holding, per value of
a reference (the enterprise) and of a few dimensions (state, level …), how many rows of the register have them.

    name: hazards_per_enterprise
    register: hazard
    key: enterprise           # a reference of the register: the row scope is anchored through it
    dimensions: [state, level]

PostgreSQL only (the embedded SQLite database is small: its charts count the register itself). The table
``chart_sum_<name>`` is kept by three statement-level triggers on the register's table (AFTER INSERT, UPDATE,
DELETE, with transition tables: a COPY or an UPDATE of 10,000 rows is one grouped upsert, not 10,000) plus one on
TRUNCATE. Each adds the new rows' counts and subtracts the old ones' in one ``INSERT … ON CONFLICT DO UPDATE``
(ordered, so concurrent writers lock summary rows in the same order), then removes the rows that fell to zero (a
partial index finds them). Rows keep their place under concurrent writers because the upsert takes the row lock
and adds to the committed value (READ COMMITTED re-reads it), never a value computed before.

`flask metadata migrate` installs a summary after the schema plan (``after_migrate``): the table, its indexes,
function and triggers, and a full rebuild from the register when it is new or its definition changed, all in one
transaction that holds the register's table in SHARE mode (writers wait; nothing is counted twice or missed).
``chart_summary_state`` records each summary's definition; a summary whose record does not match the YAML is not
used (the chart counts the register), so a stale summary can slow a chart but never change its figures.

A chart reads a summary when everything it needs is there (query.py): its groupings are dimensions or follow the
key (``enterprise.region``), its filters and its rate's part are on dimensions, the measure is a count or a
rate, and the actor's own row scope can be written on the summary's columns (it is anchored through the key, as
the hazard's jurisdiction, department and own-enterprise rules are). Rows the actor sees only through a
``reveals`` reference (a hazard handed over to its department) are counted from the register itself and added.
Otherwise the chart counts the register as before. The smallest summary that fits is used."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Mapping

from pydantic import Field
from sqlalchemy import Column, BigInteger, MetaData, Table, text

from app.metadata.issues import Issue, did_you_mean
from app.metadata.spec import Identifier, Label, Spec
from app.models import column_names

#: field types a summary can hold as a dimension (one stored value each, few distinct values)
DIMENSION_TYPES = ("enum", "tree", "boolean", "reference", "integer", "string", "date")
STATE_TABLE = "chart_summary_state"
PREFIX = "chart_sum_"


class SummarySpec(Spec):
    name: Identifier
    label: Label | None = None
    source: Identifier = Field(alias="register")
    key: Identifier
    dimensions: tuple[Identifier, ...] = ()


def check_summary(summary: SummarySpec, registry: Any, doc: Any) -> list[Issue]:
    """E912 unknown register or a key that is not a reference; E913 a dimension that is not one stored value;
    E914 a dimension named twice or equal to the key."""
    spec = registry.registers.get(summary.source)
    if spec is None:
        return [Issue(doc.file, doc.line_of(("register",)), "E912", f"unknown register '{summary.source}'",
                      did_you_mean(summary.source, registry.registers))]
    issues = []
    key = spec.field_map.get(summary.key)
    if key is None or key.type != "reference":
        issues.append(Issue(doc.file, doc.line_of(("key",)), "E912",
                            f"{summary.source}.{summary.key} is {'not a field' if key is None else 'a ' + key.type}: "
                            "the key of a summary is a reference (the row scope is anchored through it)",
                            did_you_mean(summary.key, spec.field_map) if key is None else
                            "name the reference the register's ownership follows, e.g. key: enterprise"))
    seen = {summary.key}
    for i, name in enumerate(summary.dimensions):
        where = ("dimensions", i)
        f = spec.field_map.get(name)
        if f is None:
            issues.append(Issue(doc.file, doc.line_of(where), "E913", f"{summary.source} has no field '{name}'",
                                did_you_mean(name, spec.field_map)))
        elif f.type not in DIMENSION_TYPES or getattr(f, "multiple", False) or len(column_names(f)) != 1:
            issues.append(Issue(doc.file, doc.line_of(where), "E913",
                                f"'{name}' is a {f.type} field{' with multiple values' if getattr(f, 'multiple', False) else ''}: "
                                "it cannot be a dimension of a summary",
                                "use fields with one stored value and few distinct values: an enum, a tree, the "
                                "state, a boolean or a reference"))
        if name in seen:
            issues.append(Issue(doc.file, doc.line_of(where), "E914", f"'{name}' is named twice (or is the key)",
                                "name each dimension once; the key is always counted by"))
        seen.add(name)
    return issues


@dataclass(frozen=True)
class Summary:
    """A checked summary with its table's columns: (register column → summary column) for the key and dimensions."""

    spec: SummarySpec
    base: Table
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def table_name(self) -> str:
        return f"{PREFIX}{self.spec.name}"

    @property
    def key_column(self) -> str:
        return self.columns[0]

    def table(self) -> Table:
        """The summary as a Core table (its own MetaData: not part of the schema plan)."""
        cols = [Column(c, self.base.c[c].type) for c in self.columns] + [Column("n", BigInteger, nullable=False)]
        return Table(self.table_name, MetaData(), *cols)

    def view(self, table: Table) -> SimpleNamespace:
        """The summary's columns under the register's column names: what the row scope and the list filters are
        built on instead of the register's model. A condition naming any other column fails with AttributeError
        (and the chart counts the register)."""
        return SimpleNamespace(**{c: table.c[c] for c in self.columns})

    def definition(self) -> str:
        return "\n".join(self.ddl())

    def digest(self) -> str:
        return hashlib.sha256(self.definition().encode()).hexdigest()[:16]

    def ddl(self) -> list[str]:
        """The statements that (re)create the table, its indexes, function and triggers (not the fill)."""
        t, base = self.table_name, self.base.name
        cols = ", ".join(self.columns)
        typed = ", ".join(f"{c} {self.base.c[c].type.compile(dialect=_pg())}" for c in self.columns)
        grouped = ", ".join(self.columns)

        def delta(source: str, sign: str) -> str:
            return f"SELECT {cols}, {sign}count(*) AS n FROM {source} GROUP BY {grouped}"

        def upsert(*parts: str) -> str:
            union = " UNION ALL ".join(parts)
            return (f"INSERT INTO {t} AS s ({cols}, n) SELECT {cols}, sum(n) FROM ({union}) d GROUP BY {grouped} "
                    f"HAVING sum(n) <> 0 ORDER BY {grouped} "
                    f"ON CONFLICT ({cols}) DO UPDATE SET n = s.n + excluded.n")

        body = f"""
BEGIN
  IF TG_OP = 'INSERT' THEN
    {upsert(delta('new_rows', ''))};
  ELSIF TG_OP = 'UPDATE' THEN
    {upsert(delta('new_rows', ''), delta('old_rows', '-'))};
  ELSIF TG_OP = 'DELETE' THEN
    {upsert(delta('old_rows', '-'))};
  ELSE
    TRUNCATE {t};
    RETURN NULL;
  END IF;
  DELETE FROM {t} WHERE n <= 0;
  RETURN NULL;
END"""
        fn = f"{t}_keep"
        return [
            f"CREATE TABLE {t} ({typed}, n bigint NOT NULL)",
            f"CREATE UNIQUE INDEX {t}_key ON {t} ({cols}) NULLS NOT DISTINCT",
            f"CREATE INDEX {t}_zero ON {t} ({self.key_column}) WHERE n <= 0",
            f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $${body}\n$$",
            f"CREATE TRIGGER {t}_ins AFTER INSERT ON {base} REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
            f"CREATE TRIGGER {t}_upd AFTER UPDATE ON {base} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
            f"CREATE TRIGGER {t}_del AFTER DELETE ON {base} REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
            f"CREATE TRIGGER {t}_trunc AFTER TRUNCATE ON {base} FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        ]

    def fill(self) -> str:
        cols = ", ".join(self.columns)
        return f"INSERT INTO {self.table_name} ({cols}, n) SELECT {cols}, count(*) FROM {self.base.name} GROUP BY {cols}"

    def drop(self) -> list[str]:
        return drop_statements(self.table_name, self.base.name)


def drop_statements(table: str, base: str | None) -> list[str]:
    triggers = [f"DROP TRIGGER IF EXISTS {table}_{kind} ON {base}" for kind in ("ins", "upd", "del", "trunc")] \
        if base else []
    return triggers + [f"DROP TABLE IF EXISTS {table}", f"DROP FUNCTION IF EXISTS {table}_keep()"]


def _pg() -> Any:
    from sqlalchemy.dialects import postgresql
    return postgresql.dialect()


def build(specs: Iterable[SummarySpec], models: Any, registry: Any) -> dict[str, Summary]:
    """Checked summaries with their tables' columns (key first, then the dimensions in the YAML's order)."""
    found = {}
    for s in specs:
        spec = registry.register(s.source)
        cols = [column_names(spec.field(s.key))[0]] + [column_names(spec.field(d))[0] for d in s.dimensions]
        found[s.name] = Summary(s, models[s.source].__table__, tuple(cols))
    return found


# ---------------------------------------------------------------- installation (after `flask metadata migrate`)
def install(engine: Any, summaries: Mapping[str, Summary], echo: Callable[[str], Any] = print) -> list[str]:
    """Create, replace or drop the summary tables so the database matches the YAML; a new or changed summary is
    filled from its register. Returns the names (re)built. Nothing on SQLite, nor on PostgreSQL before 15 (NULLS
    NOT DISTINCT): there every chart counts its register."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        if conn.dialect.server_version_info < (15,):
            echo("Chart summaries need PostgreSQL 15 or later: charts count their registers.")
            return []
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (name varchar(80) PRIMARY KEY, "
                          "base varchar(80) NOT NULL, digest varchar(16) NOT NULL, built_at timestamptz NOT NULL, "
                          "rows bigint NOT NULL)"))
        stored = {r.name: r for r in conn.execute(text(f"SELECT name, base, digest FROM {STATE_TABLE}"))}
        built = []
        for name, row in stored.items():
            if name not in summaries:
                conn.execute(text(f"LOCK TABLE {row.base} IN SHARE ROW EXCLUSIVE MODE"))
                for statement in drop_statements(f"{PREFIX}{name}", row.base):
                    conn.execute(text(statement))
                conn.execute(text(f"DELETE FROM {STATE_TABLE} WHERE name = :n"), {"n": name})
                echo(f"Chart summary {name}: dropped (no longer declared).")
        for name, summary in summaries.items():
            old = stored.get(name)
            if old is not None and old.digest == summary.digest() and old.base == summary.base.name:
                continue
            # writers wait until the summary is filled and its triggers are in place: nothing missed, nothing twice
            conn.execute(text(f"LOCK TABLE {summary.base.name} IN SHARE ROW EXCLUSIVE MODE"))
            for statement in drop_statements(summary.table_name, old.base if old else summary.base.name):
                conn.execute(text(statement))
            for statement in summary.ddl():
                conn.execute(text(statement))
            conn.execute(text(summary.fill()))
            rows = conn.execute(text(f"SELECT count(*) FROM {summary.table_name}")).scalar()
            conn.execute(text(f"DELETE FROM {STATE_TABLE} WHERE name = :n"), {"n": name})
            conn.execute(text(f"INSERT INTO {STATE_TABLE} (name, base, digest, built_at, rows) "
                              "VALUES (:n, :b, :d, now(), :r)"),
                         {"n": name, "b": summary.base.name, "d": summary.digest(), "r": rows})
            built.append(name)
            echo(f"Chart summary {name}: built from {summary.base.name} ({rows:,} rows).")
    return built


def rebuild(engine: Any, summary: Summary) -> int:
    """Refill one summary from its register (after a load that bypassed the triggers); returns its rows."""
    with engine.begin() as conn:
        conn.execute(text(f"LOCK TABLE {summary.base.name} IN SHARE ROW EXCLUSIVE MODE"))
        conn.execute(text(f"TRUNCATE {summary.table_name}"))
        conn.execute(text(summary.fill()))
        rows = conn.execute(text(f"SELECT count(*) FROM {summary.table_name}")).scalar()
        conn.execute(text(f"UPDATE {STATE_TABLE} SET built_at = now(), rows = :r WHERE name = :n"),
                     {"r": rows, "n": summary.name})
    return int(rows)


def differences(engine: Any, summary: Summary) -> int:
    """How many (key, dimensions) groups differ between the summary and a count of its register (0: in step)."""
    cols = ", ".join(summary.columns)
    counted = f"SELECT {cols}, count(*) AS n FROM {summary.base.name} GROUP BY {cols}"
    kept = f"SELECT {cols}, n FROM {summary.table_name}"
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM (({counted} EXCEPT ALL {kept}) UNION ALL "
                                     f"({kept} EXCEPT ALL {counted})) d")).scalar())


def ready(engine: Any, summaries: Mapping[str, Summary]) -> dict[str, Summary]:
    """The summaries installed as the YAML declares them (a stale or missing one is not used)."""
    if engine.dialect.name != "postgresql" or not summaries:
        return {}
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass(:t)"), {"t": STATE_TABLE}).scalar()
        if exists is None:
            return {}
        stored = {r.name: r.digest for r in conn.execute(text(f"SELECT name, digest FROM {STATE_TABLE}"))}
    return {name: s for name, s in summaries.items() if stored.get(name) == s.digest()}
