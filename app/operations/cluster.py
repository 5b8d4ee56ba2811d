"""`flask metadata cluster`: a register's table rewritten in the order of its rows' region (PostgreSQL CLUSTER),
then vacuumed and analysed.

A county regulator's list reads only its county's rows, but rows are stored in the order they were written: at
10,000,000 enterprises a county's 43,000 rows lie on 41,000 different pages of the table, and every page of its
list reads them all (for the count, a sort by another column, or a search of two Chinese characters, which no
trigram index narrows). Rewritten in region order, the same rows sit on a few thousand neighbouring pages.

CLUSTER holds an exclusive lock while it rewrites the table and rebuilds its indexes (minutes at millions of
rows, and as much free disk as the table and its indexes): a maintenance-window command, like ``migrate``. Rows
written afterwards go where there is room, so it is worth running again when a register has grown by a large
share (docs/deploy.md).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Engine, inspect, text

from app.metadata import Registry
from app.metadata.spec import RegisterSpec
from app.models.builder import column_names


class ClusterError(Exception):
    """A register cannot be clustered (named, but unknown, without a region, or no index to order by)."""


@dataclass(frozen=True)
class ClusterPlan:
    register: str
    table: str
    column: str      # the column the rows are ordered by
    index: str       # the index CLUSTER follows (its first column is ``column``)
    through: str     # how the column gives the region: '' (the row's own) or the reference followed


def cluster_column(spec: RegisterSpec) -> tuple[str, str] | None:
    """(column, reference followed or '') that groups a register's rows by region: its own region field, or the
    reference its ownership reaches the region through (rows of one enterprise together); None without one."""
    region = spec.ownership.region
    if not region:
        return None
    head, _, rest = region.partition(".")
    field = spec.field_map.get(head)
    if field is None:
        return None
    columns = column_names(field)
    if not columns:
        return None
    return columns[0], head if rest else ""


def plan(engine: Engine, registry: Registry, names: tuple[str, ...],
         skipped: Callable[[str], None] = lambda _: None) -> list[ClusterPlan]:
    """What ``cluster`` would do for ``names``; with none, for every register with a region and an index that
    starts with its column (the others are passed to ``skipped``, with the reason)."""
    unknown = [name for name in names if name not in registry.registers]
    if unknown:
        raise ClusterError(f"No register named {', '.join(unknown)} (see metadata/registers/).")
    specs = [registry.registers[name] for name in names] if names else [
        spec for _, spec in sorted(registry.registers.items()) if not spec.parent]
    inspector = inspect(engine)
    plans = []
    for spec in specs:
        found = cluster_column(spec)
        if found is None:
            if names:
                raise ClusterError(f"Register {spec.name} has no ownership.region: there is no region to order its "
                                   "rows by.")
            continue
        column, through = found
        indexes = sorted((ix for ix in inspector.get_indexes(spec.table_name)
                          if ix["column_names"] and ix["column_names"][0] == column),
                         key=lambda ix: len(ix["column_names"]))
        if not indexes:
            reason = (f"Register {spec.name}: no index of {spec.table_name} starts with {column} (add the field to "
                      "the list's filters, or `index: true`, then `flask metadata migrate`).")
            if names:
                raise ClusterError(reason)
            skipped(reason + " Left as it is.")
            continue
        plans.append(ClusterPlan(spec.name, spec.table_name, column, str(indexes[0]["name"]), through))
    return plans


def cluster(engine: Engine, registry: Registry, names: tuple[str, ...], echo: Callable[[str], None]) -> int:
    """CLUSTER then VACUUM (ANALYZE) each planned table, one after the other; the number of tables rewritten."""
    if engine.dialect.name != "postgresql":
        raise ClusterError("Clustering is a PostgreSQL maintenance step; the embedded SQLite database does not "
                           "need it.")
    plans = plan(engine, registry, names, echo)
    for item in plans:
        started = time.perf_counter()
        with engine.begin() as conn:
            rows = conn.execute(text(f'SELECT count(*) FROM "{item.table}"')).scalar_one()
            conn.execute(text(f'CLUSTER "{item.table}" USING "{item.index}"'))
        # the rewritten table has an empty visibility map: until a VACUUM, the lists' index-only walks (page 5000)
        # read every row they pass from the table (measured: 35 → 209 ms at 1,000,000 enterprises)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'VACUUM (ANALYZE) "{item.table}"'))
        by = f"{item.column} (rows of one {item.through} together)" if item.through else item.column
        echo(f"{item.register}: {rows:,} rows of {item.table} ordered by {by} in "
             f"{time.perf_counter() - started:.1f} s")
    return len(plans)
