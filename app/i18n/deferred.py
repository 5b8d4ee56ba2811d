"""Texts that are shown now in the current language and can be shown again later in another one.

A background import runs in the language of the user who started it, but its report is read later, maybe after
the user switched language. The import's messages are therefore ``Text`` values: a ``str`` rendered now (so all
code that formats, joins or writes them keeps working) that also remembers what it was made of — a catalogue
msgid and its parameters, a YAML label's three texts, or a list of such parts. ``freeze`` turns one into JSON
(stored with the job); ``render`` makes the text again in the language of the request that shows it.

    message = gettext("Duplicate of row %(row)s of this file (%(what)s).", row=3, what=label(field.label))
    stored = freeze(message)      # {"m": "Duplicate of row …", "p": {"row": 3, "what": {"l": {...}}}}
    render(stored)                # the same message in the current language
"""
from __future__ import annotations

from typing import Any, Iterable

from flask_babel import LazyString, gettext as _gettext

from . import LOCALES, current_locale, list_separator as separator


class Text(str):
    """A rendered text that keeps its source (see the module's docstring)."""

    source: Any

    def __new__(cls, rendered: str, source: Any) -> "Text":
        text = super().__new__(cls, rendered)
        text.source = source
        return text

    def __reduce__(self) -> tuple:
        return Text, (str(self), self.source)   # pickled (a child process's report) with its source


def gettext(msgid: str, **params: Any) -> Text:
    """flask_babel's gettext, remembering the msgid and the parameters."""
    return Text(_gettext(msgid, **params), {"m": msgid, "p": {k: freeze(v) for k, v in params.items()}})


def label(value: Any) -> Text:
    """A YAML label (app.metadata.spec.Label) in the current language, remembering its three texts."""
    texts = {locale: value.text(locale) for locale in LOCALES}
    return Text(texts[current_locale()], {"l": texts})


def join(parts: Iterable[Any]) -> Text:
    """Items joined with the current language's separator, each re-rendered later."""
    items = list(parts)
    return Text(separator().join(str(p) for p in items), {"j": [freeze(p) for p in items]})


def failure(refused: Any) -> Text:
    """A validator's Failure (app.metadata.validators) as a Text: its lazy message, YAML label or list of
    alternatives, and its parameters."""
    return Text(refused.text(), _failure_source(refused))


def _failure_source(refused: Any) -> Any:
    return {**_source(refused.message), "p": {k: _source(v) for k, v in (refused.params or {}).items()}} \
        if isinstance(refused.message, LazyString) else _source(refused.message)


def _source(value: Any) -> Any:
    if isinstance(value, LazyString) and value._args:
        return {"m": value._args[0], "p": {k: freeze(v) for k, v in (value._kwargs or {}).items()}}
    if hasattr(value, "failures"):  # alternatives ('one of'): each re-rendered, joined as the validator does
        return {"j": [_failure_source(f) for f in value.failures], "s": " / ", "t": "。."}
    if hasattr(value, "label") and hasattr(value.label, "text"):
        return {"l": {locale: value.label.text(locale) for locale in LOCALES}}
    return freeze(value)


def freeze(value: Any) -> Any:
    """The JSON form of a Text (a plain value is kept as it is)."""
    if isinstance(value, Text):
        return value.source
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def render(frozen: Any) -> Any:
    """A frozen text made again in the current language (anything else is returned unchanged)."""
    if not isinstance(frozen, dict):
        return frozen
    if "m" in frozen:
        return _gettext(frozen["m"], **{k: render(v) for k, v in (frozen.get("p") or {}).items()})
    if "l" in frozen:
        texts = frozen["l"]
        return texts.get(current_locale()) or next(iter(texts.values()), "")
    if "j" in frozen:
        parts = (str(render(part)).rstrip(frozen.get("t", "")) for part in frozen["j"])
        return frozen.get("s", separator()).join(parts)
    return frozen
