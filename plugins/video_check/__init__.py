"""The cloud verification plugin (云核查, seed 000): appointment, signed 承诺书, a WebRTC call between the regulator
and the enterprise of one licence application with the check items recorded beside it, photo evidence when the
call does not hold, rectification and resumption. Entry point: init_app(app, registry) (docs/plugins.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def init_app(app: Any, registry: Any) -> None:
    """Check video_check.yaml against the registry; add the table, the screens, the socket, the reminder."""
    from app.plugins import add_row_links, add_todo_source, grant_permissions

    from . import tasks  # noqa: F401  (registers the reminder task)
    from .models import build_check_table
    from .service import VideoCheckService
    from .settings import read_settings
    from .signalling import make_hub
    from .views import register_views, row_links, todo_entries

    settings = read_settings(ROOT / "metadata" / "video_check.yaml", registry)
    svc = app.extensions["safety"]
    app.extensions["video_check"] = service = VideoCheckService(svc, settings, build_check_table(svc.models.metadata))
    app.extensions["video_check_hub"] = make_hub(app.config)
    spec = registry.register(settings.application.target)
    category = spec.menu.category if spec.menu else "licensing"
    register_views(app, registry, category)
    add_row_links(app, row_links)
    add_todo_source(app, todo_entries)
    parties = service.regulator_roles() | set(settings.enterprise_roles)
    grant_permissions(app, {role: {("menu_access", "menu_video_check"), ("menu_access", category)}
                            for role in parties})
    celery = dict(app.config.get("CELERY") or {})
    celery["beat_schedule"] = {**celery.get("beat_schedule", {}),
                               "video-check-reminders": {"task": "video_check.reminders", "schedule": 3600.0}}
    app.config["CELERY"] = celery
