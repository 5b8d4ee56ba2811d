"""Checks of ``follows: <reference>.<field>`` (§4.10): the reference is one of the register's reference fields,
the field exists on the register it points to and holds the same kind of value (E966); and of a reference's
``match: {<their field>: <own field>}`` (§4.11): both fields exist and hold the same kind of value (E967)."""
from __future__ import annotations

from typing import Any, Iterator

from .checks import Located
from .issues import Issue, did_you_mean

#: types whose one column can take the referenced row's value as it is
FOLLOWING_TYPES = {"string", "text", "integer", "decimal", "boolean", "date", "datetime", "enum", "tree"}


def check_follows(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    spec = reg.spec
    for i, field in enumerate(spec.fields):
        source = getattr(field, "follows", None)
        if source is None:
            continue
        path = ("fields", i, "follows")
        where = f"field '{field.name}': follows '{source}'"
        ref_name, dot, target_name = source.partition(".")
        references = [f.name for f in spec.fields if f.type == "reference"]
        if field.type not in FOLLOWING_TYPES or getattr(field, "multiple", False):
            yield reg.issue(path, "E966", f"{where}: a {field.type} field cannot follow another row's value",
                            "follows is for one-value fields: string, text, number, date, yes/no, enum, tree")
            continue
        ref = spec.field_map.get(ref_name)
        if not dot or ref is None or ref.type != "reference":
            yield reg.issue(path, "E966", f"{where}: '{ref_name}' is not a reference field of this register",
                            did_you_mean(ref_name, references) or
                            "write <reference field>.<field>, e.g. enterprise.region; references: "
                            + (", ".join(references) or "none"))
            continue
        target = registers.get(ref.target)
        if target is None:
            continue  # the reference's own check reports the unknown register
        other = target.spec.field_map.get(target_name)
        if other is None:
            yield reg.issue(path, "E966", f"{where}: register '{ref.target}' has no field '{target_name}'",
                            did_you_mean(target_name, list(target.spec.field_map)) or
                            "fields: " + ", ".join(target.spec.field_map))
            continue
        if other.type != field.type or getattr(other, "dictionary", None) != getattr(field, "dictionary", None) \
                or getattr(other, "multiple", False):
            yield reg.issue(path, "E966", f"{where}: {ref.target}.{target_name} is a {_kind(other)}, this field "
                            f"a {_kind(field)}", "follow a field of the same type (and the same dictionary)")


def _kind(field: Any) -> str:
    """A field's type, with its dictionary when it has one ('enum of dictionary grade')."""
    return str(field.type) + (f" of dictionary {field.dictionary}" if getattr(field, "dictionary", None) else "")


#: types whose values are compared by ``match`` (one stored value each)
MATCHING_TYPES = FOLLOWING_TYPES - {"text", "decimal"} | {"reference"}


def _same_kind(a: Any, b: Any) -> bool:
    return a.type == b.type and getattr(a, "dictionary", None) == getattr(b, "dictionary", None) \
        and getattr(a, "target", None) == getattr(b, "target", None) \
        and not getattr(a, "multiple", False) and not getattr(b, "multiple", False)


def check_match(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    spec = reg.spec
    for i, field in enumerate(spec.fields):
        match = getattr(field, "match", None)
        if not match:
            continue
        target = registers.get(field.target)
        if target is None:
            continue  # the reference's own check reports the unknown register
        for theirs, own in match.items():
            path = ("fields", i, "match", theirs)
            where = f"field '{field.name}': match {theirs}: {own}"
            other, mine = target.spec.field_map.get(theirs), spec.field_map.get(own)
            if other is None:
                yield reg.issue(path, "E967", f"{where}: register '{field.target}' has no field '{theirs}'",
                                did_you_mean(theirs, list(target.spec.field_map)) or
                                "fields: " + ", ".join(target.spec.field_map))
            elif mine is None or mine.name == field.name:
                yield reg.issue(path, "E967", f"{where}: '{own}' is not another field of this register",
                                did_you_mean(own, [n for n in spec.field_map if n != field.name]) or
                                "name a field of this register, e.g. enterprise")
            elif other.type not in MATCHING_TYPES or not _same_kind(other, mine):
                yield reg.issue(path, "E967", f"{where}: {field.target}.{theirs} is a {_kind(other)}"
                                f"{' to ' + other.target if other.type == 'reference' else ''}, {own} a {_kind(mine)}"
                                f"{' to ' + mine.target if mine.type == 'reference' else ''}",
                                "match fields of the same type (references to the same register, enums and trees "
                                "of the same dictionary); not text, decimals, files or multiple values")
