"""The cross-field rule language (rules:): what it computes, what it refuses, and the located errors of
`metadata check` for a register written with mistakes."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.metadata.loader import check_metadata
from app.metadata.rules import RuleError, compile_rule, parse

from .test_loader import BASE

TODAY = date(2026, 12, 2)


def _holds(source: str, **values) -> bool:
    return compile_rule(source).test(values, TODAY)


def test_comparisons_dates_numbers_and_today():
    assert _holds("rectified_on >= found_on", rectified_on=date(2026, 11, 3), found_on=date(2026, 11, 2))
    assert not _holds("rectified_on >= found_on", rectified_on=date(2026, 11, 1), found_on=date(2026, 11, 2))
    assert not _holds("found_on <= today", found_on=date(2026, 12, 3))
    # a datetime compares by its day, integers and decimals as numbers
    assert _holds("checked_at >= found_on", checked_at=datetime(2026, 11, 2, 8, 30), found_on=date(2026, 11, 2))
    assert _holds("stock <= capacity", stock=5, capacity=Decimal("5.0"))
    assert not _holds("stock <= capacity * 0.8", stock=5, capacity=6)


def test_date_arithmetic_lists_and_logic():
    assert _holds("valid_to - valid_from <= 1826", valid_to=date(2031, 12, 1), valid_from=date(2026, 12, 2))
    assert not _holds("valid_to - valid_from <= 1826", valid_to=date(2032, 12, 1), valid_from=date(2026, 12, 2))
    assert _holds("rectify_by <= found_on + 90", rectify_by=date(2027, 1, 1), found_on=date(2026, 12, 1))
    assert _holds("kind not in ['gas', 'oil'] or capacity <= 50", kind="gas", capacity=40)
    assert not _holds("not (kind == 'gas') and capacity <= 50", kind="gas", capacity=40)
    assert _holds("1 <= level <= 4", level=3) and not _holds("1 <= level <= 4", level=5)


def test_an_empty_field_makes_its_comparison_hold():
    assert _holds("rectified_on >= found_on", rectified_on=None, found_on=date(2026, 11, 2))
    assert _holds("a > 1 and b > 1", a=None, b=2)
    assert not _holds("a > 1 and b > 1", a=None, b=0)
    assert compile_rule("valid_to > valid_from and found_on <= today").fields == ("valid_to", "valid_from",
                                                                                   "found_on")


@pytest.mark.parametrize("source", ["__import__('os').system('x')", "row.found_on > 1", "found_on > True",
                                    "[x for x in y]", "a if b else c", "found_on >"])
def test_anything_outside_the_language_is_refused(source):
    with pytest.raises(RuleError):
        parse(source)


def test_metadata_check_locates_each_mistake(tmp_path):
    (tmp_path / "registers").mkdir()
    (tmp_path / "registers" / "depot.yaml").write_text("""\
name: depot
label: {zh: 物资库, en: Depots}
menu: {category: main}
fields:
  - {name: code, label: {zh: 编号, en: Code}, type: string}
  - {name: opened_on, label: {zh: 启用日期, en: Opened on}, type: date}
  - {name: checked_on, label: {zh: 检查日期, en: Checked on}, type: date}
  - {name: capacity, label: {zh: 容量, en: Capacity}, type: integer}
  - {name: photo, label: {zh: 照片, en: Photo}, type: image}
rules:
  - {left: checked_on, op: ">=", right: opend_on, message: {zh: 检查日期不能早于启用日期, en: Checked before opened}}
  - {left: capacity, op: ">", right: today, message: {zh: 容量, en: Capacity}}
  - {expr: "open(capacity)", message: {zh: 错, en: Wrong}}
  - {expr: "code < 'A'", message: {zh: 错, en: Wrong}}
  - {expr: "photo == 'x'", message: {zh: 错, en: Wrong}}
  - {left: checked_on, op: ">=", right: opened_on, field: code, message: {zh: 错, en: Wrong}}
  - {left: checked_on, op: ">=", message: {zh: 错, en: Wrong}}
""", encoding="utf-8")
    _, issues = check_metadata([BASE, tmp_path])
    found = [(i.line, i.id) for i in issues]
    assert found == [(11, "E121"), (12, "E122"), (13, "E120"), (14, "E122"), (15, "E121"), (16, "E123"),
                     (17, "E012")], [str(i) for i in issues]
    assert "did you mean 'opened_on'" in str(issues[0])
    assert "compares a number with a date" in issues[1].message
