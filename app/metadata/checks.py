"""Cross-file checks of the descriptors: one check_<rule> per rule, each yielding located issues."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Generator, Iterator, Sequence

from .issues import Issue, did_you_mean
from .source import Path_, SourceDocument
from .spec import (NUMERIC_COMPARISONS, SYSTEM_COLUMNS, DictionaryItem, DictionarySpec, GoodsClasses, MenuCategory,
                   RegisterSpec)
from .validators import VALIDATORS, normalize_value, run_validators

FILTER_OPS_BY_TYPE = {
    "string": ("contains", "equal"), "text": ("contains",),
    "integer": ("range", "equal"), "decimal": ("range", "equal"),
    "date": ("range", "equal"), "datetime": ("range",),
    "boolean": ("equal",), "enum": ("equal", "in"), "tree": ("subtree", "equal"),
    "reference": ("equal",),
}
SORTABLE_SYSTEM = ("id", "created_at", "updated_at")


def default_filter_op(field_type: str) -> str:
    return FILTER_OPS_BY_TYPE[field_type][0]


@dataclass
class Located:
    """A parsed spec with the source document that gives its lines."""

    spec: Any
    doc: SourceDocument

    def at(self, *path: Any) -> int:
        return self.doc.line_of(path)

    def issue(self, path: Path_, id_: str, message: str, hint: str = "") -> Issue:
        return Issue(self.doc.file, self.doc.line_of(path), id_, message, hint)


# ---------------------------------------------------------------- one register

def check_file_name(reg: Located) -> Iterator[Issue]:
    stem = reg.doc.file.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if reg.spec.name != stem:
        kind = "dictionary" if isinstance(reg.spec, DictionarySpec) else "register"
        yield reg.issue(("name",), "E004", f"{kind} '{reg.spec.name}' is in a file named '{stem}.yaml'",
                        f"rename the file to '{reg.spec.name}.yaml' or set name: {stem}")


def check_named_like_file(reg: Located, id_: str, kind: str) -> Iterator[Issue]:
    """A file of frequencies/ or warnings/ holds the one whose name is the file's."""
    stem = reg.doc.file.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if reg.spec.name != stem:
        yield reg.issue(("name",), id_, f"{kind} '{reg.spec.name}' is in file '{stem}.yaml'",
                        f"rename the file to {reg.spec.name}.yaml or set name: {stem}")


def check_field_names(reg: Located) -> Iterator[Issue]:
    first: dict[str, int] = {}
    generated = {f"{f.name}_id": f.name for f in reg.spec.fields if f.type == "reference"}
    generated.update({f"{f.name}_{axis}": f.name for f in reg.spec.fields if f.type == "geo"
                      for axis in ("lat", "lng")})
    for i, field in enumerate(reg.spec.fields):
        line = reg.at("fields", i, "name")
        if field.name in first:
            yield reg.issue(("fields", i, "name"), "E101",
                            f"duplicate field '{field.name}' (first at line {first[field.name]})",
                            "give each field its own name")
        else:
            first[field.name] = line
        if field.name in SYSTEM_COLUMNS:
            yield reg.issue(("fields", i, "name"), "E105", f"field name '{field.name}' is reserved",
                            "the engine adds " + ", ".join(SYSTEM_COLUMNS) + "; choose another name")
        elif field.name in generated:
            yield reg.issue(("fields", i, "name"), "E105", f"field name '{field.name}' clashes with a column "
                            f"of field '{generated[field.name]}'", "choose another name")


def check_validators(reg: Located) -> Iterator[Issue]:
    for i, field in enumerate(reg.spec.fields):
        for j, ref in enumerate(field.validators):
            path = ("fields", i, "validators", j)
            kind = VALIDATORS.get(ref.name)
            if kind is None:
                yield reg.issue(path, "E103", f"field '{field.name}': unknown validator '{ref.name}'",
                                did_you_mean(ref.name, VALIDATORS))
                continue
            if field.type not in kind.types:
                yield reg.issue(path, "E104", f"field '{field.name}': validator '{ref.name}' does not apply "
                                f"to type '{field.type}'", f"'{ref.name}' checks {', '.join(kind.types)} fields")
                continue
            problem = kind.check_params(ref.params)
            if problem:
                yield reg.issue(path, "E107", f"field '{field.name}': validator '{ref.name}' {problem}",
                                "see docs/metadata.md, section Validators")


def check_default_values(reg: Located, dictionaries: dict[str, Located]) -> Iterator[Issue]:
    for i, field in enumerate(reg.spec.fields):
        if field.default is None:
            continue
        path = ("fields", i, "default")
        problem = _default_problem(field, dictionaries)
        if problem:
            yield reg.issue(path, "E106", f"field '{field.name}': default {field.default!r} {problem}",
                            "give a value of the field's type, or remove the default")


def _default_problem(field: Any, dictionaries: dict[str, Located]) -> str | None:
    value = field.default
    if field.type in ("string", "text"):
        return None if isinstance(value, str) else "is not text"
    if field.type == "integer":
        return None if isinstance(value, int) and not isinstance(value, bool) else "is not a whole number"
    if field.type == "decimal":
        try:
            Decimal(str(value))
        except InvalidOperation:
            return "is not a number"
        return None
    if field.type == "boolean":
        return None if isinstance(value, bool) else "is not true or false"
    if field.type in ("date", "datetime"):
        ok = isinstance(value, (date, datetime)) or value in ("today", "now")
        return None if ok else "is not a date (write 2024-01-31, today or now)"
    if field.type in ("enum", "tree"):
        located = dictionaries.get(field.dictionary)
        if located is None or located.spec.source is not None:
            return None
        codes = {item.code for item in iter_items(located.spec.items)}
        values = value if isinstance(value, list) else [value]
        missing = [v for v in values if str(v) not in codes]
        return f"is not a code of dictionary '{field.dictionary}'" if missing else None
    return "is not supported for this field type"


def check_dictionary_refs(reg: Located, dictionaries: dict[str, Located],
                          broken: set[str] | frozenset[str] = frozenset()) -> Iterator[Issue]:
    for i, field in enumerate(reg.spec.fields):
        if field.type not in ("enum", "tree"):
            continue
        path = ("fields", i, "dictionary")
        located = dictionaries.get(field.dictionary)
        if located is None and field.dictionary in broken:
            continue
        if located is None:
            yield reg.issue(path, "E203", f"field '{field.name}': unknown dictionary '{field.dictionary}'",
                            did_you_mean(field.dictionary, dictionaries) +
                            " (dictionaries live in metadata/dictionaries/<name>.yaml)")
            continue
        wanted = "list" if field.type == "enum" else "tree"
        if located.spec.kind != wanted:
            yield reg.issue(path, "E206", f"field '{field.name}' of type '{field.type}' uses the "
                            f"{located.spec.kind} dictionary '{field.dictionary}'",
                            f"use type '{'tree' if wanted == 'list' else 'enum'}' or a {wanted} dictionary")
        elif field.type == "tree":
            yield from _check_tree_levels(reg, i, field, _dictionary_depth(located.spec))


def _dictionary_depth(spec: DictionarySpec) -> int:
    """How many levels a tree dictionary has (a packaged source: its declared depth)."""
    if spec.source:
        return spec.source.depth
    parents = {item.code: item.parent for item, _ in _item_paths(spec.items, ()) if item.parent}
    deepest = 0

    def walk(items: tuple[DictionaryItem, ...], depth: int) -> None:
        nonlocal deepest
        for item in items:
            chain, current = depth, item.parent
            seen: set[str] = set()
            while current is not None and current not in seen:  # flat trees name their parent
                seen.add(current)
                chain, current = chain + 1, parents.get(current)
            deepest = max(deepest, chain)
            walk(item.children, depth + 1)

    walk(spec.items, 1)
    return deepest


