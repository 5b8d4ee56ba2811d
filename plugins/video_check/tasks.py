"""The reminder of the day before (Celery beat, hourly; each appointment is reminded once)."""
from __future__ import annotations

from datetime import date

from celery import shared_task
from flask import current_app


@shared_task(name="video_check.reminders")
def reminders() -> int:
    return current_app.extensions["video_check"].due_reminders(date.today())
