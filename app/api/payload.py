"""A JSON body as the register's form would have posted it: the same form, so the same rules and defaults."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from app.metadata.spec import FieldBase, RegisterSpec
from app.views.forms import initial_value

#: JSON types each field type accepts (null is always accepted: an empty field)
_SCALAR = (str,)
_ACCEPTS: dict[str, tuple[type, ...]] = {
    "string": _SCALAR, "text": _SCALAR, "date": _SCALAR, "datetime": _SCALAR, "tree": _SCALAR,
    "integer": (int, str), "decimal": (int, float, str), "reference": (int, str), "boolean": (bool,),
    "geo": (dict,), "children": (list,),
}
_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


def type_errors(spec: RegisterSpec, child_specs: Mapping[str, RegisterSpec], payload: Mapping[str, Any],
                prefix: str = "") -> dict[str, list[str]]:
    """Values whose JSON type the field cannot take (an object for a name, a list for a date), and text with a
    NUL character (no database column stores it): refused before the form sees them. Child rows by path."""
    errors: dict[str, list[str]] = {}
    for name, value in payload.items():
        if name not in spec.field_map or value is None:
            continue
        f = spec.field(name)
        path = f"{prefix}{name}"
        accepted = _accepted_types(f)
        if accepted is None:
            continue
        if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted):
            names = sorted({_TYPE_NAMES[t] for t in accepted})
            errors[path] = [gettext("Wrong type: expected %(types)s.", types=" / ".join(names))]
        elif isinstance(value, list) and f.type == "enum":
            if not all(isinstance(item, str) for item in value):
                errors[path] = [gettext("Wrong type: expected %(types)s.", types="array of strings")]
        elif f.type == "children":
            for index, child in enumerate(value):
                if isinstance(child, Mapping):
                    errors.update(type_errors(child_specs[f.target], child_specs, child, f"{path}[{index}]."))
                else:
                    errors[f"{path}[{index}]"] = [gettext("Wrong type: expected %(types)s.", types="object")]
        elif _has_nul(value):
            errors[path] = [gettext("Text may not contain a NUL character.")]
    return errors


def _accepted_types(f: FieldBase) -> tuple[type, ...] | None:
    if f.type == "enum":
        return (list,) if getattr(f, "multiple", False) else _SCALAR
    return _ACCEPTS.get(f.type)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def form_data(spec: RegisterSpec, child_specs: Mapping[str, RegisterSpec], payload: Mapping[str, Any],
              current: Mapping[str, Any] | None = None) -> MultiDict:
    """The form's post for ``payload``: a field not sent keeps the row's stored value on an edit (``current``)
    and starts from the field's default on a new row, as the add form shows it."""
    data = MultiDict()
    for f in spec.fields:
        if f.type in ("attachment", "image"):
            continue  # files go through the pages or the transitions' multipart bodies
        if f.name in payload:
            value = payload[f.name]
        elif current is not None:
            value = current.get(f.name)
        else:
            value = initial_value(f)
        if f.type == "children":
            stored = {c.get("id"): c for c in (current or {}).get(f.name) or []}
            for index, child in enumerate(value or []):
                _add_child(data, f"{f.name}-{index}-", child_specs[f.target], child, stored)
        else:
            _add(data, f.name, f, value)
    return data


def _add_child(data: MultiDict, prefix: str, spec: RegisterSpec, child: Mapping[str, Any],
               stored: Mapping[Any, Mapping[str, Any]]) -> None:
    """One child row: a stored row (its id sent) keeps its other values, a new one starts from the defaults."""
    base = stored.get(child.get("id"))
    if base is not None:
        data.add(f"{prefix}id", str(base["id"]))
    for f in spec.fields:
        if f.type in ("attachment", "image", "children"):
            continue
        if f.name in child:
            value = child[f.name]
        elif base is not None:
            value = base.get(f.name)
        else:
            value = initial_value(f)
        _add(data, f"{prefix}{f.name}", f, value)


def _add(data: MultiDict, key: str, f: FieldBase, value: Any) -> None:
    if value is None:
        return
    if f.type == "geo":
        if isinstance(value, Mapping):
            data.add(f"{key}_lat", str(value.get("lat", "")))
            data.add(f"{key}_lng", str(value.get("lng", "")))
    elif isinstance(value, (list, tuple)):
        for item in value:
            data.add(key, str(item))
    elif isinstance(value, bool):
        if value:
            data.add(key, "y")
    elif isinstance(value, datetime):
        data.add(key, value.strftime("%Y-%m-%dT%H:%M"))
    elif isinstance(value, date):
        data.add(key, value.isoformat())
    else:
        data.add(key, str(value))
