"""Computed fields (``compute`` on a read-only boolean, integer or decimal field, docs/metadata.md §4.7), and the
organisation a reference field is assigned (``organisation_of``, §4.9, 审核机关): the value
is worked out from the row's fields and the fields of the rows its references point to, on every flush (forms, API,
workflow effects, import updates, commands) and for the rows an import adds in bulk. A referenced row changed later
does not change the value: a reading stays judged against the threshold in force when it was recorded."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metadata.rules import compute, condition_holds, names, parse
from app.security.row_scope import register_of
from app.services import services


@lru_cache(maxsize=256)
def _compiled(source: str) -> tuple[Any, tuple[str, ...]]:
    tree = parse(source, references=True)
    return tree, tuple(n for n in names(tree) if n != "today")


def computed_fields(spec: Any) -> list[Any]:
    return [f for f in spec.fields if getattr(f, "compute", None)]


def assigned_fields(spec: Any) -> list[Any]:
    """Reference fields whose organisation the engine works out (``organisation_of``, §4.9: 审核机关)."""
    return [f for f in spec.fields if getattr(f, "organisation_of", None)]


def organisation_name(session: Session, organisation_id: int | None) -> str | None:
    """The title of an organisation row, read whoever saves (name_into)."""
    if organisation_id is None:
        return None
    svc = services()
    target = svc.registry.organisations.target
    model = svc.models[target]
    column = getattr(model, svc.registry.register(target).title_field)
    with session.no_autoflush:
        return session.execute(select(column).where(model.id == organisation_id).execution_options(
            unscoped_reason="the name of the organisation a row is assigned to")).scalar_one_or_none()


def _assigned_references(spec: Any) -> set[str]:
    paths = [p for f in assigned_fields(spec) for p in (f.organisation_of.region, f.organisation_of.department) if p]
    return {p.partition(".")[0] for p in paths if "." in p}


def assigned_organisation(session: Session, field: Any, values: dict[str, Any]) -> int | None:
    """The organisation of the first level whose conditions hold, of the department, whose jurisdiction is the
    nearest one holding the region (the county's 应急管理局 before the city's); None when there is none."""
    svc = services()
    rule, org = field.organisation_of, svc.registry.organisations
    level = next((lv.level for lv in rule.levels if all(condition_holds(c, values) for c in lv.when)), None)
    region = values.get(rule.region)
    if org is None or level is None or not region:
        return None
    org_spec = svc.registry.register(org.target)
    chain = [n.code for n in svc.dictionaries.ancestors(org_spec.field(org.region).dictionary, region)]
    if not chain:
        return None
    model = svc.models[org.target]
    region_column = getattr(model, org.region)
    stmt = select(model.id, region_column).where(getattr(model, org.level) == level, region_column.in_(chain))
    if rule.department:
        department = values.get(rule.department)
        if not department:
            return None
        stmt = stmt.where(getattr(model, org.department) == department)
    with session.no_autoflush:
        found = session.execute(stmt.order_by(model.id).execution_options(
            unscoped_reason="the organisation a row is assigned to, whoever saves")).all()
    if not found:
        return None
    return max(found, key=lambda r: (chain.index(r[1]), -r[0]))[0]


def following_fields(spec: Any) -> list[Any]:
    """Fields with ``follows: <reference>.<field>`` (§4.10): the referenced row's value while the reference is set."""
    return [f for f in spec.fields if getattr(f, "follows", None)]


def _follow(obj_values: dict[str, Any], spec: Any, targets: dict[str, Any]) -> dict[str, Any]:
    """The values the following fields take: the referenced row's, for each reference that is set."""
    found = {}
    for field in following_fields(spec):
        ref, _, name = field.follows.partition(".")
        target = targets.get(ref)
        if target is not None:
            found[field.name] = getattr(target, name, None)
    return found


def _value(field: Any, values: dict[str, Any], today: date) -> Any:
    tree, _ = _compiled(field.compute)
    result = compute(tree, values, today, boolean=field.type == "boolean")
    if result is not None and field.type == "integer":
        return int(result)
    return result


