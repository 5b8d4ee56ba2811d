"""WTForms classes built from a register descriptor; every rule is checked on the server, in the UI language."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app, request
from werkzeug.datastructures import MultiDict
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget, Select2ManyWidget, Select2Widget
from flask_appbuilder.forms import DynamicForm
from flask_babel import gettext, lazy_gettext as _l, ngettext
from sqlalchemy import and_, select
from wtforms import (BooleanField, DateField, DateTimeLocalField, DecimalField, Field, FieldList, Form, FormField,
                     HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.widgets import TextInput
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from app import matching
from app.security.actor import current_actor
from app.i18n import current_locale, label_text, lazy_label
from app.metadata.rules import broken_rules, missing_required, shown_on
from app.metadata.spec import FieldBase, RegisterSpec
from app.metadata.validators import normalize_value, run_validators
from app.records import scoped_get
from app.services import Services

from .pickers import level_refusal, picker_root, starts_at_jurisdiction, within_root
from .widgets import AttachmentWidget, ChildTableWidget, GeoWidget, ReferenceWidget, TreePickerWidget


class _BabelTranslations:
    """WTForms' own messages ("Not a valid integer value.") through the app's catalogues, per request."""

    def gettext(self, string: str) -> str:
        return gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(singular, plural, n)


_TRANSLATIONS = _BabelTranslations()


class _TranslatedMeta:
    def get_translations(self, form: Any) -> _BabelTranslations:
        return _TRANSLATIONS


# ---------------------------------------------------------------- validators

class DeclaredRules:
    """The YAML's validators (uscc, cas, regex, min, ...) as one WTForms validator."""

    def __init__(self, spec: FieldBase):
        self.spec = spec

    def __call__(self, form: Any, field: Any) -> None:
        failures = run_validators(self.spec, field.data)
        if failures:
            raise ValidationError(failures[0].text())


class DecimalDigits:
    def __init__(self, precision: int, scale: int):
        self.precision, self.scale = precision, scale

    def __call__(self, form: Any, field: Any) -> None:
        value = field.data
        if value is None:
            return
        sign, digits, exponent = Decimal(value).normalize().as_tuple()
        decimals = max(0, -exponent)
        if decimals > self.scale:
            raise ValidationError(gettext("At most %(n)s decimal places.", n=self.scale))
        if len(digits) + min(exponent, 0) > self.precision - self.scale and abs(value) >= 1:
            raise ValidationError(gettext("Too large: at most %(n)s digits before the decimal point.",
                                          n=self.precision - self.scale))


