"""Today's date for the date conditions of warnings and deadlines: the calendar, unless the config freezes it.

`TODAY` (a date or an ISO string) fixes the day for one process; `TODAY_FILE` names a file holding an ISO date,
read at each call, so that a test (or a trainer's demonstration) moves the day of the web process and of a running
Celery worker at once, without restarting either. Production sets neither."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import current_app, has_app_context


def today() -> date:
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
