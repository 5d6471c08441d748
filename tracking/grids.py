"""How far fixes lie outside an inspector's responsibility grids: an in-process index.

The geometry is the union of the person's responsibility grids (`Person.grids`), or their whole
area (`Person.area_geom`) when they have none. It is read once and kept per process (keyed by
the person and their ``area_digest``, re-read after `CACHE_S`), projected to a local plane in
metres (equirectangular about its centre: well under 1% off within a city, far below the 30 m
tolerance) and prepared, so a batch of 100 fixes costs one vectorised containment test and a
distance for the few outside; measured against one SQL query per batch in bench/README.md
("Tracking ingest"), where the SQL form is an order of magnitude slower.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.db import connection
from shapely import wkb

from spatial.crs import metres_per_degree

CACHE_S = 60.0

GRID_SQL = """
SELECT p.area_digest, COALESCE(
    (SELECT ST_AsBinary(ST_Union(g.geom)) FROM accounts_person_grids pg
     JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
     WHERE pg.person_id = p.id AND g.geom IS NOT NULL),
    ST_AsBinary(p.area_geom))
FROM accounts_person p WHERE p.id = %s
"""


@dataclass(frozen=True)
class GridArea:
    """A person's grids in a local metric plane centred on (lon0, lat0)."""

    lon0: float
    lat0: float
    kx: float
    ky: float
    geom: shapely.Geometry

    def off_metres(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Gives, per point, the distance in metres outside the area (0 inside or on it)."""
        x = (np.asarray(lon, dtype=float) - self.lon0) * self.kx
        y = (np.asarray(lat, dtype=float) - self.lat0) * self.ky
        inside = shapely.contains_xy(self.geom, x, y)
        off = np.zeros(len(x))
        if not inside.all():
            outside = ~inside
            off[outside] = shapely.distance(self.geom, shapely.points(x[outside], y[outside]))
        return off


_cache: dict[int, tuple[float, str, GridArea | None]] = {}


def _project(geom: shapely.Geometry) -> GridArea:
    centre = geom.centroid
    kx, ky = metres_per_degree(centre.y)

    def to_plane(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(((coords[:, 0] - centre.x) * kx, (coords[:, 1] - centre.y) * ky))

    plane = shapely.transform(geom, to_plane)
    shapely.prepare(plane)
    return GridArea(centre.x, centre.y, kx, ky, plane)


def grid_area(person_id: int | None, digest: str | None = None) -> GridArea | None:
    """Gives the person's grid area (None for no person or no area), cached per process."""
    if person_id is None:
        return None
    now = time.monotonic()
    hit = _cache.get(person_id)
    if hit is not None and now - hit[0] < CACHE_S and (digest is None or hit[1] == digest):
        return hit[2]
    with connection.cursor() as cursor:
        cursor.execute(GRID_SQL, [person_id])
        row = cursor.fetchone()
    area = None
    if row is not None and row[1] is not None:
        geom = wkb.loads(bytes(row[1]))
        if not geom.is_empty and math.isfinite(geom.area):
            area = _project(geom)
    _cache[person_id] = (now, row[0] if row else "", area)
    return area


def clear() -> None:
    """Forgets every cached area (tests)."""
    _cache.clear()
