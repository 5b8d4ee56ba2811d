"""Checks of the data rules a register declares: cross-field ``rules``, each field's ``normalise`` and
``required_when`` (one check_<option> each, located like every other check)."""
from __future__ import annotations

from typing import Iterator

from .checks import Located
from .issues import Issue, did_you_mean
from .rules import KIND_OF_TYPE, RuleError, kind_of, names, parse, source_of
from .spec import RegisterSpec


def field_kinds(spec: RegisterSpec) -> dict[str, str | None]:
    """A field's kind in a rule; a multiple-choice enum is a list of codes (``'other' in business_mode``)."""
    return {f.name: "list:text" if f.type == "enum" and getattr(f, "multiple", False) else KIND_OF_TYPE.get(f.type)
            for f in spec.fields}


def check_rules(reg: Located) -> Iterator[Issue]:
    """E120 an expression outside the rule language; E121 an unknown or incomparable field; E122 kinds that do
    not compare (a date with a number); E123 ``field`` not one of the rule's fields."""
    spec = reg.spec
    kinds = field_kinds(spec)
    comparable = [name for name, kind in kinds.items() if kind]
    for i, rule in enumerate(spec.rules):
        path = ("rules", i)
        where = path + (("expr",) if rule.expr else ("left",))
        try:
            tree = parse(source_of(rule))
        except RuleError as exc:
            yield reg.issue(where, "E120", f"rules: {exc}", "write a comparison of fields, today and numbers, "
                            "e.g. rectified_on >= found_on or valid_to - valid_from <= 1825")
            continue
        unknown = [n for n in names(tree) if n != "today" and n not in kinds]
        for name in unknown:
            key = where if rule.expr else path + (("left",) if name == rule.left else ("right",))
            yield reg.issue(key, "E121", f"rules: unknown field '{name}'",
                            did_you_mean(name, comparable) or "fields: " + ", ".join(comparable))
        if unknown:
            continue
        try:
            if kind_of(tree, kinds) != "boolean":
                raise RuleError(f"'{source_of(rule)}' is not a comparison")
        except RuleError as exc:
            incomparable = "cannot be compared" in str(exc)
            yield reg.issue(where, "E121" if incomparable else "E122", f"rules: {exc}",
                            "compare dates with dates (or today), numbers with numbers; texts and codes with == "
                            "or != only" if not incomparable else "rules read dates, numbers, texts, codes and "
                            "yes/no fields")
            continue
        if rule.field is not None and rule.field not in rule.compiled.fields:
            yield reg.issue(path + ("field",), "E123", f"rules: field '{rule.field}' is not one of the rule's "
                            f"fields", "one of: " + ", ".join(rule.compiled.fields))


def check_normalise(reg: Located) -> Iterator[Issue]:
    """E124 ``normalise`` on a field that holds no typed text; E125 both ``upper`` and ``lower``."""
    for i, field in enumerate(reg.spec.fields):
        steps = field.normalise
        if steps is None:
            continue
        if field.type not in ("string", "text"):
            yield reg.issue(("fields", i, "normalise"), "E124", f"field '{field.name}': normalise applies to "
                            f"string and text fields, not to '{field.type}'", "remove normalise (numbers and "
                            "dates typed in full-width are read as they are)")
        elif "upper" in steps and "lower" in steps:
            yield reg.issue(("fields", i, "normalise"), "E125", f"field '{field.name}': normalise has both upper "
                            "and lower", "keep one of them")


def check_required_when(reg: Located) -> Iterator[Issue]:
    """E126 a ``required_when`` condition that is not on one of the register's other fields (or is an
    organisation, date or rows condition, which need a stored row); E127 a '$' value (a form has no other row)."""
    spec = reg.spec
    names = [f.name for f in spec.fields]
    for i, field in enumerate(spec.fields):
        for j, condition in enumerate(field.required_when):
            path = ("fields", i, "required_when", j)
            if not condition.field or condition.same_organisation or condition.parent_organisation \
                    or condition.before or condition.rows:
                yield reg.issue(path, "E126", f"field '{field.name}': required_when takes conditions on the row's "
                                "own fields only", "use field with equals, in, not_in, includes or is_set")
                continue
            if condition.field not in spec.field_map or condition.field == field.name:
                yield reg.issue(path + ("field",), "E126", f"field '{field.name}': required_when names "
                                f"{'itself' if condition.field == field.name else 'unknown field ' + repr(condition.field)}",
                                did_you_mean(condition.field, names) or "name another field of this register")
                continue
            values = [condition.equals, *(condition.in_ or ()), *(condition.not_in or ()), condition.includes]
            if any(isinstance(v, str) and v.startswith("$") for v in values):
                yield reg.issue(path, "E127", f"field '{field.name}': required_when compares with a '$' value",
                                "compare with literal values (a form has no other row to take values from)")