def _targets(session: Session, spec: Any, field_name: str, ids: Iterable[Any]) -> dict[Any, Any]:
    """The referenced rows by id (one query), outside the actor's scope: the value must not depend on who saves."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    model = services().models[spec.field(field_name).target]
    with session.no_autoflush:
        stmt = select(model).where(model.id.in_(ids)).execution_options(
            unscoped_reason="a computed field reads the row its reference points to, whoever saves")
        return {row.id: row for row in session.execute(stmt).scalars()}


def _references(spec: Any) -> set[str]:
    return {name.partition(".")[0] for f in computed_fields(spec) for name in _compiled(f.compute)[1] if "." in name} \
        | {f.follows.partition(".")[0] for f in following_fields(spec)}


def recompute(session: Session, flush_context: Any, instances: Any) -> None:
    """Before a flush (installed after the write path's checks, so the engine's own writes of these read-only
    fields are not refused): each computed, following and assigned field of a new or changed row is set again."""
    today = date.today()
    for obj in list(session.new) + list(session.dirty):
        spec = register_of(obj)
        if spec is None or obj in session.deleted or \
                not (computed_fields(spec) or following_fields(spec) or assigned_fields(spec)):
            continue
        values = {f.name: getattr(obj, f.name, None) for f in spec.fields if f.stores_value and f.type != "geo"}
        targets = {}
        for ref in _references(spec) | _assigned_references(spec):
            target = getattr(obj, ref, None)
            ref_id = getattr(obj, f"{ref}_id", None)
            if target is None or (ref_id is not None and target.id != ref_id):
                target = _targets(session, spec, ref, [ref_id]).get(ref_id)
            targets[ref] = target
            _spread(values, ref, target)
        for name, value in _follow(values, spec, targets).items():
            values[name] = value
            if getattr(obj, name) != value:
                setattr(obj, name, value)
        for field in computed_fields(spec):
            value = _value(field, values, today)
            values[field.name] = value
            if getattr(obj, field.name) != value:
                setattr(obj, field.name, value)
        for field in assigned_fields(spec):
            value = assigned_organisation(session, field, values)
            if getattr(obj, f"{field.name}_id") != value:
                setattr(obj, f"{field.name}_id", value)
            if field.organisation_of.name_into:
                name = organisation_name(session, value)
                if getattr(obj, field.organisation_of.name_into) != name:
                    setattr(obj, field.organisation_of.name_into, name)


def fill_records(session: Session, spec: Any, records: list[dict[str, Any]]) -> None:
    """The computed fields of rows an import inserts in bulk (records of column values, references as <ref>_id)."""
    if not (computed_fields(spec) or following_fields(spec) or assigned_fields(spec)):
        return
    today = date.today()
    targets = {ref: _targets(session, spec, ref, (r.get(f"{ref}_id") for r in records))
               for ref in _references(spec) | _assigned_references(spec)}
    for record in records:
        values = dict(record)
        for ref, rows in targets.items():
            _spread(values, ref, rows.get(record.get(f"{ref}_id")))
        mine = {ref: rows.get(record.get(f"{ref}_id")) for ref, rows in targets.items()}
        for name, value in _follow(values, spec, mine).items():
            record[name] = values[name] = value
        for field in computed_fields(spec):
            record[field.name] = values[field.name] = _value(field, values, today)
        for field in assigned_fields(spec):
            record[f"{field.name}_id"] = assigned_organisation(session, field, values)
            if field.organisation_of.name_into:
                record[field.organisation_of.name_into] = organisation_name(session, record[f"{field.name}_id"])


def _spread(values: dict[str, Any], ref: str, target: Any) -> None:
    if target is None:
        return
    for column in register_of(target).fields:
        if column.stores_value and column.type != "geo":
            values[f"{ref}.{column.name}"] = getattr(target, column.name, None)
