"""The shape of a chart (metadata/charts/*.yaml) and of a dashboard (metadata/dashboards/*.yaml): frozen pydantic
descriptors; names are checked against the registry by settings.py."""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from app.metadata.spec import Identifier, Label, Spec

#: a tree level by name (the region dictionary's levels); ``next`` is one level below the user's own
LEVELS = {"province": 1, "city": 2, "county": 3, "township": 4}


class ShortForm(Spec):
    """An option written either in full or as one name, which fills ``_short`` (``by: state``)."""

    _short: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {cls._short: value} if isinstance(value, str) else value


class GroupBy(ShortForm):
    """What a chart's slices are: a field of the register (or ``reference.field``) and, for a tree, the level;
    for a date, the period."""

    _short = "field"
    field: str
    level: Literal["next", "province", "city", "county", "township"] | None = None
    period: Literal["year", "month"] | None = None


class Measure(ShortForm):
    """count | sum of a number | distinct count of a field | rate = rows matching ``part`` / all rows (per cent)."""

    _short = "kind"
    kind: Literal["count", "sum", "distinct", "rate"] = "count"
    field: str | None = None
    part: dict[str, Any] = Field(default_factory=dict)
    label: Label | None = None


class Rollup(ShortForm):
    """Slices that are rows of a tree (a campaign's task copies, 部署下发 level by level): ``by`` is a reference to
    them, ``tree`` their reference to the row above (``parent_task``); each slice counts its own rows and those of
    every row below it. ``label``: the field of those rows that names a slice (its organisation), the title by
    default."""

    _short = "tree"
    tree: Identifier
    label: Identifier | None = None


class ChartSpec(Spec):
    name: Identifier
    label: Label
    description: Label | None = None
    source: Identifier = Field(alias="register")
    #: the register's list filters, as on the list URL: field → value, list of values (op in) or {from, to}
    filters: dict[str, Any] = Field(default_factory=dict)
    by: GroupBy | None = None
    #: a second grouping: the stacks of a stacked bar (an enum or the workflow state)
    stack: GroupBy | None = None
    measure: Measure = Field(default_factory=Measure)
    #: the slices (``by``, a reference) form a tree whose figures include every level below (campaigns)
    rollup: Rollup | None = None
    kind: Literal["bar", "stacked_bar", "line", "pie", "table", "figure"] = "bar"
    sort: Literal["value", "-value", "label", "key"] = "-value"
    top: int | None = Field(default=None, ge=1, le=1000)
    #: only these roles see the chart (besides the register's own view permission); empty = every viewer
    roles: tuple[Identifier, ...] = ()


class DashboardSpec(Spec):
    name: Identifier
    label: Label
    #: shown on the home page of these roles (the first dashboard naming one of the user's roles)
    home: bool = False
    roles: tuple[Identifier, ...] = ()
    #: figures (charts of kind figure: one number each) shown as cards, then the charts
    figures: tuple[Identifier, ...] = ()
    charts: tuple[Identifier, ...] = ()
    order: int = 100

    @field_validator("figures", "charts", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value
