"""Values a transition writes ('set', and the values of created or updated rows): literals or $tokens."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.metadata.spec import RegisterSpec
from app.services import services

_TODAY_PLUS = re.compile(r"^\$today([+-]\d{1,4})$")


@dataclass
class Context:
    """What $tokens refer to while one transition is taken."""

    spec: RegisterSpec
    row: Any
    user_name: str
    organisation_id: int | None
    organisation_name: str | None
    comment: str | None
    now: datetime
    item_spec: RegisterSpec | None = None
    item: Any = None
    #: the files uploaded with this transition ($attachments)
    attachments: list | None = None
    #: the acting user's organisation ($organisation.<field>)
    organisation_spec: RegisterSpec | None = None
    organisation_row: Any = None


def resolve(value: Any, target_spec: RegisterSpec, target_field: str, ctx: Context) -> Any:
    """The value ``value`` means for ``target_field`` of ``target_spec`` (a reference gets an id)."""
    field = target_spec.field(target_field)
    if isinstance(value, list):
        # a list joins its values: files together, texts line by line (the requirements of every level above)
        parts = [resolve(v, target_spec, target_field, ctx) for v in value]
        if field.type in ("attachment", "image"):
            return [record for part in parts for record in (part or [])] or None
        if field.type in ("string", "text"):
            return "\n".join(str(p) for p in parts if not is_empty(p)) or None
        # any other type takes the first value that is not empty: [$item.rectify_by, $today+30]
        return next((p for p in parts if not is_empty(p)), None)
    if not isinstance(value, str) or not value.startswith("$"):
        return value
    if value == "$today":
        return ctx.now.date()
    if match := _TODAY_PLUS.match(value):
        return ctx.now.date() + timedelta(days=int(match.group(1)))
    if value == "$now":
        return ctx.now if field.type == "datetime" else ctx.now.date() if field.type == "date" else \
            ctx.now.strftime("%Y-%m-%d %H:%M")
    if value == "$user_name":
        return ctx.user_name
    if value == "$organisation":
        return ctx.organisation_id if field.type == "reference" else ctx.organisation_name
    if value == "$comment":
        return ctx.comment
    if value == "$attachments":
        return list(ctx.attachments or []) or None
    if value.startswith("$organisation."):
        if ctx.organisation_row is None:
            return None
        return _copy(ctx.organisation_spec, ctx.organisation_row, value[14:], field)
    if value == "$id":
        return ctx.row.id if field.type == "reference" else str(ctx.row.id)
    if value == "$item.id":
        return ctx.item.id if field.type == "reference" else str(ctx.item.id)
    if value.startswith("$item."):
        return _copy(ctx.item_spec, ctx.item, value[6:], field)
    return _copy(ctx.spec, ctx.row, value[1:], field)


def source_value(spec: RegisterSpec, row: Any, name: str) -> Any:
    """A field of ``row`` as its column holds it (a reference as its id): what conditions compare."""
    field = spec.field(name)
    return getattr(row, f"{name}_id") if field.type == "reference" else getattr(row, name)


def _copy(source_spec: RegisterSpec, source: Any, name: str, target_field: Any) -> Any:
    """A field of another row, as the target field holds it (a reference as an id or as its title)."""
    field = source_spec.field(name)
    if field.type == "children" and target_field.type in ("string", "text"):
        return _child_titles(field, getattr(source, name) or []) or None
    if field.type == "reference":
        if target_field.type == "reference":
            return getattr(source, f"{name}_id")
        related = getattr(source, name)
        return str(related) if related is not None else None
    value = getattr(source, name)
    if target_field.type in ("string", "text") and value is not None and not isinstance(value, str):
        return value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    return value


def _child_titles(field: Any, rows: list) -> str:
    """Child rows as text, joined by 、: each row's title, or, when its register sets no ``title`` and has a
    reference, the title of the row its first reference points to (经营品种: the chemicals' names)."""
    child = services().registry.register(field.target)
    reference = next((f.name for f in child.fields if f.type == "reference"), None) if not child.title else None
    names = []
    for row in sorted(rows, key=lambda r: r.id or 0):
        named = getattr(row, reference) if reference else row
        if named is not None:
            names.append(str(named))
    return "、".join(names)


def assign(obj: Any, spec: RegisterSpec, name: str, value: Any) -> None:
    field = spec.field(name)
    if field.type == "reference":
        setattr(obj, f"{name}_id", getattr(value, "id", value))
    elif field.type == "geo":
        setattr(obj, f"{name}_lat", value[0] if value else None)
        setattr(obj, f"{name}_lng", value[1] if value else None)
    else:
        if field.type in ("string", "text") and isinstance(value, str) and getattr(field, "length", None):
            value = value[:field.length]
        setattr(obj, name, value)


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []
