"""Simplified → Traditional Chinese with OpenCC (phrase-level, Taiwan character forms)."""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from functools import lru_cache

import opencc

# s2tw converts characters and phrases to Taiwan standard forms without swapping vocabulary;
# s2twp also rewrites words (代码 → 程式碼, 发布 → 釋出), which reads wrong in a regulator's UI.
DEFAULT_CONFIG = "s2tw"


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC(os.environ.get("OPENCC_CONFIG", DEFAULT_CONFIG))


@lru_cache(maxsize=65536)
def to_traditional(text: str) -> str:
    """Traditional Chinese form of ``text`` (ASCII passes through unchanged)."""
    if not text or text.isascii():
        return text
    return _converter().convert(text)


def release() -> None:
    """Free OpenCC's dictionaries once the metadata is loaded.

    The converter holds about 43 MB of phrase tables, needed only while labels are derived (loading the
    metadata, syncing dictionaries); a server or worker would otherwise carry them for its whole life. The next
    conversion loads them again. glibc keeps freed memory in its arenas, so it is handed back explicitly."""
    if not _converter.cache_info().currsize:
        return
    _converter.cache_clear()
    gc.collect()
    libc = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None
    if trim is not None:
        trim(0)
