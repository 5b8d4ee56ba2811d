"""The draw screens (signed in: choose the pool, prepare, draw, redraw, confirm) and the public page of confirmed
draws (no login: publishable data and the draw records)."""
from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from app.i18n import label_text, lazy_label, list_separator
from app.security.actor import current_actor
from app.query.urls import register_url

from . import ROOT
from .people import PeopleParameters
from .pool import DrawRefused, Parameters

TEMPLATES = str(ROOT / "templates")
QUOTA_ROWS = 8
REGION_OPTIONS = 800


def draw_service() -> Any:
    return current_app.extensions["random_draw"]


def _int(raw: Any, default: int = 0) -> int:
    if raw is None or not str(raw).strip():
        return default
    try:
        return int(str(raw).strip())
    except ValueError:
        raise DrawRefused(_("Numbers only: %(value)s is not a whole number.", value=raw))


def parameters_from(form: Any) -> Parameters:
    """The draw's parameters from the page's fields (the pool register's own filter names f.<field>)."""
    filters = {key: [v for v in form.getlist(key) if v] for key in form if key.startswith("f.")}
    quotas: dict[str, int] = {}
    for region, count in zip(form.getlist("quota_region"), form.getlist("quota_count")):
        if region and str(count).strip():
            quotas[region] = quotas.get(region, 0) + _int(count)
    try:
        ratio = float(form.get("ratio") or 0)
    except ValueError:
        raise DrawRefused(_("Numbers only: %(value)s is not a whole number.", value=form.get("ratio")))
    return Parameters(filters={k: v for k, v in filters.items() if v}, mode=form.get("mode", "count"),
                      count=_int(form.get("count")), ratio=ratio, quotas=quotas,
                      per_enterprise=_int(form.get("per_enterprise"), 2),
                      officers_per_region=form.get("officers_per_region") == "1",
                      ids=[_int(i) for i in form.getlist("ids") if str(i).strip()])


def avoidance_text(avoidance: Any) -> str:
    """The people draw's avoidance rules as one sentence in the reader's language (it was pieced together with
    Chinese punctuation in English and ASCII punctuation in Chinese)."""
    rules = list_separator().join([*(label_text(r.label) for r in avoidance.same), _("declared conflicts")])
    if avoidance.recent_months:
        return _("Avoidance: %(rules)s; someone drawn in the last %(n)s months is drawn again only when the pool "
                 "is exhausted.", rules=rules, n=avoidance.recent_months)
    return _("Avoidance: %(rules)s.", rules=rules)


def people_parameters_from(name: str, form: Any) -> PeopleParameters:
    filters = {key: [v for v in form.getlist(key) if v] for key in form if key.startswith("f.")}
    return PeopleParameters(draw=name, filters={k: v for k, v in filters.items() if v},
                            count=_int(form.get("count")), subject=_int(form.get("subject")))


def _signed_in_drawer() -> Any:
    actor = current_actor()
    if actor is None or actor.is_anonymous:
        abort(401)
    if not draw_service().may_draw(actor):
        abort(403)
    return actor


