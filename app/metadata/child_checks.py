"""Checks of the options about child rows and the organisation a row names: a children field's copy_from
(E730), an integer field's count (E731) and the user_organisation condition (E732), located like every check."""
from __future__ import annotations

from typing import Any, Iterator

from .checks import Located
from .issues import Issue, did_you_mean
from .source import Path_
from .spec import Condition

#: the conditions a count may use: they are evaluated on child rows in memory, without a user
_ROW_KEYS = ("same_organisation", "parent_organisation", "user_organisation", "before", "rows")


def check_copy_from(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """E730: the reference is one of this register's, the row it points to has the children field, and both
    child registers have the fields mapped."""
    spec = reg.spec
    for i, field in enumerate(spec.fields):
        rule = getattr(field, "copy_from", None)
        if rule is None:
            continue
        path = ("fields", i, "copy_from")
        ref = spec.field_map.get(rule.reference)
        if ref is None or ref.type != "reference":
            yield reg.issue(path + ("reference",), "E730", f"field '{field.name}': copy_from: '{rule.reference}' is "
                            "not a reference field of this register",
                            did_you_mean(rule.reference, [f.name for f in spec.fields if f.type == "reference"])
                            or "name the reference field whose row's child rows are copied")
            continue
        source = registers.get(ref.target)
        mine = registers.get(field.target)
        if source is None or mine is None:
            continue  # an unknown register is reported on the field (E201)
        children = source.spec.field_map.get(rule.children)
        if children is None or children.type != "children":
            yield reg.issue(path + ("children",), "E730", f"field '{field.name}': copy_from: '{ref.target}' has no "
                            f"children field '{rule.children}'",
                            did_you_mean(rule.children, [f.name for f in source.spec.fields if f.type == "children"])
                            or f"name a children field of '{ref.target}'")
            continue
        theirs = registers.get(children.target)
        if theirs is None:
            continue
        for name, other in rule.fields.items():
            if name not in mine.spec.field_map:
                yield reg.issue(path + ("fields", name), "E730", f"field '{field.name}': copy_from: "
                                f"'{field.target}' has no field '{name}'",
                                did_you_mean(name, mine.spec.field_map) or "name a field of the rows copied into")
            if other not in theirs.spec.field_map:
                yield reg.issue(path + ("fields", name), "E730", f"field '{field.name}': copy_from: "
                                f"'{children.target}' has no field '{other}'",
                                did_you_mean(other, theirs.spec.field_map) or "name a field of the rows copied")


def check_counts(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """E731: a count names a children field, compares that child register's fields, and is read-only (the
    engine writes it)."""
    spec = reg.spec
    for i, field in enumerate(spec.fields):
        rule = getattr(field, "count", None)
        if rule is None:
            continue
        path = ("fields", i, "count")
        if not field.read_only:
            yield reg.issue(("fields", i, "read_only"), "E731", f"field '{field.name}': a count needs a read-only "
                            "field", "add read_only: true (the engine writes the count on every save)")
        children = spec.field_map.get(rule.children)
        if children is None or children.type != "children":
            yield reg.issue(path + ("children",), "E731", f"field '{field.name}': count: '{rule.children}' is not a "
                            "children field of this register",
                            did_you_mean(rule.children, [f.name for f in spec.fields if f.type == "children"])
                            or "name the children field whose rows are counted")
            continue
        child = registers.get(children.target)
        if child is None:
            continue
        for j, condition in enumerate(rule.when):
            used = [k for k in _ROW_KEYS if getattr(condition, k)]
            if used:
                yield reg.issue(path + ("when", j, used[0]), "E731", f"field '{field.name}': count: a condition "
                                f"with '{used[0]}'", "compare fields of the child rows: field with equals, in, "
                                "not_in, includes or is_set")
            elif condition.field not in child.spec.field_map:
                yield reg.issue(path + ("when", j, "field"), "E731", f"field '{field.name}': count: "
                                f"'{children.target}' has no field '{condition.field}'",
                                did_you_mean(condition.field, child.spec.field_map) or "name a field of the child rows")


def check_user_organisation(reg: Located, organisations: Any) -> Iterator[Issue]:
    """E732: user_organisation names a reference to the organisations register (transitions and deletable)."""
    spec = reg.spec
    places: list[tuple[Path_, Condition]] = []
    if spec.workflow is not None:
        for i, t in enumerate(spec.workflow.transitions):
            places += [(("workflow", "transitions", i, "when", j), c) for j, c in enumerate(t.when)]
    if spec.deletable is not None:
        places += [(("deletable", "when", j), c) for j, c in enumerate(spec.deletable.when)]
    for path, condition in places:
        name = condition.user_organisation
        if not name:
            continue
        field = spec.field_map.get(name)
        target = organisations.target if organisations is not None else None
        if field is None or field.type != "reference" or field.target != target:
            candidates = [f.name for f in spec.fields if f.type == "reference" and f.target == target]
            yield reg.issue(path + ("user_organisation",), "E732", f"condition: user_organisation: '{name}' is not "
                            f"a reference to the organisations register ('{target}' in roles.yaml)",
                            did_you_mean(name, candidates) or "name a reference field to the organisations register")
