"""Deadline warnings (预警): a row whose deadline has passed while its workflow still runs is announced once in the
inbox of the users who are to act on it next. They are one case of the warnings of app.alerts — each `deadline` of a
workflow register implies a warning (app.metadata.alerts.deadline_warnings) — so this module only keeps the
names the beat schedule and `flask workflow deadlines` have always used. The list colours the same rows red
(formatting.deadline_status)."""
from __future__ import annotations

from datetime import date

from celery import shared_task

from app.alerts import mail_after_scan, scan


def scan_deadlines(today: date | None = None) -> int:
    """Compute every warning (the deadlines' among them); returns how many messages were written."""
    result = scan(today)
    mail_after_scan(result)
    return result.messages


@shared_task(name="workflow.deadline_warnings")
def deadline_warnings() -> int:
    return scan_deadlines()
