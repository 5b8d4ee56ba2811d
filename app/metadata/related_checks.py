"""Checks of a register's `related` tabs (一企一档): the register, the reference field and the columns."""
from __future__ import annotations

from typing import Iterator

from .checks import Located
from .issues import Issue, did_you_mean
from .spec import RegisterSpec, RelatedSpec


def references_to(other: RegisterSpec, target: str) -> list[str]:
    """The reference fields of ``other`` that point to the register ``target``."""
    return [f.name for f in other.fields if f.type == "reference" and f.target == target]


def related_field(other: RegisterSpec, target: str, related: RelatedSpec) -> str | None:
    """The reference field a `related` entry follows: the declared one, else the only one (None if unclear)."""
    if related.field:
        return related.field
    fields = references_to(other, target)
    return fields[0] if len(fields) == 1 else None


def check_related(reg: Located, registers: dict[str, Located],
                  broken: set[str] | frozenset[str] = frozenset()) -> Iterator[Issue]:
    spec = reg.spec
    seen: set[tuple[str, str]] = set()
    for i, related in enumerate(spec.related):
        path = ("related", i)
        other = registers.get(related.target)
        if other is None:
            if related.target not in broken:
                yield reg.issue(path, "E180", f"related: unknown register '{related.target}'",
                                did_you_mean(related.target, registers))
            continue
        if other.spec.parent:
            yield reg.issue(path, "E183", f"related: '{related.target}' is a child register (it has no list)",
                            "child rows are shown in the details of their parent; name a register with a menu")
            continue
        candidates = references_to(other.spec, spec.name)
        if related.field is None and len(candidates) != 1:
            if candidates:
                yield reg.issue(path, "E182", f"related: '{related.target}' refers to '{spec.name}' through "
                                f"{len(candidates)} fields ({', '.join(candidates)})",
                                f"say which one: {{register: {related.target}, field: {candidates[0]}}}")
            else:
                yield reg.issue(path, "E181", f"related: '{related.target}' has no reference to '{spec.name}'",
                                f"add a field of type reference, register: {spec.name} to {other.doc.file}")
            continue
        name = related_field(other.spec, spec.name, related)
        assert name is not None  # declared, or the one candidate (the ambiguous cases were reported above)
        if name not in candidates:
            yield reg.issue(path + ("field",), "E181", f"related: '{related.target}.{name}' is not a reference "
                            f"to '{spec.name}'", did_you_mean(name, candidates) if candidates else
                            f"add a field of type reference, register: {spec.name} to {other.doc.file}")
            continue
        if (other.spec.name, name) in seen:
            yield reg.issue(path, "E185", f"related: '{related.target}.{name}' is listed twice",
                            "keep one tab per register and field")
        seen.add((other.spec.name, name))
        if not any(ref.field == name for ref in other.spec.filters):
            yield reg.issue(path, "E184", f"related: '{related.target}' cannot be filtered on '{name}', so the "
                            "tab's link to the full list would show every row",
                            f"add '{name}' to the filters of {other.doc.file}")
        for j, column in enumerate(related.columns):
            field = other.spec.field_map.get(column)
            if field is None and column not in ("id", "created_at", "updated_at"):
                yield reg.issue(path + ("columns", j), "E186", f"related: '{related.target}' has no field "
                                f"'{column}'", did_you_mean(column, other.spec.field_map))
            elif field is not None and field.type == "children":
                yield reg.issue(path + ("columns", j), "E186", f"related: '{column}' of '{related.target}' is "
                                "a child table", "show child rows on the record's own page")
