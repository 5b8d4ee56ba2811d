"""The day-before reminder of a 云核查 appointment, run by a real Celery worker as Celery beat schedules it: both
parties find it in their inbox, once; an account of the next county does not."""
from __future__ import annotations

from datetime import datetime, timedelta

from app.security.actor import acting_as
from tests.conftest import truncate_registers
from tests.workflow.helpers import client_for, inbox

from .conftest import build_world


def test_the_beat_task_reminds_both_parties_once(worker_app, celery_worker) -> None:
    truncate_registers(worker_app)
    tomorrow = (datetime.now() + timedelta(days=1)).replace(hour=9, minute=30, second=0, microsecond=0)
    with worker_app.app_context():
        world = build_world(worker_app)
        regulator, company = world.actor(world.regulator), world.actor(world.enterprise_user)
        with acting_as(regulator):
            world.checks.propose(world.application, regulator, tomorrow)
        with acting_as(company):
            world.checks.confirm(world.application, company)

    celery = worker_app.extensions["celery"]
    # Celery beat sends this task every hour (plugins/video_check/__init__.py)
    entry = celery.conf.beat_schedule["video-check-reminders"]
    assert entry["task"] == "video_check.reminders" and entry["schedule"] == 3600.0
    celery_worker.wait_ready()
    task = celery.tasks[entry["task"]]
    assert task.delay().get(timeout=60) == 2
    assert task.delay().get(timeout=60) == 0  # each appointment is reminded once
    expected = f"明天 {tomorrow:%Y-%m-%d %H:%M} 云核查"
    assert expected in inbox(client_for(worker_app, world.logins["enterprise"]))
    assert expected in inbox(client_for(worker_app, world.logins["regulator"]))
    assert expected not in inbox(client_for(worker_app, world.logins["away"]))
