"""Checks of the organisation a row is assigned to (审核机关) and of fields required for a transition:
``organisation_of`` on a reference field (E990–E992, docs/metadata.md §4.9), ``required_for`` (E993, §4.8) and
``ownership.organisation`` for the scope ``assigned_organisation`` (E994, §12)."""
from __future__ import annotations

from typing import Any, Iterator

from .checks import Located, _anchor_field
from .issues import Issue, did_you_mean


def check_organisation_of(reg: Located, registers: dict[str, Located], dictionaries: dict[str, Located],
                          organisations: Any, org_dictionaries: dict[str, str]) -> Iterator[Issue]:
    """E990 organisation_of on a field that is not a read-only reference to the organisations register; E991 a
    region or department that is not a field (or <reference>.<field>) on the organisations' dictionaries; E992 a
    level that is not a code of the organisations' level dictionary, or a condition on an unknown field."""
    spec = reg.spec
    target = organisations.target if organisations is not None else None
    for i, field in enumerate(spec.fields):
        rule = getattr(field, "organisation_of", None)
        if rule is None:
            continue
        path = ("fields", i, "organisation_of")
        if target is None or field.target != target:
            yield reg.issue(("fields", i, "register"), "E990", f"field '{field.name}': organisation_of needs a "
                            f"reference to the organisations register ('{target}' in roles.yaml)",
                            f"write register: {target}" if target else "declare organisations in roles.yaml")
            continue
        if not field.read_only:
            yield reg.issue(("fields", i, "name"), "E990", f"field '{field.name}': a field the engine assigns "
                            "(organisation_of) must be read_only", "add read_only: true")
        if rule.name_into is not None:
            into = spec.field_map.get(rule.name_into)
            if into is None or into.type not in ("string", "text") or not into.read_only:
                yield reg.issue(path + ("name_into",), "E990", f"field '{field.name}': organisation_of.name_into: "
                                f"'{rule.name_into}' is not a read-only string field of this register",
                                (did_you_mean(rule.name_into, spec.field_map) if into is None else "")
                                or "name a string field with read_only: true")
        for key, wanted in (("region", "tree"), ("department", "enum")):
            name = getattr(rule, key)
            if name is None:
                continue
            found, problem = _anchor_field(reg, registers, name)
            dictionary = org_dictionaries.get(key)
            if problem is None and (found.type != wanted or (dictionary and found.dictionary != dictionary)):
                problem = f"'{name}' is not {'an' if wanted == 'enum' else 'a'} {wanted} field of the dictionary " \
                          f"'{dictionary}'"
            if problem:
                yield reg.issue(path + (key,), "E991", f"field '{field.name}': organisation_of.{key}: {problem}",
                                f"name {'an' if wanted == 'enum' else 'a'} {wanted} field on the organisations' "
                                f"dictionary, here or <reference>.<field> (enterprise.{key})")
        org_reg = registers.get(target)
        level_field = org_reg.spec.field_map.get(organisations.level) if org_reg else None
        level_dic = dictionaries.get(getattr(level_field, "dictionary", None) or "")
        codes = [item.code for item in level_dic.spec.items] if level_dic is not None else []
        for j, level in enumerate(rule.levels):
            if codes and level_dic is not None and level.level not in codes:
                yield reg.issue(path + ("levels", j, "level"), "E992", f"field '{field.name}': organisation_of: "
                                f"level '{level.level}' is not a code of '{level_dic.spec.name}'",
                                did_you_mean(level.level, codes) or "codes: " + ", ".join(codes))
            for k, condition in enumerate(level.when):
                if not condition.field or condition.field not in spec.field_map or condition.field == field.name:
                    yield reg.issue(path + ("levels", j, "when", k), "E992", f"field '{field.name}': "
                                    f"organisation_of: a level's condition names '{condition.field}'",
                                    did_you_mean(condition.field or "", spec.field_map)
                                    or "compare another field of this register (field with equals, in, includes)")


def check_required_for(reg: Located) -> Iterator[Issue]:
    """E993 required_for names a transition the register's workflow does not have (or there is no workflow)."""
    spec = reg.spec
    names = [t.name for t in spec.workflow.transitions] if spec.workflow else []
    for i, field in enumerate(spec.fields):
        for j, name in enumerate(field.required_for):
            if name not in names:
                yield reg.issue(("fields", i, "required_for", j), "E993", f"field '{field.name}': required_for: "
                                f"'{name}' is not a transition of this register",
                                did_you_mean(name, names) or "add a workflow, or name one of its transitions")


def check_ownership_organisation(reg: Located, organisations: Any) -> Iterator[Issue]:
    """E994 ownership.organisation is not a reference field to the organisations register."""
    name = reg.spec.ownership.organisation
    if not name:
        return
    target = organisations.target if organisations is not None else None
    field = reg.spec.field_map.get(name)
    if field is None or field.type != "reference" or field.target != target:
        candidates = [f.name for f in reg.spec.fields if f.type == "reference" and f.target == target]
        yield reg.issue(("ownership", "organisation"), "E994", f"ownership.organisation: '{name}' is not a "
                        f"reference field to the organisations register ('{target}')",
                        did_you_mean(name, candidates) or "name a reference field to the organisations register")
