"""Today's date for the date conditions of warnings and deadlines: the calendar, unless the config freezes it.

`TODAY` (a date or an ISO string) fixes the day for one process; `TODAY_FILE` names a file holding an ISO date,
read at each call, so that a test (or a trainer's demonstration) moves the day of the web process and of a running
Celery worker at once, without restarting either. Production sets neither. `as_of(day)` computes a block as of
another day (a subscription's daily report counts the day that ended)."""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Iterator

from flask import current_app, has_app_context

_as_of: ContextVar[date | None] = ContextVar("clock_as_of", default=None)


@contextlib.contextmanager
def as_of(day: date) -> Iterator[None]:
    """Inside the block, today() is ``day``."""
    token = _as_of.set(day)
    try:
        yield
    finally:
        _as_of.reset(token)


def today() -> date:
    pinned = _as_of.get()
    if pinned is not None:
        return pinned
    if not has_app_context():
        return date.today()
    fixed = current_app.config.get("TODAY")
    if fixed:
        return fixed if isinstance(fixed, date) else date.fromisoformat(str(fixed))
    path = current_app.config.get("TODAY_FILE")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        if text:
            return date.fromisoformat(text)
    return date.today()
