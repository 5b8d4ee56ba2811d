"""A chart's figures computed in the database: one GROUP BY over the source register's ORM entity, so the session's
row scope (app/security/row_scope.py: the loader criteria every list gets) limits what is counted; no row is
loaded into Python. Also the drill-down: the list URL (f.<field> filters) of each slice."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, false, func, or_, select, union_all
from sqlalchemy.orm import aliased
from werkzeug.datastructures import MultiDict

from app.i18n import label_text
from app.query.listing import parse_list_args, usable_filters, where_clauses
from app.query.urls import register_url

from .settings import field_of, resolve_date
from .spec import LEVELS, ChartSpec, GroupBy
from .summaries import Summary


@dataclass
class Slice:
    key: str
    label: str
    value: float
    url: str | None = None
    #: stack key → value, for a stacked chart
    stacks: dict[str, float] = field(default_factory=dict)


@dataclass
class ChartData:
    chart: ChartSpec
    title: str
    measure_label: str
    slices: list[Slice]
    #: stack key → label, in order
    stack_labels: dict[str, str]
    total: float
    total_url: str | None
    percent: bool = False
    #: the summary counted from (summaries.py), None when the register itself was counted
    summary: str | None = None
    #: stack key → total (a roll-up's: of its top rows only, which hold every row below them)
    stack_totals: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.chart.name, "title": self.title, "kind": self.chart.kind,
                "measure": self.measure_label, "percent": self.percent, "total": self.total,
                "total_url": self.total_url, "stacks": [{"key": k, "label": v} for k, v in self.stack_labels.items()],
                "slices": [{"key": s.key, "label": s.label, "value": s.value, "url": s.url, "stacks": s.stacks}
                           for s in self.slices]}


def filter_args(spec: Any, filters: dict[str, Any], today: date | None = None) -> list[tuple[str, str]]:
    """A chart's filters as the list's URL parameters (f.<field>, f.<field>.from/.to), date tokens resolved."""
    args: list[tuple[str, str]] = []
    for name, value in filters.items():
        if isinstance(value, dict):
            args += [(f"f.{name}.{end}", str(resolve_date(v, today))) for end, v in value.items()]
        elif isinstance(value, list):
            args += [(f"f.{name}", str(v)) for v in value]
        else:
            args.append((f"f.{name}", "1" if value is True else "0" if value is False else
                         str(resolve_date(value, today))))
    return args


class ChartQuery:
    """Compute one chart for the signed-in actor (the row scope comes with the session)."""

    def __init__(self, svc: Any, chart: ChartSpec, actor: Any, extra: MultiDict | None = None,
                 summaries: list[Summary] | None = None, links: bool = True):
        self.svc, self.chart, self.actor = svc, chart, actor
        #: the drill-down URLs of the slices (none for a subscription's snapshot: no request, and a link would
        #: open today's rows, not those counted then)
        self.links = links
        #: the installed summaries of the chart's register, smallest first
        self.summaries = summaries or []
        self.summary_used: str | None = None
        self.spec = svc.registry.register(chart.source)
        self.model = svc.models[chart.source]
        self.base_args = filter_args(self.spec, chart.filters)
        # the list filters of the request narrow the chart further (the scope matrix asks for explicit ids)
        self.extra = [(k, v) for k, v in (extra or MultiDict()).items(multi=True)
                      if k.startswith("f.") or k == "ids"]
        self.joins: dict[str, tuple[Any, Any]] = {}   # reference → (joined table, the key it is joined on)

    # ---------------------------------------------------------------- SQL pieces
    def _clauses(self, args: list[tuple[str, str]], model: Any = None) -> list[Any]:
        """The list's WHERE conditions for ``args`` on the register's model (or a summary's columns)."""
        # a field hidden from the actor cannot narrow the count (that would reveal its values), as on the list
        req = parse_list_args(self.spec, MultiDict(args), hidden=self._hidden())
        return where_clauses(self.spec, self.model if model is None else model, req, self.svc.dictionaries,
                             self.svc.dictionary_item)

    def _column(self, path: str, base: Any = None) -> Any:
        """The column of 'field' or 'reference.field'; a reference is joined once, as a plain table (only the
        source register's scope applies, as on its list). ``base``: the pre-aggregated rows, whose reference ids
        are columns ``ref_<name>``."""
        first, _, rest = path.partition(".")
        f = self.spec.field(first)
        if not rest:
            if base is not None:
                return base.c[f"own_{first}"]
            return getattr(self.model, f"{first}_id") if f.type == "reference" else getattr(self.model, first)
        if first not in self.joins:
            table = self.svc.models[f.target].__table__.alias(f"j_{first}")
            key = base.c[f"ref_{first}"] if base is not None else getattr(self.model, f"{first}_id")
            self.joins[first] = (table, key)
        return self.joins[first][0].c[f"{rest}_id" if field_of(self.svc.registry, self.chart.source, path).type
                                      == "reference" else rest]

    def depth(self, by: GroupBy) -> int:
        """The tree level the slices are at: one below the actor's own region, or the level named."""
        if by.level == "next":
            own = self.actor.region_path if self.actor is not None and self.actor.region_path else ""
            return len([code for code in own.split("/") if code]) + 1
        return LEVELS[by.level]

    def _group(self, by: GroupBy, name: str, base: Any = None) -> tuple[Any, list[Any]]:
        """(expression of the slice key, extra joins) for a grouping."""
        column = self._column(by.field, base)
        f = field_of(self.svc.registry, self.chart.source, by.field)
        if f.type == "tree" and by.level is not None:
            items = self.svc.dictionary_item.__table__.alias(f"t_{name}")
            join = (items, and_(items.c.dictionary == f.dictionary, items.c.code == column))
            return func.split_part(items.c.path, "/", self.depth(by) + 1), [join]
        if f.type in ("date", "datetime"):
            return func.to_char(column, "YYYY" if by.period == "year" else "YYYY-MM"), []
        return column, []

    def _groupings(self) -> list[tuple[str, GroupBy]]:
        return [(name, by) for name, by in (("by", self.chart.by), ("stack", self.chart.stack)) if by is not None]

    def _measures(self, value_of: Any) -> list[Any]:
        """value (and whole, for a rate) over the register's rows."""
        m = self.chart.measure
        if m.kind == "count":
            return [func.count().label("value")]
        if m.kind == "sum":
            return [func.coalesce(func.sum(value_of(m.field)), 0).label("value")]
        if m.kind == "distinct":
            return [func.count(func.distinct(value_of(m.field))).label("value")]
        part = self._clauses(filter_args(self.spec, m.part))
        return [(func.count().filter(and_(*part)) if part else func.count()).label("value"),
                func.count().label("whole")]

    def statement(self) -> Any:
        """One GROUP BY over the register's entity (scoped by the session). When a grouping follows a reference
        (hazard → enterprise.region), the rows are first counted per referenced row inside the scope, and only
        those counts are joined and grouped: the join touches thousands of enterprises, not millions of hazards."""
        clauses = self._clauses(self.base_args + self.extra)
        m = self.chart.measure
        if self.chart.rollup is not None:
            return self._rolled_up(clauses)
        through = sorted({by.field.partition(".")[0] for _name, by in self._groupings() if "." in by.field})
        summarised = self._summarised(through)
        if summarised is not None:
            return summarised
        if through and m.kind != "distinct" and "." not in (m.field or ""):
            return self._two_phase(clauses, through)
        groups, joins = [], []
        for name, by in self._groupings():
            expr, more = self._group(by, name)
            groups.append(expr.label(name))
            joins += more
        stmt = select(*groups, *self._measures(self._column)).select_from(self.model)
        for table, key in self.joins.values():
            stmt = stmt.outerjoin(table, key == table.c.id)
        for table, on in joins:
            stmt = stmt.outerjoin(table, on)
        if clauses:
            stmt = stmt.where(and_(*clauses))
        return stmt.group_by(*groups) if groups else stmt

    def _own_fields(self) -> list[str]:
        return sorted({by.field for _name, by in self._groupings() if "." not in by.field})

    def _counted(self, clauses: list[Any], through: list[str]) -> Any:
        """The register's rows counted per followed reference and own grouping field."""
        keys = [getattr(self.model, f"{ref}_id").label(f"ref_{ref}") for ref in through]
        keys += [self._column(name).label(f"own_{name}") for name in self._own_fields()]
        inner = select(*keys, *self._measures(self._column)).select_from(self.model)
        if clauses:
            inner = inner.where(and_(*clauses))
        return inner.group_by(*keys)

    def _tree(self) -> tuple[Any, Any]:
        """The model of the rows the slices are (a roll-up's ``by`` target) and its reference to the row above."""
        target = self.svc.models[self.spec.field(self.chart.by.field).target]
        return target, getattr(target, f"{self.chart.rollup.tree}_id")

    def _rolled_up(self, clauses: list[Any]) -> Any:
        """Per row of the tree the actor sees: the register's rows pointing to it or to any row below it. The rows
        are counted per tree row (and stack) in the actor's scope, then summed over a recursive closure of the tree
        (top, node): every node below a top, the top included."""
        target, parent = self._tree()
        closure = select(target.id.label("top"), target.id.label("node")).cte("closure", recursive=True)
        below = aliased(target)  # the walk down: ids only; the counted rows carry the scope
        closure = closure.union_all(select(closure.c.top, below.id).where(
            getattr(below, parent.key) == closure.c.node))
        counted = self._counted(clauses, []).subquery("counted")
        groups = [closure.c.top.label("by")]
        if self.chart.stack is not None:
            groups.append(counted.c[f"own_{self.chart.stack.field}"].label("stack"))
        # every tree row is a slice, those without any counted row too (a county that has not issued yet: 0)
        totals = [func.coalesce(func.sum(counted.c.value), 0).label("value")]
        if self.chart.measure.kind == "rate":
            totals.append(func.coalesce(func.sum(counted.c.whole), 0).label("whole"))
        return select(*groups, *totals).select_from(closure).outerjoin(
            counted, closure.c.node == counted.c[f"own_{self.chart.by.field}"]).group_by(*groups)

    def _tree_order(self, slices: list[Slice]) -> tuple[list[Slice], list[Slice]]:
        """A roll-up's slices depth first, each under the row above it, named and indented by its depth; and the
        top ones. Two queries for every line (the tree rows, then the names of what ``label`` references)."""
        target, parent = self._tree()
        spec = self.svc.registry.register(self.spec.field(self.chart.by.field).target)
        named = spec.field(self.chart.rollup.label) if self.chart.rollup.label else None
        label = getattr(target, f"{named.name}_id" if named is not None and named.type == "reference"
                        else (named.name if named is not None else spec.title_field))
        title = getattr(target, spec.title_field)
        rows = {r[0]: r for r in self.svc.session.execute(
            select(target.id, parent, title, label).where(target.id.in_([int(s.key) for s in slices]))
            .execution_options(unscoped_reason="the names and parents of a roll-up's counted lines"))}
        names = {row_id: row[3] for row_id, row in rows.items()}
        if named is not None and named.type == "reference":
            ref_spec = self.svc.registry.register(named.target)
            ref = self.svc.models[named.target]
            found = dict(self.svc.session.execute(
                select(ref.id, getattr(ref, ref_spec.title_field)).where(ref.id.in_({v for v in names.values()
                                                                                     if v is not None}))
                .execution_options(unscoped_reason="the names a roll-up's lines reference")).all())
            names = {row_id: found.get(value) for row_id, value in names.items()}
        children: dict[Any, list[Slice]] = {}
        for s in slices:
            row_id = int(s.key)
            s.label = str(names.get(row_id) or rows.get(row_id, (None, None, None))[2] or s.key)
            up = rows[row_id][1] if row_id in rows else None
            children.setdefault(up if up in rows else None, []).append(s)
        ordered: list[Slice] = []

        def walk(key: Any, depth: int) -> None:
            for s in sorted(children.get(key, []), key=lambda x: x.label):
                campaign = rows[int(s.key)][2] if int(s.key) in rows else None
                if depth == 0 and named is not None and campaign and str(campaign) != s.label:
                    s.label = f"{campaign} · {s.label}"  # a top line names its campaign, then its organisation
                s.label = "\u3000" * depth + s.label
                ordered.append(s)
                walk(int(s.key), depth + 1)
        walk(None, 0)
        return ordered, children.get(None, [])

    def _summarised(self, through: list[str]) -> Any:
        """The chart's statement over the smallest summary that holds everything it needs, or None."""
        if self.chart.measure.kind not in ("count", "rate"):
            return None
        own = set(self._own_fields())
        for summary in self.summaries:
            held = {summary.spec.key, *summary.spec.dimensions}
            if any(ref != summary.spec.key for ref in through) or not own <= held:
                continue
            try:
                inner = self._summary_counts(summary, through)
            except AttributeError:  # a filter or a scope rule needs a column the summary does not hold
                self.joins = {}
                continue
            self.summary_used = summary.name
            return self._grouped(inner.subquery("counted"))
        return None

    def _summary_counts(self, summary: Summary, through: list[str]) -> Any:
        """Per key and dimension, the summary's counts within the filters and the actor's own scope, plus the rows
        the actor sees only through ``reveals``, counted from the register (they are few: handed-over hazards)."""
        table = summary.table()
        view = summary.view(table)
        key = getattr(view, summary.key_column)
        keys = [key.label(f"ref_{ref}") for ref in through]
        for name in self._own_fields():
            f = self.spec.field(name)
            keys.append(getattr(view, f"{name}_id" if f.type == "reference" else name).label(f"own_{name}"))
        m = self.chart.measure
        measures = [func.sum(table.c.n).label("value")]
        if m.kind == "rate":
            part = self._clauses(filter_args(self.spec, m.part), view)
            measures = [(func.sum(table.c.n).filter(and_(*part)) if part else func.sum(table.c.n)).label("value"),
                        func.sum(table.c.n).label("whole")]
        conditions = self._clauses(self.base_args + self.extra, view)
        remainder = None
        if self.actor is not None and not self.actor.is_admin:
            policy = current_app.extensions["safety_policy"]
            own_base = policy.own_read_condition(self.spec, self.actor, self.model)
            if own_base is not None:
                conditions.append(policy.own_read_condition(self.spec, self.actor, view))
                revealed = policy.revealed_conditions(self.spec, self.actor)
                if revealed:
                    remainder = self._counted(self._clauses(self.base_args + self.extra) + [
                        or_(*revealed), func.coalesce(own_base, false()).is_(false())], through)
        inner = select(*keys, *measures).select_from(table)
        if conditions:
            inner = inner.where(and_(*conditions))
        inner = inner.group_by(*keys) if keys else inner
        return union_all(inner, remainder) if remainder is not None else inner

    def _two_phase(self, clauses: list[Any], through: list[str]) -> Any:
        return self._grouped(self._counted(clauses, through).subquery("counted"))

    def _grouped(self, base: Any) -> Any:
        """The slices over pre-counted rows (``ref_<reference>``, ``own_<field>``, value, whole)."""
        groups, joins = [], []
        for name, by in self._groupings():
            expr, more = self._group(by, name, base)
            groups.append(expr.label(name))
            joins += more
        totals = [func.sum(base.c.value).label("value")]
        if self.chart.measure.kind == "rate":
            totals.append(func.sum(base.c.whole).label("whole"))
        stmt = select(*groups, *totals).select_from(base)
        for table, key in self.joins.values():
            stmt = stmt.outerjoin(table, key == table.c.id)
        for table, on in joins:
            stmt = stmt.outerjoin(table, on)
        return stmt.group_by(*groups)

    # ---------------------------------------------------------------- result
    def run(self) -> ChartData:
        c = self.chart
        rows = self.svc.session.execute(self.statement()).all()
        by_key: dict[str, Slice] = {}
        stack_keys: list[str] = []
        wholes: dict[str, int] = {}
        for row in rows:
            key = "" if (row.by if c.by else "") is None else str(row.by if c.by else "")
            value = float(row.value or 0)
            # a roll-up's lines are named together, in tree order (_tree_order)
            s = by_key.setdefault(key, Slice(key, key if c.rollup is not None else self._label(c.by, key), 0.0))
            # a roll-up's tree row without any counted row is a line of its own, without a stack
            if c.stack and not (c.rollup is not None and row.stack is None and not value):
                stack = "" if row.stack is None else str(row.stack)
                if stack not in stack_keys:
                    stack_keys.append(stack)
                s.stacks[stack] = s.stacks.get(stack, 0) + value
            s.value += value
            if c.measure.kind == "rate":
                wholes[key] = wholes.get(key, 0) + int(row.whole or 0)
        total = sum(s.value for s in by_key.values())
        whole_total = sum(wholes.values())
        if c.measure.kind == "rate":
            for key, s in by_key.items():
                s.value = round(100.0 * s.value / wholes[key], 1) if wholes.get(key) else 0.0
            total = round(100.0 * total / whole_total, 1) if whole_total else 0.0
        slices = list(by_key.values())
        if c.by is None:
            slices = []
        for s in slices if self.links else []:
            s.url = self.drill_url(s.key)
        roots = slices
        if c.rollup is not None:
            slices, roots = self._tree_order(slices)
            # each row already holds the rows below it: the total is that of the top rows
            total = sum(s.value for s in roots) if c.measure.kind != "rate" else total
        else:
            slices = self._sorted(slices)
        stack_totals = {k: sum(s.stacks.get(k, 0) for s in roots) for k in stack_keys}
        stack_labels = {k: self._label(c.stack, k) for k in self._stack_order(stack_keys)} if c.stack else {}
        return ChartData(c, label_text(c.label), self.measure_label(), slices, stack_labels,
                         total if c.measure.kind != "count" else int(total),
                         self.drill_url(None) if self.links else None,
                         percent=c.measure.kind == "rate", summary=self.summary_used, stack_totals=stack_totals)

    def _sorted(self, slices: list[Slice]) -> list[Slice]:
        c = self.chart
        if c.sort in ("value", "-value"):
            slices.sort(key=lambda s: (s.value, s.key), reverse=c.sort == "-value")
        elif c.sort == "label":
            slices.sort(key=lambda s: s.label)
        else:
            slices.sort(key=lambda s: self._order(c.by, s.key))
        return slices[: c.top] if c.top else slices

    def _stack_order(self, keys: list[str]) -> list[str]:
        return sorted(keys, key=lambda k: self._order(self.chart.stack, k))

    def _order(self, by: GroupBy | None, key: str) -> tuple:
        """Dictionary order for an enum (or a tree), the key itself otherwise."""
        f = field_of(self.svc.registry, self.chart.source, by.field) if by else None
        dictionary = getattr(f, "dictionary", None)
        node = self.svc.dictionaries.node(dictionary, key) if dictionary and key else None
        return (0, node.sort, key) if node is not None else (1, 0, key)

    def measure_label(self) -> str:
        m = self.chart.measure
        if m.label:
            return label_text(m.label)
        return {"count": _("Count"), "sum": _("Sum"), "distinct": _("Distinct count"),
                "rate": _("Rate (%)")}[m.kind]

    def _label(self, by: GroupBy | None, key: str) -> str:
        if by is None:
            return ""
        if key == "":
            return _("(this level)") if by.level else _("(not set)")
        f = field_of(self.svc.registry, self.chart.source, by.field)
        if f.type == "reference":
            target = self.svc.registry.register(f.target)
            model = self.svc.models[f.target]
            title = self.svc.session.execute(select(getattr(model, target.title_field)).where(model.id == int(key))
                                             .execution_options(unscoped_reason="the label of a counted slice"))\
                .scalar()
            return str(title) if title is not None else key
        if f.type == "boolean":
            return _("Yes") if key.lower() in ("true", "1") else _("No")
        dictionary = getattr(f, "dictionary", None)
        return self.svc.dictionaries.label(dictionary, key) if dictionary else key

    # ---------------------------------------------------------------- drill-down
    def _hidden(self) -> frozenset[str]:
        return frozenset() if self.actor is None else \
            current_app.extensions["safety_policy"].hidden_fields(self.spec, self.actor)

    def slice_args(self, key: str) -> list[tuple[str, str]] | None:
        """The list filters that select one slice, or None when the register's list cannot (the grouping field,
        or '<reference>.<field>' through a reference, is not one of its filters, or not one the actor may use)."""
        by = self.chart.by
        if by is None or key == "" or self.chart.rollup is not None:
            return None  # a roll-up's slice holds the rows below it too: no list filter selects them
        offered = {flt.name: flt.op for flt in usable_filters(self.spec, self._hidden())[0]}
        op = offered.get(by.field)
        f = field_of(self.svc.registry, self.chart.source, by.field)
        if op is None or f is None:
            return None
        if f.type == "tree":
            return [(f"f.{by.field}", key)] if op == "subtree" else None
        if f.type in ("date", "datetime"):
            if op != "range":
                return None
            year, _dash, month = key.partition("-")
            first = date(int(year), int(month or 1), 1)
            last = date(first.year + (1 if not month or first.month == 12 else 0),
                        1 if not month or first.month == 12 else first.month + 1, 1)
            return [(f"f.{by.field}.from", first.isoformat()), (f"f.{by.field}.to",
                                                               (last - timedelta(days=1)).isoformat())]
        if f.type == "boolean":
            return [(f"f.{by.field}", "1" if key.lower() in ("true", "1") else "0")]
        return [(f"f.{by.field}", key)] if op in ("equal", "in") else None

    def drill_url(self, key: str | None) -> str | None:
        """The register's list showing the rows of a slice (None: the whole chart)."""
        if key is None:
            args = self.base_args
        else:
            extra = self.slice_args(key)
            if extra is None:
                return None
            by = self.chart.by.field
            # the slice's value replaces a filter of the chart on the same field
            args = [(k, v) for k, v in self.base_args if _filter_name(k) != by] + extra
        return register_url(self.chart.source, "list") + ("?" + urlencode(args) if args else "")


def _filter_name(arg: str) -> str:
    """The filter an argument sets: f.found_on.from → found_on, f.enterprise.region → enterprise.region."""
    name = arg.removeprefix("f.")
    for end in (".from", ".to"):
        if name.endswith(end):
            return name.removesuffix(end)
    return name
