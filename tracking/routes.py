"""Patrol routes (巡查路线) in process: distance from the assigned route and checkpoints reached.

Like `tracking.grids`, a route is read once and kept per process: its line and checkpoints
projected to a local plane in metres about the line's centre (equirectangular, well under 1% off
within a city) and the line prepared, so a batch of 100 fixes costs one vectorised distance to
the line and one broadcast of the points against the checkpoints. The cache is keyed by the
route and its `version` (moved by every change of the route or its checkpoints, and read with
the tracker in the same query as the tracker itself, `tracking.api._trackers`), so an edit is
seen by the next batch; without a version (callers that do not read it) an entry is re-read
after `CACHE_S`.
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

ROUTE_SQL = """
SELECT r.version, r.tolerance_m, r.active, ST_AsBinary(r.geom),
       COALESCE(array_agg(c.id ORDER BY c."order", c.id) FILTER (WHERE c.id IS NOT NULL), '{}'),
       COALESCE(array_agg(ST_X(c.geom) ORDER BY c."order", c.id) FILTER (WHERE c.id IS NOT NULL), '{}'),
       COALESCE(array_agg(ST_Y(c.geom) ORDER BY c."order", c.id) FILTER (WHERE c.id IS NOT NULL), '{}'),
       COALESCE(array_agg(c.radius_m ORDER BY c."order", c.id) FILTER (WHERE c.id IS NOT NULL), '{}')
FROM tracking_patrolroute r LEFT JOIN tracking_checkpoint c ON c.route_id = r.id
WHERE r.id = %s GROUP BY r.id
"""


@dataclass(frozen=True)
class RouteIndex:
    """A route's line and checkpoints in a local metric plane centred on (lon0, lat0)."""

    route_id: int
    lon0: float
    lat0: float
    kx: float
    ky: float
    line: shapely.Geometry
    tolerance_m: float | None
    checkpoint_ids: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    radius: np.ndarray

    def _plane(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        x = (np.asarray(lon, dtype=float) - self.lon0) * self.kx
        y = (np.asarray(lat, dtype=float) - self.lat0) * self.ky
        return x, y

    def off_metres(self, lon, lat) -> np.ndarray:
        """Gives, per point, its distance in metres from the route's line."""
        x, y = self._plane(lon, lat)
        return shapely.distance(self.line, shapely.points(x, y))

    def reached(self, lon, lat) -> list[tuple[int, ...]]:
        """Gives, per point, the ids of the checkpoints within whose radius it lies."""
        x, y = self._plane(lon, lat)
        if not len(self.checkpoint_ids):
            return [()] * len(x)
        dx = x[:, None] - self.cx[None, :]
        dy = y[:, None] - self.cy[None, :]
        inside = dx * dx + dy * dy <= (self.radius * self.radius)[None, :]
        if not inside.any():
            return [()] * len(x)
        ids = self.checkpoint_ids.tolist()
        found: list[tuple[int, ...]] = [()] * len(x)
        for i in np.flatnonzero(inside.any(axis=1)).tolist():
            found[i] = tuple(ids[j] for j in np.flatnonzero(inside[i]).tolist())
        return found


_cache: dict[int, tuple[float, int, RouteIndex | None]] = {}


def _build(route_id: int, row: tuple) -> RouteIndex | None:
    _, tolerance, active, line_wkb, ids, xs, ys, radii = row
    if not active or line_wkb is None:
        return None
    line = wkb.loads(bytes(line_wkb))
    if line.is_empty or not math.isfinite(line.length):
        return None
    centre = line.centroid
    kx, ky = metres_per_degree(centre.y)

    def to_plane(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(((coords[:, 0] - centre.x) * kx, (coords[:, 1] - centre.y) * ky))

    plane = shapely.transform(line, to_plane)
    shapely.prepare(plane)
    return RouteIndex(
        route_id,
        centre.x,
        centre.y,
        kx,
        ky,
        plane,
        tolerance,
        np.array(ids, dtype=np.int64),
        (np.array(xs, dtype=float) - centre.x) * kx,
        (np.array(ys, dtype=float) - centre.y) * ky,
        np.array(radii, dtype=float),
    )


def route_index(route_id: int | None, version: int | None = None) -> RouteIndex | None:
    """Gives the route's index (None for no route, an inactive or an empty one), cached per
    process by route and version."""
    if route_id is None:
        return None
    now = time.monotonic()
    hit = _cache.get(route_id)
    if hit is not None and (hit[1] == version if version is not None else now - hit[0] < CACHE_S):
        return hit[2]
    with connection.cursor() as cursor:
        cursor.execute(ROUTE_SQL, [route_id])
        row = cursor.fetchone()
    index = _build(route_id, row) if row is not None else None
    _cache[route_id] = (now, row[0] if row else -1, index)
    return index


def clear() -> None:
    """Forgets every cached route (tests)."""
    _cache.clear()
