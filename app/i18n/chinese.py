"""Simplified → Traditional Chinese (Taiwan) with OpenCC's phrase-level s2twp configuration plus reviewed overrides.

s2twp converts characters to Taiwan forms *and* swaps mainland vocabulary for Taiwan's (用户 → 使用者,
信息 → 資訊, 联系电话 → 聯絡電話, 默认 → 預設, 视频 → 影片). Where that swap reads wrong in a regulator's UI
(审核 → 稽核, 类型 → 型別, 代码 → 程式碼) or misses a Taiwan usage (平臺 → 平台), the phrase overrides in
translations/zh_Hant_overrides.yaml correct it. The same function derives the UI catalogue and the YAML labels,
so both read alike.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from functools import lru_cache
from pathlib import Path

import opencc
import yaml

DEFAULT_CONFIG = "s2twp"
OVERRIDES = Path(__file__).resolve().parents[2] / "translations" / "zh_Hant_overrides.yaml"


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC(os.environ.get("OPENCC_CONFIG", DEFAULT_CONFIG))


@lru_cache(maxsize=1)
def overrides() -> dict:
    """{'phrases': {traditional: corrected}, 'messages': {msgid: zh_Hant}} from the reviewed YAML file."""
    data = yaml.safe_load(OVERRIDES.read_text(encoding="utf-8")) if OVERRIDES.exists() else {}
    data = data or {}
    return {"phrases": dict(data.get("phrases") or {}), "messages": dict(data.get("messages") or {})}


def _phrase_fixes() -> list[tuple[str, str]]:
    return sorted(overrides()["phrases"].items(), key=lambda item: -len(item[0]))


@lru_cache(maxsize=65536)
def to_traditional(text: str) -> str:
    """Taiwan Traditional form of ``text`` (ASCII passes through unchanged)."""
    if not text or text.isascii():
        return text
    converted = _converter().convert(text)
    for wrong, right in _phrase_fixes():
        converted = converted.replace(wrong, right)
    return converted


def release() -> bool:
    """Free OpenCC's dictionaries once the metadata is loaded.

    The converter holds tens of MB of phrase tables, needed only while labels are derived (loading the
    metadata, syncing dictionaries); a server or worker would otherwise carry them for its whole life. The next
    conversion loads them again. glibc keeps freed memory in its arenas, so it is handed back explicitly. True when
    a garbage collection ran."""
    if not _converter.cache_info().currsize:
        return False
    _converter.cache_clear()
    gc.collect()
    libc = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None
    if trim is not None:
        trim(0)
    return True
