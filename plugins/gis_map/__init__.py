"""The GIS resource map plugin (资源地图, 001 三§1.1, 004 Q3/Q32): every register with a geo field and a `map:`
block is a layer; radius and keyword search, jurisdiction boundaries, self-reported positions, inspection
position checks, the four-colour risk map. Leaflet and its plugins are served by the app (npm), never a CDN.
Entry point: init_app(app, registry) (the contract: app/plugins.py, docs/plugins.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def init_app(app: Any, registry: Any) -> None:
    """The map service, its screens, its static files and the menu permissions of the roles that may use them."""
    from flask import Blueprint

    from app.plugins import grant_permissions

    from .service import MapService
    from .views import register_views

    svc = app.extensions["safety"]
    app.extensions["gis_map"] = MapService(svc, float(app.config.get("GIS_LOCATION_THRESHOLD_KM", 1.0)))
    app.register_blueprint(Blueprint("gis_map_static", __name__, static_folder=str(ROOT / "static"),
                                     static_url_path="/gis_map/static"))
    register_views(app.appbuilder, registry)
    grant_permissions(app, menu_permissions(registry))


def menu_permissions(registry: Any) -> dict[str, set[tuple[str, str]]]:
    """Each role's menu entries: the map for a reader of any layer, 上报位置 for the enterprise role that may
    edit the self-report register, 未上报位置 for its regulator readers, 位置核验 for readers of a distance_to
    layer."""
    granted: dict[str, set[tuple[str, str]]] = {}

    def grant(role: str, entry: str, category: str) -> None:
        granted.setdefault(role, set()).update({("menu_access", entry), ("menu_access", category)})

    for spec in registry.registers.values():
        if not spec.map_point:
            continue
        for rule in spec.access:
            for role in rule.roles:
                kind = registry.roles[role].kind if role in registry.roles else "regulator"
                if "view" in rule.action_set:
                    grant(role, "menu_gis_map", "emergency")
                if spec.map.self_report and kind == "enterprise" and "edit" in rule.action_set:
                    grant(role, "menu_gis_position", "basic_info")
                if spec.map.self_report and kind != "enterprise" and "view" in rule.action_set:
                    grant(role, "menu_gis_unreported", "basic_info")
                if spec.map.distance_to and kind != "enterprise" and "view" in rule.action_set:
                    grant(role, "menu_gis_checks", "enforcement")
    return granted
