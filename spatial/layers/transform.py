"""Gives features in EPSG:4326: the source CRS resolved (file, or the caller's `--crs`), every
coordinate converted through `spatial.crs`, and a check that the result lies where the city is,
naming the likely CRS when it does not."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from django.conf import settings
from django.db import connection
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from pyproj.exceptions import CRSError

from spatial import crs as crs_module
from core.errors import BadInput

# Candidates tried when coordinates land outside the city: what the values probably are.
_GK_CANDIDATES = [f"EPSG:{code}" for code in crs_module.GAUSS_KRUGER_RANGE]
CANDIDATES = ["EPSG:4326", "lat/lon swapped", "EPSG:3857", "gcj02", "bd09", *_GK_CANDIDATES]


@dataclass(frozen=True)
class SourceCrs:
    """The CRS coordinates are read in: a `spatial.crs` code when it is one, else any CRS a
    file declares (a .prj in Beijing 1954 or UTM, say) handled by pyproj directly."""

    label: str
    wkt: str | None = None


# The `crs` value that keeps the file's own CRS and lets the offset check (`offsets.py`) pick
# WGS84, GCJ-02 or BD-09 by how the data fits the city.
AUTO = "auto"


def is_auto(explicit: str | None) -> bool:
    """Whether the caller's `crs` asks for the offset check to choose (`crs=auto`)."""
    return (explicit or "").strip().lower() == AUTO


def resolve_source_crs(declared: str | None, explicit: str | None, fmt: str) -> SourceCrs:
    """Gives the CRS to read coordinates in; `BadInput` when a Shapefile has neither a .prj
    nor an explicit CRS. `auto` reads the file's own CRS (or WGS84)."""
    if explicit and not is_auto(explicit):
        return SourceCrs(crs_module.parse_crs(explicit, field="crs").label)
    if declared is None:
        if fmt == "shapefile":
            raise BadInput(
                "the shapefile has no .prj file, so its coordinate system is unknown; add the "
                ".prj to the zip or name the CRS (--crs EPSG:4548, gcj02, ...)",
                field="crs",
            )
        return SourceCrs("EPSG:4326")
    try:
        return SourceCrs(crs_module.parse_crs(declared, field="crs").label)
    except BadInput:
        pass
    try:
        parsed = ProjCRS.from_user_input(declared)
    except CRSError as exc:
        raise BadInput(f"the file's CRS cannot be read: {exc}", field="crs") from exc
    return SourceCrs(parsed.name, parsed.to_wkt())


@lru_cache(maxsize=16)
def _wkt_transformer(wkt: str) -> Transformer:
    return Transformer.from_crs(ProjCRS.from_wkt(wkt), 4326, always_xy=True)


def _convert(xy: np.ndarray, source: SourceCrs) -> np.ndarray:
    if source.wkt is None:
        lon, lat = crs_module.to_wgs84_array(xy[:, 0], xy[:, 1], source.label)
    else:
        lon, lat = _wkt_transformer(source.wkt).transform(xy[:, 0], xy[:, 1], errcheck=False)
        lon, lat = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
        bad = ~crs_module.valid_lonlat(lon, lat)
        lon, lat = np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)
    return np.column_stack([lon, lat])


def to_wgs84(geoms: np.ndarray, source: SourceCrs) -> np.ndarray:
    """Gives 2D geometries converted to WGS84 (coordinates that cannot be converted are NaN)."""
    if source.wkt is None and crs_module.parse_crs(source.label).kind == "wgs84":
        return geoms
    return shapely.transform(geoms, lambda xy: _convert(xy, source))


def check_finite(converted: np.ndarray, source: SourceCrs) -> None:
    """Raises `BadInput` naming rows whose coordinates have no WGS84 position in `source`
    (not finite, or beyond lon ±180 / lat ±90, which PostGIS refuses to transform)."""
    coords, index = shapely.get_coordinates(converted, return_index=True)
    bad = np.unique(index[~crs_module.valid_lonlat(coords[:, 0], coords[:, 1])])
    if len(bad):
        rows = ", ".join(str(i + 1) for i in bad[:10])
        raise BadInput(
            f"{len(bad)} features have coordinates outside the valid area of {source.label} "
            f"(rows {rows}); check the file's CRS (--crs)",
            field="crs",
        )


