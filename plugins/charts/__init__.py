"""The charts plugin: statistical charts and dashboards declared in YAML (metadata/charts, metadata/dashboards),
computed in the database within the user's row scope, drawn with ECharts, exported to Excel, drilled down to the
register's list. Entry point: init_app(app, registry) (the contract: app/plugins.py, docs/plugins.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def init_app(app: Any, registry: Any) -> None:
    """Check the charts and dashboards against the registry, add the screens, the home panel and permissions."""
    from app.plugins import add_home_panel, grant_permissions

    from .service import ChartService
    from .settings import read_charts
    from .views import home_panel, register_views

    charts = read_charts(ROOT / "metadata", registry)
    app.extensions["charts"] = ChartService(app.extensions["safety"], app.extensions["safety_policy"], charts)
    pages = [b for b in charts.dashboards.values() if not b.home]
    register_views(app.appbuilder, pages)
    add_home_panel(app, home_panel)
    # the charts' menu is offered to every role (each page shows only the charts whose register the user may
    # open); a dashboard's entry to the roles it names
    menus = {("menu_access", "menu_charts"), ("menu_access", "statistics")}
    grant_permissions(app, {role: menus | {("menu_access", f"menu_dashboard_{b.name}") for b in pages
                                           if not b.roles or role in b.roles}
                            for role in registry.roles})
