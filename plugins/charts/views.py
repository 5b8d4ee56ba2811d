"""The chart pages: the list of charts, one chart (chart, table, Excel), its figures as JSON, the dashboards
(领导驾驶舱), and the panel the home page shows."""
from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, current_app, render_template, request, send_from_directory
from flask_appbuilder import BaseView, expose
from flask_babel import lazy_gettext
from markupsafe import Markup

from app.i18n import current_locale, label_text, lazy_label
from app.security.actor import current_actor

from . import ROOT

TEMPLATES = str(ROOT / "templates")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chart_service() -> Any:
    return current_app.extensions["charts"]


def _actor() -> Any:
    actor = current_actor()
    if actor is None or actor.is_anonymous:
        abort(401)
    return actor


def echarts_locale() -> str:
    return "EN" if current_locale() == "en" else "ZH"


def chart_blocks(charts: list, actor: Any) -> list[dict]:
    """What a page shows of each chart: its figures (one query each) and the JSON the script draws."""
    service = chart_service()
    blocks = []
    for chart in charts:
        data = service.data(chart, actor)
        blocks.append({"chart": chart, "data": data, "json": json.dumps(data.as_json(), ensure_ascii=False),
                       "description": label_text(chart.description) if chart.description else ""})
    return blocks


def render_board(board: Any, actor: Any, template: str) -> str:
    figures, charts = chart_service().board(board, actor)
    return render_template(template, board=board, title=label_text(board.label),
                           figures=chart_blocks(figures, actor), blocks=chart_blocks(charts, actor),
                           echarts_locale=echarts_locale())


def home_panel() -> Markup | None:
    """The home page's dashboard of the signed-in user's role (None: no dashboard for it)."""
    actor = current_actor()
    board = chart_service().home_dashboard(actor)
    if board is None:
        return None
    return Markup(render_board(board, actor, "charts/home_panel.html"))


#: a chart's icon by its kind
KIND_ICONS = {"bar": "fa-bar-chart", "stacked_bar": "fa-bar-chart", "line": "fa-line-chart", "pie": "fa-pie-chart",
              "table": "fa-table", "figure": "fa-hashtag"}


def chart_groups(charts: list) -> list[dict[str, Any]]:
    """The charts under the menu category of the register each counts, in the menu's order (a chart on the
    hazards register under 隐患排查治理); within a category, in the order they come."""
    registry = current_app.extensions["safety"].registry
    groups: dict[str, dict[str, Any]] = {}
    for chart in charts:
        menu = registry.register(chart.source).menu
        category = registry.menus.get(menu.category) if menu else None
        key = category.name if category else ""
        group = groups.setdefault(key, {"category": category, "charts": []})
        group["charts"].append({"chart": chart, "icon": KIND_ICONS.get(chart.kind, "fa-bar-chart"),
                                "register": label_text(registry.register(chart.source).label)})
    return sorted(groups.values(), key=lambda g: (g["category"] is None, g["category"].order if g["category"] else 0,
                                                  g["category"].name if g["category"] else ""))


class ChartsView(BaseView):
    route_base = "/charts"
    default_view = "index"
    template_folder = TEMPLATES

    @expose("/charts.js")
    def script(self) -> Any:
        """The script that draws the charts (the plugin's own static file; ECharts itself is under /static/vendor)."""
        return send_from_directory(ROOT / "static", "charts.js", mimetype="text/javascript", max_age=3600)

    @expose("/")
    def index(self) -> Any:
        actor = _actor()
        service = chart_service()
        return self.render_template("charts/index.html", groups=chart_groups(service.charts(actor)),
                                    dashboards=service.dashboards(actor), label_text=label_text)

    @expose("/<name>/")
    def show(self, name: str) -> Any:
        actor = _actor()
        chart = chart_service().chart(name, actor)
        if chart is None or chart.kind == "figure":
            abort(404)
        return self.render_template("charts/chart.html", title=label_text(chart.label), page_crumb=label_text(chart.label),
                                    blocks=chart_blocks([chart], actor), echarts_locale=echarts_locale())

    @expose("/<name>/data")
    def data(self, name: str) -> Any:
        """The chart's figures as JSON; list filters of the register (f.<field>, ids) narrow it further."""
        actor = _actor()
        chart = chart_service().chart(name, actor)
        if chart is None:
            abort(404)
        return chart_service().data(chart, actor, request.args).as_json()

    @expose("/<name>/export")
    def export(self, name: str) -> Any:
        actor = _actor()
        chart = chart_service().chart(name, actor)
        if chart is None:
            abort(404)
        service = chart_service()
        content = service.workbook(service.data(chart, actor, request.args))
        return Response(content, mimetype=XLSX,
                        headers={"Content-Disposition": f"attachment; filename={chart.name}.xlsx"})

    @expose("/dashboard/<name>/")
    def dashboard(self, name: str) -> Any:
        actor = _actor()
        service = chart_service()
        board = next((b for b in service.dashboards(actor) if b.name == name), None)
        if board is None:
            abort(404)
        figures, charts = service.board(board, actor)
        return self.render_template("charts/dashboard.html", board=board, title=label_text(board.label),
                                    figures=chart_blocks(figures, actor), blocks=chart_blocks(charts, actor),
                                    echarts_locale=echarts_locale())


def register_views(appbuilder: Any, dashboards: list) -> None:
    appbuilder.add_view(ChartsView, "menu_charts", label=lazy_gettext("Charts"), icon="fa-bar-chart",
                        category="statistics", category_label=lazy_gettext("Statistics"),
                        category_icon="fa-line-chart")
    for board in dashboards:
        appbuilder.add_link(f"menu_dashboard_{board.name}", href=f"/charts/dashboard/{board.name}/",
                            label=lazy_label(board.label), icon="fa-tachometer", category="statistics")
