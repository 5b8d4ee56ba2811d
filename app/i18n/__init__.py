"""The UI language of the current request, and YAML labels rendered in it."""
from __future__ import annotations

from typing import Any

from flask import has_app_context, has_request_context
from flask_babel import LazyString, get_locale

LOCALES = ("zh_Hans", "zh_Hant", "en")
DEFAULT_LOCALE = "zh_Hans"


def current_locale() -> str:
    """'zh_Hans', 'zh_Hant' or 'en' for the current request, or the locale a background job forces (the
    default outside both)."""
    if not has_request_context() and not has_app_context():
        return DEFAULT_LOCALE
    locale = get_locale()
    if locale is None:
        return DEFAULT_LOCALE
    text = str(locale)
    if text.startswith("en"):
        return "en"
    if text.startswith("zh_Hant"):
        return "zh_Hant"
    return "zh_Hans"


def list_separator() -> str:
    """Between the items of an enumeration: 、 in Chinese, a comma in English."""
    return ", " if current_locale() == "en" else "、"


def colon() -> str:
    """After a caption: the full-width ： in Chinese, ': ' in English."""
    return ": " if current_locale() == "en" else "："


def label_text(label: Any) -> str:
    """A descriptor Label in the current language ('' for None)."""
    return label.text(current_locale()) if label is not None else ""


def lazy_label(label: Any) -> LazyString:
    """A string that renders the label in the language of the request that displays it."""
    return LazyString(label_text, label)
