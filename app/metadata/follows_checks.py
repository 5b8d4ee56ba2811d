"""Checks of ``follows: <reference>.<field>`` (§4.10): the reference is one of the register's reference fields,
the field exists on the register it points to and holds the same kind of value (E966)."""
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
