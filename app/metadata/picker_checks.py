"""Checks of the picker and form-layout options: a tree picker's start, a reference picker's search and detail
fields, a layout's style (E150–E154, one check_<option> each, located like every other check)."""
from __future__ import annotations

from typing import Iterator

from .checks import Located
from .issues import Issue, did_you_mean

#: types a picker's type-ahead can match with a text search
SEARCHABLE_TYPES = ("string", "text")
#: types that cannot be said on one line under a picker's row
NOT_ON_ONE_LINE = ("text", "attachment", "image", "geo", "children")


def check_tree_pickers(reg: Located, jurisdiction_dictionary: str | None) -> Iterator[Issue]:
    """E150: ``picker.start: jurisdiction`` only on a tree of the dictionary the organisations' region uses."""
    for i, field in enumerate(reg.spec.fields):
        if field.type != "tree" or field.picker.start != "jurisdiction":
            continue
        if field.dictionary != jurisdiction_dictionary:
            where = (f"the organisations' regions use '{jurisdiction_dictionary}'" if jurisdiction_dictionary
                     else "roles.yaml declares no organisations with a region")
            yield reg.issue(("fields", i, "picker", "start"), "E150",
                            f"field '{field.name}': picker.start 'jurisdiction' needs the jurisdiction's "
                            f"dictionary, but the field uses '{field.dictionary}' and {where}",
                            "remove picker.start (the picker opens at the top) or write start: top")


def check_reference_pickers(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """E151–E153: a reference picker's search and detail fields exist in the target and suit their use."""
    for i, field in enumerate(reg.spec.fields):
        if field.type != "reference":
            continue
        target = registers.get(field.target)
        if target is None:
            continue  # the unknown register is reported on the field (E201)
        fields = target.spec.field_map
        for option, allowed, error in (("search", SEARCHABLE_TYPES, "E152"), ("detail", None, "E153")):
            for j, name in enumerate(getattr(field.picker, option)):
                path = ("fields", i, "picker", option, j)
                found = fields.get(name)
                if found is None:
                    yield reg.issue(path, "E151", f"field '{field.name}': picker.{option}: register "
                                    f"'{field.target}' has no field '{name}'", did_you_mean(name, fields))
                elif allowed is not None and found.type not in allowed:
                    yield reg.issue(path, error, f"field '{field.name}': picker.search '{name}' is a "
                                    f"{found.type} field; the type-ahead matches text",
                                    "name string or text fields of " + field.target)
                elif allowed is None and found.type in NOT_ON_ONE_LINE:
                    yield reg.issue(path, error, f"field '{field.name}': picker.detail '{name}' is a "
                                    f"{found.type} field, which does not fit on the picker's second line",
                                    "name short fields: codes, names, regions, dates, enums")


def check_layout_style(reg: Located) -> Iterator[Issue]:
    """E154: ``style`` arranges a form; the detail page always shows its fieldsets one under the other."""
    show = reg.spec.show
    if show is not None and "style" in show.model_fields_set:
        yield reg.issue(("show", "style"), "E154", "show.style is not an option of the detail page",
                        "remove it; write style under form to show the form's fieldsets as tabs")


def check_pickers(reg: Located, registers: dict[str, Located], jurisdiction_dictionary: str | None
                  ) -> Iterator[Issue]:
    yield from check_tree_pickers(reg, jurisdiction_dictionary)
    yield from check_reference_pickers(reg, registers)
    yield from check_layout_style(reg)
