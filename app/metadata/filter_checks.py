"""Checks of list filters on a field of a referenced register (`filters: [enterprise.region]`)."""
from __future__ import annotations

from typing import Iterator

from .checks import Located, check_filter_op
from .issues import Issue, did_you_mean


def check_reference_filters(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """E306: `<reference>.<field>` names a reference field of this register, then a field of the register it
    points to (one step); E301 when that field cannot be filtered with the op."""
    spec = reg.spec
    references = [f.name for f in spec.fields if f.type == "reference"]
    for i, ref in enumerate(spec.filters):
        if "." not in ref.field:
            continue
        first, _, rest = ref.field.partition(".")
        path = ("filters", i)
        reference = spec.field_map.get(first)
        if reference is None or reference.type != "reference":
            what = f"'{first}' is not a reference field" if reference is not None else f"unknown field '{first}'"
            hint = did_you_mean(first, references) if references else \
                "this register has no reference field; filter on its own fields"
            yield reg.issue(path, "E306", f"filters: '{ref.field}': {what}", hint)
            continue
        if "." in rest:
            yield reg.issue(path, "E306", f"filters: '{ref.field}' follows more than one reference",
                            f"follow one reference: '{first}.<field of {reference.target}>'")
            continue
        target = registers.get(reference.target)
        if target is None:
            continue  # the unknown register is reported on the field (E201)
        field = target.spec.field_map.get(rest)
        if field is None:
            yield reg.issue(path, "E306", f"filters: '{ref.field}': register '{reference.target}' has no field "
                            f"'{rest}'", did_you_mean(rest, list(target.spec.field_map)))
            continue
        yield from check_filter_op(reg, i, ref, field)