class IntegerRange:
    """The integer column's range; silent on a value that is no integer at all (the field already says so)."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def __call__(self, form: Any, field: Any) -> None:
        if field.data is not None and not self.low <= field.data <= self.high:
            raise ValidationError(gettext("Between %(min)s and %(max)s.", min=self.low, max=self.high))


REQUIRED = _l("This field is required.")


# ---------------------------------------------------------------- fields

class TreeSelectField(StringField):
    """A code of a tree dictionary chosen with the tree picker; a jurisdiction picker's new value must lie in
    the actor's jurisdiction (a stored value outside it may stay)."""

    widget = TreePickerWidget()

    def __init__(self, *args: Any, dictionary: str, leaf_only: bool, jurisdiction: bool, services: Services,
                 levels: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.dictionary, self.leaf_only, self.dictionaries = dictionary, leaf_only, services.dictionaries
        self.jurisdiction, self.services = jurisdiction, services
        #: the tree field's spec when it restricts the levels a value may be at (levels, min_level, max_level)
        self.levels = levels if levels is not None and levels.restricts_levels else None

    @staticmethod
    def locale() -> str:
        return current_locale()

    def root(self) -> str | None:
        """The item the picker opens at (None: the top of the tree)."""
        return picker_root(self.services, self.dictionary) if self.jurisdiction else None

    def pre_validate(self, form: Any) -> None:
        if not self.data:
            self.data = None
            return
        if not self.dictionaries.exists(self.dictionary, self.data):
            raise ValidationError(gettext("Not a valid choice."))
        if self.data != self.object_data and not within_root(self.services, self.dictionary, self.root(), self.data):
            raise ValidationError(gettext("Choose within your jurisdiction."))
        if self.leaf_only and not self.dictionaries.is_leaf(self.dictionary, self.data):
            raise ValidationError(gettext("Please choose down to the last level."))
        if self.levels is not None and self.data != self.object_data:
            message = level_refusal(self.dictionaries, self.levels, self.data)
            if message:
                raise ValidationError(message)


class EnumSelectField(SelectField):
    widget = Select2Widget()

    def __init__(self, *args: Any, dictionary: str, services: Services, **kwargs: Any):
        super().__init__(*args, choices=[], validate_choice=True, **kwargs)
        self.dictionary, self.dictionaries = dictionary, services.dictionaries

    def refresh_choices(self) -> None:
        self.choices = [("", "")] + self.dictionaries.choices(self.dictionary)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = valuelist[0] if valuelist and valuelist[0] != "" else None

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not self.dictionaries.exists(self.dictionary, self.data):
            raise ValidationError(gettext("Not a valid choice."))


class EnumMultiField(SelectMultipleField):
    widget = Select2ManyWidget()

    def __init__(self, *args: Any, dictionary: str, services: Services, **kwargs: Any):
        super().__init__(*args, choices=[], **kwargs)
        self.dictionary, self.dictionaries = dictionary, services.dictionaries

    def refresh_choices(self) -> None:
        self.choices = self.dictionaries.choices(self.dictionary)

    def pre_validate(self, form: Any) -> None:
        for value in self.data or []:
            if not self.dictionaries.exists(self.dictionary, value):
                raise ValidationError(gettext("Not a valid choice."))


class ReferenceSelectField(Field):
    """A row of another register; the browser sends its id, the server loads it (refused if unknown)."""

    widget = ReferenceWidget()

    def __init__(self, *args: Any, target: str, display: str | None, asking: str, services: Services,
                 match: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.target, self.display, self.services = target, display, services
        #: {field of the target: field of this form} the offered rows must agree with (``match``, §4.11)
        self.match = match or {}
        self.asking = asking  # "register.field": the lookup reads this field's picker options
        self._invalid = False

    def display_of(self, row: Any) -> str:
        return str(getattr(row, self.display)) if self.display else str(row)

    def process_formdata(self, valuelist: list[str]) -> None:
        self._invalid, self._raw_id = False, None
        raw = valuelist[0] if valuelist else ""
        if raw in ("", None):
            self.data = None
            return
        row = None
        if str(raw).isdigit():
            self._raw_id = int(raw)
            row = scoped_get(self.services.session, self.services.models[self.target], self._raw_id)
        if row is None:
            self._invalid = True
        self.data = row

    def _value(self) -> str:
        return str(self.data.id) if self.data is not None else ""

    def pre_validate(self, form: Any) -> None:
        if self._invalid and not self._kept(form):
            raise ValidationError(gettext("The chosen record does not exist or is not available to you."))

    def _kept(self, form: Any) -> bool:
        """An edit that leaves the reference as stored is not choosing it: the row it points to need not be one
        the actor sees (an inspector of one department editing a campaign's check of another's enterprise)."""
        current = form.current_row() if self._raw_id is not None and hasattr(form, "current_row") else None
        if current is None or getattr(current, f"{self.short_name}_id", None) != self._raw_id:
            return False
        model = self.services.models[self.target]
        self.data = self.services.session.execute(select(model).where(model.id == self._raw_id).execution_options(
            unscoped_reason="the reference an edit leaves as it is")).scalar_one_or_none()
        self._invalid = self.data is None
        return not self._invalid


class AttachmentUploadField(Field):
    """Files added and removed on the form; stored on save, checked for type and size before."""

    widget = AttachmentWidget()

    def __init__(self, *args: Any, spec: FieldBase, register: str, services: Services, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.spec, self.register, self.services = spec, register, services
        self.accept, self.multiple, self.max_size = spec.accept, spec.multiple, spec.max_size
        self.uploads: list[Any] = []
        self.removed: set[int] = set()

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.process_errors = []
        self.object_data = data if isinstance(data, list) else None
        self.data = self.object_data
        self.uploads = [f for f in request.files.getlist(self.name) if f and f.filename] if formdata else []
        self.removed = {int(v) for v in (formdata.getlist(f"{self.name}__remove") if formdata else [])
                        if str(v).isdigit()}

    def pre_validate(self, form: Any) -> None:
        for upload in self.uploads:
            ext = Path(upload.filename).suffix.lower().lstrip(".")
            if ext not in self.accept:
                raise ValidationError(gettext("%(name)s: file type .%(ext)s is not allowed (allowed: %(types)s).",
                                              name=upload.filename, ext=ext, types=", ".join(self.accept)))
            size = _stream_size(upload.stream)
            if size > self.spec.max_bytes:
                raise ValidationError(gettext("%(name)s is larger than %(size)s.", name=upload.filename,
                                              size=self.max_size))
        if not self.multiple and len(self.uploads) > 1:
            raise ValidationError(gettext("Only one file may be attached."))
        existing = self.object_data if self.object_data is not None else _existing(form, self.short_name)
        kept = [f for i, f in enumerate(existing or []) if i not in self.removed]
        if self.flags.required and not kept and not self.uploads:
            raise ValidationError(gettext("This field is required."))

    def populate_obj(self, obj: Any, name: str) -> None:
        current = list(getattr(obj, name) or [])
        kept = [f for i, f in enumerate(current) if i not in self.removed]
        if not self.multiple and self.uploads:
            kept = []
        for upload in self.uploads:
            upload.stream.seek(0)
            kept.append(self.services.files.save(self.register, upload.filename, upload.stream))
        setattr(obj, name, kept or None)


def _existing(form: Any, name: str) -> list | None:
    row = form.current_row() if hasattr(form, "current_row") else None
    return getattr(row, name, None) if row is not None else None


def _stream_size(stream: Any) -> int:
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size


class GeoPointField(Field):
    """(lat, lng) in WGS-84 degrees, posted as <name>_lat and <name>_lng."""

    widget = GeoWidget()

    def __init__(self, *args: Any, spec: FieldBase, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.spec = spec
        self._raw = ("", "")

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        self.process_errors = []
        if formdata is not None and (f"{self.name}_lat" in formdata or f"{self.name}_lng" in formdata):
            self._raw = (formdata.get(f"{self.name}_lat", "").strip(), formdata.get(f"{self.name}_lng", "").strip())
            self.data = None
            if any(self._raw):
                try:
                    self.data = (Decimal(self._raw[0]), Decimal(self._raw[1]))
                except Exception:
                    self.process_errors.append(gettext("Latitude and longitude must be numbers in degrees."))
            return
        self.data = data if isinstance(data, tuple) else None
        self._raw = tuple("" if v is None else str(v) for v in (self.data or (None, None)))

    def raw_pair(self) -> tuple[str, str]:
        return self._raw

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise ValidationError(self.process_errors[0])
        if self.data is None:
            if self.flags.required:
                raise ValidationError(gettext("This field is required."))
            return
        lat, lng = self.data
        if not -90 <= lat <= 90:
            raise ValidationError(gettext("Latitude must be between -90 and 90."))
        if not -180 <= lng <= 180:
            raise ValidationError(gettext("Longitude must be between -180 and 180."))
        if self.spec.bounds:
            (lat_min, lng_min), (lat_max, lng_max) = self.spec.bounds
            if not (lat_min <= lat <= lat_max and lng_min <= lng <= lng_max):
                raise ValidationError(gettext("The point lies outside the allowed area "
                                              "(latitude %(a)s–%(b)s, longitude %(c)s–%(d)s).",
                                              a=lat_min, b=lat_max, c=lng_min, d=lng_max))

    def populate_obj(self, obj: Any, name: str) -> None:
        lat, lng = self.data if self.data else (None, None)
        setattr(obj, f"{name}_lat", lat)
        setattr(obj, f"{name}_lng", lng)


class RowCount:
    """How many child rows there must be (min_rows, required) and may be (max_rows); FieldList runs its
    validators after its rows, unlike pre_validate."""

    def __call__(self, form: Any, field: Any) -> None:
        count = len(field.entries)
        low = max(field.min_entries, 1 if field.flags.required else 0)
        if count < low:
            raise ValidationError(ngettext("At least %(num)s row is needed.", "At least %(num)s rows are needed.", low))
        if count > field.max_rows:
            raise ValidationError(gettext("At most %(n)s rows are allowed.", n=field.max_rows))


class ChildRowsField(FieldList):
    """Rows of a child register inside the parent's form, matched to existing rows by their id."""

    widget = ChildTableWidget()

    def __init__(self, child_form: type, child_model: type, *args: Any, max_rows: int = 200, register: str = "",
                 copy_from: str | None = None, progress: str | None = None, **kwargs: Any):
        # one more than allowed is parsed, so that too many rows is an error rather than rows dropped
        validators = list(kwargs.pop("validators", []) or []) + [RowCount()]
        super().__init__(FormField(child_form), *args, max_entries=max_rows + 1, validators=validators, **kwargs)
        self.max_rows = max_rows
        self.child_form, self.child_model = child_form, child_model
        #: the parent register, the reference whose rows fill this field (copy_from), the child field counted done
        self.register, self.copy_from, self.progress = register, copy_from, progress

    def blank_entry(self) -> Any:
        options = {"name": f"{self.name}{self._separator}__index__", "id": f"{self.id}{self._separator}__index__",
                   "_meta": self.meta, "translations": self._translations}
        entry = self.meta.bind_field(self._form, self.unbound_field, options)
        entry.process(None)
        return entry

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        super().process(formdata, data, extra_filters)
        self.sent = formdata is not None
        if formdata is not None:
            # rows left completely empty are not rows
            self.entries = [e for e in self.entries if any(
                sub.data not in (None, "", False) for sub in e.form if sub.short_name != "id")]

    def populate_obj(self, obj: Any, name: str) -> None:
        existing = {c.id: c for c in (getattr(obj, name) or [])}
        rows = []
        for entry in self.entries:
            raw_id = entry.form.id.data
            child = existing.get(int(raw_id)) if raw_id and str(raw_id).isdigit() else None
            if child is None:
                child = self.child_model()
            for sub in entry.form:
                if sub.short_name != "id":
                    sub.populate_obj(child, sub.short_name)
            rows.append(child)
        setattr(obj, name, rows)


# ---------------------------------------------------------------- forms

class RegisterForm(DynamicForm):
    """Base of generated forms: localised choices per request, row-level uniqueness rules."""

    Meta = type("Meta", (_TranslatedMeta, DynamicForm.Meta), {})
    _register: RegisterSpec
    _services: Services
    _id: Any = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for field in self:
            if hasattr(field, "refresh_choices"):
                field.refresh_choices()
        _copy_child_rows(self)
        _refresh_child_choices(self)

    def current_row(self) -> Any:
        if self._id is None:
            return None
        return self._services.session.get(self._services.models[self._register.name], self._id)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return self._check_unique() and check_form_rules(self, self._register, self.current_row()) and valid

    def _check_unique(self) -> bool:
        spec, model = self._register, self._services.models[self._register.name]
        ok = True
        rules = [((f.name,), None) for f in spec.stored_fields if f.unique and f.name in self._fields]
        rules += [(rule.fields, rule.message) for rule in spec.unique]
        for names, message in rules:
            if any(name in self._fields and self[name].errors for name in names):
                continue
            shown = next((n for n in names if n in self._fields), None)
            if shown is None:
                continue
            current = self.current_row()
            # a field the actor may not change is not on its form: the row keeps its stored value
            values = {name: self[name].data if name in self._fields else
                      (getattr(current, name) if current is not None else None) for name in names}
            if all(v in (None, "") for v in values.values()):
                continue  # empty is not a value: optional unique fields may stay empty on many rows
            conditions = []
            for name in names:
                value = values[name]
                column = getattr(model, f"{name}_id" if spec.field(name).type == "reference" else name)
                if spec.field(name).type == "reference":
                    value = value.id if value is not None else None
                conditions.append(column.is_(None) if value in (None, "") else column == value)
            stmt = select(model.id).where(and_(*conditions)).limit(1)
            if self._id is not None:
                stmt = stmt.where(model.id != int(self._id))
            found = self._services.session.execute(
                stmt.execution_options(unscoped_reason="uniqueness over every row")).first()
            if found:
                text = label_text(message) if message else gettext(
                    "This value is already used by another record (#%(id)s).", id=found[0])
                self[shown].errors = list(self[shown].errors) + [text]
                ok = False
        return ok


def check_form_rules(form: Any, spec: RegisterSpec, current: Any) -> bool:
    """The register's cross-field rules (rules:) and conditional requirements (required_when) on the posted
    values, a field not on the form keeping its stored value; the message goes on the field (a field that already
    has an error is not judged again)."""
    values = {f.name: _posted(form, f, current) for f in spec.fields if f.stores_value and f.type != "geo"}
    # an enterprise account's own enterprise is filled in on save (row scope's stamp): its reference counts as set
    saved = dict(values)
    anchor = spec.ownership.enterprise
    if anchor and anchor != "self" and "." not in anchor and saved.get(anchor) is None:
        actor = current_actor()
        if actor is not None and actor.enterprise_key:
            saved[anchor] = actor.enterprise_key
    ok = True
    for f in missing_required(spec, saved):
        if f.name in form._fields and not form[f.name].errors:
            form[f.name].errors = list(form[f.name].errors) + [str(REQUIRED)]
            ok = False
    for rule in broken_rules(spec, values):
        if any(name in form._fields and form[name].errors for name in rule.compiled.fields):
            continue
        shown = shown_on(rule, form._fields)
        if shown is None:
            continue  # none of its fields is on this form: the row keeps the values the rule was checked on
        form[shown].errors = list(form[shown].errors) + [label_text(rule.message)]
        ok = False
    services = current_app.extensions["safety"]
    for broken in matching.check(services.session, spec, values):
        name = broken.field.name
        shown = name if name in form._fields else broken.own
        if shown in form._fields and not form[shown].errors:
            form[shown].errors = list(form[shown].errors) + [broken.message(spec, services.registry)]
            ok = False
    return ok


def _posted(form: Any, f: FieldBase, current: Any) -> Any:
    if f.name not in form._fields:
        return getattr(current, f.name, None)
    field = form[f.name]
    if isinstance(field, AttachmentUploadField):
        existing = field.object_data if field.object_data is not None else getattr(current, f.name, None)
        kept = [x for i, x in enumerate(existing or []) if i not in field.removed]
        return kept + list(field.uploads) or None
    return field.data
def _copy_child_rows(form: Any) -> None:
    """copy_from: a children field sent without rows takes, in order, the child rows of the row its reference
    points to (the items of the chosen checklist), so the add form, the API and every later save agree."""
    for f in form._register.fields:
        rule = getattr(f, "copy_from", None)
        if rule is None or f.name not in form._fields or rule.reference not in form._fields:
            continue
        field, source = form[f.name], form[rule.reference].data
        if not getattr(field, "sent", False) or field.entries or source is None:
            continue
        # as if the rows had been typed in: the child form's checks (required, length) read what was sent
        sent = MultiDict()
        for i, row in enumerate(getattr(source, rule.children) or []):
            for mine, theirs in rule.fields.items():
                value = getattr(row, theirs)
                if value not in (None, ""):
                    sent.add(f"{field.name}{field._separator}{i}{field._separator}{mine}",
                             value.isoformat() if isinstance(value, (date, datetime)) else str(value))
        field.process(sent)


def _refresh_child_choices(form: Any) -> None:
    for field in form:
        if isinstance(field, ChildRowsField):
            for entry in field.entries:
                for sub in entry.form:
                    if hasattr(sub, "refresh_choices"):
                        sub.refresh_choices()


class ChildForm(Form):
    Meta = type("Meta", (_TranslatedMeta, Form.Meta), {})

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for field in self:
            if hasattr(field, "refresh_choices"):
                field.refresh_choices()


def _default(f: FieldBase) -> Any:
    if f.default == "today":
        return date.today
    if f.default == "now":
        return lambda: datetime.now().replace(second=0, microsecond=0)
    return f.default


def initial_value(f: FieldBase) -> Any:
    """The value a new row's form starts with: the YAML default, with 'today' and 'now' resolved now."""
    default = _default(f)
    return default() if callable(default) else default


_DATE_BOX = {"class": "form-control date-picker", "data-kind": "date", "autocomplete": "off",
             "placeholder": "YYYY-MM-DD"}
_DATETIME_BOX = {"class": "form-control date-picker", "data-kind": "datetime", "autocomplete": "off",
                 "placeholder": "YYYY-MM-DD HH:MM"}

#: the integer column's range (BIGINT): a larger number is a message on the field, not a database error
INTEGER_RANGE = (-(2 ** 63), 2 ** 63 - 1)


def build_field(spec: RegisterSpec, f: FieldBase, services: Services) -> Any:
    """The unbound WTForms field for one descriptor field."""
    validators: list[Any] = []
    if f.required and f.type not in ("boolean", "attachment", "image", "geo", "children"):
        validators.append(InputRequired(message=REQUIRED))
    elif f.type not in ("attachment", "image", "geo", "children", "boolean"):
        validators.append(Optional())
    if f.validators:
        validators.append(DeclaredRules(f))
    kwargs = {"label": lazy_label(f.label), "description": lazy_label(f.help) if f.help else "",
              "validators": validators, "default": _default(f)}
    match f.type:
        case "string":
            validators.insert(1, Length(max=f.length, message=_l("At most %(max)d characters.")))
            return StringField(widget=BS3TextFieldWidget(), filters=[lambda v: _strip(normalize_value(f, v))],
                               **kwargs)
        case "text":
            return TextAreaField(widget=BS3TextAreaFieldWidget(), filters=[lambda v: _strip(normalize_value(f, v))],
                                 **kwargs)
        case "integer":
            validators.append(IntegerRange(*INTEGER_RANGE))
            return IntegerField(widget=BS3TextFieldWidget(), **kwargs)
        case "decimal":
            validators.append(DecimalDigits(f.precision, f.scale))
            return DecimalField(widget=BS3TextFieldWidget(), places=None, **kwargs)
        case "boolean":
            return BooleanField(**kwargs)
        case "date":
            # a text box that the date picker (flatpickr, in the app's language) fills: the browser's own
            # date input speaks the browser's language (mm/dd/yyyy)
            return DateField(format="%Y-%m-%d", widget=TextInput(), render_kw=_DATE_BOX, **kwargs)
        case "datetime":
            return DateTimeLocalField(format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], widget=TextInput(),
                                      render_kw=_DATETIME_BOX, **kwargs)
        case "enum":
            if f.multiple:
                return EnumMultiField(dictionary=f.dictionary, services=services, **kwargs)
            return EnumSelectField(dictionary=f.dictionary, services=services, **kwargs)
        case "tree":
            return TreeSelectField(dictionary=f.dictionary, leaf_only=f.select == "leaf", services=services,
                                   jurisdiction=starts_at_jurisdiction(services, f), levels=f, **kwargs)
        case "reference":
            return ReferenceSelectField(target=f.target, display=f.display, asking=f"{spec.name}.{f.name}",
                                        match=dict(f.match),
                                        services=services, **kwargs)
        case "attachment" | "image":
            if f.required:
                kwargs["validators"] = [_RequiredFlag()]
            return AttachmentUploadField(spec=f, register=spec.name, services=services, **kwargs)
        case "geo":
            if f.required:
                kwargs["validators"] = [_RequiredFlag()]
            return GeoPointField(spec=f, **kwargs)
        case "children":
            child_spec = services.registry.register(f.target)
            child_form = build_child_form(child_spec, services)
            kwargs.pop("default")
            if f.required:
                kwargs["validators"] = [_RequiredFlag()]
            # a count of the rows with a field set (items_done: result is set) is shown live as done / total
            done = next((c.count.when[0].field for c in spec.fields if getattr(c, "count", None)
                         and c.count.children == f.name and len(c.count.when) == 1
                         and c.count.when[0].is_set and c.count.when[0].field), None)
            return ChildRowsField(child_form, services.models[f.target], max_rows=f.max_rows,
                                  min_entries=f.min_rows, register=spec.name,
                                  copy_from=f.copy_from.reference if f.copy_from else None, progress=done, **kwargs)
    raise AssertionError(f.type)


class _RequiredFlag:
    """Marks a field required for rendering; the field checks emptiness itself."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


def _strip(value: Any) -> Any:
    """Trimmed text; an empty box is no value (NULL), so optional unique fields may stay empty on many rows."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def build_form(spec: RegisterSpec, services: Services, names: tuple[str, ...] | None = None) -> type[RegisterForm]:
    """The form class of a register with the given fields (default: the form's fields, minus read-only ones)."""
    names = names if names is not None else tuple(n for n in spec.form_fields if not spec.field(n).read_only)
    attrs: dict[str, Any] = {"_register": spec, "_services": services}
    for name in names:
        attrs[name] = build_field(spec, spec.field(name), services)
    return type(f"{spec.name}Form", (RegisterForm,), attrs)


def build_child_form(spec: RegisterSpec, services: Services) -> type[ChildForm]:
    attrs: dict[str, Any] = {"id": HiddenField()}
    for f in spec.fields:
        if not f.read_only and f.type not in ("children",):
            attrs[f.name] = build_field(spec, f, services)
    return type(f"{spec.name}ChildForm", (ChildForm,), attrs)
