"""The random draw plugin (双随机一公开): draw enterprises and inspectors reproducibly, confirm the draw into
inspections, publish it. Entry point: init_app(app, registry) (the contract: app/plugins.py, docs/plugins.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def init_app(app: Any, registry: Any) -> None:
    """Check draw.yaml against the registry, add the draw table, the screens and their permissions."""
    from flask import Blueprint

    from app.plugins import grant_permissions

    from .models import build_draw_table
    from .service import DrawService
    from .settings import read_settings
    from .views import register_views

    settings = read_settings(ROOT / "metadata" / "draw.yaml", registry)
    svc = app.extensions["safety"]
    app.extensions["random_draw"] = DrawService(svc, settings, build_draw_table(svc.models.metadata))
    inspection = registry.register(settings.inspection.target)
    category = inspection.menu.category if inspection.menu else "enforcement"
    app.register_blueprint(Blueprint("random_draw_static", __name__, static_folder=str(ROOT / "static"),
                                     static_url_path="/random_draw/static"))
    register_views(app.appbuilder, registry, category)
    drawing_roles = {role for rule in inspection.access if "add" in rule.action_set for role in rule.roles}
    grant_permissions(app, {role: {("menu_access", "menu_random_draw"), ("menu_access", category)}
                            for role in drawing_roles})


def after_migrate(app: Any, echo: Any) -> None:
    """On PostgreSQL, compress the draw records with lz4 rather than the default pglz: a million-enterprise pool's
    record is about 8 MB, written in 0.07 s instead of 0.33 s (measured; bench/draw.py). Existing values stay as
    they are; a server built without lz4 keeps pglz (said so)."""
    from sqlalchemy import text

    svc = app.extensions["safety"]
    with svc.db.engine.begin() as conn:
        if conn.dialect.name != "postgresql":
            return
        current = conn.execute(text("SELECT attcompression FROM pg_attribute WHERE attrelid = "
                                    "'plugin_random_draw'::regclass AND attname = 'record'")).scalar()
        if current == "l":
            return
        try:
            with conn.begin_nested():
                conn.execute(text("ALTER TABLE plugin_random_draw ALTER COLUMN record SET COMPRESSION lz4"))
            echo("Draw records: compressed with lz4.")
        except Exception as exc:  # noqa: BLE001 - a server without lz4: the records stay on pglz, slower to write
            echo(f"Draw records: lz4 compression unavailable ({exc.__class__.__name__}); pglz kept.")
