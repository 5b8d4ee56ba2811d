"""The frozen index of all descriptors: the one door every consumer uses to read metadata."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterator, Mapping

from .spec import DictionarySpec, FieldBase, MenuCategory, RegisterSpec


@dataclass(frozen=True)
class Registry:
    registers: Mapping[str, RegisterSpec]
    dictionaries: Mapping[str, DictionarySpec]
    menus: Mapping[str, MenuCategory]
    #: register name → the YAML file that declares it (for messages)
    files: Mapping[str, str] = field(default_factory=dict)
    root: Path | None = None

    def __post_init__(self) -> None:
        for name in ("registers", "dictionaries", "menus", "files"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def register(self, name: str) -> RegisterSpec:
        return self.registers[name]

    def dictionary(self, name: str) -> DictionarySpec:
        return self.dictionaries[name]

    def referrers(self, name: str) -> tuple[tuple[RegisterSpec, FieldBase], ...]:
        """Every (register, reference field) that points at register ``name``."""
        return tuple((reg, f) for reg in self.registers.values() for f in reg.fields
                     if f.type == "reference" and f.target == name)

    def children_of(self, name: str) -> tuple[RegisterSpec, ...]:
        return tuple(reg for reg in self.registers.values() if reg.parent == name)

    def menu_tree(self) -> Iterator[tuple[MenuCategory, list[RegisterSpec]]]:
        """Menu categories in order, each with its registers in order."""
        for category in sorted(self.menus.values(), key=lambda c: (c.order, c.name)):
            entries = sorted((r for r in self.registers.values() if r.menu and r.menu.category == category.name),
                             key=lambda r: (r.menu.order, r.name))
            if entries:
                yield category, entries