class RandomDrawView(BaseView):
    route_base = "/random_draw"
    default_view = "index"
    template_folder = TEMPLATES

    def _page_context(self, actor: Any, params: Parameters | None) -> dict[str, Any]:
        service = draw_service()
        svc, settings = service.svc, service.settings
        spec = svc.registry.register(settings.pool.target)
        filters = []
        for name in settings.pool.filters:
            f = spec.field(name)
            dictionary = getattr(f, "dictionary", None)
            choices = self._regions(actor) if name == settings.pool.quota_field else \
                (svc.dictionaries.choices(dictionary) if dictionary else [])
            chosen = (params.filters.get(f"f.{name}") if params else None) or []
            filters.append({"name": name, "label": label_text(f.label), "choices": choices, "chosen": chosen})
        pool_size = error = None
        if params is not None:
            try:
                pool_size = service.pool_size(params)
            except DrawRefused as exc:
                error = exc.message
        draws = service.svc.session.execute(service.visible(actor).order_by(service.Draw.id.desc()).limit(20)) \
            .scalars().all()
        people = [{"name": p.name, "label": label_text(p.label)} for p in settings.people
                  if service.people.may_draw(actor, p)]
        return {"filters": filters, "regions": self._regions(actor), "params": params or Parameters(), "people": people,
                "pool_size": pool_size, "error": error, "draws": draws, "quota_rows": QUOTA_ROWS}

    def _regions(self, actor: Any, dictionary: str | None = None) -> list[tuple[str, str]]:
        """The actor's region and the two levels below it (an administrator: the top two levels)."""
        svc = draw_service().svc
        dictionary = dictionary or draw_service().pool.region_dictionary
        options: list[tuple[str, str]] = []
        start = [actor.region_code] if actor.region_code and not actor.is_admin else \
            [c["code"] for c in svc.dictionaries.children(dictionary, None)]
        level = [(code, 0) for code in start]
        while level and len(options) < REGION_OPTIONS:
            code, depth = level.pop(0)
            options.append((code, svc.dictionaries.path_label(dictionary, code)))
            if depth < 2:
                level += [(c["code"], depth + 1) for c in svc.dictionaries.children(dictionary, code)]
        return options

    @expose("/")
    def index(self) -> Any:
        actor = _signed_in_drawer()
        params = None
        if request.args.get("preview"):
            try:
                params = parameters_from(request.args)
            except DrawRefused as exc:
                flash(exc.message, "danger")
        return self.render_template("random_draw/index.html", **self._page_context(actor, params))

    @expose("/people/<name>/")
    def people(self, name: str) -> Any:
        """A people draw's page (专家抽取): the register's filters, the subject under review, the count."""
        actor = _signed_in_drawer()
        service = draw_service()
        spec = service.settings.people_draw(name)
        if spec is None or not service.people.may_draw(actor, spec):
            abort(404)
        svc = service.svc
        reg = svc.registry.register(spec.target)
        params = people_parameters_from(name, request.args)
        filters = []
        for fname in spec.filters:
            f = reg.field(fname)
            dictionary = getattr(f, "dictionary", None)
            choices = self._regions(actor, dictionary) if f.type == "tree" else \
                (svc.dictionaries.choices(dictionary) if dictionary else [])
            filters.append({"name": fname, "label": label_text(f.label), "choices": choices,
                            "chosen": params.filters.get(f"f.{fname}") or []})
        pool_size = error = None
        if request.args.get("preview"):
            try:
                pool_size = len(service.people.pool(spec, params))
            except DrawRefused as exc:
                error = exc.message
        subject_name = None
        if params.subject:
            try:
                service.people.subject_row(spec, params.subject)
                title = svc.registry.register(spec.subject).title_field
                subject_name = getattr(svc.session.get(svc.models[spec.subject], params.subject), title)
            except DrawRefused as exc:
                error = exc.message
        return self.render_template(
            "random_draw/people.html", spec=spec, label=label_text(spec.label), page_crumb=label_text(spec.label),
            filters=filters, params=params,
            pool_size=pool_size, error=error, subject_name=subject_name,
            subject_label=label_text(svc.registry.register(spec.subject).label),
            lookup_url=register_url(spec.subject, "lookup"),
            avoidance=avoidance_text(spec.avoidance))

    @expose("/people/<name>/prepare", methods=["POST"])
    def people_prepare(self, name: str) -> Any:
        actor = _signed_in_drawer()
        try:
            draw = draw_service().people.prepare(actor, people_parameters_from(name, request.form))
        except DrawRefused as exc:
            flash(exc.message, "danger")
            return redirect(url_for("RandomDrawView.people", name=name))
        return redirect(url_for("RandomDrawView.show", draw_id=draw.id))

    @expose("/prepare", methods=["POST"])
    def prepare(self) -> Any:
        actor = _signed_in_drawer()
        try:
            draw = draw_service().prepare(actor, parameters_from(request.form))
        except DrawRefused as exc:
            flash(exc.message, "danger")
            return redirect(url_for("RandomDrawView.index"))
        return redirect(url_for("RandomDrawView.show", draw_id=draw.id))

    @expose("/<int:draw_id>")
    def show(self, draw_id: int) -> Any:
        actor = _signed_in_drawer()
        service = draw_service()
        try:
            draw = service.get(actor, draw_id)
        except DrawRefused:
            abort(404)
        params = json.loads(draw.parameters)
        summary = json.loads(draw.summary) if draw.summary else None
        record = json.loads(draw.record) if draw.record else None
        quotas = [(service.svc.dictionaries.path_label(service.pool.region_dictionary, code), n)
                  for code, n in params.get("quotas", {}).items()]
        inspections_url = None
        if draw.state == "confirmed" and not draw.kind:
            inspections_url = register_url(service.settings.inspection.target, "list") + \
                f"?q={draw.number}"
        return self.render_template("random_draw/show.html", draw=draw, params=params, summary=summary,
                                    page_crumb=draw.number,
                                    record=record, quotas=quotas, inspections_url=inspections_url,
                                    people=service.settings.people_draw(draw.kind))

    def _act(self, draw_id: int, action: str) -> Any:
        actor = _signed_in_drawer()
        service = draw_service()
        try:
            if action == "draw":
                service.draw(actor, draw_id, request.form.get("public_value", ""))
            elif action == "redraw":
                draw_id = service.redraw(actor, draw_id).id
            else:
                ids = service.confirm(actor, draw_id)
                flash(_("Draw confirmed: %(n)s inspections created.", n=len(ids)), "success")
        except DrawRefused as exc:
            flash(exc.message, "danger")
        return redirect(url_for("RandomDrawView.show", draw_id=draw_id))

    @expose("/<int:draw_id>/draw", methods=["POST"])
    def run_draw(self, draw_id: int) -> Any:
        return self._act(draw_id, "draw")

    @expose("/<int:draw_id>/redraw", methods=["POST"])
    def redraw(self, draw_id: int) -> Any:
        return self._act(draw_id, "redraw")

    @expose("/<int:draw_id>/confirm", methods=["POST"])
    def confirm(self, draw_id: int) -> Any:
        return self._act(draw_id, "confirm")


