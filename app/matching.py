"""A reference whose row must agree with this row (``match`` on a reference field, docs/metadata.md §4.11): the
plan's checklist must be one of the plan's enterprise's checklists, whoever saves. Checked on every path: the
forms (on the field), the write path's flush (forms, REST API, workflow effects, commands), the import (on the
row and column, before anything is written), and the picker offers only the matching rows."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import label_text
from app.models import column_names
from app.services import services


@dataclass(frozen=True)
class Mismatch:
    field: Any          # the reference field with ``match``
    own: str            # the field of this row that the referenced row must agree with
    theirs: str         # the field of the referenced row
    title: str          # the referenced row as the field shows it (its display field, else its title)

    def message(self, spec: Any, registry: Any) -> str:
        target = registry.register(self.field.target)
        return gettext("%(field)s: “%(title)s” has another %(theirs)s than this record's %(own)s.",
                       field=label_text(self.field.label), title=self.title,
                       theirs=label_text(target.field(self.theirs).label), own=label_text(spec.field(self.own).label))


def matching_fields(spec: Any) -> tuple[Any, ...]:
    return spec.matched_references


def key_of(value: Any) -> Any:
    """A value as compared: a row by its id, anything else as it is."""
    return getattr(value, "id", value) if value is not None and hasattr(value, "_sa_instance_state") else value


def targets(session: Session, registry: Any, models: Any, field: Any, ids: Iterable[Any]) -> dict[int, dict]:
    """The matched values (and the title) of the rows ``field`` points to, by id: read whoever saves, since the
    rule must not depend on the saver's scope."""
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    spec = registry.register(field.target)
    model = models[field.target]
    names = list(field.match)
    columns = [getattr(model, column_names(spec.field(n))[0]) for n in names]
    shown = getattr(model, field.display or spec.title_field)  # as the field shows the row (display, else title)
    stmt = select(model.id, shown, *columns).where(model.id.in_(sorted(wanted)))
    with session.no_autoflush:
        rows = session.execute(stmt.execution_options(
            unscoped_reason="a matched reference is compared with the row it points to, whoever saves")).all()
    return {row[0]: {"": str(row[1]), **dict(zip(names, row[2:]))} for row in rows}


def mismatches(spec: Any, values: Mapping[str, Any], found: Mapping[str, Mapping[int, dict]]) -> list[Mismatch]:
    """The matched references of ``values`` (field name → value; a reference as a row or its id) whose row does
    not agree; ``found``: ``targets`` per reference field. An empty reference, or an empty own field, is not
    judged: the own field's ``required`` says whether it may be empty."""
    broken = []
    for field in matching_fields(spec):
        ref = key_of(values.get(field.name))
        target = found.get(field.name, {}).get(ref) if ref is not None else None
        if target is None:
            continue
        for theirs, own in field.match.items():
            if key_of(values.get(own)) is None:
                continue  # not known yet (an enterprise account's own enterprise is filled in on save)
            if key_of(values.get(own)) != target[theirs]:
                broken.append(Mismatch(field, own, theirs, target[""]))
    return broken


def check(session: Session, spec: Any, values: Mapping[str, Any]) -> list[Mismatch]:
    """One row's mismatches (forms, the flush)."""
    svc = services()
    found = {f.name: targets(session, svc.registry, svc.models, f, [key_of(values.get(f.name))])
             for f in matching_fields(spec)}
    return mismatches(spec, values, found)
