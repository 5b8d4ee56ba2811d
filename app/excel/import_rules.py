"""An import's rows against the register's cross-field rules (rules:), before anything is written: the row, the
columns the rule reads and their values are named in the problem, as on the error workbook."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

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


def check_rules(importer: Any, parsed: list[Any]) -> None:
    """Every row not refused yet: the values it would write (an updated row: over its stored values)."""
    spec = importer.target
    if not (spec.rules or spec.has_required_when):
        return
    columns = {c.name: c for c in importer.columns}
    for row in parsed:
        if row.failed:
            continue
        values = dict(row.values)
        if row.existing_id:
            stored = importer.svc.session.get(importer.model, row.existing_id)
            for f in spec.fields:
                if f.stores_value and (f.name not in values or f.name in row.blank):
                    values[f.name] = getattr(stored, f.name, None)
        for f in missing_required(spec, values):
            column = columns.get(f.name)
            reason = _("%(columns)s: %(message)s", columns="、".join(
                f"{label_text(spec.field(c.field).label)}（{_shown(values.get(c.field))}）" for c in f.required_when),
                message=_("This field is required."))
            importer.problem(row, column, reason if column else _("%(columns)s: %(message)s",
                                                                  columns=label_text(f.label), message=reason))
        for rule in broken_rules(spec, values):
            shown = shown_on(rule, columns)
            read = [name for name in rule.compiled.fields]
            titles = "、".join(f"{label_text(spec.field(n).label)}（{_shown(values.get(n))}）" for n in read)
            importer.problem(row, columns.get(shown) if shown else None,
                             _("%(columns)s: %(message)s", columns=titles, message=label_text(rule.message)))