def _check_tree_levels(reg: Located, index: int, field: Any, depth: int) -> Iterator[Issue]:
    """levels / min_level / max_level (§4.2, tree): one way of saying them, within the dictionary's levels."""
    path = ("fields", index)
    if field.levels and (field.min_level or field.max_level):
        yield reg.issue(path + ("levels",), "E160", f"field '{field.name}': 'levels' together with "
                        "'min_level'/'max_level'", "keep one: levels: [3] (exactly), or min_level/max_level (a range)")
    elif field.min_level and field.max_level and field.min_level > field.max_level:
        yield reg.issue(path + ("min_level",), "E161", f"field '{field.name}': min_level {field.min_level} is "
                        f"above max_level {field.max_level}", "min_level is the higher level (smaller number)")
    if field.restricts_levels and field.select == "leaf":
        yield reg.issue(path + ("select",), "E162", f"field '{field.name}': 'select: leaf' together with levels",
                        "keep one: select: leaf (the last level) or levels/min_level/max_level")
    for key in ("levels", "min_level", "max_level"):
        value = getattr(field, key)
        deepest = max(value) if isinstance(value, tuple) else value
        if depth and deepest and deepest > depth:
            yield reg.issue(path + (key,), "E163", f"field '{field.name}': {key} {deepest} is below the last "
                            f"level of dictionary '{field.dictionary}', which has {depth} levels",
                            f"levels are counted from the top, 1 to {depth}")


def check_register_refs(reg: Located, registers: dict[str, Located],
                        broken: set[str] | frozenset[str] = frozenset()) -> Iterator[Issue]:
    for i, field in enumerate(reg.spec.fields):
        if field.type not in ("reference", "children"):
            continue
        path = ("fields", i, "register")
        target = registers.get(field.target)
        if target is None and field.target in broken:
            continue
        if target is None:
            yield reg.issue(path, "E201", f"field '{field.name}': unknown register '{field.target}'",
                            did_you_mean(field.target, registers))
            continue
        if field.type == "reference":
            if field.display and field.display not in target.spec.field_map:
                yield reg.issue(("fields", i, "display"), "E202",
                                f"field '{field.name}': register '{field.target}' has no field '{field.display}'",
                                did_you_mean(field.display, target.spec.field_map))
            if target.spec.parent:
                yield reg.issue(path, "E208", f"field '{field.name}' refers to the child register "
                                f"'{field.target}'", "refer to its parent register instead")
        else:
            if target.spec.parent != reg.spec.name:
                yield reg.issue(path, "E208", f"field '{field.name}': register '{field.target}' is not a child "
                                f"of '{reg.spec.name}'", f"add 'parent: {reg.spec.name}' to {target.doc.file}")
    if reg.spec.parent:
        parent = registers.get(reg.spec.parent)
        if parent is None and reg.spec.parent in broken:
            pass
        elif parent is None:
            yield reg.issue(("parent",), "E201", f"unknown parent register '{reg.spec.parent}'",
                            did_you_mean(reg.spec.parent, registers))
        elif not any(f.type == "children" and f.target == reg.spec.name for f in parent.spec.fields):
            yield reg.issue(("parent",), "E208", f"parent '{reg.spec.parent}' has no children field for "
                            f"'{reg.spec.name}'", f"add a field of type children, register: {reg.spec.name} "
                            f"to {parent.doc.file}")
        if reg.spec.menu:
            yield reg.issue(("menu",), "E213", "a child register has no menu entry of its own",
                            "remove 'menu'; its rows are edited inside the parent's form")


def _field_name_issue(reg: Located, path: Path_, name: str, where: str,
                      extra: tuple[str, ...] = ()) -> Issue | None:
    if name in reg.spec.field_map or name in extra:
        return None
    return reg.issue(path, "E202", f"{where}: unknown field '{name}'",
                     did_you_mean(name, list(reg.spec.field_map) + list(extra)))


def check_field_lists(reg: Located) -> Iterator[Issue]:
    spec = reg.spec
    candidates: list[Issue | None] = []
    for i, name in enumerate(spec.list_.columns):
        candidates.append(_field_name_issue(reg, ("list", "columns", i), name, "list.columns",
                                            SORTABLE_SYSTEM))
    for i, name in enumerate(spec.search):
        candidates.append(_field_name_issue(reg, ("search", i), name, "search"))
        if name in spec.field_map and spec.field(name).type not in ("string", "text"):
            candidates.append(reg.issue(("search", i), "E301", f"search: field '{name}' is of type "
                              f"'{spec.field(name).type}'", "quick search matches text fields; "
                              "use a filter for other types"))
    for i, ref in enumerate(spec.filters):
        if "." not in ref.field:  # '<reference>.<field>' is checked with the register it points to (E306)
            candidates.append(_field_name_issue(reg, ("filters", i), ref.field, "filters"))
    for i, rule in enumerate(spec.unique):
        for j, name in enumerate(rule.fields):
            candidates.append(_field_name_issue(reg, ("unique", i, "fields", j), name, "unique"))
    for i, index in enumerate(spec.indexes):
        for part in ("fields", "include"):
            for j, name in enumerate(getattr(index, part)):
                candidates.append(_field_name_issue(reg, ("indexes", i, part, j), name, f"indexes.{part}",
                                                    SORTABLE_SYSTEM))
                if name in spec.field_map and (spec.field(name).type in ("attachment", "image", "children", "text")
                                               or not spec.field(name).stores_value):
                    candidates.append(reg.issue(("indexes", i, part, j), "E168", f"indexes.{part}: field "
                                                f"'{name}' of type '{spec.field(name).type}' has no column to index",
                                                "name fields stored in a column of the register's table"))
    if spec.title:
        candidates.append(_field_name_issue(reg, ("title",), spec.title, "title"))
    for section in ("form", "show"):
        layout = getattr(spec, section)
        if not layout:
            continue
        seen: set[str] = set()
        for i, fieldset in enumerate(layout.fieldsets):
            for j, name in enumerate(fieldset.fields):
                path = (section, "fieldsets", i, "fields", j)
                candidates.append(_field_name_issue(reg, path, name, section))
                if name in seen:
                    candidates.append(reg.issue(path, "E303", f"{section}: field '{name}' appears twice",
                                                "list each field in one fieldset only"))
                seen.add(name)
    yield from (c for c in candidates if c)


def check_filters(reg: Located) -> Iterator[Issue]:
    for i, ref in enumerate(reg.spec.filters):
        field = reg.spec.field_map.get(ref.field)
        if field is None:
            continue
        yield from check_filter_op(reg, i, ref, field)


def check_filter_op(reg: Located, i: int, ref: Any, field: Any) -> Iterator[Issue]:
    """E301: the filter's field (its own, or the one a reference leads to) can be filtered, with its op."""
    allowed = FILTER_OPS_BY_TYPE.get(field.type, ())
    if field.type == "enum" and field.multiple:
        allowed = ()
    if not allowed:
        yield reg.issue(("filters", i), "E301", f"filters: field '{ref.field}' of type '{field.type}' "
                        "cannot be filtered", "filter on string, text (contains), number, date, boolean, single enum, tree or "
                        "reference fields")
    elif ref.op and ref.op not in allowed:
        yield reg.issue(("filters", i), "E301", f"filters: op '{ref.op}' does not apply to '{ref.field}' "
                        f"of type '{field.type}'", "use " + " or ".join(allowed))


def check_sort(reg: Located) -> Iterator[Issue]:
    for i, key in enumerate(reg.spec.list_.sort):
        name = key.lstrip("-")
        path = ("list", "sort", i) if len(reg.spec.list_.sort) > 1 else ("list", "sort")
        if name in SORTABLE_SYSTEM:
            continue
        field = reg.spec.field_map.get(name)
        if field is None:
            yield reg.issue(path, "E202", f"list.sort: unknown field '{name}'",
                            did_you_mean(name, list(reg.spec.field_map) + list(SORTABLE_SYSTEM)))
        elif not field.sortable:
            yield reg.issue(path, "E302", f"list.sort: field '{name}' of type '{field.type}' cannot be sorted",
                            "sort on a string, number, date, boolean, single enum, tree or reference field")
    for i, name in enumerate(reg.spec.list_.columns):
        field = reg.spec.field_map.get(name)
        if field is not None and field.type == "children":
            yield reg.issue(("list", "columns", i), "E302", f"list.columns: child table '{name}' cannot be a column",
                            "show child rows on the row's page")


