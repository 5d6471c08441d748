"""Gives the offset check of an import: whether the file's coordinates fit the city's own
geography better read as WGS84, GCJ-02 (火星坐标) or BD-09 (百度坐标).

A GCJ-02 file declared as WGS84 lands a few hundred metres off, still inside the city, so the
extent check cannot see it. This check compares a sample of the file with what the server already
holds, under each reading of the coordinates:

* polygons: the mean distance from a polygon's boundary points to the boundary of the city's
  best-matching area of about the same size whose box meets it (admin areas of every level,
  unit grids);
* lines and points: the mean distance from their points to the nearest road segment.

A reading's fit is the median of those distances over the sample, in metres (lower is better).
Under the right reading a district drawn from a web map lies a few metres to a few hundred metres
(simplified boundaries) from the city's own; under a wrong one it is offset by the whole shift.
"No evidence" (nothing of the city's geography near the data) leaves the data as declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.db import connection
from pyproj import Transformer

from spatial import crs as crs_module
from core.errors import BadInput

from .transform import SourceCrs, gcj02_offset_metres, is_auto

# The readings tried, keyed as in the report; the value is the `spatial.crs` code.
READINGS = {"wgs84": "EPSG:4326", "gcj02": "gcj02", "bd09": "bd09"}
NAMES = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}

# Rule parameters (settings override them; see `_setting`).
DEFAULTS = {
    "LAYER_OFFSET_SAMPLE_FEATURES": 500,  # features compared per import
    "LAYER_OFFSET_POINTS_PER_FEATURE": 24,  # boundary or line points per feature
    "LAYER_OFFSET_REACH_M": 2000.0,  # a road farther than this from a point is no evidence
    "LAYER_OFFSET_CAP_M": 1000.0,  # a point's distance counts at most this much
    "LAYER_OFFSET_CLOSE_M": 30.0,  # a fitting reading puts points this close to roads, ...
    "LAYER_OFFSET_CLOSE_SHARE": 0.1,  # ... polygons within this share of their size (√area)
    "LAYER_OFFSET_RATIO": 1.5,  # the declared reading must be this many times worse, ...
    "LAYER_OFFSET_GAP_SHARE": 0.25,  # ... worse by the tolerance or this share of the offset ...
    "LAYER_OFFSET_WIN_SHARE": 0.7,  # ... and worse for this share of the compared features
    # Features near the city's geography; a polygon file of fewer features needs all of them
    # (a district file may hold one), a point or line file always this many.
    "LAYER_OFFSET_MIN_EVIDENCE": 5,
}

_TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)


def _setting(name: str) -> float:
    return getattr(settings, name, DEFAULTS[name])


@dataclass
class OffsetCheck:
    """What the check found: the readings' fits (metres, lower is better), the share of features
    closer under the best reading (`wins`), and the reading chosen when it is clearly better."""

    declared: str
    chosen: str
    fits: dict[str, float | None] = field(default_factory=dict)
    sample: int = 0
    evidence: int = 0
    wins: float | None = None
    tolerance_m: float | None = None
    offset_here_m: float | None = None
    clear: bool = False

    def report(self) -> dict:
        """Gives the check as the job report shows it."""
        return {
            "declared": self.declared,
            "chosen": self.chosen,
            "measure": "median distance (m) to the city's matching boundaries or roads",
            "fits": self.fits,
            "sample": self.sample,
            "evidence": self.evidence,
            "tolerance_m": self.tolerance_m,
            "wins": self.wins,
            "offset_here_m": self.offset_here_m,
        }

    def describe(self, declared_name: str) -> str:
        """Gives the fits in words: "GCJ-02 (3 m ...) better than WGS84 (341 m ...)"."""
        best, declared = self.fits[self.chosen], self.fits[self.declared]
        return (
            f"{NAMES[self.chosen]} ({best:.0f} m from the city's own boundaries or roads) better "
            f"than {declared_name} ({declared:.0f} m; median over {self.evidence} of "
            f"{self.sample} sampled features)"
        )


def declared_reading(source: SourceCrs) -> str:
    """Gives the reading (a `READINGS` key) the declared CRS stands for: gcj02 or bd09 when
    declared so, else wgs84 (what a projected CRS converts to)."""
    if source.wkt is None:
        kind = crs_module.parse_crs(source.label).kind
        if kind in READINGS:
            return kind
    return "wgs84"


def base_lonlat(raw: np.ndarray, converted: np.ndarray, source: SourceCrs) -> np.ndarray:
    """Gives the geometries whose lon/lat each reading reinterprets: the file's own values when
    it declares GCJ-02 or BD-09, else the declared CRS converted to lon/lat."""
    return raw if declared_reading(source) != "wgs84" else converted


def convert(base: np.ndarray, reading: str) -> np.ndarray:
    """Gives `base` (lon/lat geometries) read as `reading`, in WGS84."""
    if reading == "wgs84":
        return base

    def to_wgs84(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(crs_module.to_wgs84_array(xy[:, 0], xy[:, 1], READINGS[reading]))

    return shapely.transform(base, to_wgs84)


def check(base: np.ndarray, source: SourceCrs) -> OffsetCheck:
    """Gives the offset check of lon/lat geometries `base` (see `base_lonlat`)."""
    declared = declared_reading(source)
    result = OffsetCheck(declared=declared, chosen=declared)
    sample = _sample_features(base, int(_setting("LAYER_OFFSET_SAMPLE_FEATURES")))
    result.sample = len(sample)
    if not len(sample):
        return result
    distances, tolerance = _distances(sample)  # (features, readings), NaN = nothing near
    near = ~np.isnan(distances).all(axis=1)
    result.evidence = int(near.sum())
    minx, miny, maxx, maxy = shapely.total_bounds(sample)
    result.offset_here_m = round(gcj02_offset_metres((minx + maxx) / 2, (miny + maxy) / 2), 1)
    needed = int(_setting("LAYER_OFFSET_MIN_EVIDENCE"))
    if np.isin(shapely.get_type_id(sample), (3, 6)).all():
        needed = min(needed, len(sample))
    if result.evidence < needed:
        result.fits = dict.fromkeys(READINGS)
        return result
    cap = float(_setting("LAYER_OFFSET_CAP_M"))
    scored = np.where(np.isnan(distances[near]), cap, distances[near])
    fits = np.median(scored, axis=0)
    result.fits = {key: round(float(v), 1) for key, v in zip(READINGS, fits)}
    result.tolerance_m = round(float(np.median(tolerance[near])), 1)
    keys = list(READINGS)
    best = keys[int(np.argmin(fits))]
    if best == declared:
        return result
    d, b = keys.index(declared), keys.index(best)
    result.wins = round(float((scored[:, b] < scored[:, d]).mean()), 2)
    # A wrong reading costs about the offset: a large polygon's tolerance may exceed it.
    gap = min(result.tolerance_m, float(_setting("LAYER_OFFSET_GAP_SHARE")) * result.offset_here_m)
    result.clear = (
        fits[b] <= result.tolerance_m
        and fits[d] >= fits[b] * float(_setting("LAYER_OFFSET_RATIO"))
        and fits[d] - fits[b] >= gap
        and result.wins >= float(_setting("LAYER_OFFSET_WIN_SHARE"))
    )
    if result.clear:
        result.chosen = best
    return result


def _sample_features(base: np.ndarray, size: int) -> np.ndarray:
    present = base[~shapely.is_missing(base) & ~shapely.is_empty(base)]
    if len(present) > size:
        present = present[np.linspace(0, len(present) - 1, size).astype(int)]
    return present


def _sample_points(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives (coordinates, feature index) of up to POINTS_PER_FEATURE points per feature,
    evenly spread along polygon boundaries and lines."""
    per_feature = int(_setting("LAYER_OFFSET_POINTS_PER_FEATURE"))
    polygons = np.isin(shapely.get_type_id(geoms), (3, 6))
    outline = np.where(polygons, shapely.boundary(geoms), geoms)
    xy, index = shapely.get_coordinates(outline, return_index=True)
    counts = np.bincount(index, minlength=len(geoms))
    rank = np.arange(len(index)) - np.concatenate([[0], np.cumsum(counts)[:-1]])[index]
    slot = rank * per_feature // np.maximum(counts[index], 1)
    keep = (rank == 0) | (slot != (rank - 1) * per_feature // np.maximum(counts[index], 1))
    return xy[keep], index[keep]


def _distances(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives each feature's mean distance (m) to the city's matching geography under each
    reading (NaN when none is within reach), and each feature's closeness tolerance (m)."""
    xy, index = _sample_points(geoms)
    lat = np.nanmean(xy[:, 1]) if len(xy) else 0.0
    per_lon, per_lat = crs_module.metres_per_degree(float(lat))
    polygons = np.isin(shapely.get_type_id(geoms), (3, 6))
    area_m2 = np.where(polygons, shapely.area(geoms) * per_lon * per_lat, 0.0)
    close = float(_setting("LAYER_OFFSET_CLOSE_M"))
    share = float(_setting("LAYER_OFFSET_CLOSE_SHARE"))
    tolerance = np.where(polygons, share * np.sqrt(area_m2), close)
    distances = np.full((len(geoms), len(READINGS)), np.nan)
    for column, reading in enumerate(READINGS):
        lon, lat_r = crs_module.to_wgs84_array(xy[:, 0], xy[:, 1], READINGS[reading])
        ok = np.isfinite(lon) & np.isfinite(lat_r)
        mx, my = _TO_MERCATOR.transform(lon[ok], lat_r[ok])
        scale = np.cos(np.radians(lat_r[ok]))  # Web Mercator metres → ground metres
        rows = _query(index[ok], mx, my, scale, polygons, area_m2)
        for fid, mean_m in rows:
            distances[fid, column] = mean_m
    return distances, tolerance


# Per sampled point: the nearest road segment (KNN on spatial_roadsegment's geom_mercator GiST
# index), for the points of line and point features.
_ROADS_SQL = """
WITH pts AS (
    SELECT fid, ST_SetSRID(ST_MakePoint(x, y), 3857) AS p, k
    FROM unnest(%(fid)s::int[], %(x)s::float8[], %(y)s::float8[], %(k)s::float8[])
        AS t(fid, x, y, k)
    WHERE fid = ANY(%(lines)s::int[])
)
SELECT fid, avg(least(near.d, %(cap)s))
FROM pts
JOIN LATERAL (
    SELECT ST_Distance(r.geom_mercator, pts.p) * pts.k AS d
    FROM spatial_roadsegment r
    WHERE r.geom_mercator && ST_Expand(pts.p, %(reach)s / pts.k)
    ORDER BY r.geom_mercator <-> pts.p
    LIMIT 1
) near ON true
GROUP BY fid
"""

# Per polygon feature: among the city's areas of about its size whose box meets the feature's
# (admin areas and unit grids, each through its geom_mercator GiST index), the one whose
# boundary is nearest on average to the feature's boundary points.
_AREAS_SQL = """
WITH pts AS (
    SELECT fid, ST_SetSRID(ST_MakePoint(x, y), 3857) AS p, k
    FROM unnest(%(fid)s::int[], %(x)s::float8[], %(y)s::float8[], %(k)s::float8[])
        AS t(fid, x, y, k)
),
feats AS (
    SELECT pts.fid, ST_Collect(pts.p) AS pts, avg(pts.k) AS k, a.area
    FROM pts
    JOIN unnest(%(polygons)s::int[], %(areas)s::float8[]) AS a(fid, area) USING (fid)
    GROUP BY pts.fid, a.area
),
areas AS (
    SELECT geom_mercator FROM spatial_adminarea
    UNION ALL
    SELECT geom_mercator FROM spatial_unitgrid
)
SELECT f.fid, (
    SELECT min(m) FROM (
        SELECT (SELECT avg(least(ST_Distance(d.geom, c.edge) * f.k, %(cap)s))
                FROM ST_Dump(f.pts) d) AS m
        FROM (
            SELECT ST_Boundary(r.geom_mercator) AS edge
            FROM areas r
            WHERE r.geom_mercator && ST_Envelope(f.pts)
              AND ST_Area(r.geom_mercator) * f.k * f.k BETWEEN f.area / 2 AND f.area * 2
        ) c
    ) s
)
FROM feats f
"""


def _query(index, mx, my, scale, polygons, area_m2) -> list[tuple[int, float]]:
    params = {
        "fid": index.tolist(),
        "x": mx.tolist(),
        "y": my.tolist(),
        "k": scale.tolist(),
        "cap": float(_setting("LAYER_OFFSET_CAP_M")),
        "reach": float(_setting("LAYER_OFFSET_REACH_M")),
    }
    rows: list[tuple[int, float]] = []
    with connection.cursor() as cur:
        lines = np.flatnonzero(~polygons)
        if len(lines):
            cur.execute(_ROADS_SQL, {**params, "lines": lines.tolist()})
            rows += cur.fetchall()
        shapes = np.flatnonzero(polygons)
        if len(shapes):
            cur.execute(
                _AREAS_SQL,
                {**params, "polygons": shapes.tolist(), "areas": area_m2[shapes].tolist()},
            )
            rows += [(fid, m) for fid, m in cur.fetchall() if m is not None]
    return rows


def apply(
    raw: np.ndarray, converted: np.ndarray, source: SourceCrs, explicit: str | None
) -> tuple[np.ndarray, str, dict]:
    """Gives the geometries in WGS84 after the offset check, the CRS they were read in, and the
    check for the report. `BadInput` (field `crs`) when another reading fits clearly better than
    the file's CRS; `crs=auto` converts instead, and an explicit `crs` is taken as it is."""
    base = base_lonlat(raw, converted, source)
    result = check(base, source)
    report = result.report()
    if result.chosen == result.declared:
        return converted, source.label, report
    chosen, wgs84 = result.chosen, source.label == "EPSG:4326"
    if is_auto(explicit):
        label = READINGS[chosen] if wgs84 else f"{source.label} on {chosen}"
        return convert(base, chosen), label, {**report, "converted": True}
    if explicit:
        return converted, source.label, {**report, "chosen": result.declared, "kept": "crs given"}
    way_out = "crs=auto to convert"
    if wgs84:
        way_out = f"crs={chosen}, or {way_out}; crs=EPSG:4326 keeps the coordinates as read"
    fits = result.describe(NAMES["wgs84"] if wgs84 else source.label)
    raise BadInput(
        f"the data fits {fits}: it looks like {NAMES[chosen]} read as {source.label}; "
        f"re-import with {way_out}",
        field="crs",
    )
