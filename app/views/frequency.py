"""The inspection frequency pages (metadata/frequencies/): every group (township) of the user's scope with the
rules met, one group's rules with what is done and the subjects not visited, and the declared lists."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext, ngettext

from app.frequency import FrequencyReport
from app.i18n import label_text, lazy_label
from app.reminders import last_reminded, send_reminders
from app.security.actor import current_actor
from app.security.roles import frequency_menu_name
from app.services import services
from app.query.urls import register_url


def may_open(spec: Any, actor: Any) -> bool:
    """Whoever may view both the subjects and the visits, and holds one of the roles when some are named."""
    svc, policy = services(), current_app.extensions["safety_policy"]
    if actor is None or actor.is_anonymous:
        return False
    if spec.roles and not actor.is_admin and not set(spec.roles) & set(actor.roles):
        return False
    return all(policy.can(svc.registry.register(name), actor, "view") for name in (spec.subjects, spec.visits.target))


def may_remind(spec: Any, actor: Any) -> bool:
    """Reminders are declared (``remind``) and the user holds one of their roles when some are named."""
    if spec.remind is None:
        return False
    return not spec.remind.roles or actor.is_admin or bool(set(spec.remind.roles) & set(actor.roles))


def rule_text(rule: Any, word: str) -> str:
    if rule.share:
        return gettext("at least %(share)s%% %(word)s each year", share=rule.share, word=word)
    return gettext("each %(word)s at least every %(months)s months", months=rule.every_months, word=word)


class FrequencyView(BaseView):
    route_base = "/frequency"
    default_view = "groups"

    def _report(self, name: str) -> tuple[Any, FrequencyReport]:
        svc = services()
        spec = svc.registry.frequencies.get(name)
        if spec is None:
            abort(404)
        actor = current_actor()
        if actor is None or actor.is_anonymous:
            abort(401)
        if not may_open(spec, actor):
            abort(403)
        return spec, FrequencyReport(svc, current_app.extensions["safety_policy"], actor, spec)

    def _labels(self, spec: Any) -> dict[str, Any]:
        svc = services()
        subjects = svc.registry.register(spec.subjects)
        group_field, by_field = subjects.field(spec.group_by), subjects.field(spec.by)

        actor = current_actor()
        mine = actor.region_code if actor is not None else None

        def group_label(code: Any) -> str:
            """A group below the reader's own region by the path from there (a county reads 春江街道, its city
            新北区 / 春江街道), any other as the register's lists show it."""
            if code is None:
                return "—"
            codes = [node.code for node in svc.dictionaries.ancestors(group_field.dictionary, code)]
            depth = len(codes) - 1 - codes.index(mine) if mine in codes[:-1] else group_field.list_depth
            return svc.dictionaries.path_label(group_field.dictionary, code, depth=depth) or str(code)

        word = label_text(spec.visits.word)
        return {"group": group_label, "grade": lambda code: svc.dictionaries.label(by_field.dictionary, code),
                "rule": lambda rule: rule_text(rule, word), "word": word,
                "show": lambda row: register_url(spec.subjects, "show", pk=row.id),
                "group_field": label_text(group_field.label), "by_field": label_text(by_field.label)}

    @expose("/<name>/")
    def groups(self, name: str) -> Any:
        spec, report = self._report(name)
        lists = []
        for item in spec.lists:
            total, rows = report.not_visited(report.list_since(item.within_months), item.when)
            lists.append({"spec": item, "label": label_text(item.label), "total": total, "rows": rows})
        return self.render_template("frequency/groups.html", spec=spec, label=label_text, groups=report.groups(),
                                    lists=lists, rules=spec.rules, **self._labels(spec))

    @expose("/<name>/<group>")
    def group(self, name: str, group: str) -> Any:
        spec, report = self._report(name)
        found = report.groups(only=group)
        if not found:
            abort(404)
        details = []
        for progress in found[0].rules:
            total, rows = report.not_visited(progress.since, group=group, grade=progress.code)
            details.append({"progress": progress, "missing": total, "rows": rows})
        remind = may_remind(spec, current_actor())
        reminded = last_reminded(services(), spec, [row.id for d in details for row, _ in d["rows"]]) \
            if remind else {}
        labels = self._labels(spec)
        return self.render_template("frequency/group.html", spec=spec, label=label_text, group_code=group,
                                    page_crumb=labels["group"](group),
                                    progress=found[0], details=details, remind=remind, reminded=reminded,
                                    **labels)

    @expose("/<name>/<group>/remind", methods=["POST"])
    def remind(self, name: str, group: str) -> Any:
        """催报: the chosen subjects (``subject``, one or many) or, with ``all``, every subject of the group not
        visited in time; those outside the user's scope or visited in time are left out."""
        spec, report = self._report(name)
        actor = current_actor()
        if not may_remind(spec, actor):
            abort(403)
        chosen = request.form.getlist("one") or request.form.getlist("subject")
        ids = None if request.form.get("all") else [int(v) for v in chosen if v.isdigit()]
        if ids is not None and not ids:
            flash(gettext("Choose the enterprises to remind."), "warning")
            return redirect(url_for("FrequencyView.group", name=name, group=group))
        result = send_reminders(services(), actor, spec, report, group, ids)
        flash(ngettext("Reminder sent to %(num)d enterprise (%(messages)d message).",
                       "Reminder sent to %(num)d enterprises (%(messages)d messages).", result.subjects,
                       messages=result.messages), "success" if result.subjects else "warning")
        return redirect(url_for("FrequencyView.group", name=name, group=group))


def add_frequency_menu(appbuilder: Any, registry: Any) -> None:
    """A navbar entry per frequency with a ``menu`` place, in its category; shown only to whoever may open
    the pages (may_open: the roles named and the view right on the subjects and the visits)."""
    for spec in sorted(registry.frequencies.values(), key=lambda f: (f.menu.order if f.menu else 0, f.name)):
        if spec.menu is None:
            continue
        category = registry.menus.get(spec.menu.category)
        appbuilder.add_link(frequency_menu_name(spec.name), href=f"/frequency/{spec.name}/",
                            label=lazy_label(spec.menu.label or spec.label), icon=spec.menu.icon,
                            category=spec.menu.category, category_label=lazy_label(category.label) if category else "",
                            category_icon=category.icon if category else "",
                            cond=lambda spec=spec: may_open(spec, current_actor()))