def city_box() -> tuple[float, float, float, float]:
    """Gives the accepted (minx, miny, maxx, maxy): the districts' extent, or the configured
    city centre, widened by settings.LAYER_IMPORT_MARGIN_DEG."""
    margin = float(getattr(settings, "LAYER_IMPORT_MARGIN_DEG", 1.0))
    with connection.cursor() as cur:
        # One aggregate over the district rows (spatial_adminarea.level index).
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) AS e FROM spatial_adminarea WHERE level = %s) s",
            ["district"],
        )
        row = cur.fetchone()
    if row and row[0] is not None:
        minx, miny, maxx, maxy = row
    else:
        lon, lat = settings.CITY_CENTER
        minx, miny, maxx, maxy = lon - 1.0, lat - 1.0, lon + 1.0, lat + 1.0
    return (minx - margin, miny - margin, maxx + margin, maxy + margin)


CHINA_BOX = (73.0, 3.0, 136.0, 54.0)


def _inside(xy: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (
            np.isfinite(xy).all(axis=1)
            & (xy[:, 0] >= box[0])
            & (xy[:, 0] <= box[2])
            & (xy[:, 1] >= box[1])
            & (xy[:, 1] <= box[3])
        )


def check_extent(
    raw: np.ndarray, converted: np.ndarray, source: SourceCrs, box: tuple | None
) -> None:
    """Raises `BadInput` naming likely CRSs when converted coordinates fall outside `box`.

    `raw` are the file's geometries before conversion. `box` None checks only that the
    coordinates are somewhere in China (for extracts of other cities).
    """
    checked = box or CHINA_BOX
    coords, index = shapely.get_coordinates(converted, return_index=True)
    if len(coords) == 0:
        return
    outside = ~_inside(coords, checked)
    if not outside.any():
        return
    features = len(np.unique(index[outside]))
    where = ", ".join(f"{v:.4f}" for v in checked)
    area = "the city's extent" if box else "China"
    message = (
        f"{int(outside.sum())} of {len(coords)} coordinates ({100.0 * outside.mean():.0f}%, in "
        f"{features} of {len(converted)} features) read as {source.label} fall outside {area} "
        f"[{where}] after conversion to WGS84"
    )
    likely = likely_crs(_sample_points(raw), checked)
    if likely:
        message += f"; the values look like {' or '.join(likely)}: re-import with --crs {likely[0]}"
    else:
        message += "; no supported CRS puts them inside it: check the file's coordinates"
    if box:
        message += (
            "; if the file covers another part of China, re-import with extent_check=china "
            "(--extent-check china)"
        )
    raise BadInput(message, field="crs")


def _sample_points(geoms: np.ndarray, size: int = 500) -> np.ndarray:
    present = geoms[~shapely.is_missing(geoms)]
    if len(present) > size:
        present = present[np.linspace(0, len(present) - 1, size).astype(int)]
    if len(present) == 0:
        return np.empty((0, 2))
    return shapely.get_coordinates(shapely.point_on_surface(present))


def likely_crs(xy: np.ndarray, box: tuple) -> list[str]:
    """Gives the candidate CRSs under which all sample coordinates fall inside `box`."""
    found = []
    for candidate in CANDIDATES:
        if candidate == "lat/lon swapped":
            converted = xy[:, ::-1]
        else:
            converted = _convert(xy, SourceCrs(crs_module.parse_crs(candidate).label))
        if _inside(converted, box).all():
            found.append(candidate)
    return found


def gcj02_offset_metres(lon: float | None = None, lat: float | None = None) -> float:
    """Gives the GCJ-02 offset (metres) at a WGS84 point, by default the city centre: the shift a
    wrong `gcj02`/WGS84 choice causes there."""
    if lon is None or lat is None:
        lon, lat = settings.CITY_CENTER
    glon, glat = crs_module.wgs84_to_gcj02_array(np.array([lon]), np.array([lat]))
    per_lon, per_lat = crs_module.metres_per_degree(lat)
    dx = (glon[0] - lon) * per_lon
    dy = (glat[0] - lat) * per_lat
    return float(np.hypot(dx, dy))
