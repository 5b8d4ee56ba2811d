"""Distances on the sphere: the exact haversine in Python and as a SQL expression (PostgreSQL and SQLite both
have the trigonometric functions), and the bounding box that lets an index on (lat, lng) prefilter a radius."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, and_, cast, func

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
#: China's range (WGS-84), as the enterprise register's geo bounds say it
CHINA = ((3.8, 73.5), (53.6, 135.1))


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Box:
    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lng: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lng <= self.east

    def grown(self, km: float) -> "Box":
        dlat = km / KM_PER_DEGREE
        dlng = km / (KM_PER_DEGREE * max(0.01, math.cos(math.radians((self.south + self.north) / 2))))
        return Box(self.south - dlat, self.west - dlng, self.north + dlat, self.east + dlng)


def box_around(lat: float, lng: float, km: float) -> Box:
    """The smallest latitude/longitude box holding every point within ``km`` of (lat, lng)."""
    return Box(lat, lng, lat, lng).grown(km)


def sql_distance_km(lat_col: Any, lng_col: Any, lat: float, lng: float) -> Any:
    """The haversine distance from (lat, lng) to the row's point, in SQL."""
    rlat, rlng = func.radians(cast(lat_col, Float)), func.radians(cast(lng_col, Float))
    a = func.power(func.sin((rlat - math.radians(lat)) / 2), 2) + \
        math.cos(math.radians(lat)) * func.cos(rlat) * func.power(func.sin((rlng - math.radians(lng)) / 2), 2)
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(a))


def sql_distance_between(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> Any:
    """The haversine distance between two rows' points (columns on both sides), in SQL."""
    p1, p2 = func.radians(cast(lat1, Float)), func.radians(cast(lat2, Float))
    l1, l2 = func.radians(cast(lng1, Float)), func.radians(cast(lng2, Float))
    a = func.power(func.sin((p2 - p1) / 2), 2) + func.cos(p1) * func.cos(p2) * func.power(func.sin((l2 - l1) / 2), 2)
    return 2 * EARTH_RADIUS_KM * func.asin(func.sqrt(a))


def sql_in_box(lat_col: Any, lng_col: Any, box: Box) -> Any:
    """The prefilter the (lat, lng) index answers."""
    return and_(lat_col >= box.south, lat_col <= box.north, lng_col >= box.west, lng_col <= box.east)


def _geog_point(lat: float, lng: float) -> Any:
    from app.models.spatial import SRID, Geography
    return cast(func.ST_SetSRID(func.ST_MakePoint(float(lng), float(lat)), SRID), Geography())


def sql_geog_within(geog_col: Any, lat: float, lng: float, km: float) -> Any:
    """PostGIS: within ``km`` of (lat, lng) on the sphere (use_spheroid false: the same mean radius as the
    haversine above, so both searches find the same rows); the GiST index on the column answers it."""
    return func.ST_DWithin(geog_col, _geog_point(lat, lng), km * 1000.0, False)


def sql_geog_distance_km(geog_col: Any, lat: float, lng: float) -> Any:
    """PostGIS: the distance on the same sphere, in km."""
    return func.ST_Distance(geog_col, _geog_point(lat, lng), False) / 1000.0
