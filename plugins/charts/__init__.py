"""The charts plugin: statistical charts and dashboards declared in YAML (metadata/charts, metadata/dashboards),
computed in the database within the user's row scope, drawn with ECharts, exported to Excel, drilled down to the
register's list. Entry point: init_app(app, registry) (the contract: app/plugins.py, docs/plugins.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent


def init_app(app: Any, registry: Any) -> None:
    """Check the charts and dashboards against the registry, add the screens, the home panel and permissions, the
    subscriptions (their tables, pages, inbox link and beat task)."""
    from app.plugins import add_account_link, add_home_panel, add_message_link, grant_permissions

    from . import tasks  # noqa: F401  (registers the subscriptions' task)
    from .service import ChartService
    from .settings import read_charts
    from .subscription_views import ACCOUNT_LINK, MENU, register_subscription_views, snapshot_url
    from .subscriptions import MESSAGE_KIND, SubscriptionService, build_tables
    from .views import home_panel, register_views

    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        _sqlite_functions(app)
    charts = read_charts(ROOT / "metadata", registry)
    app.extensions["charts"] = service = ChartService(app.extensions["safety"], app.extensions["safety_policy"],
                                                      charts)
    app.extensions["chart_subscriptions"] = SubscriptionService(service, *build_tables(
        app.extensions["safety"].models.metadata))
    pages = [b for b in charts.dashboards.values() if not b.home]
    register_views(app.appbuilder, pages)
    register_subscription_views(app.appbuilder)
    add_home_panel(app, home_panel)
    add_message_link(app, MESSAGE_KIND, snapshot_url)
    add_account_link(app, ACCOUNT_LINK)
    # the charts' menu is offered to every role (each page shows only the charts whose register the user may
    # open); a dashboard's entry to the roles it names; 系统订阅 to the roles some dashboard names
    menus = {("menu_access", "menu_charts"), ("menu_access", "statistics")}
    subscribing = {role for role in registry.roles
                   if any(not b.roles or role in b.roles for b in charts.dashboards.values())}
    grant_permissions(app, {role: menus | {("menu_access", f"menu_dashboard_{b.name}") for b in pages
                                           if not b.roles or role in b.roles}
                            | ({("menu_access", MENU)} if role in subscribing else set())
                            for role in registry.roles})
    celery = dict(app.config.get("CELERY") or {})
    # hourly: each subscription is taken once per day or month (the first run of the day takes it; a run missed
    # while the worker was down is made up within the hour)
    celery["beat_schedule"] = {**celery.get("beat_schedule", {}),
                               "chart-subscriptions": {"task": "charts.subscriptions", "schedule": 3600.0}}
    app.config["CELERY"] = celery


def after_migrate(app: Any, echo: Any) -> None:
    """Bring the chart summaries (summaries.py) in line with the YAML once the schema plan is applied."""
    app.extensions["charts"].install_summaries(echo)


def after_bulk_load(app: Any, tables: list[str], echo: Any) -> None:
    """Refill the installed summaries of the tables a bulk load wrote with the triggers off."""
    app.extensions["charts"].rebuild_summaries(tables, echo)


def _split_part(text: Any, delimiter: Any, index: Any) -> Any:
    parts = str(text or "").split(str(delimiter))
    return parts[int(index) - 1] if 0 < int(index) <= len(parts) else ""


def _to_char(value: Any, pattern: Any) -> Any:
    """PostgreSQL's to_char for the two patterns a chart groups by: 'YYYY' and 'YYYY-MM' of a stored date."""
    if value is None:
        return None
    text = str(value)
    return text[:4] if pattern == "YYYY" else text[:7]


def _sqlite_functions(app: Any) -> None:
    """The embedded SQLite database answers the two PostgreSQL functions the chart queries use (split_part for a
    region level, to_char for a year or month): registered on every connection the app opens."""
    from sqlalchemy import event

    from app.extensions import db

    def register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("split_part", 3, _split_part, deterministic=True)
        dbapi_connection.create_function("to_char", 2, _to_char, deterministic=True)

    with app.app_context():
        event.listen(db.engine, "connect", register)
        db.engine.dispose()  # connections opened before (none, normally) get the functions too
