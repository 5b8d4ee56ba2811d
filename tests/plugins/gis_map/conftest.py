"""A small world for the resource map: enterprises at known points in two counties of 常州, a county regulator,
an enterprise account, inspections with the inspector's position."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.security.factory import make_org, make_row, make_user, make_uscc

# 常州市新北区 (320411) and 常州市武进区 (320412)
HOME_TOWNSHIP = "320411004"   # 春江街道
AWAY_TOWNSHIP = "320412001"   # 戚墅堰街道 (武进区)
CENTRE = (31.90, 119.90)      # a point in 新北区
AWAY_POINT = (31.75, 120.05)  # a point in 武进区
KM_PER_DEG = math.pi * 6371.0088 / 180


def offset(point: tuple[float, float], north_km: float, east_km: float) -> tuple[float, float]:
    lat = point[0] + north_km / KM_PER_DEG
    return round(lat, 6), round(point[1] + east_km / (KM_PER_DEG * math.cos(math.radians(point[0]))), 6)


@dataclass
class MapWorld:
    app: Any
    svc: Any
    home_org_id: int
    regulator: str
    enterprise_login: str
    points: dict[int, tuple[float, float]] = field(default_factory=dict)
    home: list[int] = field(default_factory=list)
    away: list[int] = field(default_factory=list)
    unplaced: int = 0
    own: int = 0


def enterprise(svc: Any, region: str, name: str, point: tuple[float, float] | None, **extra: Any) -> Any:
    values = {"region": region, "department": "emergency", "name": name, "status": "producing", **extra}
    system = {"location_lat": point[0], "location_lng": point[1]} if point else {}
    return make_row(svc, "enterprise", values, **system)


def build_map_world(db_app: Any) -> MapWorld:
    svc = db_app.extensions["safety"]
    home_org = make_org(svc, "320411", "emergency")
    regulator = make_user(db_app, "regulator", home_org).username
    world = MapWorld(db_app, svc, home_org.id, regulator, "")
    # rings of points at known distances (km) and bearings around CENTRE: some inside 5 km, some outside
    distances = [0.3, 0.9, 1.5, 2.9, 4.2, 4.9, 5.2, 6.5, 9.0, 12.0]
    for i, km in enumerate(distances):
        angle = math.radians(i * 37)
        point = offset(CENTRE, km * math.cos(angle), km * math.sin(angle))
        row = enterprise(svc, HOME_TOWNSHIP, f"新北地图企业{i:02d}", point,
                         risk_level=["major", "high", "general", "low"][i % 4])
        world.points[row.id] = point
        world.home.append(row.id)
    for i in range(3):
        row = enterprise(svc, AWAY_TOWNSHIP, f"武进地图企业{i:02d}", offset(AWAY_POINT, i * 0.5, 0))
        world.points[row.id] = (float(row.location_lat), float(row.location_lng))
        world.away.append(row.id)
    world.unplaced = enterprise(svc, HOME_TOWNSHIP, "新北未定位企业", None).id
    code = make_uscc()
    own = enterprise(svc, HOME_TOWNSHIP, "新北自报企业", None, uscc=code)
    world.own = own.id
    world.enterprise_login = make_user(db_app, "enterprise_user", None, code).username
    world.home += [world.unplaced, own.id]
    return world


@pytest.fixture
def map_world(db_app) -> MapWorld:
    with db_app.app_context():
        return build_map_world(db_app)


@pytest.fixture
def web_map_world(db_app) -> MapWorld:
    """The same world for the browser: no app context stays pushed."""
    with db_app.app_context():
        return build_map_world(db_app)
