"""The named field validators a descriptor may use: which types take them, their parameters, the rule."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from stdnum import casrn
from stdnum.cn import ric, uscc

from app.i18n import current_locale

from .normalise import normalise
from .spec import Label

TEXT_TYPES = ("string", "text")
NUMBER_TYPES = ("integer", "decimal")

MOBILE = re.compile(r"^1[3-9]\d{9}$")
PHONE = re.compile(r"^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$")
#: a USCC as the normalised cell or form holds it (GB 32100-2015: 8 digits, then 10 of python-stdnum's alphabet)
USCC_SHAPE = re.compile(r"[0-9]{8}[0-9ABCDEFGHJKLMNPQRTUWXY]{10}")


@dataclass(frozen=True)
class Failure:
    """Why a value was refused: a translatable message and its %-parameters."""

    message: Any
    params: dict[str, Any]

    def text(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


@dataclass(frozen=True)
class ValidatorKind:
    name: str
    types: tuple[str, ...]
    #: returns a problem with the parameters (str) or None
    check_params: Callable[[Any], str | None]
    #: returns a Failure or None
    run: Callable[[Any, Any], Failure | None]


def _no_params(params: Any) -> str | None:
    return None if params in (None, {}, True) else "takes no parameters"


def _number_param(params: Any) -> str | None:
    return None if isinstance(params, (int, float)) and not isinstance(params, bool) else "needs a number"


def _length_params(params: Any) -> str | None:
    if not isinstance(params, dict) or not params or set(params) - {"min", "max"}:
        return "needs {min: N} and/or {max: N}"
    if any(not isinstance(v, int) or v < 0 for v in params.values()):
        return "min and max must be whole numbers ≥ 0"
    return None


def _regex_params(params: Any) -> str | None:
    if isinstance(params, str):
        params = {"pattern": params}
    if not isinstance(params, dict) or "pattern" not in params or set(params) - {"pattern", "message"}:
        return "needs {pattern: '…'} and optionally message: {zh: …, en: …}"
    if not isinstance(params["pattern"], str):
        return "pattern must be a quoted text"
    try:
        re.compile(params["pattern"])
    except re.error as exc:
        return f"pattern is not a valid regular expression ({exc})"
    message = params.get("message")
    if message is not None and not (isinstance(message, dict) and {"zh", "en"} <= set(message)
                                    and set(message) <= {"zh", "en", "zh_Hant"}):
        return "message needs {zh: …, en: …} (and optionally zh_Hant), nothing else"
    return None


def _one_of_params(params: Any) -> str | None:
    if not isinstance(params, list) or len(params) < 2:
        return "needs a list of at least two validator names, e.g. [uscc, mobile]"
    unknown = [p for p in params if p not in SIMPLE]
    return f"unknown validator '{unknown[0]}' in the list" if unknown else None


def _uscc(value: Any, _: Any) -> Failure | None:
    text = str(value)
    # A code of the right shape needs only stdnum's check digit: its full validate strips separators twice, one
    # character at a time (a third of an enterprise import's checks). Anything else goes through validate.
    if USCC_SHAPE.fullmatch(text) and uscc.calc_check_digit(text[:17]) == text[17] or uscc.is_valid(text):
        return None
    return Failure(_l("Not a valid unified social credit code: 18 characters with a correct "
                      "GB 32100-2015 check digit are required."), {})


def _mobile(value: Any, _: Any) -> Failure | None:
    return None if MOBILE.match(str(value)) else Failure(
        _l("Not a valid mobile number: 11 digits starting with 1."), {})


def _phone(value: Any, _: Any) -> Failure | None:
    text = str(value)
    return None if PHONE.match(text) or MOBILE.match(text) else Failure(
        _l("Not a valid telephone number, e.g. 0519-85681234 or 13912345678."), {})


def _id_card(value: Any, _: Any) -> Failure | None:
    return None if ric.is_valid(str(value)) else Failure(
        _l("Not a valid resident ID number: 18 characters with a correct GB 11643 check digit are required."), {})


def _cas(value: Any, _: Any) -> Failure | None:
    return None if casrn.is_valid(str(value)) else Failure(
        _l("Not a valid CAS number: the check digit does not match (e.g. 67-56-1)."), {})


def _as_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _min(value: Any, limit: Any) -> Failure | None:
    number = _as_decimal(value)
    return None if number is None or number >= Decimal(str(limit)) else Failure(
        _l("Must be at least %(limit)s."), {"limit": limit})


def _max(value: Any, limit: Any) -> Failure | None:
    number = _as_decimal(value)
    return None if number is None or number <= Decimal(str(limit)) else Failure(
        _l("Must be at most %(limit)s."), {"limit": limit})


def _length(value: Any, params: dict[str, Any]) -> Failure | None:
    size = len(str(value))
    low, high = params.get("min"), params.get("max")
    if low is not None and size < low:
        return Failure(_l("Must have at least %(min)s characters."), {"min": low})
    if high is not None and size > high:
        return Failure(_l("Must have at most %(max)s characters."), {"max": high})
    return None


def _regex(value: Any, params: Any) -> Failure | None:
    if isinstance(params, str):
        params = {"pattern": params}
    if re.fullmatch(params["pattern"], str(value)):
        return None
    message = params.get("message")
    if message:
        return Failure(_LabelText(Label(**message)), {})
    return Failure(_l("Not in the expected format."), {})


class _LabelText:
    """A YAML-given message that renders in the current UI language."""

    def __init__(self, label: Label):
        self.label = label

    def __str__(self) -> str:
        return self.label.text(current_locale())


def _one_of(value: Any, names: list[str]) -> Failure | None:
    failures = []
    for name in names:
        failure = SIMPLE[name].run(value, None)
        if failure is None:
            return None
        failures.append(failure)
    return Failure(_l("Must be one of: %(choices)s."),
                   {"choices": _Joined([f for f in failures])})


class _Joined:
    def __init__(self, failures: list[Failure]):
        self.failures = failures

    def __str__(self) -> str:
        return " / ".join(f.text().rstrip("。.") for f in self.failures)


SIMPLE: dict[str, ValidatorKind] = {
    "uscc": ValidatorKind("uscc", TEXT_TYPES, _no_params, _uscc),
    "mobile": ValidatorKind("mobile", TEXT_TYPES, _no_params, _mobile),
    "phone": ValidatorKind("phone", TEXT_TYPES, _no_params, _phone),
    "id_card": ValidatorKind("id_card", TEXT_TYPES, _no_params, _id_card),
    "cas": ValidatorKind("cas", TEXT_TYPES, _no_params, _cas),
}

VALIDATORS: dict[str, ValidatorKind] = {
    **SIMPLE,
    "regex": ValidatorKind("regex", TEXT_TYPES, _regex_params, _regex),
    "length": ValidatorKind("length", TEXT_TYPES, _length_params, _length),
    "min": ValidatorKind("min", NUMBER_TYPES, _number_param, _min),
    "max": ValidatorKind("max", NUMBER_TYPES, _number_param, _max),
    "one_of": ValidatorKind("one_of", TEXT_TYPES, _one_of_params, _one_of),
}


def normalize_value(field: Any, value: Any) -> Any:
    """The value as it is checked and stored (app/metadata/normalise.py: ``normalise:`` or the type's default)."""
    return normalise(field, value)


def run_validators(field: Any, value: Any) -> list[Failure]:
    """Every failure of ``value`` against the field's declared validators (empty values pass)."""
    if value is None or value == "":
        return []
    failures = []
    for ref in field.validators:
        failure = VALIDATORS[ref.name].run(value, ref.params)
        if failure:
            failures.append(failure)
    return failures
