"""Independent answers for test expectations: coordinates and distances computed with pyproj and
the reference GCJ-02/BD-09 implementation (coordTransform), never with CityGrid's own modules,
so a test does not agree with the code under test merely because both share a bug."""

from __future__ import annotations

import math

import numpy as np
from coordTransform import wgs84_to_bd09, wgs84_to_gcj02
from pyproj import Geod, Transformer

OFFSET_CRS = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}
ELLIPSOID = Geod(ellps="WGS84")


def from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """Gives WGS84 lon/lat in `crs` ("gcj02", "bd09", "EPSG:xxxx" or a bare EPSG number)."""
    x, y = from_wgs84_array(np.array([lon]), np.array([lat]), crs)
    return float(x[0]), float(y[0])


def from_wgs84_array(lon, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Gives arrays of WGS84 lon/lat in `crs` (see `from_wgs84`)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    offset = OFFSET_CRS.get(crs.lower())
    if offset is not None:
        xy = np.array([offset(x, y) for x, y in zip(lon, lat)], dtype=float).reshape(-1, 2)
        return xy[:, 0], xy[:, 1]
    code = crs if ":" in crs else f"EPSG:{crs}"
    x, y = Transformer.from_crs("EPSG:4326", code, always_xy=True).transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Gives the distance in metres between two WGS84 points on the ellipsoid."""
    return abs(ELLIPSOID.inv(lon1, lat1, lon2, lat2)[2])


def ground_metres_per_pixel(zoom: float, lat: float, tile_size: int = 512) -> float:
    """Gives the ground size of one screen pixel of a Web Mercator map at `zoom` and `lat`."""
    equator = 2 * math.pi * 6378137.0
    return equator * math.cos(math.radians(lat)) / (tile_size * 2**zoom)
