"""The columns of a register's template and export: which field, its title in each language, its format."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from app.i18n import label_text
from app.metadata.normalise import normalise_hint
from app.metadata.spec import FieldBase, RegisterSpec

LOCALES = ("zh_Hans", "zh_Hant", "en")


@dataclass(frozen=True)
class Column:
    field: FieldBase
    required: bool

    @property
    def name(self) -> str:
        return self.field.name

    def title(self, locale: str | None = None) -> str:
        return self.field.label.text(locale) if locale else label_text(self.field.label)

    def titles(self) -> set[str]:
        """Every title the column is recognised by (a template downloaded in any language can be uploaded)."""
        return {self.field.label.text(loc) for loc in LOCALES} | {self.field.name}

    def format_hint(self) -> str:
        """The format the cell takes, and what the import does to the text typed in it (normalise:)."""
        return "；".join(part for part in (self._type_hint(), normalise_hint(self.field)) if part)

    def _type_hint(self) -> str:
        f = self.field
        return {
            "string": _("text, at most %(n)s characters", n=getattr(f, "length", 255)),
            "text": _("text"),
            "integer": _("whole number"),
            "decimal": _("number, at most %(n)s decimal places", n=getattr(f, "scale", 2)),
            "boolean": _("Yes or No (drop-down)"),
            "date": _("date, e.g. 2024-01-31"),
            "datetime": _("date and time, e.g. 2024-01-31 09:30"),
            "enum": _("one value of the drop-down list") if not getattr(f, "multiple", False)
            else _("values of the drop-down list, separated by commas"),
            "tree": _("a value of the drop-down list (the whole path)"),
            "reference": _("the name of an existing record"),
            "geo": _("latitude, longitude, e.g. 31.85, 119.97"),
        }.get(f.type, "")


def import_target(registry: Any, spec: RegisterSpec) -> RegisterSpec:
    """The register whose rows the sheet holds: the register, or its child register with import.into."""
    if spec.import_ and spec.import_.into:
        return registry.register(spec.field(spec.import_.into).target)
    return spec


def import_columns(registry: Any, spec: RegisterSpec, read_only: frozenset[str] = frozenset()) -> list[Column]:
    """The template's columns, without the fields ``read_only`` names (those the importing role may not set)."""
    target = import_target(registry, spec)
    names = spec.import_.columns if spec.import_ and spec.import_.columns else target.import_columns
    columns = []
    for name in names:
        if name in read_only:
            continue
        field = target.field(name)
        columns.append(Column(field, field.required and field.default is None and field.type != "boolean"))
    return columns


def import_read_only(policy: Any, registry: Any, spec: RegisterSpec, actor: Any) -> frozenset[str]:
    """The fields a role may not set through an import: read-only (or hidden) in every rule that grants it
    'import'. None for the system and administrators; none with ``into`` either, whose rules name the parent's
    fields, not the columns (the new parent row is checked when it is written)."""
    if actor is None or spec.import_ and spec.import_.into:
        return frozenset()
    from app.write_path import refused_fields  # the write path sits above the Excel columns
    return frozenset(refused_fields(spec, actor, [f.name for f in spec.fields], "import"))


def blank_policy(spec: RegisterSpec) -> str:
    """What an empty cell does to a row the import updates: 'keep' its stored value (default) or 'clear' it."""
    return spec.import_.blank if spec.import_ else "keep"
