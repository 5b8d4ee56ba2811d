"""Read and check the charts (metadata/charts/*.yaml) and dashboards (metadata/dashboards/*.yaml) of the plugin:
shape with pydantic, names against the registry, every problem at once with file:line and an id in E900–E919."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from app import clock
from app.metadata import MetadataError
from app.query.listing import list_filters
from app.metadata.issues import Issue, did_you_mean
from app.metadata.source import read_source

from .spec import LEVELS, ChartSpec, DashboardSpec, GroupBy
from .summaries import SummarySpec, check_summary

GROUPABLE = ("enum", "tree", "date", "datetime", "boolean", "integer", "string", "reference")
NUMBERS = ("integer", "decimal")
DATE_TOKEN = re.compile(r"^(today|month_start|year_start)([+-]\d{1,4})?$")


@dataclass(frozen=True)
class Charts:
    """The checked charts and dashboards, by name."""

    charts: Mapping[str, ChartSpec]
    dashboards: Mapping[str, DashboardSpec]
    #: counts kept ahead of time by triggers (summaries.py), by name
    summaries: Mapping[str, SummarySpec] = field(default_factory=dict)


def resolve_date(value: Any, today: date | None = None) -> Any:
    """A filter's date token (today, month_start, year_start, each with an optional ±days) as an ISO date; other
    values unchanged. Today is the app's (app.clock: a demonstration or a test may move it, and a subscription's
    snapshot taken by the worker counts the same month as the pages)."""
    match = DATE_TOKEN.match(str(value)) if isinstance(value, str) else None
    if not match:
        return value
    today = today or clock.today()
    base = {"today": today, "month_start": today.replace(day=1),
            "year_start": today.replace(month=1, day=1)}[match.group(1)]
    return (base + timedelta(days=int(match.group(2) or 0))).isoformat()


def _display(path: Path) -> str:
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _read(folder: Path, model: type, noun: str) -> tuple[list[tuple[Any, Any]], list[Issue]]:
    found, issues = [], []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        doc, problems = read_source(path, Path.cwd())
        issues += problems
        if doc is None:
            continue
        try:
            found.append((model.model_validate(doc.data), doc))
        except ValidationError as exc:
            issues += [Issue(doc.file, doc.line_of(tuple(err["loc"])), "E900",
                             f"{'.'.join(str(p) for p in err['loc']) or noun}: {err['msg']}",
                             f"see docs/plugins.md ({noun} options)") for err in exc.errors()]
    return found, issues


def read_charts(root: Path, registry: Any) -> Charts:
    """The checked charts and dashboards under ``root``, or MetadataError with every located problem."""
    charts, issues = _read(root / "charts", ChartSpec, "chart")
    dashboards, more = _read(root / "dashboards", DashboardSpec, "dashboard")
    issues += more
    summaries, more = _read(root / "summaries", SummarySpec, "summary")
    issues += more
    issues += check_unique([(s.name, d) for s, d in summaries], "summary")
    for summary, doc in summaries:
        issues += check_summary(summary, registry, doc)
    issues += check_unique([(c.name, d) for c, d in charts], "chart")
    issues += check_unique([(b.name, d) for b, d in dashboards], "dashboard")
    for chart, doc in charts:
        issues += check_chart(chart, registry, doc)
    names = {c.name: c for c, _ in charts}
    for board, doc in dashboards:
        issues += check_dashboard(board, names, registry, doc)
    if issues:
        raise MetadataError(issues)
    return Charts({c.name: c for c, _ in charts}, {b.name: b for b, _ in sorted(dashboards,
                                                                                   key=lambda x: x[0].order)},
                  {s.name: s for s, _ in summaries})


def check_unique(items: list[tuple[str, Any]], noun: str) -> list[Issue]:
    """E907: two files declare the same name."""
    seen: dict[str, Any] = {}
    issues = []
    for name, doc in items:
        if name in seen:
            issues.append(Issue(doc.file, doc.line_of(("name",)), "E907",
                                f"{noun} '{name}' is declared twice (also in {seen[name].file})",
                                f"give each {noun} its own name"))
        seen.setdefault(name, doc)
    return issues


def field_of(registry: Any, register: str, path: str) -> Any:
    """The field named by 'field' or 'reference.field' of ``register`` (None when there is none)."""
    spec = registry.registers.get(register)
    first, _, rest = path.partition(".")
    f = spec.field_map.get(first) if spec else None
    if f is None or not rest:
        return f
    if f.type != "reference" or "." in rest:
        return None
    return registry.register(f.target).field_map.get(rest)


def _path_issue(registry: Any, register: str, path: str, doc: Any, where: tuple) -> list[Issue]:
    """E902: the path names no field (one reference may be followed: 'enterprise.region')."""
    if field_of(registry, register, path) is not None:
        return []
    spec = registry.register(register)
    first, _, rest = path.partition(".")
    head = spec.field_map.get(first)
    if head is None:
        return [Issue(doc.file, doc.line_of(where), "E902", f"{register} has no field '{first}'",
                      did_you_mean(first, spec.field_map))]
    if head.type != "reference":
        return [Issue(doc.file, doc.line_of(where), "E902", f"{register}.{first} is a {head.type}, not a reference",
                      "only a reference field is followed by a dot, e.g. enterprise.region")]
    target = registry.register(head.target)
    return [Issue(doc.file, doc.line_of(where), "E902", f"{head.target} has no field '{rest}'",
                  did_you_mean(rest, target.field_map))]


def check_group(registry: Any, chart: ChartSpec, by: GroupBy, doc: Any, where: tuple) -> list[Issue]:
    """E902 unknown field, E903 a field that cannot group (or an option of another type), E910 a level on a tree
    without that many levels."""
    issues = _path_issue(registry, chart.source, by.field, doc, where + ("field",))
    if issues:
        return issues
    f = field_of(registry, chart.source, by.field)
    line = doc.line_of(where)
    if f.type not in GROUPABLE or getattr(f, "multiple", False):
        return [Issue(doc.file, line, "E903", f"'{by.field}' is a {f.type} field{' with multiple values' if getattr(f, 'multiple', False) else ''}: it cannot group a chart",
                      "group by an enum, a tree (with its level), a date (with its period), a state or a reference")]
    if by.level and f.type != "tree":
        issues.append(Issue(doc.file, doc.line_of(where + ("level",)), "E903",
                            f"'level' is for a tree field; '{by.field}' is a {f.type}", "remove 'level'"))
    if by.period and f.type not in ("date", "datetime"):
        issues.append(Issue(doc.file, doc.line_of(where + ("period",)), "E903",
                            f"'period' is for a date field; '{by.field}' is a {f.type}", "remove 'period'"))
    if f.type in ("date", "datetime") and not by.period:
        issues.append(Issue(doc.file, line, "E903", f"'{by.field}' is a date: say how it is grouped",
                            "add 'period: month' or 'period: year'"))
    organisations = registry.organisations
    region_dictionary = None
    if organisations is not None and organisations.target in registry.registers:
        region_field = registry.register(organisations.target).field_map.get(organisations.region)
        region_dictionary = getattr(region_field, "dictionary", None)
    if f.type == "tree" and by.level == "next" and f.dictionary != region_dictionary:
        issues.append(Issue(doc.file, doc.line_of(where + ("level",)), "E910",
                            f"'next' is the level below the user's region; '{by.field}' is a {f.dictionary} tree",
                            "name a level (province, city, county, township) or leave 'level' out to group by item"))
    if f.type == "tree" and by.level not in (None, "next"):
        depth = max((node.depth for node in _tree_nodes(registry, f.dictionary)), default=0)
        if depth and LEVELS[by.level] > depth:
            issues.append(Issue(doc.file, doc.line_of(where + ("level",)), "E910",
                                f"dictionary {f.dictionary} has {depth} levels, not '{by.level}'",
                                "use 'next' (one level below the user's) or a level the tree has"))
    return issues


def _tree_nodes(registry: Any, dictionary: str) -> list[Any]:
    """Depth of the items declared in the YAML (a data-loaded tree such as the regions has none here: no check)."""
    spec = registry.dictionaries.get(dictionary)
    found: list[Any] = []

    def walk(items: Any, depth: int) -> None:
        for item in items or ():
            found.append(type("N", (), {"depth": depth}))
            walk(getattr(item, "children", ()), depth + 1)
    walk(getattr(spec, "items", ()), 1)
    return found


def check_filters(registry: Any, register: str, filters: Mapping[str, Any], doc: Any, where: tuple) -> list[Issue]:
    """E904: a filter that is not one of the register's list filters (so that the drill-down can repeat it on the
    list), or a value its op does not take; E911 a code its dictionary lacks, or a date that is not one."""
    spec = registry.register(register)
    declared = {flt.name: flt for flt in list_filters(spec, registry)}
    offered = {name: flt.op for name, flt in declared.items()}
    issues = []
    for name, value in filters.items():
        line = doc.line_of(where + (name,))
        if name not in offered:
            issues.append(Issue(doc.file, line, "E904", f"'{name}' is not a list filter of {register}",
                                f"add it to {register}'s filters, or " + (did_you_mean(name, offered) or
                                                                          "remove it")))
            continue
        op, f = offered[name], declared[name].field
        if op == "range":
            if not isinstance(value, dict) or not value or set(value) - {"from", "to"}:
                issues.append(Issue(doc.file, line, "E904", f"'{name}' is a range filter: give {{from: …, to: …}}",
                                    "e.g. {from: month_start, to: today}"))
                continue
            values = list(value.values())
        elif op == "in":
            values = value if isinstance(value, list) else [value]
        elif isinstance(value, (list, dict)):
            issues.append(Issue(doc.file, line, "E904", f"'{name}' filters by one value (op {op})",
                                f"give one value, or declare the filter {{field: {name}, op: in}} in {register}"))
            continue
        else:
            values = [value]
        for v in values:
            issues += _check_value(registry, f, v, doc, line)
    return issues


def _check_value(registry: Any, f: Any, value: Any, doc: Any, line: int) -> list[Issue]:
    if f.type in ("date", "datetime"):
        try:
            date.fromisoformat(str(resolve_date(value))[:10])
        except ValueError:
            return [Issue(doc.file, line, "E911", f"'{value}' is not a date for '{f.name}'",
                          "write YYYY-MM-DD, today, month_start or year_start (each may add ±days: today-30)")]
    dictionary = getattr(f, "dictionary", None)
    spec = registry.dictionaries.get(dictionary) if dictionary else None
    if f.type == "enum" and spec is not None and getattr(spec, "items", None):
        codes = {item.code for item in spec.items}
        if str(value) not in codes:
            return [Issue(doc.file, line, "E911", f"'{value}' is not a code of dictionary {dictionary}",
                          did_you_mean(str(value), codes))]
    return []


def check_chart(chart: ChartSpec, registry: Any, doc: Any) -> list[Issue]:
    """E901 unknown register; then the filters, the groupings, the measure (E905) and the kind (E906)."""
    if chart.source not in registry.registers:
        return [Issue(doc.file, doc.line_of(("register",)), "E901", f"unknown register '{chart.source}'",
                      did_you_mean(chart.source, registry.registers))]
    issues = check_filters(registry, chart.source, chart.filters, doc, ("filters",))
    if chart.by:
        issues += check_group(registry, chart, chart.by, doc, ("by",))
    if chart.stack:
        issues += check_group(registry, chart, chart.stack, doc, ("stack",))
        f = field_of(registry, chart.source, chart.stack.field)
        if f is not None and f.type not in ("enum", "boolean"):
            issues.append(Issue(doc.file, doc.line_of(("stack",)), "E903",
                                f"the stacks are an enum or the workflow state; '{chart.stack.field}' is a {f.type}",
                                "stack by an enum field such as level or state"))
    m = chart.measure
    if m.kind in ("sum", "distinct"):
        if not m.field:
            issues.append(Issue(doc.file, doc.line_of(("measure",)), "E905", f"measure '{m.kind}' needs a field",
                                "add 'field: <name>'"))
        else:
            found = _path_issue(registry, chart.source, m.field, doc, ("measure", "field"))
            issues += found
            f = field_of(registry, chart.source, m.field)
            if not found and m.kind == "sum" and f.type not in NUMBERS:
                issues.append(Issue(doc.file, doc.line_of(("measure", "field")), "E905",
                                    f"'{m.field}' is a {f.type}: only numbers are summed",
                                    "sum an integer or decimal field, or count"))
    if m.kind == "rate":
        if not m.part:
            issues.append(Issue(doc.file, doc.line_of(("measure",)), "E905",
                                "a rate needs 'part': the filters of the rows counted above the line",
                                "e.g. part: {state: rectified} for 整改率"))
        issues += check_filters(registry, chart.source, m.part, doc, ("measure", "part"))
    elif m.part:
        issues.append(Issue(doc.file, doc.line_of(("measure", "part")), "E905",
                            f"'part' belongs to a rate, not to '{m.kind}'", "remove 'part' or write kind: rate"))
    if chart.rollup:
        issues += _check_rollup(registry, chart, doc)
    issues += _check_kind(chart, doc)
    for i, role in enumerate(chart.roles):
        if role not in registry.roles:
            issues.append(Issue(doc.file, doc.line_of(("roles", i)), "E909", f"unknown role '{role}'",
                                did_you_mean(role, registry.roles)))
    return issues


def _check_rollup(registry: Any, chart: ChartSpec, doc: Any) -> list[Issue]:
    """E915: a roll-up groups by a reference (``by: task``) to rows whose ``tree`` field references their own
    register (the row above); ``label`` is a field of those rows."""
    by = chart.by
    f = field_of(registry, chart.source, by.field) if by else None
    if by is None or f is None or f.type != "reference" or "." in by.field or by.level or by.period:
        return [Issue(doc.file, doc.line_of(("rollup",)), "E915",
                      "a roll-up's slices are the rows a reference of the register points to",
                      "group by a reference field of the register: by: task")]
    target = registry.register(f.target)
    tree = target.field_map.get(chart.rollup.tree)
    if tree is None or tree.type != "reference" or tree.target != target.name:
        return [Issue(doc.file, doc.line_of(("rollup", "tree")), "E915",
                      f"'{chart.rollup.tree}' is not a reference of {target.name} to its own rows (the row above)",
                      did_you_mean(chart.rollup.tree, [x.name for x in target.fields if x.type == "reference"
                                                       and x.target == target.name]))]
    if chart.rollup.label and chart.rollup.label not in target.field_map:
        return [Issue(doc.file, doc.line_of(("rollup", "label")), "E915", f"{target.name} has no field "
                      f"'{chart.rollup.label}'", did_you_mean(chart.rollup.label, target.field_map))]
    return []


def _check_kind(chart: ChartSpec, doc: Any) -> list[Issue]:
    """E906: the kind and the groupings do not fit together."""
    line = doc.line_of(("kind",))
    if chart.kind == "figure" and (chart.by or chart.stack):
        return [Issue(doc.file, line, "E906", "a figure is one number: it has no 'by' nor 'stack'",
                      "remove them, or choose kind bar, line, pie or table")]
    if chart.kind != "figure" and not chart.by:
        return [Issue(doc.file, line, "E906", f"a {chart.kind} chart needs 'by' (what its slices are)",
                      "add 'by: <field>', or choose kind: figure for one number")]
    if chart.stack and chart.kind not in ("stacked_bar", "table", "line"):
        return [Issue(doc.file, doc.line_of(("stack",)), "E906", f"a {chart.kind} chart has no stacks",
                      "choose kind: stacked_bar (or line, table), or remove 'stack'")]
    if chart.kind == "stacked_bar" and not chart.stack:
        return [Issue(doc.file, line, "E906", "a stacked bar needs 'stack' (what each bar is divided by)",
                      "add 'stack: state' for instance, or choose kind: bar")]
    return []


def check_dashboard(board: DashboardSpec, charts: Mapping[str, ChartSpec], registry: Any, doc: Any) -> list[Issue]:
    """E908 a chart the dashboard names does not exist (or a figure that is not a figure), E909 unknown role."""
    issues = []
    for key in ("figures", "charts"):
        for i, name in enumerate(getattr(board, key)):
            chart = charts.get(name)
            if chart is None:
                issues.append(Issue(doc.file, doc.line_of((key, i)), "E908", f"unknown chart '{name}'",
                                    did_you_mean(name, charts)))
            elif (chart.kind == "figure") != (key == "figures"):
                issues.append(Issue(doc.file, doc.line_of((key, i)), "E908",
                                    f"'{name}' is a {chart.kind}: " + ("figures are charts of kind figure"
                                                                        if key == "figures" else
                                                                        "a figure goes under 'figures'"),
                                    f"move it to '{'charts' if key == 'figures' else 'figures'}'"))
    for i, role in enumerate(board.roles):
        if role not in registry.roles:
            issues.append(Issue(doc.file, doc.line_of(("roles", i)), "E909", f"unknown role '{role}'",
                                did_you_mean(role, registry.roles)))
    if board.home and not board.roles:
        issues.append(Issue(doc.file, doc.line_of(("home",)), "E909", "a home dashboard names the roles it is for",
                            "add 'roles: [regulator, …]'"))
    return issues
