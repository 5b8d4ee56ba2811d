"""The subscriptions' snapshots (Celery beat, hourly: each subscription is taken once per day or month, on the
app's day — app.clock — so a demonstration or a test may move it)."""
from __future__ import annotations

from celery import shared_task
from flask import current_app

from app import clock


@shared_task(name="charts.subscriptions")
def take_snapshots() -> int:
    """The snapshots due today; returns how many were taken (0 on a second run the same day)."""
    return current_app.extensions["chart_subscriptions"].take_due(clock.today())