class PublicDrawView(BaseView):
    """双随机一公开: confirmed draws for anyone, without an account; only what may be published."""

    route_base = "/draws"
    default_view = "index"
    template_folder = TEMPLATES

    @expose("/")
    def index(self) -> Any:
        draws = [{"number": d.number, "confirmed_at": d.confirmed_at, "pool_size": d.pool_size, "kind": d.kind,
                  "summary": json.loads(d.summary),
                  "commitment": d.commitment, "pool_hash": d.pool_hash, "items": json.loads(d.summary)["items"],
                  "exhausted": json.loads(d.summary)["exhausted"]} for d in draw_service().published()]
        return self.render_template("random_draw/public.html", draws=draws)

    @expose("/<number>.json")
    def record(self, number: str) -> Any:
        record = draw_service().published_record(number)
        if record is None:
            abort(404)
        return Response(json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1),
                        mimetype="application/json",
                        headers={"Content-Disposition": f"attachment; filename=draw-{number}.json"})

    @expose("/verify_draw.py")
    def verifier(self) -> Any:
        return send_file(ROOT / "algorithm.py", mimetype="text/x-python", as_attachment=True,
                         download_name="verify_draw.py")


def register_views(appbuilder: Any, registry: Any, category: str) -> None:
    menu = registry.menus.get(category)
    appbuilder.add_view(RandomDrawView, "menu_random_draw", label=lazy_gettext("Random draw"), icon="fa-random",
                        category=category, category_label=lazy_label(menu.label) if menu else "",
                        category_icon=menu.icon if menu else "")
    appbuilder.add_view_no_menu(PublicDrawView())
