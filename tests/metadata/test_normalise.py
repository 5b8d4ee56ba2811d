"""Typed text normalised before it is checked (normalise:): the defaults by type and validator, a declared list,
and the shipped enterprise's codes typed with a Chinese input method."""
from __future__ import annotations

from app.metadata.normalise import normalise, steps_of
from app.metadata.spec import StringField, TextField

from app.metadata.loader import load_registry

from .test_loader import SHIPPED


def load_shipped():
    return load_registry([SHIPPED])


def _string(**options) -> StringField:
    return StringField(name="code", label={"zh": "编号", "en": "Code"}, type="string", **options)


def test_codes_become_half_width_without_spaces_and_in_capitals():
    registry = load_shipped()
    uscc = registry.register("enterprise").field("uscc")
    mobile = registry.register("enterprise").field("safety_manager_mobile")
    assert normalise(uscc, " ９１３２０４１１ｍａ１ｍｇｎｅ３ｘ７ｈ ") == "91320411MA1MGNE3X7H"
    assert normalise(mobile, "１３９ １２３４ ５６７８") == "13912345678"
    un_number = registry.register("chemical").field("un_number")
    assert normalise(un_number, " １００５ ") == "1005"


def test_names_keep_their_full_width_brackets_and_text_keeps_its_lines():
    name = _string()
    assert steps_of(name) == ("trim", "collapse_spaces")
    assert normalise(name, "  常州华锦（集团）   有限公司 ") == "常州华锦（集团） 有限公司"
    text = TextField(name="facts", label={"zh": "事实", "en": "Facts"}, type="text")
    assert normalise(text, " 第一行\n第二行  ") == "第一行\n第二行"


def test_a_regex_with_capitals_only_upper_cases_and_a_declared_list_replaces_the_default():
    plate = _string(validators=[{"regex": {"pattern": "^[A-Z]{2}[0-9]{4}$"}}])
    assert normalise(plate, "ｊｓ １２３４") == "JS 1234"
    assert steps_of(_string(validators=[{"regex": "^[a-zA-Z]+$"}])) == ("nfkc", "trim", "collapse_spaces")
    assert normalise(_string(normalise=["upper", "no_spaces", "nfkc"]), "苏Ｄ １２３４５") == "苏D12345"
    assert normalise(_string(normalise=[]), " Ａ ") == " Ａ "
