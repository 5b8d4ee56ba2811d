"""The columns of a register's template and export: which field, its title in each language, its format."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from app.i18n import current_locale, label_text
from app.metadata.normalise import normalise_hint
from app.metadata.spec import FieldBase, Label, RegisterSpec

LOCALES = ("zh_Hans", "zh_Hant", "en")
#: the titles of a point's two columns; a register with one point in its template says just 经度 and 纬度
AXIS_TITLES = {"lng": {"zh_Hans": "经度", "zh_Hant": "經度", "en": "Longitude"},
               "lat": {"zh_Hans": "纬度", "zh_Hant": "緯度", "en": "Latitude"}}
AXIS_ALIASES = {"lng": {"lng", "lon", "longitude", "经度", "經度", "东经", "東經"},
                "lat": {"lat", "latitude", "纬度", "緯度", "北纬", "北緯"}}


@dataclass(frozen=True)
class Column:
    field: FieldBase
    required: bool
    #: one of a geo point's two columns: 'lng' (经度) or 'lat' (纬度); None for a field's one column
    axis: str | None = None
    #: the axis title starts with the field's label (a template with several points: 位置经度, 出口经度)
    prefixed: bool = False

    @property
    def name(self) -> str:
        """The column's key: the field's name, or the stored column of a point's axis (location_lng)."""
        return f"{self.field.name}_{self.axis}" if self.axis else self.field.name

    def title(self, locale: str | None = None) -> str:
        if self.axis:
            locale = locale or current_locale()
            axis = AXIS_TITLES[self.axis]["en" if locale.startswith("en") else
                                          "zh_Hant" if locale.startswith("zh_Hant") else "zh_Hans"]
            if not self.prefixed:
                return axis
            return f"{self.field.label.text(locale)} {axis.lower()}" if locale.startswith("en") \
                else f"{self.field.label.text(locale)}{axis}"
        return self.field.label.text(locale) if locale else label_text(self.field.label)

    def title_label(self) -> Label:
        """The title in every language (a report re-rendered in its reader's language)."""
        if not self.axis:
            return self.field.label
        return Label(**{("zh" if loc == "zh_Hans" else loc): self.title(loc) for loc in LOCALES})

    def titles(self) -> set[str]:
        """Every title the column is recognised by (a template downloaded in any language can be uploaded)."""
        if self.axis:
            own = {self.title(loc) for loc in LOCALES} | {self.name}
            if self.prefixed:
                return own | {f"{self.field.label.text(loc)}{alias}" for loc in LOCALES
                              for alias in AXIS_ALIASES[self.axis]}
            return own | AXIS_ALIASES[self.axis]
        return {self.field.label.text(loc) for loc in LOCALES} | {self.field.name}

    def format_hint(self) -> str:
        """The format the cell takes, and what the import does to the text typed in it (normalise:)."""
        return "；".join(part for part in (self._type_hint(), normalise_hint(self.field)) if part)

    def _type_hint(self) -> str:
        f = self.field
        if self.axis == "lng":
            return _("longitude in degrees (WGS-84), e.g. 119.97")
        if self.axis == "lat":
            return _("latitude in degrees (WGS-84), e.g. 31.85")
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


@dataclass(frozen=True)
class PointAxis:
    """One of a point's two export columns: its 经度 or 纬度 as a number (the stored column ``<name>_<axis>``)."""

    field: FieldBase
    axis: str
    prefixed: bool
    type: str = "decimal"

    @property
    def name(self) -> str:
        return f"{self.field.name}_{self.axis}"

    @property
    def label(self) -> Any:
        column = Column(self.field, False, self.axis, self.prefixed)
        return Label(**{("zh" if loc == "zh_Hans" else loc): column.title(loc) for loc in LOCALES})


def split_points(fields: list[Any]) -> list[Any]:
    """Export columns with each point as its two columns, 经度 and 纬度, in the order its YAML says."""
    points = sum(1 for f in fields if getattr(f, "type", None) == "geo")
    result: list[Any] = []
    for f in fields:
        if getattr(f, "type", None) == "geo":
            result.extend(PointAxis(f, axis, points > 1) for axis in f.columns)
        else:
            result.append(f)
    return result


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
    points = sum(1 for name in names if name not in read_only and target.field(name).type == "geo")
    for name in names:
        if name in read_only:
            continue
        field = target.field(name)
        required = field.required and field.default is None and field.type != "boolean"
        if field.type == "geo":  # a point takes two columns, 经度 and 纬度, in the order its YAML says
            columns.extend(Column(field, required, axis, points > 1) for axis in field.columns)
        else:
            columns.append(Column(field, required))
    return columns


def one_cell_points(columns: list[Column]) -> dict[str, Column]:
    """A point's one-cell column of older templates ("31.85, 119.97" under the field's label), still read on
    import when the file has no 经度/纬度 columns for it."""
    return {c.field.name: Column(c.field, False) for c in columns if c.axis == "lng"}


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
