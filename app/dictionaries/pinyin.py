"""Pinyin spellings of dictionary labels, so pickers find 春江街道 by 'chunjiang' or 'cjjd'."""
from __future__ import annotations


def spellings(label: str) -> tuple[str, str]:
    """(full pinyin, initials) of a Chinese label, lower case without spaces: 春江街道 → ('chunjiangjiedao', 'cjjd')."""
    from pypinyin import Style, lazy_pinyin  # 0.27 s to import: only when a picker first searches by pinyin
    syllables = lazy_pinyin(label)
    initials = lazy_pinyin(label, style=Style.FIRST_LETTER)
    return "".join(syllables).lower(), "".join(initials).lower()


def matches_spelling(text: str, spelled: tuple[str, str]) -> bool:
    """Typed Latin letters match the full pinyin or the initials anywhere ('jiangsu', 'cj', 'xbq')."""
    full, initials = spelled
    return text in full or text in initials


def is_latin(text: str) -> bool:
    return text.isascii() and any(c.isalpha() for c in text)
