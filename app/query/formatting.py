"""Field values as people read them: dictionary labels, reference titles, dates, files — per language."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _, ngettext
from markupsafe import Markup, escape

from app import clock
from app.dictionaries import DictionaryService
from app.i18n import current_locale, list_separator
from app.metadata.spec import FieldBase, RegisterSpec
from app.query.urls import register_url


def plain_value(field: FieldBase, row: Any, dictionaries: DictionaryService, locale: str | None = None,
                full_path: bool = True) -> str:
    """The value as text (lists, exports): labels instead of codes, '' for empty."""
    if field.type == "geo":
        lat, lng = getattr(row, f"{field.name}_lat"), getattr(row, f"{field.name}_lng")
        return "" if lat is None or lng is None else f"{_num(lat)}, {_num(lng)}"
    if field.type == "children":
        return str(len(getattr(row, field.name) or []))
    value = getattr(row, field.name, None)
    if value is None or value == "" or value == []:
        return ""
    match field.type:
        case "boolean":
            return _("Yes") if value else _("No")
        case "date":
            return value.isoformat() if isinstance(value, date) else str(value)
        case "datetime":
            return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
        case "decimal":
            return _num(value)
        case "enum":
            codes = value if isinstance(value, list) else [value]
            return _separator(locale).join(dictionaries.label(field.dictionary, c, locale) for c in codes)
        case "tree":
            depth = None if full_path else field.list_depth
            return dictionaries.path_label(field.dictionary, value, depth=depth, locale=locale)
        case "reference":
            return str(value)
        case "attachment" | "image":
            return _separator(locale).join(f.get("name", "") for f in value)
    return str(value)


def _separator(locale: str | None) -> str:
    return (", " if str(locale).startswith("en") else "、") if locale else list_separator()


def _num(value: Any) -> str:
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def html_value(spec: RegisterSpec, field: FieldBase, row: Any, dictionaries: DictionaryService,
               mode: str = "list") -> Markup:
    """The value for a page: colour badges for enums, links for references and files."""
    if field.type == "enum" and not field.multiple:
        code = getattr(row, field.name)
        node = dictionaries.node(field.dictionary, code)
        if node is None:
            return escape(code or "")
        text = escape(node.label(_locale()))
        if node.color:
            return Markup(f'<span class="label" style="background:{node.color}">{text}</span>')
        return text
    if field.type == "reference":
        target = getattr(row, field.name)
        if target is None:
            return Markup("")
        text = escape(str(getattr(target, field.display)) if field.display else str(target))
        link = _safe_url(field.target, "show", pk=target.id)
        return Markup(f'<a href="{link}">{text}</a>') if link else text
    if field.type in ("attachment", "image"):
        files = getattr(row, field.name) or []
        links = []
        for index, meta in enumerate(files):
            href = register_url(spec.name, "attachment", pk=row.id, field_name=field.name, index=index)
            name = escape(meta.get("name", ""))
            if field.type == "image" and mode == "show":
                links.append(Markup(f'<a href="{href}" target="_blank"><img src="{href}" alt="{name}" '
                                    f'class="img-thumbnail" style="max-height:120px"></a>'))
            else:
                links.append(Markup(f'<a href="{href}"><i class="fa fa-paperclip"></i> {name}</a>'))
        return Markup("<br>" if mode == "show" else " ").join(links)
    if field.type == "date" and getattr(field, "deadline", None):
        return _deadline(spec, field, row, dictionaries)
    if field.type == "text" and mode == "list":
        text = plain_value(field, row, dictionaries)
        return escape(text if len(text) <= 60 else text[:58] + "…")
    if field.type == "text":
        return Markup("<br>").join(escape(plain_value(field, row, dictionaries)).split("\n"))
    return escape(plain_value(field, row, dictionaries, full_path=(mode == "show")))


def deadline_status(spec: RegisterSpec, field: Any, row: Any, today: date | None = None) -> str | None:
    """'overdue', 'soon' (within warn_days) or 'ok' for a deadline still running; None when it no longer counts
    (no date, or the row's workflow reached a terminal state or one of the deadline's done_states)."""
    value = getattr(row, field.name, None)
    if value is None:
        return None
    wf = spec.workflow
    if wf is not None:
        state = wf.state(getattr(row, wf.field))
        done = set(field.deadline.done_states) or {s.name for s in wf.states if s.terminal}
        if state is None or state.name in done:
            return None
    days = (value - (today or clock.today())).days
    if days < 0:
        return "overdue"
    return "soon" if days <= field.deadline.warn_days else "ok"


def days_left_text(days: int) -> str:
    """'Overdue by 3 days' / '1 day left' (已逾期 3 天 / 剩余 1 天) for a deadline ``days`` from today."""
    if days < 0:
        return ngettext("Overdue by %(num)d day", "Overdue by %(num)d days", -days)
    return ngettext("%(num)d day left", "%(num)d days left", days)


def _deadline(spec: RegisterSpec, field: Any, row: Any, dictionaries: DictionaryService) -> Markup:
    text = escape(plain_value(field, row, dictionaries))
    status = deadline_status(spec, field, row)
    if status is None:
        return text
    title = days_left_text((getattr(row, field.name) - clock.today()).days)
    return Markup(f'<span class="deadline-{status}" data-deadline="{status}" title="{escape(title)}">{text}</span>')


def _locale() -> str:
    return current_locale()


def _safe_url(register: str, action: str, **values: Any) -> str | None:
    try:
        return register_url(register, action, **values)
    except Exception:  # no screens (e.g. in a bare test app)
        return None
