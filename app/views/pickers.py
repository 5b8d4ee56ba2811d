"""What the pickers offer: where a tree picker opens (the actor's jurisdiction) and a reference picker's rows,
matched on the declared search fields and each with its second line. Every query runs under the row scope."""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from app.dictionaries.levels import level_mismatch
from app.i18n import current_locale
from app.metadata.spec import RegisterSpec
from app.security.actor import current_actor
from app.services import Services

from app.query.formatting import plain_value
from app.query.listing import contains

LOOKUP_LIMIT = 20


def jurisdiction_dictionary(services: Services) -> str | None:
    """The dictionary of the organisations' region (the tree a jurisdiction is a node of)."""
    org = services.registry.organisations
    if org is None:
        return None
    field = services.registry.register(org.target).field_map.get(org.region)
    return getattr(field, "dictionary", None)


def starts_at_jurisdiction(services: Services, field: Any) -> bool:
    """A tree picker opens at the actor's jurisdiction unless its YAML says ``start: top``."""
    start = field.picker.start or "jurisdiction"
    return start == "jurisdiction" and field.dictionary == jurisdiction_dictionary(services)


def picker_root(services: Services, dictionary: str) -> str | None:
    """The item a jurisdiction picker opens at for the current actor: its organisation's region (None: the
    top, for administrators and accounts without a region)."""
    actor = current_actor()
    if actor is None or actor.is_anonymous or dictionary != jurisdiction_dictionary(services):
        return None
    code = actor.region_code
    return code if code and services.dictionaries.exists(dictionary, code) else None


def within_root(services: Services, dictionary: str, root: str | None, code: Any) -> bool:
    """``code`` lies at or below ``root`` (always, without a root)."""
    if root is None or code in (None, ""):
        return True
    return any(node.code == root for node in services.dictionaries.ancestors(dictionary, code))


def level_refusal(dictionaries: Any, field: Any, code: Any) -> str | None:
    """Why a tree item is refused by the field's levels (None when it is at one of them)."""
    from flask_babel import gettext

    refused = level_mismatch(dictionaries, field, code, current_locale())
    if refused is None:
        return None
    wanted, actual = refused
    return gettext("Choose a %(levels)s; “%(value)s” is a %(level)s.", levels=wanted, level=actual,
                   value=dictionaries.label(field.dictionary, code))


def asking_field(services: Services, target: RegisterSpec, ref: str) -> Any:
    """The reference field ``register.field`` whose picker asks, if it really points to ``target``."""
    register, _, name = ref.partition(".")
    spec = services.registry.registers.get(register)
    field = spec.field_map.get(name) if spec is not None else None
    if field is None:  # a child register's field (a child table inside its parent's form)
        return None
    return field if field.type == "reference" and field.target == target.name else None


def search_fields(spec: RegisterSpec, field: Any, display: str | None) -> list[str]:
    """The target's fields the type-ahead matches: the picker's ``search`` if declared, else the shown field
    and the target's list search."""
    if field is not None and field.picker.search:
        return list(field.picker.search)
    shown = display or spec.title_field
    return [shown] + [n for n in spec.search if n != shown]


def lookup(services: Services, spec: RegisterSpec, model: Any, text: str, display: str | None,
           field: Any, matched: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """At most 20 rows of ``spec`` for a reference picker: {id, text, detail}, newest first, in the actor's
    scope (the row-scope hook adds the actor's condition to this query like to every other). ``matched``: the
    form's values of the field's ``match`` (their field → value): only rows that agree are offered."""
    stmt = select(model)
    for theirs, value in (matched or {}).items():
        if field is None or theirs not in field.match or not value:
            continue
        target_field = spec.field(theirs)
        if target_field.type == "reference":
            stmt = stmt.where(getattr(model, f"{theirs}_id") == (int(value) if value.isdigit() else -1))
        else:
            stmt = stmt.where(getattr(model, theirs) == value)
    if text:
        names = [n for n in search_fields(spec, field, display) if n in spec.field_map]
        stmt = stmt.where(or_(*(contains(getattr(model, n), text) for n in names)))
    rows = services.session.scalars(stmt.order_by(model.id.desc()).limit(LOOKUP_LIMIT))
    detail = _detail_fields(spec, field)
    return [{"id": row.id, "text": str(getattr(row, display)) if display else str(row),
             "detail": " · ".join(v for v in (plain_value(f, row, services.dictionaries) for f in detail) if v)}
            for row in rows]


def _detail_fields(spec: RegisterSpec, field: Any) -> list[Any]:
    if field is None or not field.picker.detail:
        return []
    hidden = current_app.extensions["safety_policy"].hidden_fields(spec, current_actor())
    return [spec.field(n) for n in field.picker.detail if n not in hidden]
