"""Gives import-ready geometries: 2D, one geometry type per layer, validity checked.

Rules (documented for GIS admins):
* Z and M values are dropped; the number of such rows is reported (`dropped_z_m`).
* Rows without geometry are skipped and counted (`skipped_no_geometry`).
* Lines and polygons are stored as MultiLineString / MultiPolygon (singles are promoted, so a
  file mixing Polygon and MultiPolygon imports as one type). Points stay Point unless the file
  has a MultiPoint, then all are MultiPoint.
* A file mixing families (points with polygons, say) or holding GeometryCollections is refused
  with the counts per type, unless the caller asks `mixed="geometry"`: the layer's column is then
  a generic GEOMETRY column.
* Invalid geometries (self-intersections, ...): `invalid="repair"` (default) repairs them with
  PostGIS ST_MakeValid after loading and counts them (`repaired`); `invalid="skip"` drops those
  rows and lists each with its reason; `invalid="refuse"` fails the whole import, listing the
  reasons, and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import shapely

from core.errors import BadInput

FAMILY = {
    "Point": "Point",
    "MultiPoint": "Point",
    "LineString": "LineString",
    "LinearRing": "LineString",
    "MultiLineString": "LineString",
    "Polygon": "Polygon",
    "MultiPolygon": "Polygon",
    "GeometryCollection": "GeometryCollection",
}
INVALID_MODES = ("repair", "skip", "refuse")
MIXED_MODES = ("refuse", "geometry")
MAX_LISTED = 50


@dataclass
class Prepared:
    """Geometries ready to write, the kept rows of the source table, the column type, and
    the counts that go into the job report."""

    geoms: np.ndarray
    keep: np.ndarray
    geometry_type: str
    invalid_rows: np.ndarray
    report: dict = field(default_factory=dict)
    refused: list = field(default_factory=list)


def prepare(geoms: np.ndarray, invalid: str = "repair", mixed: str = "refuse") -> Prepared:
    """Gives 2D, single-typed geometries with the rows to keep; `BadInput` per the rules above."""
    if invalid not in INVALID_MODES:
        raise BadInput(f"invalid must be one of {', '.join(INVALID_MODES)}", field="invalid")
    if mixed not in MIXED_MODES:
        raise BadInput(f"mixed must be one of {', '.join(MIXED_MODES)}", field="mixed")
    geoms = np.asarray(geoms, dtype=object)
    report: dict = {"rows_read": int(len(geoms))}
    if len(geoms) == 0:
        raise BadInput("the file has no features", field="file")
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report["skipped_no_geometry"] = int(missing.sum())
    if missing.all():
        raise BadInput("no feature in the file has a geometry", field="file")
    keep = ~missing
    has_zm = shapely.has_z(geoms) | _has_m(geoms)
    report["dropped_z_m"] = int((has_zm & keep).sum())
    if has_zm.any():
        geoms = np.where(has_zm, shapely.force_2d(geoms), geoms)
    geometry_type = _layer_type(geoms[keep], mixed)
    geoms = _promote(geoms, keep, geometry_type)
    valid = np.ones(len(geoms), dtype=bool)
    valid[keep] = shapely.is_valid(geoms[keep])
    invalid_rows = np.flatnonzero(~valid)
    refused = [
        {"row": int(i) + 1, "reason": str(shapely.is_valid_reason(geoms[i]))}
        for i in invalid_rows[:MAX_LISTED]
    ]
    if len(invalid_rows) and invalid == "refuse":
        raise BadInput(
            f"{len(invalid_rows)} invalid geometries (first: row {refused[0]['row']}: "
            f"{refused[0]['reason']}); import with invalid=repair or invalid=skip",
            field="invalid",
        )
    if invalid == "skip":
        keep &= valid
        report["skipped_invalid"] = int(len(invalid_rows))
        invalid_rows = np.empty(0, dtype=int)
    return Prepared(geoms, keep, geometry_type, invalid_rows, report, refused)


def _has_m(geoms: np.ndarray) -> np.ndarray:
    has_m = getattr(shapely, "has_m", None)
    return has_m(geoms) if has_m else np.zeros(len(geoms), dtype=bool)


def _layer_type(geoms: np.ndarray, mixed: str) -> str:
    names = Counter(shapely.get_type_id(geoms).tolist())
    type_names = {tid: _TYPE_NAMES[tid] for tid in names}
    families = {FAMILY[type_names[t]] for t in names}
    if len(families) == 1 and "GeometryCollection" not in families:
        family = families.pop()
        if family == "Point":
            return "MultiPoint" if "MultiPoint" in type_names.values() else "Point"
        return f"Multi{family}"
    if mixed == "geometry":
        return "Geometry"
    counts = ", ".join(f"{type_names[t]}: {n}" for t, n in sorted(names.items()))
    raise BadInput(
        f"the file mixes geometry types ({counts}); split it by type, or import with "
        "mixed=geometry to keep them in one generic layer",
        field="mixed",
    )


_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


def families(geoms: np.ndarray) -> set[str]:
    """Gives the geometry families (`FAMILY` values) of the geometries, missing ones aside."""
    type_ids = np.unique(shapely.get_type_id(np.asarray(geoms, dtype=object))).tolist()
    return {FAMILY[_TYPE_NAMES[t]] for t in type_ids if t >= 0}


def _promote(geoms: np.ndarray, keep: np.ndarray, geometry_type: str) -> np.ndarray:
    maker = {
        "MultiPoint": shapely.multipoints,
        "MultiLineString": shapely.multilinestrings,
        "MultiPolygon": shapely.multipolygons,
    }.get(geometry_type)
    if maker is None:
        return geoms
    single = keep & (shapely.get_num_geometries(geoms) >= 1)
    single &= np.isin(shapely.get_type_id(geoms), [0, 1, 2, 3])
    idx = np.flatnonzero(single)
    if len(idx):
        out = geoms.copy()
        out[idx] = maker(geoms[idx], indices=np.arange(len(idx)))
        return out
    return geoms
