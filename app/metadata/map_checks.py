"""Checks of a register's ``map:`` block, the resource map's layer (E960–E965, one check each, located like
every other check; docs/metadata.md §16.25)."""
from __future__ import annotations

from typing import Iterator

from .checks import Located
from .issues import Issue, did_you_mean

#: types that cannot be said on one line of a popup
NOT_IN_POPUP = ("attachment", "image", "geo", "children")


def check_map_field(reg: Located) -> Iterator[Issue]:
    """E960: the layer's point is a geo field of the register (named when there are several)."""
    spec = reg.spec
    geo = [f.name for f in spec.fields if f.type == "geo"]
    if spec.map.field:
        found = spec.field_map.get(spec.map.field)
        if found is None or found.type != "geo":
            what = "is not a field of the register" if found is None else f"is a {found.type} field, not geo"
            yield reg.issue(("map", "field"), "E960", f"map.field '{spec.map.field}' {what}",
                            did_you_mean(spec.map.field, geo) if geo else "add a field of type geo")
    elif len(geo) != 1:
        what = "has no geo field" if not geo else f"has several geo fields ({', '.join(geo)})"
        yield reg.issue(("map",), "E960", f"map: the register {what}",
                        "add a field of type geo" if not geo else "name the one to place with map.field")


def check_map_popup(reg: Located) -> Iterator[Issue]:
    """E961 a popup field the register does not have; E962 one that does not fit on a popup's line."""
    fields = reg.spec.field_map
    for i, name in enumerate(reg.spec.map.popup):
        found = fields.get(name)
        if found is None:
            yield reg.issue(("map", "popup", i), "E961", f"map.popup: unknown field '{name}'",
                            did_you_mean(name, fields))
        elif found.type in NOT_IN_POPUP:
            yield reg.issue(("map", "popup", i), "E962", f"map.popup: '{name}' ({found.type}) cannot be shown on "
                            "one line of a popup", "name short fields: names, codes, regions, dates, enums")


def check_map_colour_by(reg: Located) -> Iterator[Issue]:
    """E963: ``colour_by`` names an enum field (its dictionary's colours paint the points)."""
    name = reg.spec.map.colour_by
    if name is None:
        return
    found = reg.spec.field_map.get(name)
    if found is None or found.type != "enum" or getattr(found, "multiple", False):
        enums = [f.name for f in reg.spec.fields if f.type == "enum"]
        what = "is not a field of the register" if found is None else "is not a single-choice enum field"
        yield reg.issue(("map", "colour_by"), "E963", f"map.colour_by '{name}' {what}",
                        did_you_mean(name, enums) if enums else "add an enum field whose dictionary has colours")


def check_map_self_report(reg: Located) -> Iterator[Issue]:
    """E964: only the register of the enterprise accounts' own rows can be self-reported."""
    if reg.spec.map.self_report and reg.spec.ownership.enterprise != "self":
        yield reg.issue(("map", "self_report"), "E964",
                        "map.self_report needs the register of the enterprises themselves (ownership.enterprise: self)",
                        "remove self_report, or set it on the enterprise register")


def check_map_distance_to(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    """E965: ``distance_to`` is a reference field to a register that is on the map."""
    name = reg.spec.map.distance_to
    if name is None:
        return
    found = reg.spec.field_map.get(name)
    if found is None or found.type != "reference":
        refs = [f.name for f in reg.spec.fields if f.type == "reference"]
        yield reg.issue(("map", "distance_to"), "E965", f"map.distance_to '{name}' is not a reference field",
                        did_you_mean(name, refs) if refs else "name a reference field to a register on the map")
        return
    target = registers.get(found.target)
    if target is not None and (target.spec.map is None or target.spec.map_point is None):
        yield reg.issue(("map", "distance_to"), "E965", f"map.distance_to '{name}': register '{found.target}' "
                        "is not on the map", f"give {found.target} a map: block with its geo field")


def check_map(reg: Located, registers: dict[str, Located]) -> Iterator[Issue]:
    if reg.spec.map is None:
        return
    yield from check_map_field(reg)
    yield from check_map_popup(reg)
    yield from check_map_colour_by(reg)
    yield from check_map_self_report(reg)
    yield from check_map_distance_to(reg, registers)