def check_form_covers_required(reg: Located) -> Iterator[Issue]:
    on_form = set(reg.spec.form_fields)
    for i, field in enumerate(reg.spec.fields):
        if not (field.required and field.default is None and field.stores_value):
            continue
        if field.read_only:
            yield reg.issue(("fields", i, "read_only"), "E305", f"field '{field.name}' is required and read-only "
                            "but has no default", "give it a default, or make it editable or optional")
        elif reg.spec.form and field.name not in on_form:
            yield reg.issue(("fields", i, "name"), "E304", f"required field '{field.name}' is not on the form",
                            "add it to a form fieldset, or give it a default")


def check_field_options(reg: Located) -> Iterator[Issue]:
    """Options that exist on every field but mean nothing for some types."""
    for i, field in enumerate(reg.spec.fields):
        for option in ("unique", "index"):
            if getattr(field, option) and field.type in ("attachment", "image", "children", "geo", "text") \
                    or getattr(field, option) and field.type == "enum" and field.multiple:
                yield reg.issue(("fields", i, option), "E110", f"field '{field.name}': '{option}' does not apply "
                                f"to type '{field.type}'", f"remove '{option}: true'")
        if field.type == "geo" and set(field.columns) != {"lng", "lat"}:
            yield reg.issue(("fields", i, "columns"), "E164", f"field '{field.name}': columns "
                            f"{list(field.columns)} must name 'lng' (经度) and 'lat' (纬度) once each",
                            "write columns: [lng, lat] (longitude first, the default) or [lat, lng]")
    if reg.spec.title and reg.spec.title in reg.spec.field_map and \
            reg.spec.field(reg.spec.title).type not in ("string", "text"):
        yield reg.issue(("title",), "E110", f"title: field '{reg.spec.title}' is not a string or text field",
                        "the title names a row in pickers and page headers: choose a string field")


def check_menu(reg: Located, menus: dict[str, MenuCategory], menu_doc: SourceDocument | None) -> Iterator[Issue]:
    if reg.spec.menu and reg.spec.menu.category not in menus:
        yield reg.issue(("menu", "category"), "E207", f"unknown menu category '{reg.spec.menu.category}'",
                        did_you_mean(reg.spec.menu.category, menus) + " (categories live in metadata/menus.yaml)")
    if not reg.spec.menu and not reg.spec.parent:
        yield reg.issue(("name",), "E209", f"register '{reg.spec.name}' has no menu entry",
                        "add menu: {category: …, order: …}")


# ---------------------------------------------------------------- the whole set

def check_reference_cycles(registers: dict[str, Located]) -> Iterator[Issue]:
    """Required references that loop (A needs B needs A) make the first row impossible to save."""
    graph: dict[str, list[tuple[str, int]]] = {}
    for name, reg in registers.items():
        graph[name] = [(f.target, i) for i, f in enumerate(reg.spec.fields)
                       if f.type == "reference" and f.required and f.target in registers]
    reported: set[frozenset[str]] = set()
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for target, index in graph.get(node, []):
                if target == start:
                    cycle = frozenset(trail)
                    if cycle in reported:
                        continue
                    reported.add(cycle)
                    reg = registers[node]
                    loop = " → ".join(trail + [start])
                    yield reg.issue(("fields", index, "required"), "E204",
                                    f"required references form a cycle: {loop}",
                                    "make one of these references optional (required: false)")
                elif target not in trail and len(trail) < 20:
                    stack.append((target, trail + [target]))


def check_duplicate_names(located: list[Located], kind: str) -> Iterator[Issue]:
    first: dict[str, Located] = {}
    for item in located:
        if item.spec.name in first:
            yield item.issue(("name",), "E210", f"{kind} '{item.spec.name}' is also defined in "
                             f"{first[item.spec.name].doc.file}", f"give each {kind} its own name")
        else:
            first[item.spec.name] = item


def iter_items(items: tuple[DictionaryItem, ...]) -> Iterator[DictionaryItem]:
    for item in items:
        yield item
        yield from iter_items(item.children)


def _item_paths(items: tuple[DictionaryItem, ...], path: Path_) -> Iterator[tuple[DictionaryItem, Path_]]:
    for i, item in enumerate(items):
        yield item, path + (i,)
        yield from _item_paths(item.children, path + (i, "children"))


def check_dictionary(dic: Located) -> Iterator[Issue]:
    spec: DictionarySpec = dic.spec
    yield from check_file_name(dic)
    if spec.source and spec.items:
        yield dic.issue(("items",), "E212", "a dictionary with a source lists no items",
                        "remove 'items' or 'source'")
    if spec.source and spec.kind != "tree":
        yield dic.issue(("kind",), "E212", "a packaged source is a tree", "write kind: tree")
    if not spec.source and not spec.items:
        yield dic.issue(("name",), "E212", f"dictionary '{spec.name}' has no items", "add items: - {code, label}")
    codes: dict[str, int] = {}
    for item, path in _item_paths(spec.items, ("items",)):
        line = dic.at(*path)
        if item.code in codes:
            yield dic.issue(path + ("code",), "E211", f"duplicate code '{item.code}' (first at line {codes[item.code]})",
                            "codes identify items: make each one unique")
        else:
            codes[item.code] = line
        if spec.kind == "list" and (item.children or item.parent):
            yield dic.issue(path, "E212", f"item '{item.code}' has a parent or children in a list dictionary",
                            "write kind: tree")
    parents = {item.code: (item.parent, path) for item, path in _item_paths(spec.items, ("items",))
               if item.parent is not None}
    for code, (parent, path) in parents.items():
        if parent not in codes:
            yield dic.issue(path + ("parent",), "E211", f"item '{code}': unknown parent '{parent}'",
                            did_you_mean(parent, codes))
    reported: set[str] = set()
    for code, (_, path) in parents.items():
        trail = [code]
        current = parents.get(code, (None,))[0]
        while current is not None and current in codes:
            if current in trail:
                loop = trail[trail.index(current):] + [current]
                if not reported & set(loop):
                    reported.update(loop)
                    yield dic.issue(path + ("parent",), "E205",
                                    "circular tree: " + " → ".join(loop),
                                    "an item cannot be its own ancestor; fix one 'parent'")
                break
            trail.append(current)
            current = parents.get(current, (None,))[0]


def check_menu_categories(menus: list[tuple[MenuCategory, SourceDocument, int]]) -> Iterator[Issue]:
    first: dict[str, str] = {}
    for category, doc, index in menus:
        where = f"{doc.file}:{doc.line_of(('categories', index))}"
        if category.name in first:
            yield Issue(doc.file, doc.line_of(("categories", index, "name")), "E210",
                        f"menu category '{category.name}' is also defined at {first[category.name]}",
                        "give each category its own name")
        else:
            first[category.name] = where


# ---------------------------------------------------------------- access and roles

SCOPE_ANCHOR = {"jurisdiction": "region", "department": "department", "own_enterprise": "enterprise",
                "assigned_organisation": "organisation",
                "goods_class": "goods_class"}


def _anchor_field(reg: Located, registers: dict[str, Located], path: str) -> tuple[Any, str | None]:
    """The field an ownership anchor names ('region' or 'enterprise.region'), or why it cannot be used."""
    head, _, tail = path.partition(".")
    field = reg.spec.field_map.get(head)
    if field is None:
        return None, f"unknown field '{head}'"
    if not tail:
        return field, None
    if field.type != "reference":
        return None, f"'{head}' is not a reference, so '{path}' cannot be followed"
    target = registers.get(field.target)
    if target is None:
        return None, f"register '{field.target}' is unknown"
    inner = target.spec.field_map.get(tail)
    if inner is None:
        return None, f"register '{field.target}' has no field '{tail}'"
    return inner, None


