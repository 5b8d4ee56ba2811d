"""The home page: what waits for the user (待办), the plugins' panels (a dashboard), then each register the user may open, with its row count."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import current_app, g, redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.frequency import FrequencyReport
from app.plugins import todo_entries
from app.i18n import label_text
from app.security.actor import current_actor
from app.services import services
from app.views.frequency import may_open
from app.query.urls import register_url


#: what the card template reads of a register for a frequency page's card (its icon)
_CARD = SimpleNamespace(menu=SimpleNamespace(icon="fa-bar-chart"))


class HomeView(IndexView):
    route_base = ""
    default_view = "index"
    index_template = "home.html"

    @expose("/")
    def index(self) -> Any:
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.__class__.__name__ + ".login"))
        svc = services()
        policy = current_app.extensions["safety_policy"]
        actor = current_actor()
        sections = []
        # counts run through the row scope: each user sees the size of its own part of each register
        for category, specs in svc.registry.menu_tree():
            cards = []
            for spec in specs:
                if not policy.can(spec, actor, "view"):
                    continue
                model = svc.models[spec.name]
                count = svc.session.execute(select(func.count()).select_from(
                    select(model.id).limit(100_001).subquery())).scalar_one()
                cards.append({"spec": spec, "label": label_text(spec.label), "count": count,
                              "url": register_url(spec.name, "list")})
            if cards:
                sections.append({"label": label_text(category.label), "icon": category.icon, "cards": cards})
        pages = [{"spec": _CARD, "label": label_text(f.label), "url": url_for("FrequencyView.groups", name=f.name),
                  "count": len(FrequencyReport(svc, policy, actor, f).groups())}
                 for f in svc.registry.frequencies.values() if may_open(f, actor)]
        if pages:
            sections.append({"label": _("Inspection frequency"), "icon": "fa-bar-chart", "cards": pages})
        engine = current_app.extensions["safety_workflow"]
        todo = [{"label": label_text(spec.label), "count": count,
                 "url": url_for("WorkflowView.todo") + f"#todo-{spec.name}", "register": spec.name}
                for spec, count in engine.todo_counts(actor) if count]
        todo += todo_entries(actor)
        # plugins' panels (app/plugins.py add_home_panel), e.g. the dashboard of the user's role
        panels = [html for html in (render() for render in current_app.extensions.get("safety_home_panels", ()))
                  if html]
        return self.render_template(self.index_template, appbuilder=self.appbuilder, sections=sections, todo=todo,
                                    panels=panels)
