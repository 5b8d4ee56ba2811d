"""The radius search on PostGIS (ST_DWithin on the generated geography column, its GiST index) and on the
portable path (bounding box on the indexed lat/lng + exact haversine) find the same rows in the same distance
order, on the same data in the same PostgreSQL database."""
from __future__ import annotations

import random

from sqlalchemy import text

from tests.conftest import ADMIN_PASSWORD

from .conftest import CENTRE, HOME_TOWNSHIP, enterprise, offset
from .test_map import client_for


def _search(client, radius: float, layer: str = "enterprise") -> list[tuple[int, float]]:
    rows = client.get(f"/gis_map/search.json?lat={CENTRE[0]}&lng={CENTRE[1]}&radius={radius}&layer={layer}") \
        .get_json()["rows"]
    return [(r["id"], r["distance_km"]) for r in rows]


def test_postgis_and_haversine_find_the_same_rows_in_the_same_order(db_app, map_world):
    svc = db_app.extensions["safety"]
    service = db_app.extensions["gis_map"]
    assert svc.models.postgis, "PostGIS is installed by scripts/test (postgresql-15-postgis-3)"
    rng = random.Random(15)
    with db_app.app_context():
        for i in range(40):  # a cloud of points 0–12 km around the centre, at every bearing
            enterprise(svc, HOME_TOWNSHIP, f"新北点云企业{i:02d}",
                       offset(CENTRE, rng.uniform(-12, 12), rng.uniform(-12, 12)))
        # the migration made the geography column (generated from lat/lng) and its GiST index
        index = svc.session.execute(text("SELECT indexdef FROM pg_indexes WHERE tablename = 'reg_enterprise' "
                                         "AND indexdef LIKE '%gist (location_geog)%'")).scalar()
        assert index is not None
        filled = svc.session.execute(text("SELECT count(*) FROM reg_enterprise WHERE location_geog IS NOT NULL "
                                          "AND location_lat IS NOT NULL")).scalar()
        assert filled == 53  # 10 + 3 placed by the map world, 40 here; the two unplaced rows stay NULL
    admin = client_for(db_app, "admin", ADMIN_PASSWORD)
    try:
        for radius in (1, 3, 5, 10, 15):
            service.use_postgis = True
            postgis = _search(admin, radius)
            service.use_postgis = False
            portable = _search(admin, radius)
            assert [i for i, _ in postgis] == [i for i, _ in portable], radius
            assert [d for _, d in postgis] == [d for _, d in portable], radius
            assert postgis, radius
        assert len(postgis) > 40  # 15 km holds the cloud
    finally:
        service.use_postgis = True


def test_the_postgis_search_uses_st_dwithin_and_the_gist_index(db_app, map_world):
    svc = db_app.extensions["safety"]
    with db_app.app_context():
        from plugins.gis_map.geo import sql_geog_distance_km, sql_geog_within
        table = svc.models["enterprise"].__table__
        geog = table.c.location_geog
        stmt = f"""EXPLAIN SELECT id FROM reg_enterprise WHERE {
            sql_geog_within(geog, *CENTRE, 5).compile(svc.db.engine, compile_kwargs={'literal_binds': True})}"""
        svc.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(svc.session.execute(text(stmt)).scalars())
        assert "ix_gist_reg_enterprise_location_geog" in plan
        assert "ST_DWithin" in str(sql_geog_within(geog, *CENTRE, 5)) and \
            "ST_Distance" in str(sql_geog_distance_km(geog, *CENTRE))
        svc.session.rollback()