def check_access(reg: Located, roles: set[str], registers: dict[str, Located], has_roles: bool,
                 org_dictionaries: dict[str, str] | None = None, enterprise_register: str | None = None
                 ) -> Iterator[Issue]:
    spec = reg.spec
    org_dictionaries = org_dictionaries or {}
    if spec.ownership.enterprise == "self" and enterprise_register and spec.name != enterprise_register:
        yield reg.issue(("ownership", "enterprise"), "E503", "ownership.enterprise: self is only for the register of "
                        f"enterprise accounts ('{enterprise_register}')", "name the reference field to it instead")
    if spec.parent and spec.access:
        yield reg.issue(("access",), "E507", "a child register follows its parent's access rules",
                        f"remove 'access' here; set it on '{spec.parent}'")
    seen: dict[str, int] = {}
    for i, rule in enumerate(spec.access):
        for j, role in enumerate(rule.roles):
            if has_roles and role not in roles:
                yield reg.issue(("access", i, "roles", j), "E501", f"access: unknown role '{role}'",
                                did_you_mean(role, roles) + " (roles live in metadata/roles.yaml)")
            if role in seen:
                yield reg.issue(("access", i, "roles", j), "E504", f"access: role '{role}' has two rules "
                                f"(the other is rule {seen[role] + 1})", "give each role one rule per register")
            seen[role] = i
        for key in ("read_only", "hidden"):
            for j, name in enumerate(getattr(rule, key)):
                if name not in spec.field_map:
                    yield reg.issue(("access", i, key, j), "E202", f"access.{key}: unknown field '{name}'",
                                    did_you_mean(name, spec.field_map))
        for kind in rule.scope:
            anchor = SCOPE_ANCHOR.get(kind)
            if anchor and not getattr(spec.ownership, anchor):
                yield reg.issue(("access", i, "scope"), "E502", f"access: scope '{kind}' needs to know the row's "
                                f"{anchor}", f"add ownership: {{{anchor}: <field>}}")
    for anchor in ("region", "department", "enterprise"):
        path = getattr(spec.ownership, anchor)
        if not path:
            continue
        if anchor == "enterprise" and path == "self":
            continue
        if anchor == "enterprise" and "." in path:
            yield reg.issue(("ownership", anchor), "E503", "ownership.enterprise: name a reference field of this "
                            "register (or self)", "the enterprise is not followed through a second reference")
            continue
        field, problem = _anchor_field(reg, registers, path)
        if problem:
            yield reg.issue(("ownership", anchor), "E503", f"ownership.{anchor}: {problem}",
                            "name a field of this register, or <reference field>.<field of the register it points to>")
            continue
        wanted = {"region": ("tree",), "department": ("enum",), "enterprise": ("reference",)}[anchor]
        if field.type not in wanted:
            yield reg.issue(("ownership", anchor), "E503", f"ownership.{anchor}: field '{path}' is of type "
                            f"'{field.type}'", f"use a {' or '.join(wanted)} field")
        elif anchor in ("region", "department") and org_dictionaries.get(anchor) \
                and field.dictionary != org_dictionaries[anchor]:
            yield reg.issue(("ownership", anchor), "E503", f"ownership.{anchor}: field '{path}' uses dictionary "
                            f"'{field.dictionary}', the organisations use '{org_dictionaries[anchor]}'",
                            "scope compares the two: use a field on the same dictionary")


def _dictionary_codes(dic: Located | None) -> list[str]:
    return [item.code for item in dic.spec.items] if dic is not None else []


def check_goods_classes(roles: Located, registers: dict[str, Located], dictionaries: dict[str, Located]
                        ) -> Iterator[Issue]:
    """roles.yaml goods_classes: a known dictionary, known departments and known class codes (E830)."""
    spec = roles.spec.goods_classes
    if spec is None:
        return
    dic = dictionaries.get(spec.dictionary)
    if dic is None:
        yield roles.issue(("goods_classes", "dictionary"), "E830", f"goods_classes: unknown dictionary "
                          f"'{spec.dictionary}'", did_you_mean(spec.dictionary, dictionaries)
                          or "name the dictionary of the goods classes (metadata/dictionaries/)")
        return
    classes = _dictionary_codes(dic)
    org = registers.get(roles.spec.organisations.target)
    field = org.spec.field_map.get(roles.spec.organisations.department) if org else None
    departments = _dictionary_codes(dictionaries.get(getattr(field, "dictionary", "") or ""))
    for department, codes in spec.departments.items():
        if departments and department not in departments:
            yield roles.issue(("goods_classes", "departments", department), "E830", f"goods_classes: unknown "
                              f"department '{department}'", did_you_mean(department, departments)
                              or "departments: " + ", ".join(departments))
        for j, code in enumerate(codes):
            if code not in classes:
                yield roles.issue(("goods_classes", "departments", department, j), "E830", f"goods_classes: "
                                  f"'{spec.dictionary}' has no code '{code}'", did_you_mean(code, classes)
                                  or "codes: " + ", ".join(classes))


def check_goods_class(reg: Located, registers: dict[str, Located], dictionaries: dict[str, Located],
                      goods: GoodsClasses | None) -> Iterator[Issue]:
    """A register's goods_class and ownership.goods_class need roles.yaml goods_classes and its codes (E831, E832)."""
    spec = reg.spec
    if goods is None:
        if spec.goods_class or spec.ownership.goods_class:
            where = ("goods_class",) if spec.goods_class else ("ownership", "goods_class")
            yield reg.issue(where, "E831", "goods classes are used but metadata/roles.yaml declares none",
                            "add goods_classes: {dictionary: <dictionary>, departments: {<department>: [<class>]}} "
                            "to roles.yaml")
        return
    wanted = goods.dictionary
    if spec.goods_class:
        codes = _dictionary_codes(dictionaries.get(wanted))
        if codes and spec.goods_class not in codes:
            yield reg.issue(("goods_class",), "E831", f"goods_class: '{wanted}' has no code '{spec.goods_class}'",
                            did_you_mean(spec.goods_class, codes) or "codes: " + ", ".join(codes))
    path = spec.ownership.goods_class
    if path:
        field, problem = _anchor_field(reg, registers, path)
        if problem:
            yield reg.issue(("ownership", "goods_class"), "E832", f"ownership.goods_class: {problem}",
                            "name an enum field of this register, or <reference field>.<field>")
        elif field.type != "enum" or field.dictionary != wanted:
            yield reg.issue(("ownership", "goods_class"), "E832", f"ownership.goods_class: field '{path}' is not an "
                            f"enum field on dictionary '{wanted}'", f"use an enum field with dictionary: {wanted}")


def check_roles_file(roles: Located, registers: dict[str, Located], broken: set[str]) -> Iterator[Issue]:
    spec = roles.spec
    names = [r.name for r in spec.roles]
    for i, role in enumerate(spec.roles):
        if names.index(role.name) != i:
            yield roles.issue(("roles", i, "name"), "E504", f"role '{role.name}' is defined twice",
                              "give each role its own name")
        for j, rule in enumerate(role.accounts):
            if rule.role not in names:
                yield roles.issue(("roles", i, "accounts", j, "role"), "E501", f"unknown role '{rule.role}'",
                                  did_you_mean(rule.role, names))
    org = spec.organisations
    target = registers.get(org.target)
    if target is None and org.target not in broken:
        yield roles.issue(("organisations", "register"), "E201", f"unknown register '{org.target}'",
                          did_you_mean(org.target, registers))
    elif target is not None:
        for key, types in (("region", ("tree",)), ("department", ("enum",)), ("level", ("enum",)),
                           ("parent", ("reference",))):
            name = getattr(org, key)
            field = target.spec.field_map.get(name)
            if field is None or field.type not in types:
                yield roles.issue(("organisations", key), "E503", f"organisations.{key}: '{name}' is not a "
                                  f"{types[0]} field of '{org.target}'", did_you_mean(name, target.spec.field_map))
    accounts = spec.enterprise_accounts
    if accounts:
        target = registers.get(accounts.target)
        if target is None and accounts.target not in broken:
            yield roles.issue(("enterprise_accounts", "register"), "E201", f"unknown register '{accounts.target}'",
                              did_you_mean(accounts.target, registers))
        elif target is not None:
            for key in ("login", "name"):
                name = getattr(accounts, key)
                if name not in target.spec.field_map:
                    yield roles.issue(("enterprise_accounts", key), "E202", f"enterprise_accounts.{key}: unknown "
                                      f"field '{name}'", did_you_mean(name, target.spec.field_map))
        if accounts.role not in names:
            yield roles.issue(("enterprise_accounts", "role"), "E501", f"unknown role '{accounts.role}'",
                              did_you_mean(accounts.role, names))
        for i, role in enumerate(accounts.view_as):
            if role not in names or role == accounts.role:
                yield roles.issue(("enterprise_accounts", "view_as", i), "E851",
                                  f"enterprise_accounts.view_as: '{role}' " + ("is the enterprises' own role"
                                                                               if role == accounts.role
                                                                               else "is not a role"),
                                  did_you_mean(role, [n for n in names if n != accounts.role]) or "name regulators' roles")


