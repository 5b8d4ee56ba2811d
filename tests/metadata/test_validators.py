"""The named field validators: which values each accepts and the message a user reads when it refuses one."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import flask
import pytest
from flask_babel import Babel
from pydantic import TypeAdapter
from stdnum.cn import ric, uscc

from app.metadata.spec import FieldSpec
from app.metadata.validators import VALIDATORS, run_validators

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALID_USCC = "91320402MA1N5X6R0" + uscc.calc_check_digit("91320402MA1N5X6R0")
# stdnum's ric.calc_check_digit ignores the last character: it expects a number with its check digit slot
VALID_RIC = "32040219850312123" + ric.calc_check_digit("32040219850312123" + "0")

USCC_MESSAGE = ("Not a valid unified social credit code: 18 characters with a correct GB 32100-2015 "
                "check digit are required.")
MOBILE_MESSAGE = "Not a valid mobile number: 11 digits starting with 1."
PHONE_MESSAGE = "Not a valid telephone number, e.g. 0519-85681234 or 13912345678."
RIC_MESSAGE = "Not a valid resident ID number: 18 characters with a correct GB 11643 check digit are required."
CAS_MESSAGE = "Not a valid CAS number: the check digit does not match (e.g. 67-56-1)."


def flip_check_digit(number: str, alphabet: str) -> str:
    """The same number with another check character, so only the check digit is wrong."""
    return number[:-1] + alphabet[(alphabet.index(number[-1]) + 1) % len(alphabet)]


def field(type_: str, *validators: Any) -> Any:
    """A field descriptor as a register YAML would declare it."""
    return TypeAdapter(FieldSpec).validate_python({
        "name": "value", "label": {"zh": "值", "en": "Value"}, "type": type_, "validators": list(validators)})


def messages(field_: Any, value: Any) -> list[str]:
    return [failure.text() for failure in run_validators(field_, value)]


@pytest.fixture
def english():
    """A request in English, the language of the msgids: no catalogue needed."""
    web = flask.Flask(__name__)
    Babel(web)
    with web.test_request_context():
        yield


@pytest.fixture
def chinese():
    web = flask.Flask(__name__)
    Babel(web, locale_selector=lambda: "zh_Hans")
    with web.test_request_context():
        yield


def test_the_named_validators():
    assert set(VALIDATORS) == {"uscc", "mobile", "phone", "id_card", "cas", "regex", "length", "min", "max",
                               "one_of"}
    assert VALIDATORS["uscc"].types == ("string", "text")
    assert VALIDATORS["min"].types == ("integer", "decimal")


def test_empty_values_are_left_to_required(english):
    code = field("string", "uscc")

    assert messages(code, None) == []
    assert messages(code, "") == []


def test_uscc(english):
    code = field("string", "uscc")
    assert uscc.is_valid(VALID_USCC)

    assert messages(code, VALID_USCC) == []
    assert messages(code, flip_check_digit(VALID_USCC, USCC_ALPHABET)) == [USCC_MESSAGE]
    assert messages(code, VALID_USCC[:-1]) == [USCC_MESSAGE]


def test_uscc_agrees_with_python_stdnum_on_every_kind_of_code(english):
    """The validator takes a shortcut for codes of the stored shape (stdnum's check digit alone): on valid codes,
    each wrong check character, wrong shapes and what people type (small letters, separators, spaces, letters
    outside the alphabet) it says exactly what stdnum's own validation says."""
    import random

    rng = random.Random(32100)
    code = field("string", "uscc")
    tried = accepted = 0
    for _ in range(300):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(
            rng.choice(USCC_ALPHABET) for _ in range(9))
        valid = body + uscc.calc_check_digit(body)
        variants = [valid, valid.lower(), valid[:6] + "-" + valid[6:], " " + valid, valid[:-1], valid + "0",
                    body + "I", body + "O", "A" + valid[1:], valid[:9] + "S" + valid[10:]]
        variants += [valid[:-1] + c for c in USCC_ALPHABET]
        for value in variants:
            expected = [] if uscc.is_valid(value) else [USCC_MESSAGE]
            assert messages(code, value) == expected, value
            tried += 1
            accepted += not expected
    assert tried == 300 * (10 + len(USCC_ALPHABET)) and accepted >= 300 * 2  # each valid one, at least


def test_resident_id(english):
    id_card = field("string", "id_card")

    assert ric.get_birth_place(VALID_RIC)["county"] == "天宁区"

    assert messages(id_card, VALID_RIC) == []
    assert messages(id_card, flip_check_digit(VALID_RIC, "0123456789X")) == [RIC_MESSAGE]


@pytest.mark.parametrize("value, valid", [("67-56-1", True), ("7732-18-5", True), ("67-56-2", False)])
def test_cas(english, value, valid):
    assert messages(field("string", "cas"), value) == ([] if valid else [CAS_MESSAGE])


@pytest.mark.parametrize("value, valid", [
    ("13912345678", True), ("19800001111", True),
    ("12912345678", False), ("1391234567", False), ("139-1234-5678", False),
])
def test_mobile(english, value, valid):
    assert messages(field("string", "mobile"), value) == ([] if valid else [MOBILE_MESSAGE])


@pytest.mark.parametrize("value, valid", [
    ("0519-85681234", True), ("051985681234", True), ("85681234", True), ("010-62345678-123", True),
    ("13912345678", True),
    ("0519-05681234", False), ("12345", False), ("0519 8568 1234", False),
])
def test_phone_takes_a_landline_or_a_mobile(english, value, valid):
    assert messages(field("string", "phone"), value) == ([] if valid else [PHONE_MESSAGE])


def test_regex_matches_the_whole_value_and_says_the_yaml_message(english):
    un_number = field("string", {"regex": {"pattern": r"\d{4}",
                                           "message": {"zh": "UN号为4位数字", "en": "The UN number has 4 digits"}}})

    assert messages(un_number, "1230") == []
    assert messages(un_number, "12300") == ["The UN number has 4 digits"]
    assert messages(un_number, "UN1230") == ["The UN number has 4 digits"]


def test_regex_message_follows_the_request_language(chinese):
    un_number = field("string", {"regex": {"pattern": r"\d{4}",
                                           "message": {"zh": "UN号为4位数字", "en": "The UN number has 4 digits"}}})

    assert messages(un_number, "12300") == ["UN号为4位数字"]


def test_regex_without_a_message(english):
    assert messages(field("string", {"regex": r"\d{5}"}), "1234") == ["Not in the expected format."]


def test_length_counts_characters(english):
    name = field("string", {"length": {"min": 2, "max": 5}})

    assert messages(name, "常州") == []
    assert messages(name, "常") == ["Must have at least 2 characters."]
    assert messages(name, "常州市天宁区") == ["Must have at most 5 characters."]


def test_min_and_max(english):
    employees = field("integer", {"min": 0}, {"max": 1000000})

    assert messages(employees, 0) == []
    assert messages(employees, -1) == ["Must be at least 0."]
    assert messages(employees, 1000001) == ["Must be at most 1000000."]


def test_min_on_a_decimal(english):
    capital = field("decimal", {"min": 0.5})

    assert messages(capital, Decimal("0.50")) == []
    assert messages(capital, Decimal("0.49")) == ["Must be at least 0.5."]


def test_every_failure_is_reported(english):
    code = field("string", "uscc", {"length": {"max": 10}})

    assert messages(code, "91320402MA1N5X6R0X") == [USCC_MESSAGE, "Must have at most 10 characters."]


def test_one_of_accepts_either_and_names_both_when_neither(english):
    # 004 Q12: shops without a business licence give the operator's mobile instead of a USCC
    code = field("string", {"one_of": ["uscc", "mobile"]})

    assert messages(code, VALID_USCC) == []
    assert messages(code, "13912345678") == []
    assert messages(code, "12345") == [
        f"Must be one of: {USCC_MESSAGE.rstrip('.')} / {MOBILE_MESSAGE.rstrip('.')}."]


@pytest.mark.parametrize("name, params, problem", [
    ("uscc", None, None),
    ("uscc", {"strict": True}, "takes no parameters"),
    ("min", 0, None),
    ("min", "0", "needs a number"),
    ("length", {"min": 2}, None),
    ("length", {"least": 2}, "needs {min: N} and/or {max: N}"),
    ("length", {"max": -1}, "min and max must be whole numbers ≥ 0"),
    ("regex", {"pattern": r"^\d{4}$"}, None),
    ("regex", {"pattern": r"^(\d{4}$"}, "pattern is not a valid regular expression"),
    ("regex", {"pattern": r"^\d{4}$", "message": "four digits"}, "message needs {zh: …, en: …}"),
    ("one_of", ["uscc", "mobile"], None),
    ("one_of", ["uscc"], "needs a list of at least two validator names"),
    ("one_of", ["uscc", "qq"], "unknown validator 'qq' in the list"),
])
def test_parameters_are_checked(name, params, problem):
    found = VALIDATORS[name].check_params(params)

    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)
