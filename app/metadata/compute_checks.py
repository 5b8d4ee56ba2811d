"""Checks of ``compute`` fields (§4.7): read-only (E740), an expression of the rule language over the row's fields
and ``<reference>.<field>`` that gives the field's kind (E741)."""
from __future__ import annotations

from typing import Any, Iterator

from .checks import Located
from .issues import Issue, did_you_mean
from .rules import KIND_OF_TYPE, RuleError, kind_of, names, parse

#: the kind of value each type of compute field holds
RESULT_KIND = {"boolean": "boolean", "integer": "number", "decimal": "number"}


def computable_kinds(spec: Any, registers: dict[str, Located]) -> dict[str, str | None]:
    """What a computation may read: the register's fields and, one step away, the fields of referenced rows."""
    kinds: dict[str, str | None] = {f.name: KIND_OF_TYPE.get(f.type) for f in spec.fields}
    for field in spec.fields:
        target = registers.get(getattr(field, "target", None) or "") if field.type == "reference" else None
        if target is not None:
            kinds.update({f"{field.name}.{f.name}": KIND_OF_TYPE.get(f.type) for f in target.spec.fields})
    return kinds


def check_compute(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """E740 a compute field that users could also fill; E741 an expression outside the language, an unknown field
    or reference, or a result of the wrong kind (a condition for a yes/no field, a number for a number field)."""
    spec = reg.spec
    kinds = None
    for i, field in enumerate(spec.fields):
        source = getattr(field, "compute", None)
        if source is None:
            continue
        path = ("fields", i, "compute")
        if not field.read_only:
            yield reg.issue(("fields", i, "name"), "E740", f"field '{field.name}': a computed field must be "
                            "read_only", "add read_only: true (the engine writes the value on every save)")
        kinds = kinds if kinds is not None else computable_kinds(spec, registers)
        try:
            tree = parse(source, references=True)
        except RuleError as exc:
            yield reg.issue(path, "E741", f"field '{field.name}': compute: {exc}",
                            "e.g. value > point.upper_limit, or likelihood * severity")
            continue
        unknown = [n for n in names(tree) if n != "today" and n not in kinds]
        for name in unknown:
            head = name.partition(".")[0]
            readable = [k for k, v in kinds.items() if v and (("." in name) == ("." in k))]
            hint = did_you_mean(name, readable) or ("a field of a referenced row is <reference field>.<field>"
                                                   if "." in name and head not in spec.field_map else
                                                   "fields: " + ", ".join(k for k in readable if "." not in k))
            yield reg.issue(path, "E741", f"field '{field.name}': compute: unknown field '{name}'", hint)
        if unknown:
            continue
        if field.name in names(tree):
            yield reg.issue(path, "E741", f"field '{field.name}': compute reads the field itself",
                            "compute it from the other fields")
            continue
        try:
            got = kind_of(tree, kinds)
        except RuleError as exc:
            yield reg.issue(path, "E741", f"field '{field.name}': compute: {exc}",
                            "compare dates with dates, numbers with numbers; texts and codes with == or != only")
            continue
        wanted = RESULT_KIND[field.type]
        if got != wanted:
            yield reg.issue(path, "E741", f"field '{field.name}': compute gives a {got}, the {field.type} field "
                            f"needs a {wanted}", "a yes/no field takes a comparison; a number field arithmetic")
