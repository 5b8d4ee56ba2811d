"""Warnings (预警) declared in metadata/warnings/: computed in SQL by Celery beat and after the rows they watch
change, listed in the user's scope, told in the inbox (and by e-mail), closed by their cause or by a regulator."""
from __future__ import annotations

import logging

from celery import shared_task
from flask import Flask, current_app
from sqlalchemy.orm import Session

from app.security.actor import current_actor
from app.security.row_scope import register_of
from app.services import services

from .scan import ScanResult, mail_after_scan, recheck, scan

log = logging.getLogger(__name__)
_TOUCHED = "warnings_touched"


@shared_task(name="warnings.scan")
def scan_task() -> int:
    """Every warning over every row (beat, hourly); returns the messages written."""
    result = scan()
    mail_after_scan(result)
    return result.messages


@shared_task(name="warnings.recheck")
def recheck_task(register: str, row_ids: list[int]) -> int:
    result = recheck(register, row_ids)
    mail_after_scan(result)
    return result.messages


def touched(session: Session) -> None:
    """After a flush (app.write_path): remember the rows a user changed of registers that warnings watch.
    The system's own writes (the command line, demo data, migrations) wait for the next scan."""
    actor = current_actor()
    if actor is None or actor.is_anonymous:
        return
    registry = services().registry
    found = session.info.setdefault(_TOUCHED, {})
    for obj in (*session.new, *session.dirty, *session.deleted):
        spec = register_of(obj)
        if spec is not None and obj.id is not None and registry.warnings_of(spec.name):
            found.setdefault(spec.name, set()).add(obj.id)


def queue_rechecks(session: Session) -> None:
    """After the commit: one recheck task per register whose watched rows changed (inline when Celery is)."""
    found = session.info.pop(_TOUCHED, None)
    for register, ids in (found or {}).items():
        try:
            # this app's Celery (inline on the embedded default), not the process's last-made default
            current_app.extensions["celery"].tasks["warnings.recheck"].apply_async(args=(register, sorted(ids)))
        except Exception:  # the write is committed: a warning missed now is found by the next scan
            log.exception("warnings of %s not rechecked", register)


def forget(session: Session) -> None:
    """After a rollback: nothing changed."""
    session.info.pop(_TOUCHED, None)


def init_app(app: Flask) -> None:
    # the screens sit above this package (app.write_path imports it): imported when the app registers them
    from .views import WarningView, open_counts
    app.appbuilder.add_view_no_menu(WarningView())
    app.jinja_env.globals["warning_counts"] = open_counts


__all__ = ["ScanResult", "init_app", "mail_after_scan", "queue_rechecks", "recheck", "scan", "touched"]
