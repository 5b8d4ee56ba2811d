"""The resource map's data, always read through the session so the row scope applies (the same hook as the
lists): the layers a reader may open, their points, popups, keyword and radius searches, the enterprises'
own positions (written through the one write path) and the position checks of ``distance_to`` registers."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Float, String, and_, case, cast, func, literal, null, or_, select, union_all

from app.i18n import label_text
from app.metadata.spec import RegisterSpec
from app.security.policy import AccessDenied
from app.services import Services
from app.query.formatting import plain_value

from . import boundaries
from app.models.spatial import geog_column_name

from .geo import (CHINA, box_around, sql_distance_between, sql_distance_km, sql_geog_distance_km, sql_geog_within,
                  sql_in_box)

#: radius searches and keyword searches list at most this many rows
RESULT_LIMIT = 500
#: a self-reported point may lie this far outside its county's outline (km)
REGION_MARGIN_KM = 5.0


class PositionRefused(ValueError):
    """A position that cannot be stored; ``message`` is what the user reads (translated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Layer:
    spec: RegisterSpec
    point: str

    @property
    def name(self) -> str:
        return self.spec.name


class MapService:
    def __init__(self, svc: Services, threshold_km: float, use_postgis: bool = True):
        self.svc = svc
        self.threshold_km = threshold_km
        #: False: the bounding box + haversine even where the PostGIS columns exist (a comparison, a fallback)
        self.use_postgis = use_postgis

    # ---------------------------------------------------------------- layers
    @property
    def policy(self) -> Any:
        return current_app.extensions["safety_policy"]

    def all_layers(self) -> list[Layer]:
        specs = [s for s in self.svc.registry.registers.values() if s.map_point]
        return [Layer(s, s.map_point) for s in sorted(specs, key=lambda s: (s.menu.order if s.menu else 100, s.name))]

    def layers(self, actor: Any) -> list[Layer]:
        """The layers the reader may open: registers it may view, whose point is not hidden from it."""
        return [layer for layer in self.all_layers()
                if actor is not None and self.policy.can(layer.spec, actor, "view")
                and layer.point not in self.policy.hidden_fields(layer.spec, actor)]

    def layer(self, actor: Any, name: str) -> Layer | None:
        return next((layer for layer in self.layers(actor) if layer.name == name), None)

    def _columns(self, layer: Layer) -> tuple[Any, Any, Any]:
        model = self.svc.models[layer.name]
        return model, getattr(model, f"{layer.point}_lat"), getattr(model, f"{layer.point}_lng")

    def legend(self, layer: Layer) -> list[dict[str, str]]:
        """(code, label, colour) of the colour_by field's items; one entry in the layer's colour otherwise."""
        by = layer.spec.map.colour_by
        if not by:
            return [{"code": "", "label": label_text(layer.spec.map.layer), "colour": layer.spec.map.colour}]
        dictionary = layer.spec.field(by).dictionary
        return [{"code": item.code, "label": label_text(item.label), "colour": item.color or layer.spec.map.colour}
                for item in self.svc.registry.dictionary(dictionary).items]

    def points(self, layer: Layer) -> str:
        """Every point of the layer in the reader's scope as compact JSON: the legend, and rows
        ``[id, lat, lng, legend index]`` (the title and the popup come on demand). The rows are joined into one
        string by the database (string_agg / group_concat): 100,000 points cost one row to fetch, not 100,000."""
        model, lat, lng = self._columns(layer)
        legend = self.legend(layer)
        by = layer.spec.map.colour_by
        index = case({entry["code"]: i for i, entry in enumerate(legend)}, value=getattr(model, by), else_=-1) \
            if by else literal(0)
        row = cast(model.id, String) + "," + cast(lat, String) + "," + cast(lng, String) + "," + cast(index, String)
        joined = func.group_concat(row, "],[") if self._dialect() == "sqlite" else func.string_agg(row, "],[")
        rows = self.svc.session.execute(select(joined).select_from(model)
                                        .where(lat.isnot(None), lng.isnot(None))).scalar()
        head = {"layer": layer.name, "label": label_text(layer.spec.map.layer), "icon": layer.spec.map.icon,
                "colour": layer.spec.map.colour, "legend": legend}
        return json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1] + \
            ',"rows":' + (f"[[{rows}]]" if rows else "[]") + "}"

    def geog_column(self, layer: Layer) -> Any:
        """The layer's PostGIS geography column when the models have one and the search uses it, else None."""
        if not self.svc.models.postgis or not self.use_postgis:
            return None
        return self.svc.models[layer.name].__table__.c.get(geog_column_name(layer.point))

    def _dialect(self) -> str:
        return self.svc.session.get_bind().dialect.name

    def row(self, layer: Layer, row_id: int) -> Any:
        model = self.svc.models[layer.name]
        return self.svc.session.execute(select(model).where(model.id == row_id)).scalar_one_or_none()

    def popup(self, actor: Any, layer: Layer, row_id: int) -> dict[str, Any] | None:
        """The row's title and popup fields (those not hidden from the reader), or None outside the scope."""
        row = self.row(layer, row_id)
        if row is None:
            return None
        hidden = self.policy.hidden_fields(layer.spec, actor)
        fields = []
        for name in layer.spec.map.popup:
            if name in hidden:
                continue
            f = layer.spec.field(name)
            value = self._reference_title(f, row) if f.type == "reference" else \
                plain_value(f, row, self.svc.dictionaries)
            fields.append({"label": label_text(f.label), "value": value})
        lat, lng = getattr(row, f"{layer.point}_lat"), getattr(row, f"{layer.point}_lng")
        return {"id": row.id, "layer": layer.name, "title": str(getattr(row, layer.spec.title_field) or row.id),
                "lat": float(lat) if lat is not None else None, "lng": float(lng) if lng is not None else None,
                "fields": fields}

    def _reference_title(self, field: Any, row: Any) -> str:
        target = getattr(row, field.name)  # a lazy load: scoped like any other read
        return "" if target is None else str(target)

    # ---------------------------------------------------------------- searches
    def search(self, actor: Any, names: list[str], q: str = "", centre: tuple[float, float] | None = None,
               radius_km: float | None = None) -> list[dict[str, Any]]:
        """Rows of the chosen layers matching the keyword (title or the register's search fields) and/or lying
        within ``radius_km`` of ``centre``; sorted by distance when there is a centre, each with its distance.
        A radius is ST_DWithin on the GiST-indexed geography column with PostGIS, else a bounding box on the
        indexed (lat, lng) first, then the exact haversine in SQL. Every layer's query is one member of a single
        UNION ALL: one statement (and one row-scope set-up) per search however many layers there are."""
        layers = [layer for layer in self.layers(actor) if not names or layer.name in names]
        members = []
        for index, layer in enumerate(layers):
            member = self._search_member(layer, index, q, centre, radius_km)
            if member is not None:
                members.append(member)
        if not members:
            return []
        parts = [select(*member.c).select_from(member) for member in members]
        union = parts[0] if len(parts) == 1 else union_all(*parts)
        found = union.subquery("found")
        order = [found.c.distance, found.c.layer, found.c.id] if centre is not None else \
            [found.c.layer, found.c.title, found.c.id]
        rows = self.svc.session.execute(select(*found.c).order_by(*order).limit(RESULT_LIMIT)).all()
        labels = [label_text(layer.spec.map.layer) for layer in layers]
        return [{"layer": layers[r[0]].name, "layer_label": labels[r[0]], "id": r[1], "title": r[2] or str(r[1]),
                 "lat": r[3], "lng": r[4], "distance_km": round(r[5], 3) if centre is not None else None}
                for r in rows]

    def _search_member(self, layer: Layer, index: int, q: str, centre: tuple[float, float] | None,
                       radius_km: float | None) -> Any:
        """One layer's matching rows (the nearest or first RESULT_LIMIT) as a subquery of (layer index, id, title,
        lat, lng, distance); None when the keyword has no text field to look in."""
        model, lat, lng = self._columns(layer)
        title = getattr(model, layer.spec.title_field)
        clauses = []
        if q:
            words = [name for name in dict.fromkeys([layer.spec.title_field, *layer.spec.search])
                     if name in layer.spec.field_map and layer.spec.field(name).type in ("string", "text")]
            if not words:
                return None
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append(or_(*[getattr(model, w).ilike(pattern, escape="\\") for w in words]))
        if centre is not None:
            geog = self.geog_column(layer)
            if geog is not None:  # PostGIS: the GiST index answers ST_DWithin; distances on the same sphere
                distance = sql_geog_distance_km(geog, *centre)
                clauses.append(geog.isnot(None))
                if radius_km is not None:
                    clauses.append(sql_geog_within(geog, *centre, radius_km))
            else:
                distance = sql_distance_km(lat, lng, *centre)
                clauses.append(lat.isnot(None))
                if radius_km is not None:
                    clauses.append(sql_in_box(lat, lng, box_around(*centre, radius_km)))
                    clauses.append(distance <= radius_km)
        else:
            distance = cast(null(), Float)
        stmt = select(literal(index).label("layer"), model.id.label("id"), cast(title, String).label("title"),
                      cast(lat, Float).label("lat"), cast(lng, Float).label("lng"), distance.label("distance"))
        if clauses:
            stmt = stmt.where(and_(*clauses))
        key = distance if centre is not None else title
        return stmt.order_by(key, model.id).limit(RESULT_LIMIT).subquery(f"layer_{index}")

    # ---------------------------------------------------------------- jurisdiction
    def view_of(self, actor: Any) -> dict[str, Any]:
        """Where the map opens: the actor's jurisdiction outline (WGS-84 GeoJSON) when the data set has it; the
        country's for an administrator (else the map has no geography at all: no tiles are loaded by default)."""
        code = None if actor is None or actor.is_admin else actor.region_code
        if code is None and actor is not None and actor.enterprise_key:
            code = self._own_region(actor)
        if code is None and actor is not None and actor.is_admin:
            code = boundaries.COUNTRY
        return {"region": code, "boundary": boundaries.boundary(code)}

    def _own_region(self, actor: Any) -> str | None:
        """An enterprise account's region: its first own row's (the self-report register's region field)."""
        layer = self.self_report_layer()
        region = layer.spec.ownership.region if layer else None
        if not region or "." in region or not self.policy.can(layer.spec, actor, "view"):
            return None
        model = self.svc.models[layer.name]
        found = self.svc.session.execute(select(getattr(model, region)).order_by(model.id).limit(1)).scalar()
        return found

    # ---------------------------------------------------------------- self-reported positions
    def self_report_layer(self) -> Layer | None:
        return next((layer for layer in self.all_layers() if layer.spec.map.self_report), None)

    def own_rows(self, actor: Any) -> list[Any]:
        """The rows an enterprise account may place: its own (the row scope), edit allowed."""
        layer = self.self_report_layer()
        if layer is None or actor is None or not actor.enterprise_key or not self.policy.can(layer.spec, actor, "edit"):
            return []
        model = self.svc.models[layer.name]
        return list(self.svc.session.execute(select(model).order_by(model.id)).scalars())

    def check_position(self, lat: float, lng: float, region_code: str | None, bounds: Any = None) -> None:
        """In the field's bounds (else China's range) and, when the data set has the region's county, within
        REGION_MARGIN_KM of its outline's box."""
        (south, west), (north, east) = bounds or CHINA
        if not (south <= lat <= north and west <= lng <= east):
            raise PositionRefused(_("The position %(lat)s, %(lng)s is outside China's range (latitude %(s)s–%(n)s, "
                                    "longitude %(w)s–%(e)s).", lat=lat, lng=lng, s=south, n=north, w=west, e=east))
        box = boundaries.bounding_box(region_code)
        if box is not None and not box.grown(REGION_MARGIN_KM).contains(lat, lng):
            raise PositionRefused(_("The position %(lat)s, %(lng)s is far from the enterprise's region: check the "
                                    "numbers (latitude first) or the region.", lat=lat, lng=lng))

    def report_position(self, actor: Any, row_id: int, lat: float, lng: float) -> Any:
        """Store an enterprise's own position through the session: the write path checks the field, the scope
        and audits the change."""
        layer = self.self_report_layer()
        row = next((r for r in self.own_rows(actor) if r.id == row_id), None)
        if layer is None or row is None:
            raise PositionRefused(_("This row is not yours to place."))
        region_field = layer.spec.ownership.region
        region = getattr(row, region_field, None) if region_field and "." not in region_field else None
        self.check_position(lat, lng, region, layer.spec.field(layer.point).bounds)
        return self._write_point(layer, row, lat, lng)

    def _write_point(self, layer: Layer, row: Any, lat: float, lng: float) -> Any:
        setattr(row, f"{layer.point}_lat", round(lat, 6))
        setattr(row, f"{layer.point}_lng", round(lng, 6))
        try:
            self.svc.session.commit()
        except AccessDenied as exc:
            self.svc.session.rollback()
            raise PositionRefused(_("You may not change this position.")) from exc
        return row

    def unreported(self, actor: Any, limit: int = RESULT_LIMIT) -> tuple[list[Any], int]:
        """Rows of the self-report register in the reader's scope without a point (the first ``limit``), and
        how many there are."""
        layer = self.self_report_layer()
        if layer is None or actor is None or not self.policy.can(layer.spec, actor, "view"):
            return [], 0
        model, lat, lng = self._columns(layer)
        missing = or_(lat.is_(None), lng.is_(None))
        count = self.svc.session.execute(select(func.count(model.id)).where(missing)).scalar_one()
        rows = self.svc.session.execute(select(model).where(missing).order_by(model.id).limit(limit)).scalars()
        return list(rows), count

    # ---------------------------------------------------------------- position checks (distance_to)
    def check_layers(self, actor: Any) -> list[Layer]:
        return [layer for layer in self.layers(actor) if layer.spec.map.distance_to]

    def position_checks(self, actor: Any, layer: Layer, flagged_only: bool = False, row_id: int | None = None,
                        limit: int = RESULT_LIMIT) -> list[dict[str, Any]]:
        """Rows with their point, the referenced row's point and the distance between them, farthest first;
        ``flagged`` beyond the threshold."""
        model, lat, lng = self._columns(layer)
        ref = layer.spec.field(layer.spec.map.distance_to)
        target_spec = self.svc.registry.register(ref.target)
        target = self.svc.models[ref.target]
        tlat, tlng = getattr(target, f"{target_spec.map_point}_lat"), getattr(target, f"{target_spec.map_point}_lng")
        distance = sql_distance_between(lat, lng, tlat, tlng).label("distance")
        stmt = select(model.id, getattr(model, layer.spec.title_field), target.id,
                      getattr(target, target_spec.title_field), distance) \
            .join(target, getattr(model, f"{ref.name}_id") == target.id) \
            .where(lat.isnot(None), lng.isnot(None), tlat.isnot(None), tlng.isnot(None))
        if flagged_only:
            stmt = stmt.where(distance > self.threshold_km)
        if row_id is not None:
            stmt = stmt.where(model.id == row_id)
        stmt = stmt.order_by(distance.desc(), model.id).limit(limit)
        return [{"id": r[0], "title": str(r[1] or r[0]), "target_id": r[2], "target_title": str(r[3] or r[2]),
                 "distance_km": round(r[4], 3), "flagged": r[4] > self.threshold_km}
                for r in self.svc.session.execute(stmt)]

    def distance_of(self, actor: Any, layer: Layer, row_id: int) -> float | None:
        found = self.position_checks(actor, layer, row_id=row_id)
        return found[0]["distance_km"] if found else None

    def record_position(self, actor: Any, layer: Layer, row_id: int, lat: float, lng: float) -> Any:
        """The inspector's position on a row of a ``distance_to`` layer (typed or the browser's geolocation),
        through the write path (edit permission, scope, frozen states, audit)."""
        row = self.row(layer, row_id)
        if row is None or not self.policy.can(layer.spec, actor, "edit"):
            raise PositionRefused(_("This row is not yours to place."))
        self.check_position(lat, lng, None, layer.spec.field(layer.point).bounds)
        return self._write_point(layer, row, lat, lng)


def parse_point(lat: Any, lng: Any) -> tuple[float, float]:
    try:
        return float(str(lat).strip()), float(str(lng).strip())
    except (TypeError, ValueError):
        raise PositionRefused(_("Type the latitude and the longitude as decimal degrees, e.g. 31.81 and 119.97."))

