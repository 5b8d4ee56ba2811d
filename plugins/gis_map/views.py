"""The resource map's screens: 资源地图 (layers, clusters, popups, keyword and radius search with an Excel
export), 上报位置 (an enterprise places itself), 未上报位置 (who has not), 位置核验 (inspections too far from
their enterprise) and the JSON the map reads — every read in the signed-in user's row scope."""
from __future__ import annotations

import io
import json
from typing import Any

from flask import Response, abort, current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from app.i18n import label_text, lazy_label
from app.security.actor import current_actor
from app.query.formatting import plain_value
from app.query.urls import register_url

from . import ROOT
from .service import MapService, PositionRefused, parse_point

TEMPLATES = str(ROOT / "templates")
RADII_KM = (1, 3, 5, 10)


def map_service() -> MapService:
    return current_app.extensions["gis_map"]


def _signed_in() -> Any:
    actor = current_actor()
    if actor is None or actor.is_anonymous:
        abort(401)
    return actor


def _float(name: str) -> float | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        abort(400)


#: the nearest rows of each layer shown around an event
NEAR_PER_LAYER = 5


class GisMapView(BaseView):
    route_base = "/gis_map"
    default_view = "index"
    template_folder = TEMPLATES

    def _layers(self) -> tuple[Any, list[Any]]:
        actor = _signed_in()
        layers = map_service().layers(actor)
        if not layers:
            abort(403)
        return actor, layers

    @expose("/")
    def index(self) -> Any:
        actor, layers = self._layers()
        service = map_service()
        config = {
            "layers": [{"name": layer.name, "label": label_text(layer.spec.map.layer), "icon": layer.spec.map.icon,
                        "colour": layer.spec.map.colour, "legend": service.legend(layer),
                        "data": url_for("GisMapView.layer_points", name=layer.name),
                        "popup": url_for("GisMapView.popup", name=layer.name, row_id=0),
                        "show": register_url(layer.name, "show", pk=0)} for layer in layers],
            "boundary": url_for("GisMapView.boundary"),
            "search": url_for("GisMapView.search"),
            "export": url_for("GisMapView.search_export"),
            "tiles": current_app.config.get("GIS_TILE_URL") or "",
            "tiles_max_zoom": current_app.config.get("GIS_TILE_MAX_ZOOM", 18),
            "radii": RADII_KM,
            "text": {"distance": _("Distance (km)"), "open": _("Open"), "no_results": _("Nothing found."),
                     "centre": _("Search centre"), "pick_point": _("Click the map to set the search centre."),
                     "loading": _("Loading…"), "near": _("Resources nearby"), "layer": _("Layer"), "name": _("Place name")},
        }
        return self.render_template("gis_map/map.html", panel=config["layers"], radii=RADII_KM,
                                    config=json.dumps(config, ensure_ascii=False),
                                    static=lambda f: url_for("gis_map_static.static", filename=f))

    @expose("/layer/<name>.json")
    def layer_points(self, name: str) -> Any:
        actor = _signed_in()
        layer = map_service().layer(actor, name)
        if layer is None:
            abort(404)
        return Response(map_service().points(layer), mimetype="application/json")

    @expose("/popup/<name>/<int:row_id>.json")
    def popup(self, name: str, row_id: int) -> Any:
        actor = _signed_in()
        layer = map_service().layer(actor, name)
        found = map_service().popup(actor, layer, row_id) if layer else None
        if found is None:
            abort(404)
        found["url"] = register_url(name, "show", pk=row_id)
        found["near"] = url_for("GisMapView.near", name=name, row_id=row_id)
        return jsonify(found)

    @expose("/boundary.json")
    def boundary(self) -> Any:
        view = map_service().view_of(_signed_in())
        return Response('{"region":%s,"boundary":%s}' % (json.dumps(view["region"]), view["boundary"] or "null"),
                        mimetype="application/json")

    def _search(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        actor = _signed_in()
        lat, lng, radius = _float("lat"), _float("lng"), _float("radius")
        centre = (lat, lng) if lat is not None and lng is not None else None
        if radius is not None and not 0 < radius <= 200:
            abort(400)
        q = request.args.get("q", "").strip()[:50]
        names = [n for n in request.args.getlist("layer") if n]
        rows = map_service().search(actor, names, q, centre, radius if centre else None)
        shows = {name: register_url(name, "show", pk=0)[:-1] for name in {row["layer"] for row in rows}}
        for row in rows:
            row["url"] = f"{shows[row['layer']]}{row['id']}"
        return rows, {"q": q, "centre": centre, "radius": radius}

    @expose("/search.json")
    def search(self) -> Any:
        rows, asked = self._search()
        return jsonify({"rows": rows, **asked})

    @expose("/search.xlsx")
    def search_export(self) -> Any:
        import xlsxwriter
        rows, asked = self._search()
        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
        sheet = book.add_worksheet(_("Search results")[:31])
        titles = [_("Layer"), _("Place name"), _("Latitude"), _("Longitude"), _("Distance (km)")]
        for col, title in enumerate(titles):
            sheet.write_string(0, col, title)
        for i, row in enumerate(rows, start=1):
            sheet.write_string(i, 0, row["layer_label"])
            sheet.write_string(i, 1, row["title"])
            for col, key in ((2, "lat"), (3, "lng"), (4, "distance_km")):
                if row[key] is not None:
                    sheet.write_number(i, col, row[key])
        sheet.set_column(1, 1, 40)
        book.close()
        out.seek(0)
        return send_file(out, as_attachment=True, download_name="map-search.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    # ---------------------------------------------------------------- 周边资源 (an event's nearest resources)
    @expose("/near/<name>/<int:row_id>")
    def near(self, name: str, row_id: int) -> Any:
        """Around one row of a layer (an event, an enterprise): the nearest rows of every other layer within the
        radius (default 10 km), NEAR_PER_LAYER of each, in the reader's scope."""
        actor = _signed_in()
        service = map_service()
        layer = service.layer(actor, name)
        found = service.popup(actor, layer, row_id) if layer else None
        if found is None:
            abort(404)
        radius = _float("radius") or 10.0
        if not 0 < radius <= 200:
            abort(400)
        groups: list[dict[str, Any]] = []
        if found["lat"] is not None:
            rows = service.search(actor, [], "", (found["lat"], found["lng"]), radius)
            for other in service.layers(actor):
                if other.name == name:
                    continue
                mine = [r for r in rows if r["layer"] == other.name][:NEAR_PER_LAYER]
                for r in mine:
                    r["url"] = register_url(other.name, "show", pk=r["id"])
                groups.append({"name": other.name, "label": label_text(other.spec.map.layer), "icon": other.spec.map.icon, "rows": mine})
        return self.render_template("gis_map/near.html", row=found, row_url=register_url(name, "show", pk=row_id),
                                    page_crumb=_("Resources near %(place)s", place=found["title"]),
                                    layer_label=label_text(layer.spec.map.layer), groups=groups, radius=radius,
                                    radii=RADII_KM, map_url=url_for("GisMapView.index"))

    # ---------------------------------------------------------------- 上报位置
    @expose("/position", methods=["GET", "POST"])
    def position(self) -> Any:
        actor = _signed_in()
        service = map_service()
        rows = service.own_rows(actor)
        layer = service.self_report_layer()
        if not rows or layer is None:
            abort(403)
        if request.method == "POST":
            try:
                row_id = int(request.form.get("row_id", "0"))
                lat, lng = parse_point(request.form.get("lat"), request.form.get("lng"))
                service.report_position(actor, row_id, lat, lng)
                flash(_("Position saved: %(lat)s, %(lng)s.", lat=round(lat, 6), lng=round(lng, 6)), "success")
            except PositionRefused as exc:
                flash(exc.message, "danger")
            except ValueError:
                abort(400)
            return redirect(url_for("GisMapView.position"))
        return self.render_template("gis_map/position.html", rows=rows, point=layer.point,
                                    config=json.dumps({"boundary": url_for("GisMapView.boundary"),
                                                       "tiles": current_app.config.get("GIS_TILE_URL") or ""}),
                                    static=lambda f: url_for("gis_map_static.static", filename=f))

    # ---------------------------------------------------------------- 未上报位置
    @expose("/unreported")
    def unreported(self) -> Any:
        actor = _signed_in()
        service = map_service()
        layer = service.self_report_layer()
        if layer is None or not service.policy.can(layer.spec, actor, "view"):
            abort(403)
        rows, count = service.unreported(actor)
        region = layer.spec.ownership.region
        region_field = layer.spec.field(region) if region and "." not in region else None
        listed = [{"id": r.id, "title": str(getattr(r, layer.spec.title_field) or r.id),
                   "region": plain_value(region_field, r, service.svc.dictionaries) if region_field else "",
                   "url": register_url(layer.name, "show", pk=r.id)} for r in rows]
        return self.render_template("gis_map/unreported.html", rows=listed, count=count,
                                    layer_label=label_text(layer.spec.map.layer))

    # ---------------------------------------------------------------- 位置核验
    @expose("/checks")
    def checks(self) -> Any:
        actor = _signed_in()
        service = map_service()
        layers = service.check_layers(actor)
        if not layers:
            abort(403)
        flagged_only = request.args.get("flagged") == "1"
        tables = []
        for layer in layers:
            target = layer.spec.field(layer.spec.map.distance_to).target
            rows = service.position_checks(actor, layer, flagged_only)
            for row in rows:
                row["url"] = register_url(layer.name, "show", pk=row["id"])
                row["target_url"] = register_url(target, "show", pk=row["target_id"])
                row["locate"] = url_for("GisMapView.locate", name=layer.name, row_id=row["id"])
            tables.append({"label": label_text(layer.spec.map.layer), "rows": rows})
        return self.render_template("gis_map/checks.html", tables=tables, flagged_only=flagged_only,
                                    threshold=service.threshold_km)

    @expose("/checks/<name>/<int:row_id>", methods=["GET", "POST"])
    def locate(self, name: str, row_id: int) -> Any:
        actor = _signed_in()
        service = map_service()
        layer = next((lay for lay in service.check_layers(actor) if lay.name == name), None)
        row = service.row(layer, row_id) if layer else None
        if row is None:
            abort(404)
        if request.method == "POST":
            try:
                lat, lng = parse_point(request.form.get("lat"), request.form.get("lng"))
                service.record_position(actor, layer, row_id, lat, lng)
                flash(_("Position saved: %(lat)s, %(lng)s.", lat=round(lat, 6), lng=round(lng, 6)), "success")
            except PositionRefused as exc:
                flash(exc.message, "danger")
            return redirect(url_for("GisMapView.locate", name=name, row_id=row_id))
        distance = service.distance_of(actor, layer, row_id)
        lat, lng = getattr(row, f"{layer.point}_lat"), getattr(row, f"{layer.point}_lng")
        title = str(getattr(row, layer.spec.title_field))
        return self.render_template("gis_map/locate.html", row=row, title=title, page_crumb=title,
                                    url=register_url(name, "show", pk=row_id), lat=lat, lng=lng,
                                    distance=distance, threshold=service.threshold_km,
                                    flagged=distance is not None and distance > service.threshold_km,
                                    may_edit=service.policy.can(layer.spec, actor, "edit"),
                                    static=lambda f: url_for("gis_map_static.static", filename=f))


def _enterprise_account() -> bool:
    """上报位置 is offered to enterprise accounts only (an administrator's role grants every menu entry)."""
    actor = current_actor()
    return bool(actor is not None and actor.enterprise_key)


def register_views(appbuilder: Any, registry: Any) -> None:
    def place(category: str) -> dict[str, Any]:
        menu = registry.menus.get(category)
        return {"category": category, "category_label": lazy_label(menu.label) if menu else "",
                "category_icon": menu.icon if menu else ""}

    appbuilder.add_view(GisMapView, "menu_gis_map", label=lazy_gettext("Resource map"), icon="fa-map",
                        **place("emergency"))
    appbuilder.add_link("menu_gis_position", href="/gis_map/position", label=lazy_gettext("Report position"),
                        icon="fa-map-pin", cond=_enterprise_account, **place("basic_info"))
    appbuilder.add_link("menu_gis_unreported", href="/gis_map/unreported",
                        label=lazy_gettext("Positions not reported"), icon="fa-map-o", **place("basic_info"))
    appbuilder.add_link("menu_gis_checks", href="/gis_map/checks", label=lazy_gettext("Position checks"),
                        icon="fa-crosshairs", **place("enforcement"))
