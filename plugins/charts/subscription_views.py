"""The subscription pages: 统计分析 → 系统订阅 (the user's own subscriptions: add, change, delete) and
个人中心 → 我的订阅 (the snapshots taken for the user, newest first; one read-only, or as Excel)."""
from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _, ngettext
from flask_babel import lazy_gettext

from app.i18n import label_text
from app.security.actor import current_actor

from .subscriptions import DAILY, MONTHLY, Choice, NotOffered
from .views import TEMPLATES, XLSX, echarts_locale

#: the FAB menu entry of 系统订阅: the page answers to the roles it is granted to (and the administrator)
MENU = "menu_chart_subscriptions"
PAGE_SIZE = 50


def subscription_service() -> Any:
    return current_app.extensions["chart_subscriptions"]


def dashboard_titles(service: Any) -> dict[str, str]:
    """Each declared dashboard's name in the reader's language. A snapshot keeps the title it was taken with (in
    its subscriber's language then), shown only for a dashboard no longer declared."""
    return {b.name: label_text(b.label) for b in service.charts.settings.dashboards.values()}


def frequency_labels() -> dict[str, str]:
    return {DAILY: _("Daily"), MONTHLY: _("Monthly")}


def _signed_in() -> Any:
    actor = current_actor()
    if actor is None or actor.is_anonymous:
        abort(401)
    return actor


def _subscriber() -> Any:
    """The signed-in user, when its roles are offered 系统订阅 (403 otherwise)."""
    actor = _signed_in()
    if not actor.is_admin and not current_app.appbuilder.sm.has_access("menu_access", MENU):
        abort(403)
    return actor


def _choice(form: Any) -> Choice:
    raw = (form.get("position") or "0").strip()
    try:
        position = int(raw)
    except ValueError:
        raise ValueError(_("Numbers only: %(value)s is not a whole number.", value=raw))
    return Choice(dashboard=form.get("dashboard", ""), frequency=form.get("frequency", ""),
                  enabled=form.get("enabled") == "1", position=position, email=form.get("email") == "1")


class SubscriptionView(BaseView):
    route_base = "/subscriptions"
    default_view = "index"
    template_folder = TEMPLATES

    @expose("/")
    def index(self) -> Any:
        actor = _subscriber()
        service = subscription_service()
        titles = dashboard_titles(service)
        rows = [{"row": row, "dashboard": titles.get(row.dashboard, row.dashboard)} for row in service.of(actor)]
        return self.render_template("charts/subscriptions.html", rows=rows, frequencies=frequency_labels(),
                                    offered=bool(service.boards(actor)))

    def _form(self, actor: Any, row: Any | None) -> Any:
        service = subscription_service()
        boards = service.boards(actor)
        if not boards:
            flash(_("No dashboard is available to you."), "warning")
            return redirect(url_for(".index"))
        values = Choice(boards[0].name, DAILY) if row is None else \
            Choice(row.dashboard, row.frequency, row.enabled, row.position, row.email)
        status = 200
        if request.method == "POST":
            try:
                values = _choice(request.form)
                service.save(actor, values, row)
            except NotOffered:
                abort(403)  # a dashboard the page did not offer: a forged request
            except ValueError as exc:
                flash(str(exc), "danger")
                status = 400
            else:
                flash(_("The subscription is saved."), "success")
                return redirect(url_for(".index"))
        page = self.render_template("charts/subscription_form.html", row=row, values=values,
                                    boards=[(b.name, label_text(b.label)) for b in boards],
                                    frequencies=frequency_labels())
        return page, status

    @expose("/add", methods=["GET", "POST"])
    def add(self) -> Any:
        return self._form(_subscriber(), None)

    @expose("/<int:subscription_id>/edit", methods=["GET", "POST"])
    def edit(self, subscription_id: int) -> Any:
        actor = _subscriber()
        row = subscription_service().get(actor, subscription_id)
        if row is None:
            abort(404)
        return self._form(actor, row)

    @expose("/delete", methods=["POST"])
    def delete(self) -> Any:
        actor = _subscriber()
        ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
        if not ids:
            flash(_("Nothing selected."), "warning")
        else:
            count = subscription_service().delete(actor, ids)
            flash(ngettext("%(num)s subscription deleted.", "%(num)s subscriptions deleted.", count), "success")
        return redirect(url_for(".index"))


class SnapshotView(BaseView):
    """个人中心 → 我的订阅: every signed-in user's own snapshots (a snapshot of someone else's answers 404)."""

    route_base = "/my_subscriptions"
    default_view = "index"
    template_folder = TEMPLATES

    @expose("/")
    def index(self) -> Any:
        actor = _signed_in()
        page = request.args.get("page", "1")
        page_no = max(int(page), 1) if page.isdigit() else 1
        service = subscription_service()
        rows, total = service.snapshots(actor, PAGE_SIZE, (page_no - 1) * PAGE_SIZE)
        return self.render_template("charts/snapshots.html", rows=rows, total=total, page=page_no,
                                    titles=dashboard_titles(service),
                                    pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                                    frequencies=frequency_labels())

    def _own(self, snapshot_id: int) -> Any:
        row = subscription_service().snapshot(_signed_in(), snapshot_id)
        if row is None:
            abort(404)
        return row

    @expose("/<int:snapshot_id>")
    def show(self, snapshot_id: int) -> Any:
        row = self._own(snapshot_id)
        figures = [t for t in row.tables if t["kind"] == "figure"]
        charts = [{**t, "json": json.dumps(t, ensure_ascii=False)} for t in row.tables if t["kind"] != "figure"]
        titles = dashboard_titles(subscription_service())
        return self.render_template("charts/snapshot.html", snapshot=row, figures=figures, charts=charts,
                                    page_crumb=titles.get(row.dashboard, row.title),
                                    titles=titles, frequencies=frequency_labels(), echarts_locale=echarts_locale())

    @expose("/<int:snapshot_id>/export")
    def export(self, snapshot_id: int) -> Any:
        row = self._own(snapshot_id)
        content = subscription_service().workbook(row)
        name = f"{row.dashboard}_{row.period}.xlsx"
        return Response(content, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


def snapshot_url(message: Any) -> str | None:
    """Where the inbox sends a subscription's message: its snapshot (the page checks the reader)."""
    return url_for("SnapshotView.show", snapshot_id=message.row_id) if message.row_id else None


def register_subscription_views(appbuilder: Any) -> None:
    appbuilder.add_view(SubscriptionView, MENU, label=lazy_gettext("Subscriptions"), icon="fa-rss",
                        category="statistics")
    appbuilder.add_view_no_menu(SnapshotView)


#: the entry of the user menu (个人中心)
ACCOUNT_LINK = {"endpoint": "SnapshotView.index", "label": lazy_gettext("My subscriptions"), "icon": "fa-rss",
                "id": "nav-my-subscriptions"}
