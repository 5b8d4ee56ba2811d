"""One spreadsheet cell → the field's value, accepting what people type (full-width digits, dates as text,
numbers stored as text, 是/否), and refusing what the form would refuse, with a message for the cell."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.dictionaries import DictionaryService
from app.dictionaries.levels import level_mismatch
from app.i18n import current_locale
from app.i18n.deferred import failure, gettext as _
from app.metadata.spec import FieldBase
from app.metadata.validators import normalize_value, run_validators

EXCEL_EPOCH = datetime(1899, 12, 30)
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "对"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "✗", "不"}


class CellError(Exception):
    """The cell's value is refused; the message says why, in the importing user's language."""


def text_of(value: Any) -> str:
    """What a person sees in the cell: numbers without '.0', whitespace trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def half_width(text: str) -> str:
    """Full-width digits, letters and punctuation typed with a Chinese input method → ASCII (NFKC)."""
    return unicodedata.normalize("NFKC", text).strip()


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2958466:
        return (EXCEL_EPOCH + timedelta(days=int(value))).date()
    text = half_width(text_of(value))
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text) or \
        re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if match:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    raise CellError(_("Not a valid date: write it like 2024-01-31."))


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return EXCEL_EPOCH + timedelta(days=float(value))
    text = half_width(text_of(value)).replace("/", "-").replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise CellError(_("Not a valid date and time: write it like 2024-01-31 09:30."))


def _number(value: Any, integer: bool) -> Any:
    if isinstance(value, bool):
        raise CellError(_("Not a valid number."))
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
    else:
        text = half_width(text_of(value)).replace(",", "").replace("，", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(_("Not a valid number.") if not integer else _("Not a valid integer value."))
    if integer:
        if number != number.to_integral_value():
            raise CellError(_("Not a valid integer value."))
        return int(number)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = half_width(text_of(value)).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(_("Choose Yes or No from the drop-down list."))


def convert_cell(field: FieldBase, raw: Any, dictionaries: DictionaryService) -> Any:
    """The stored value for the cell (None when empty); references are resolved later, in bulk."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if field.required and field.type != "boolean" and field.default is None:
            raise CellError(_("This field is required."))
        return None  # the importer applies the field's default
    match field.type:
        case "string" | "text":
            text = text_of(raw) if field.type == "string" else str(raw).strip()
            # normalise: (app/metadata/normalise.py): a code typed with full-width characters becomes ASCII,
            # names keep their （）
            text = normalize_value(field, text)
            if field.type == "string" and len(text) > field.length:
                raise CellError(_("At most %(max)d characters.", max=field.length))
            failures = run_validators(field, text)
            if failures:
                raise CellError(failure(failures[0]))
            return text
        case "integer" | "decimal":
            number = _number(raw, field.type == "integer")
            failures = run_validators(field, number)
            if failures:
                raise CellError(failure(failures[0]))
            if field.type == "decimal":
                sign, digits, exponent = number.normalize().as_tuple()
                if max(0, -exponent) > field.scale:
                    raise CellError(_("At most %(n)s decimal places.", n=field.scale))
            return number
        case "boolean":
            return _boolean(raw)
        case "date":
            return _date(raw)
        case "datetime":
            return _datetime(raw)
        case "enum":
            parts = [p.strip() for p in re.split(r"[,，、;；]", text_of(raw)) if p.strip()] \
                if field.multiple else [text_of(raw)]
            codes = []
            for part in parts:
                code = dictionaries.code_for_label(field.dictionary, part) or \
                    dictionaries.code_for_label(field.dictionary, half_width(part))
                if code is None:
                    raise CellError(_("'%(value)s' is not in the drop-down list; choose one of its values.",
                                      value=part))
                codes.append(code)
            return codes if field.multiple else codes[0]
        case "tree":
            text = half_width(text_of(raw))
            code = dictionaries.code_for_label(field.dictionary, text) if "/" in text or "-" in text \
                else _tree_leaf(dictionaries, field.dictionary, text)
            if code is None:
                raise CellError(_("'%(value)s' is not in the list; choose it from the drop-down list.", value=text))
            if field.select == "leaf" and not dictionaries.is_leaf(field.dictionary, code):
                raise CellError(_("Please choose down to the last level."))
            refused = level_mismatch(dictionaries, field, code, current_locale())
            if refused:
                raise CellError(_("Choose a %(levels)s; “%(value)s” is a %(level)s.", levels=refused[0],
                                  level=refused[1], value=text))
            return code
        case "reference":
            return text_of(raw)  # a name as typed: （区安委办） stays full-width
        case "geo":
            parts = re.split(r"[,，\s]+", half_width(text_of(raw)))
            try:
                lat, lng = (Decimal(p) for p in parts if p)
            except (ValueError, InvalidOperation):
                raise CellError(_("Write latitude and longitude as '31.85, 119.97'."))
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                raise CellError(_("Write latitude and longitude as '31.85, 119.97'."))
            return (lat, lng)
    raise CellError(_("This column cannot be imported."))


def convert_coordinate(axis: str, raw: Any) -> Decimal | None:
    """One cell of a point's 经度 (``lng``) or 纬度 (``lat``) column: degrees, −180…180 or −90…90."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    limit = 90 if axis == "lat" else 180
    try:
        value = Decimal(str(raw)) if isinstance(raw, (int, float)) and not isinstance(raw, bool) \
            else Decimal(half_width(text_of(raw)).rstrip("°"))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not -limit <= value <= limit:
        if axis == "lat":
            raise CellError(_("Write the latitude in degrees between -90 and 90, e.g. 31.85."))
        raise CellError(_("Write the longitude in degrees between -180 and 180, e.g. 119.97."))
    return value


def _tree_leaf(dictionaries: DictionaryService, dictionary: str, text: str) -> str | None:
    """A tree item by code or by a label that names exactly one item."""
    tree = dictionaries.tree(dictionary)
    if text in tree.nodes:
        return text
    matches = tree.by_label.get(text, [])
    if len(matches) > 1:
        raise CellError(_("'%(value)s' names several items; write the whole path, e.g. %(path)s.", value=text,
                          path=dictionaries.path_label(dictionary, matches[0], sep="/")))
    return matches[0] if matches else None
