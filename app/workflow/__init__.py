"""Workflows from metadata: states, role-guarded transitions, history, to-do lists, inbox, diagrams."""
from __future__ import annotations

from typing import Any

from flask import Flask

from .engine import Outcome, TransitionRefused, Upload, WorkflowEngine
from .guard import WorkflowRefused


def init_app(app: Flask, svc: Any) -> None:
    """The engine for this app (its flush guard runs in the one write path, app/write_path.py)."""
    app.extensions["safety_workflow"] = WorkflowEngine(svc, app.extensions["safety_policy"])
    # the screens sit above this package (app.write_path imports it): imported when the app registers them
    from .views import unread_count
    app.jinja_env.globals["inbox_unread"] = unread_count


__all__ = ["Outcome", "TransitionRefused", "Upload", "WorkflowEngine", "WorkflowRefused", "init_app"]