# ---------------------------------------------------------------- import and export

def _check_import_locked(reg: Located) -> Iterator[Issue]:
    """A role's read-only (and hidden) fields are left out of its import. A rule that grants 'import' while
    locking a column every new row needs (required, no default) or a key field makes its import impossible."""
    spec = reg.spec
    columns = set(spec.import_columns)
    needed = {name: "a required column without a default" for name in columns
              if name in spec.field_map and spec.field(name).required and spec.field(name).default is None
              and spec.field(name).type != "boolean"}
    needed.update({name: "a field of import.key" for name in spec.import_.key})
    for i, rule in enumerate(spec.access):
        if "import" not in rule.action_set:
            continue
        for key in ("read_only", "hidden"):
            for j, name in enumerate(getattr(rule, key)):
                if name in needed:
                    yield reg.issue(("access", i, key, j), "E605", f"access: roles {', '.join(rule.roles)} may import "
                                    f"but '{name}' ({needed[name]}) is {key} for them, so their import could never "
                                    "work (their template leaves out the fields they may not set)",
                                    f"remove 'import' from this rule's actions, or '{name}' from its {key}")


def check_import_export(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    spec = reg.spec
    imp = spec.import_
    if imp is not None:
        target = spec
        if imp.into:
            field = spec.field_map.get(imp.into)
            if field is None or field.type != "children":
                yield reg.issue(("import", "into"), "E601", f"import.into: '{imp.into}' is not a children field",
                                did_you_mean(imp.into, [f.name for f in spec.fields if f.type == "children"]))
                return
            child = registers.get(field.target)
            if child is None:
                return
            target = child.spec
            if not imp.file_name or imp.file_name not in spec.field_map or spec.field(imp.file_name).type != "string":
                yield reg.issue(("import", "file_name") if imp.file_name else ("import", "into"), "E601",
                                "import.into needs file_name: the string field that takes the file's name",
                                "e.g. file_name: name")
        elif imp.file_name:
            yield reg.issue(("import", "file_name"), "E601", "import.file_name only goes with import.into",
                            "remove file_name, or add into: <children field>")
        for key in ("columns", "key"):
            for i, name in enumerate(getattr(imp, key)):
                field = target.field_map.get(name)
                if field is None:
                    yield reg.issue(("import", key, i), "E202", f"import.{key}: unknown field '{name}'",
                                    did_you_mean(name, target.field_map))
                elif field.type in ("attachment", "image", "children"):
                    yield reg.issue(("import", key, i), "E602", f"import.{key}: a spreadsheet cell cannot hold "
                                    f"'{name}' of type '{field.type}'", "leave it out of the template")
        for name in imp.examples:
            if name not in target.field_map:
                yield reg.issue(("import", "examples", name), "E202", f"import.examples: unknown field '{name}'",
                                did_you_mean(name, target.field_map))
                continue
            # the example is what people copy into the sheet: it must pass the checks the import applies (once
            # the validators themselves are sound: a broken one has its own issue)
            field = target.field(name)
            if not all(ref.name in VALIDATORS and VALIDATORS[ref.name].check_params(ref.params) is None
                       for ref in field.validators):
                continue
            example = normalize_value(field, str(imp.examples[name]))
            for failure in run_validators(field, example):
                yield reg.issue(("import", "examples", name), "E604", f"import.examples: the example for '{name}' "
                                f"would be refused: {failure.text()}", "give an example that passes the field's "
                                "validators")
        if imp.into is None:
            columns = set(spec.import_columns)
            for f in spec.fields:
                if f.required and f.default is None and f.stores_value and not f.read_only and f.name not in columns:
                    yield reg.issue(("import", "columns"), "E603", f"import: required field '{f.name}' is not a column",
                                    "add it to import.columns (or give it a default)")
            yield from _check_import_locked(reg)
    if spec.export is not None:
        for i, name in enumerate(spec.export.columns):
            field = spec.field_map.get(name)
            if field is None and name not in SORTABLE_SYSTEM:
                yield reg.issue(("export", "columns", i), "E202", f"export.columns: unknown field '{name}'",
                                did_you_mean(name, list(spec.field_map) + list(SORTABLE_SYSTEM)))


# ---------------------------------------------------------------- workflows

VALUE_TOKENS = ("$today", "$now", "$user_name", "$organisation", "$comment", "$id", "$attachments")


def _value_problem(value: Any, spec: RegisterSpec, item_spec: RegisterSpec | None = None,
                   org_spec: RegisterSpec | None = None) -> str | None:
    """Why a '$...' value of a transition or effect means nothing (None when it is fine)."""
    if not isinstance(value, str) or not value.startswith("$") or value in VALUE_TOKENS:
        return None
    if re.fullmatch(r"\$today[+-]\d{1,4}", value):
        return None
    if value.startswith("$organisation."):
        if org_spec is None:
            return f"'{value}' needs the organisations of roles.yaml"
        if value[14:] not in org_spec.field_map:
            return f"the organisations ('{org_spec.name}') have no field '{value[14:]}'"
        return None
    if value.startswith("$item."):
        if item_spec is None:
            return f"'{value}' needs 'each' or 'for_each' (the rows it names)"
        if value[6:] not in item_spec.field_map and value != "$item.id":
            return f"the rows of '{item_spec.name}' have no field '{value[6:]}'"
        return None
    if value[1:] not in spec.field_map:
        return f"unknown value '{value}'"
    return None


def _check_conditions(reg: Located, path: Path_, conditions: Any, spec: RegisterSpec, states: list[str],
                      registers: dict[str, Located], what: str) -> Iterator[Issue]:
    for j, condition in enumerate(conditions):
        here = path + (j,)
        for key in ("any", "all"):
            if getattr(condition, key):
                yield from _check_conditions(reg, here + (key,), getattr(condition, key), spec, states, registers,
                                             what)
        if condition.not_ is not None:
            yield from _check_conditions(reg, here, (condition.not_,), spec, states, registers, what)
        numeric = [k for k in NUMERIC_COMPARISONS if getattr(condition, k) is not None]
        if condition.field and "." in condition.field:
            yield from _check_referenced_field(reg, here, condition, spec, registers, what, numeric)
            continue
        if numeric and condition.field in spec.field_map and \
                spec.field(condition.field).type not in ("integer", "decimal", "date", "datetime"):
            yield reg.issue(here + (numeric[0],), "E166", f"{what}: '{numeric[0]}' compares numbers or dates, "
                            f"'{condition.field}' is {spec.field(condition.field).type}",
                            "name an integer, decimal or date field, or use equals/in")
        for key in ("field", "before"):
            name = getattr(condition, key)
            if not name:
                continue
            if name not in spec.field_map:
                yield reg.issue(here + (key,), "E705", f"{what}: condition on unknown field '{name}'",
                                did_you_mean(name, spec.field_map))
            elif key == "before" and spec.field(name).type not in ("date", "datetime"):
                yield reg.issue(here + (key,), "E705", f"{what}: 'before' needs a date field, '{name}' is "
                                f"{spec.field(name).type}", "name a date field")
            elif condition.includes is not None and key == "field" and not getattr(spec.field(name), "multiple",
                                                                                    False):
                yield reg.issue(here + ("includes",), "E705", f"{what}: 'includes' needs a multiple enum, "
                                f"'{name}' holds one value", "use equals or in")
        if condition.field and condition.field in spec.field_map:
            yield from _check_compared_values(reg, here, condition, spec.field(condition.field), what)
        if condition.rows:
            yield from _check_rows_condition(reg, here, condition, spec, registers, what)


def _check_referenced_field(reg: Located, path: Path_, condition: Any, spec: RegisterSpec,
                            registers: dict[str, Located], what: str, numeric: list[str]) -> Iterator[Issue]:
    """E165 ``field: <reference>.<field>`` (task.state): a reference of this register, then a field (or the
    workflow state) of the register it points to."""
    head, _, tail = condition.field.partition(".")
    field = spec.field_map.get(head)
    if field is None or field.type != "reference":
        yield reg.issue(path + ("field",), "E165", f"{what}: '{condition.field}': '{head}' is not a reference field",
                        did_you_mean(head, [f.name for f in spec.fields if f.type == "reference"])
                        or "name <reference>.<field> of the register the reference points to")
        return
    target = registers.get(field.target)
    if target is None:
        return  # the unknown register is reported on the field
    state = target.spec.workflow.field if target.spec.workflow else None
    if "." in tail or (tail not in target.spec.field_map and tail != state):
        yield reg.issue(path + ("field",), "E165", f"{what}: '{condition.field}': register '{field.target}' has "
                        f"no field '{tail}'", did_you_mean(tail, [*target.spec.field_map, *([state] if state else [])]))
        return
    if tail == state:
        codes = [s.name for s in target.spec.workflow.states]
        for value in (condition.equals, *(condition.in_ or ()), *(condition.not_in or ())):
            if value is not None and value not in codes:
                yield reg.issue(path + ("field",), "E165", f"{what}: '{condition.field}': unknown state "
                                f"'{value}' of '{field.target}'", did_you_mean(str(value), codes))
        return
    other = target.spec.field(tail)
    if numeric and other.type not in ("integer", "decimal", "date", "datetime"):
        yield reg.issue(path + (numeric[0],), "E166", f"{what}: '{numeric[0]}' compares numbers or dates, "
                        f"'{condition.field}' is {other.type}", "name an integer, decimal or date field")
    yield from _check_compared_values(reg, path, condition, other, what)


def yaml_boolean_problem(field: Any, value: Any) -> tuple[str, str] | None:
    """Why ``value`` can never be a value of ``field`` because of how YAML reads booleans, with the fix."""
    if isinstance(value, bool) and field.type != "boolean":
        return (f"field '{field.name}' is of type '{field.type}' but YAML read the value as the boolean "
                f"{str(value).lower()} (YAML reads unquoted yes/no/on/off/true/false as booleans)",
                "quote it ('yes', 'on'…) to mean the text or code")
    if field.type == "boolean" and value is not None and not isinstance(value, bool) \
            and not (isinstance(value, str) and value.startswith("$")):
        return (f"field '{field.name}' is of type 'boolean' but the value is {value!r}, not true or false",
                "write true or false without quotes")
    return None


def _check_compared_values(reg: Located, path: Path_, condition: Any, field: Any, what: str) -> Iterator[Issue]:
    for key in ("equals", "in", "not_in", "includes"):
        given = getattr(condition, "in_" if key == "in" else key)
        if given is None:
            continue
        for k, value in enumerate(given if isinstance(given, tuple) else (given,)):
            problem = yaml_boolean_problem(field, value)
            if problem:
                where = path + (key, k) if isinstance(given, tuple) else path + (key,)
                yield reg.issue(where, "E705", f"{what}: condition {key}: {problem[0]}", problem[1])
                break


def _check_rows_condition(reg: Located, path: Path_, condition: Any, spec: RegisterSpec,
                          registers: dict[str, Located], what: str) -> Iterator[Issue]:
    head, _, tail = condition.rows.partition(".")
    if tail:  # rows of another register pointing here
        other = registers.get(head)
        if other is None:
            yield reg.issue(path + ("rows",), "E705", f"{what}: unknown register '{head}'",
                            did_you_mean(head, registers))
            return
        ref = other.spec.field_map.get(tail)
        if ref is None or ref.type != "reference" or ref.target != spec.name:
            yield reg.issue(path + ("rows",), "E705", f"{what}: '{condition.rows}' is not a reference of "
                            f"'{head}' to '{spec.name}'", "name a reference field that points to this register")
            return
        target = other.spec
    else:
        children = spec.field_map.get(head)
        if children is None or children.type != "children":
            yield reg.issue(path + ("rows",), "E705", f"{what}: '{head}' is not a children field",
                            "name a children field, or 'register.field' for rows that refer to this one")
            return
        target = registers[children.target].spec if children.target in registers else None
        if target is None:
            return
    if target.workflow is None:
        yield reg.issue(path + ("rows",), "E705", f"{what}: the rows of '{target.name}' have no workflow",
                        "all_in names workflow states")
        return
    known = [s.name for s in target.workflow.states]
    for k, state in enumerate(condition.all_in):
        if state not in known:
            yield reg.issue(path + ("all_in", k), "E701", f"{what}: '{target.name}' has no state '{state}'",
                            _state_hint(state, known))


def _state_hint(word: str, states: list[str]) -> str:
    """The closest state, or every declared state when none is close ('销毁' is close to no code)."""
    hint = did_you_mean(word, states)
    return hint if not hint.startswith("known: ") else "declared states are " + ", ".join(states)


def check_workflow(reg: Located, roles: set[str], registers: dict[str, Located], organisations: Any
                   ) -> Iterator[Issue]:
    """States, transitions, conditions and effects name things that exist; every state can be reached.
    ``organisations`` is roles.yaml's organisations block (None without roles.yaml: roles are not checked)."""
    wf = reg.spec.workflow
    spec = reg.spec
    has_roles = organisations is not None
    org_spec = registers[organisations.target].spec if has_roles and organisations.target in registers else None
    yield from _check_progress(reg, registers)
    for i, f in enumerate(spec.fields):
        deadline = getattr(f, "deadline", None)
        if deadline and deadline.done_states:
            known = [s.name for s in wf.states] if wf else []
            for j, state in enumerate(deadline.done_states):
                if state not in known:
                    yield reg.issue(("fields", i, "deadline", "done_states", j), "E701",
                                    f"field '{f.name}': deadline ends in unknown state '{state}'",
                                    _state_hint(state, known) if known else "the register has no workflow")
    if wf is None:
        return
    states = [s.name for s in wf.states]
    state_field = spec.field_map.get(wf.field)
    if getattr(state_field, "dictionary", None) != spec.workflow_dictionary():
        yield reg.issue(("workflow", "field"), "E708", f"workflow: '{wf.field}' is declared as a field",
                        "the workflow makes its own read-only state field: remove it from fields, or name the "
                        "state field differently with workflow.field")
    if spec.import_ and wf.field in spec.import_.columns:
        yield reg.issue(("import", "columns", spec.import_.columns.index(wf.field)), "E708",
                        f"import.columns: '{wf.field}' is the workflow state", "states change only by "
                        "transitions: imported rows start in the initial state; remove the column")
    for i, state in enumerate(wf.states):
        if states.index(state.name) != i:
            yield reg.issue(("workflow", "states", i, "name"), "E706", f"workflow: state '{state.name}' is defined "
                            "twice", "give each state its own name")
        if state.todo is not None:
            for j, role in enumerate(state.todo.roles):
                if has_roles and role not in roles:
                    yield reg.issue(("workflow", "states", i, "todo", "roles", j), "E704", f"workflow: state "
                                    f"'{state.name}': todo: unknown role '{role}'", did_you_mean(role, roles))
            yield from _check_conditions(reg, ("workflow", "states", i, "todo", "when"), state.todo.when, spec,
                                         states, registers, f"workflow: state '{state.name}': todo")
        if state.frozen != "all":
            for j, name in enumerate(state.frozen):
                if name not in spec.field_map:
                    yield reg.issue(("workflow", "states", i, "frozen", j), "E705", f"workflow: state "
                                    f"'{state.name}' freezes unknown field '{name}'", did_you_mean(name, spec.field_map))
    if sum(1 for s in wf.states if s.initial) > 1:
        yield reg.issue(("workflow", "states"), "E706", "workflow: more than one initial state",
                        "mark one state initial: true (the first is the default)")
    names = [t.name for t in wf.transitions]
    terminal = {s.name for s in wf.states if s.terminal}
    for i, t in enumerate(wf.transitions):
        path = ("workflow", "transitions", i)
        what = f"workflow: transition '{t.name}'"
        if names.index(t.name) != i:
            yield reg.issue(path + ("name",), "E706", f"{what} is defined twice", "give each transition its own name")
        for j, source in enumerate(t.from_):
            if source not in states:
                yield reg.issue(path + ("from",), "E701", f"{what} starts from unknown state '{source}'",
                                _state_hint(source, states))
            elif source in terminal:
                yield reg.issue(path + ("from",), "E703", f"{what} leaves the terminal state '{source}'",
                                "a terminal state has no way out: remove it from 'from', or make the state "
                                "not terminal")
        if t.to not in states:
            yield reg.issue(path + ("to",), "E701", f"{what} goes to unknown state '{t.to}'",
                            _state_hint(t.to, states))
        for j, role in enumerate(t.roles):
            if has_roles and role not in roles:
                yield reg.issue(path + ("roles", j), "E704", f"{what}: unknown role '{role}'",
                                did_you_mean(role, roles))
        yield from _check_conditions(reg, path + ("when",), t.when, spec, states, registers, what)
        for name, value in t.set.items():
            if name not in spec.field_map:
                yield reg.issue(path + ("set", name), "E705", f"{what} sets unknown field '{name}'",
                                did_you_mean(name, spec.field_map))
            elif name == wf.field:
                yield reg.issue(path + ("set", name), "E705", f"{what} sets the state field",
                                "the transition's 'to' is the new state")
            trap = yaml_boolean_problem(spec.field(name), value) if name in spec.field_map else None
            if trap:
                yield reg.issue(path + ("set", name), "E705", f"{what}: set: {trap[0]}", trap[1])
            problem = next(filter(None, (_value_problem(v, spec, None, org_spec)
                                         for v in (value if isinstance(value, list) else [value]))), None)
            if problem:
                yield reg.issue(path + ("set", name), "E705", f"{what}: {problem}",
                                did_you_mean(str(value), VALUE_TOKENS + tuple(f"${n}" for n in spec.field_map)))
        for j, effect in enumerate(t.effects):
            yield from _check_effect(reg, path + ("effects", j), effect, spec, roles, registers, organisations, what)
    # every state can be reached from the initial one
    reached = {wf.initial.name}
    changed = True
    while changed:
        changed = False
        for t in wf.transitions:
            if reached & set(t.from_) and t.to not in reached:
                reached.add(t.to)
                changed = True
    for i, state in enumerate(wf.states):
        if state.name not in reached:
            yield reg.issue(("workflow", "states", i, "name"), "E702", f"workflow: state '{state.name}' cannot be "
                            f"reached from '{wf.initial.name}'", "add a transition that leads to it, or remove it")


def _check_effect(reg: Located, path: Path_, effect: Any, spec: RegisterSpec, roles: set[str],
                  registers: dict[str, Located], organisations: Any, what: str) -> Iterator[Issue]:
    has_roles = organisations is not None
    if effect.create:
        create = effect.create
        target = registers.get(create.target)
        if target is None:
            yield reg.issue(path + ("create", "register"), "E707", f"{what} creates rows of unknown register "
                            f"'{create.target}'", did_you_mean(create.target, registers))
            return
        item_spec: RegisterSpec | None = None
        if create.each:
            each = spec.field_map.get(create.each)
            if each is None or each.type != "children":
                yield reg.issue(path + ("create", "each"), "E707", f"{what}: 'each' names '{create.each}', not a "
                                "children field", did_you_mean(create.each, [f.name for f in spec.fields
                                                                             if f.type == "children"]))
                return
            item_spec = registers[each.target].spec if each.target in registers else None
        elif create.for_each == "organisations_below":
            if organisations is None or organisations.target not in registers:
                yield reg.issue(path + ("create", "for_each"), "E707", f"{what}: 'organisations_below' needs the "
                                "organisations of roles.yaml", "add roles.yaml with its organisations block")
                return
            item_spec = registers[organisations.target].spec
        elif create.for_each is not None:
            source = registers.get(create.for_each.target)
            if source is None:
                yield reg.issue(path + ("create", "for_each", "register"), "E707", f"{what}: 'for_each' names "
                                f"unknown register '{create.for_each.target}'",
                                did_you_mean(create.for_each.target, registers))
                return
            item_spec = source.spec
        yield from _check_conditions(reg, path + ("create", "when"), create.when, item_spec or spec, [], registers,
                                     what)
        for j, condition in enumerate(create.when):
            for value in (condition.equals, *(condition.in_ or ()), *(condition.not_in or ())):
                if isinstance(value, str) and value.startswith("$") and value[1:] not in spec.field_map:
                    yield reg.issue(path + ("create", "when", j), "E705", f"{what}: condition compares with "
                                    f"unknown field '{value}' of '{spec.name}'",
                                    did_you_mean(value[1:], spec.field_map))
        if create.parent is not None:
            ref = spec.field_map.get(create.parent)
            if target.spec.parent is None or ref is None or ref.type != "reference" \
                    or ref.target != target.spec.parent:
                yield reg.issue(path + ("create", "parent"), "E707", f"{what}: 'parent' must be a reference of "
                                f"'{spec.name}' to the parent register of '{create.target}' "
                                f"({target.spec.parent or 'it has none'})",
                                did_you_mean(create.parent, [f.name for f in spec.fields if f.type == "reference"]))
        if create.remember is not None:
            keeper = item_spec if create.each else spec
            ref = keeper.field_map.get(create.remember) if keeper is not None else None
            if ref is None or ref.type != "reference" or ref.target != create.target:
                where = f"the child rows' register '{keeper.name}'" if create.each and keeper else f"'{spec.name}'"
                yield reg.issue(path + ("create", "remember"), "E707", f"{what}: 'remember' must be a reference "
                                f"field of {where} to '{create.target}' (it keeps the row made)",
                                did_you_mean(create.remember, [f.name for f in (keeper.fields if keeper else ())
                                                               if f.type == "reference" and f.target == create.target])
                                or f"add a read-only reference field to '{create.target}'")
        target_state = target.spec.workflow.field if target.spec.workflow else None
        missing = [f.name for f in target.spec.fields if f.required and f.stores_value and f.default is None
                   and f.name != target_state and f.name not in create.values]
        if missing:
            yield reg.issue(path + ("create", "values"), "E707", f"{what}: new '{create.target}' rows need "
                            f"{', '.join(missing)} (required)", "give each a value")
        yield from _check_values(reg, path + ("create", "values"), what, create.values, target.spec, spec,
                                 item_spec, organisations, registers)
    if effect.update:
        update = effect.update
        if update.rows:
            target = yield from _pointing_rows(reg, path + ("update", "rows"), update.rows, spec, registers, what)
            if target is None:
                return
            yield from _check_conditions(reg, path + ("update", "when"), update.when, target.spec, [], registers,
                                         what)
            yield from _check_values(reg, path + ("update", "values"), what, update.values, target.spec, spec, None,
                                     organisations, registers)
            return
        ref = spec.field_map.get(update.reference)
        if ref is None or ref.type != "reference":
            yield reg.issue(path + ("update", "reference"), "E707", f"{what}: '{update.reference}' is not a "
                            "reference field", did_you_mean(update.reference, [f.name for f in spec.fields
                                                                               if f.type == "reference"]))
            return
        target = registers.get(ref.target)
        if target is None:
            return
        yield from _check_values(reg, path + ("update", "values"), what, update.values, target.spec, spec, None,
                                 organisations, registers)
    if effect.notify:
        for role in effect.notify.roles:
            if has_roles and role not in roles:
                yield reg.issue(path + ("notify", "roles"), "E704", f"{what}: notify: unknown role '{role}'",
                                did_you_mean(role, roles))


def _pointing_rows(reg: Located, path: Path_, rows: str, spec: RegisterSpec, registers: dict[str, Located],
                   what: str) -> Generator[Issue, None, Located | None]:
    """'<register>.<reference field>' naming the rows that point to a row of ``spec``; returns that register's
    Located (None after an issue)."""
    name, _sep, field_name = rows.partition(".")
    other = registers.get(name)
    if other is None:
        yield reg.issue(path, "E707", f"{what}: 'rows' names unknown register '{name}'", did_you_mean(name, registers))
        return None
    field = other.spec.field_map.get(field_name)
    if field is None or field.type != "reference" or field.target != spec.name:
        yield reg.issue(path, "E707", f"{what}: '{rows}' is not a reference of '{name}' to '{spec.name}'",
                        did_you_mean(field_name, [f.name for f in other.spec.fields
                                                  if f.type == "reference" and f.target == spec.name])
                        or f"add to '{name}' a reference field to '{spec.name}'")
        return None
    return other


def _check_values(reg: Located, path: Path_, what: str, values: dict[str, Any], target: RegisterSpec,
                  spec: RegisterSpec, item_spec: RegisterSpec | None, organisations: Any,
                  registers: dict[str, Located]) -> Iterator[Issue]:
    """The values an effect writes into rows of ``target``: known fields, not the state, meaningful $tokens."""
    org = registers.get(organisations.target) if organisations is not None else None
    org_spec = org.spec if org is not None else None
    for name, value in values.items():
        if name not in target.field_map:
            yield reg.issue(path + (name,), "E707", f"{what}: register '{target.name}' has no field '{name}'",
                            did_you_mean(name, target.field_map))
        elif target.workflow and name == target.workflow.field:
            yield reg.issue(path + (name,), "E707", f"{what}: the state of '{target.name}' rows changes only "
                            "through their own workflow", f"remove '{name}'")
        elif trap := yaml_boolean_problem(target.field(name), value):
            yield reg.issue(path + (name,), "E707", f"{what}: {trap[0]}", trap[1])
        problem = next(filter(None, (_value_problem(v, spec, item_spec, org_spec)
                                     for v in (value if isinstance(value, list) else [value]))), None)
        if problem:
            yield reg.issue(path + (name,), "E707", f"{what}: {problem}",
                            did_you_mean(str(value), VALUE_TOKENS + tuple(f"${n}" for n in spec.field_map)))


def _check_progress(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """progress: rows of another register that point to this one, each with a workflow to count by."""
    for i, progress in enumerate(reg.spec.progress):
        if progress.below is not None:
            below = reg.spec.field_map.get(progress.below)
            if below is None or below.type != "reference" or below.target != reg.spec.name:
                yield reg.issue(("progress", i, "below"), "E167", f"progress: below: '{progress.below}' is not a "
                                f"reference of '{reg.spec.name}' to its own rows",
                                did_you_mean(progress.below, [f.name for f in reg.spec.fields if f.type == "reference"
                                                              and f.target == reg.spec.name])
                                or "name the reference to the row above (parent_task)")
        head, _, tail = progress.rows.partition(".")
        other = registers.get(head)
        if other is None:
            yield reg.issue(("progress", i, "rows"), "E709", f"progress: unknown register '{head}'",
                            did_you_mean(head, registers))
            continue
        ref = other.spec.field_map.get(tail)
        if ref is None or ref.type != "reference" or ref.target != reg.spec.name:
            yield reg.issue(("progress", i, "rows"), "E709", f"progress: '{progress.rows}' is not a reference of "
                            f"'{head}' to '{reg.spec.name}'", "name a reference field that points to this register")
        elif other.spec.workflow is None:
            yield reg.issue(("progress", i, "rows"), "E709", f"progress: the rows of '{head}' have no workflow",
                            "progress counts rows by their state")
        for j, name in enumerate(progress.columns):
            if name not in other.spec.field_map:
                yield reg.issue(("progress", i, "columns", j), "E709", f"progress: '{head}' has no field '{name}'",
                                did_you_mean(name, other.spec.field_map))


def check_documents(reg: Located, reg_by_name: dict[str, Located] | None = None,
                    folders: Sequence[str | Path] | None = None) -> Iterator[Issue]:
    """A document's placeholders are fields of the register (or {today}, {number}); its template file exists,
    parses, and names fields of the register and of the rows it reaches (statically known ones)."""
    import string

    from jinja2 import TemplateSyntaxError
    names = [d.name for d in reg.spec.documents]
    specs = {name: located.spec for name, located in (reg_by_name or {}).items()}
    specs.setdefault(reg.spec.name, reg.spec)
    extra = ["today", "number"]
    for i, doc in enumerate(reg.spec.documents):
        if names.index(doc.name) != i:
            yield reg.issue(("documents", i, "name"), "E710", f"documents: '{doc.name}' is defined twice",
                            "give each document its own name")
        for key in ("file_name", "body"):
            if getattr(doc, key) is None:
                continue
            try:
                placeholders = [f for _, f, spec_, conv in string.Formatter().parse(getattr(doc, key)) if f is not None]
            except ValueError as exc:
                yield reg.issue(("documents", i, key), "E710", f"documents: '{doc.name}' {key}: {exc}",
                                "write a placeholder as {field}; a literal brace as {{ or }}")
                continue
            for name in placeholders:
                if name not in extra and name not in reg.spec.field_map:
                    yield reg.issue(("documents", i, key), "E710", f"documents: '{doc.name}' names unknown field "
                                    f"'{{{name}}}'", did_you_mean(name, list(reg.spec.field_map) + extra))
        if doc.number is not None:
            try:
                doc.number.format.format(year=2026, n=1)
            except (KeyError, IndexError, ValueError) as exc:
                yield reg.issue(("documents", i, "number", "format"), "E752",
                                f"documents: '{doc.name}' number format {doc.number.format!r}: {exc}",
                                "write the number with {year} and {n} (e.g. 常新应急责改〔{year}〕{n}号); a literal "
                                "brace as {{ or }}")
        if doc.template is None or folders is None:
            continue
        folder = next((Path(f) for f in folders if (Path(f) / doc.template).is_file()), None)
        if folder is None:
            yield reg.issue(("documents", i, "template"), "E750", f"documents: '{doc.name}' template "
                            f"'{doc.template}' is not in metadata/documents/",
                            f"create metadata/documents/{doc.template} or correct the name")
            continue
        path = folder / doc.template
        shown = str(path.relative_to(folder.parent.parent))
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            yield Issue(shown, 1, "E750", f"template of document '{doc.name}' is not UTF-8", "save the file as UTF-8")
            continue
        from app.documents import template_issues  # the documents sit above the metadata, which they import
        try:
            problems = template_issues(source, reg.spec, specs)
        except TemplateSyntaxError as exc:
            yield Issue(shown, exc.lineno or 1, "E751", f"template of document '{doc.name}' of '{reg.spec.name}': "
                        f"{exc.message}", "fix the Jinja syntax ({{ value }}, {% for … %}…{% endfor %})")
            continue
        for line, message, hint in problems:
            yield Issue(shown, line, "E753", f"template of document '{doc.name}' of '{reg.spec.name}': {message}",
                        hint)


def check_public(reg: Located) -> Iterator[Issue]:
    """A public form names writable fields of the register, and the register has a workflow to review it."""
    public = reg.spec.public
    if public is None:
        return
    spec = reg.spec
    if spec.workflow is None:
        yield reg.issue(("public",), "E711", "public: a register open to everyone needs a workflow",
                        "add a workflow whose first step is the review of what was sent")
    for i, name in enumerate(public.fields):
        field = spec.field_map.get(name)
        if field is None:
            yield reg.issue(("public", "fields", i), "E711", f"public: unknown field '{name}'",
                            did_you_mean(name, spec.field_map))
        elif field.read_only or field.type in ("children", "reference"):
            yield reg.issue(("public", "fields", i), "E711", f"public: '{name}' cannot be on a public form",
                            "read-only, child-table and reference fields are not offered to anonymous users")
    missing = [f.name for f in spec.fields if f.required and f.stores_value and f.default is None
               and not f.read_only and f.name not in public.fields]
    if missing:
        yield reg.issue(("public", "fields"), "E711", f"public: required fields missing from the form: "
                        f"{', '.join(missing)}", "add them to public.fields")
