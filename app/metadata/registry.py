"""The frozen index of all descriptors: the one door every consumer uses to read metadata."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from .spec import (AccessRule, DictionarySpec, EnterpriseAccounts, FieldBase, GoodsClasses, MenuCategory,
                   OrganisationSpec, RegisterSpec, RoleSpec)


@dataclass(frozen=True)
class Registry:
    registers: Mapping[str, RegisterSpec]
    dictionaries: Mapping[str, DictionarySpec]
    menus: Mapping[str, MenuCategory]
    #: register name → the YAML file that declares it (for messages)
    files: Mapping[str, str] = field(default_factory=dict)
    root: Path | None = None
    roles: Mapping[str, RoleSpec] = field(default_factory=dict)
    organisations: OrganisationSpec | None = None
    enterprise_accounts: EnterpriseAccounts | None = None
    #: 003's goods classes (sub-platforms) and the classes each department oversees
    goods_classes: GoodsClasses | None = None
    #: inspection frequency rules (metadata/frequencies/), by name
    frequencies: Mapping[str, Any] = field(default_factory=dict)
    #: warnings (metadata/warnings/, and those the workflows' deadlines imply), by name
    warnings: Mapping[str, Any] = field(default_factory=dict)
    #: the documents/ folder of every metadata root, searched in order for a document's template
    document_folders: tuple[Path, ...] = ()
    #: register name → its revealing referrers (see revealing_references); made by __post_init__
    _revealing: Mapping[str, tuple[tuple[RegisterSpec, FieldBase], ...]] = field(init=False, repr=False,
                                                                                  compare=False)

    def __post_init__(self) -> None:
        for name in ("registers", "dictionaries", "menus", "files", "roles", "frequencies", "warnings"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        # asked for every register on every scoped query: indexed once
        revealing: dict[str, list[tuple[RegisterSpec, FieldBase]]] = {}
        for reg in self.registers.values():
            for f in reg.fields:
                if f.type == "reference" and getattr(f, "reveals", False):
                    revealing.setdefault(f.target, []).append((reg, f))
        object.__setattr__(self, "_revealing", {k: tuple(v) for k, v in revealing.items()})

    def warnings_of(self, name: str) -> tuple[Any, ...]:
        """The warnings watching register ``name``."""
        return tuple(w for w in self.warnings.values() if w.target == name)

    def register(self, name: str) -> RegisterSpec:
        return self.registers[name]

    def dictionary(self, name: str) -> DictionarySpec:
        return self.dictionaries[name]

    def referrers(self, name: str) -> tuple[tuple[RegisterSpec, FieldBase], ...]:
        """Every (register, reference field) that points at register ``name``."""
        return tuple((reg, f) for reg in self.registers.values() for f in reg.fields
                     if f.type == "reference" and f.target == name)

    def revealing_references(self, name: str) -> tuple[tuple[RegisterSpec, FieldBase], ...]:
        """The referrers of register ``name`` whose field ``reveals`` the row it points to to their readers."""
        return self._revealing.get(name, ())

    def access_of(self, spec: RegisterSpec) -> tuple[AccessRule, ...]:
        """The access rules that govern a register (a child register follows its parent's)."""
        while spec.parent:
            spec = self.registers[spec.parent]
        return spec.access

    def owner_of(self, spec: RegisterSpec) -> RegisterSpec:
        """The register whose rows own this one's (itself, or the parent of a child register)."""
        while spec.parent:
            spec = self.registers[spec.parent]
        return spec

    def children_of(self, name: str) -> tuple[RegisterSpec, ...]:
        return tuple(reg for reg in self.registers.values() if reg.parent == name)

    def menu_tree(self) -> Iterator[tuple[MenuCategory, list[RegisterSpec]]]:
        """Menu categories in order, each with its registers in order."""
        for category in sorted(self.menus.values(), key=lambda c: (c.order, c.name)):
            entries = sorted((r for r in self.registers.values() if r.menu and r.menu.category == category.name),
                             key=_menu_order)
            if entries:
                yield category, entries


def _menu_order(spec: RegisterSpec) -> tuple[int, str]:
    assert spec.menu is not None  # only registers with a menu entry are listed in the menu
    return spec.menu.order, spec.name
