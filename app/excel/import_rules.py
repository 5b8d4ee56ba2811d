"""An import's rows against the register's cross-field rules (rules:), before anything is written: the row, the
columns the rule reads and their values are named in the problem, as on the error workbook."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import select

from app import matching
from app.i18n import label_text
from app.metadata.rules import broken_rules, missing_required, shown_on


def _shown(value: Any) -> str:
    if value is None or value == "":
        return _("(empty)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def check_rules(importer: Any, parsed: list[Any], problem: Callable[[Any, Any, str], None] | None = None) -> None:
    """Every row not refused yet: the values it would write (an updated row: over its stored values). Each broken
    rule is reported by ``problem`` (row, column, message): the importer's, unless told otherwise."""
    report = problem or importer.problem
    spec = importer.target
    matched = matching.matching_fields(spec)
    if not (spec.rules or spec.has_required_when or matched):
        return
    columns = {c.name: c for c in importer.columns}
    rows = [row for row in parsed if not row.failed]
    stored_rows = {}
    if any(row.existing_id for row in rows):
        model = importer.model
        stored_rows = {r.id: r for r in importer.svc.session.scalars(select(model).where(model.id.in_(
            [row.existing_id for row in rows if row.existing_id])).execution_options(
            unscoped_reason="the stored values of the rows an import updates, for its rules"))}
    all_values = []
    for row in rows:
        values = dict(row.values)
        if row.existing_id:
            stored = stored_rows.get(row.existing_id)
            for f in spec.fields:
                if f.stores_value and (f.name not in values or f.name in row.blank):
                    values[f.name] = getattr(stored, f"{f.name}_id" if f.type == "reference" else f.name, None)
        all_values.append(values)
    # a matched reference's rows, read once per chunk (the import resolved references to ids)
    found = {f.name: matching.targets(importer.svc.session, importer.svc.registry, importer.svc.models, f,
                                      (v.get(f.name) for v in all_values)) for f in matched}
    for row, values in zip(rows, all_values):
        for broken in matching.mismatches(spec, values, found):
            column = columns.get(broken.field.name) or columns.get(broken.own)
            report(row, column, broken.message(spec, importer.svc.registry))
        if not (spec.rules or spec.has_required_when):
            continue
        for f in missing_required(spec, values):
            column = columns.get(f.name)
            reason = _("%(columns)s: %(message)s", columns="、".join(
                f"{label_text(spec.field(c.field).label)}（{_shown(values.get(c.field))}）" for c in f.required_when),
                message=_("This field is required."))
            report(row, column, reason if column else _("%(columns)s: %(message)s",
                                                        columns=label_text(f.label), message=reason))
        for rule in broken_rules(spec, values):
            shown = shown_on(rule, columns)
            read = [name for name in rule.compiled.fields]
            titles = "、".join(f"{label_text(spec.field(n).label)}（{_shown(values.get(n))}）" for n in read)
            report(row, columns.get(shown) if shown else None,
                   _("%(columns)s: %(message)s", columns=titles, message=label_text(rule.message)))
