"""Gives a layer as a file: GeoJSON, GeoPackage or zipped Shapefile, in a chosen CRS, written
with pyogrio in a temporary directory under the upload root."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import shapely

from spatial import crs as crs_module
from spatial.models import Layer
from core.errors import BadInput

from .features import FeatureQuery, Filters
from .files import new_work_dir
from .geometry import families as geometry_families

FORMATS = {
    "geojson": ("GeoJSON", ".geojson", "application/geo+json"),
    "gpkg": ("GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": ("ESRI Shapefile", ".shp", "application/zip"),
}


def export_layer(
    layer: Layer, scope, fmt: str, crs: str | None, filters: Filters | None = None
) -> tuple[Path, str, str]:
    """Gives (path of the written file, download name, content type) of the caller's rows of
    the layer that match `filters`; the caller removes the file's parent directory once sent."""
    import geopandas as gpd

    if fmt not in FORMATS:
        raise BadInput(f"format must be one of {', '.join(FORMATS)}", field="format")
    target = crs_module.parse_crs(crs or "EPSG:4326")
    query = FeatureQuery(layer, scope)
    rows = list(query.rows_wkb(filters or Filters()))
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.array([], dtype=object)
    data = {"fid": [r[0] for r in rows]}
    for i, column in enumerate(query.columns):
        data[column] = [_field_value(r[2 + i], fmt) for r in rows]
    if target.label != "EPSG:4326" and len(geoms):
        geoms = shapely.transform(
            geoms,
            lambda xy: np.column_stack(crs_module.from_wgs84_array(xy[:, 0], xy[:, 1], target)),
        )
    if fmt == "shp":
        _check_one_shape_type(geoms)
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms), crs=_file_crs(target))
    driver, suffix, content_type = FORMATS[fmt]
    work = new_work_dir()
    try:
        path = work / f"{layer.key}{suffix}"
        frame.to_file(
            path,
            driver=driver,
            engine="pyogrio",
            layer=layer.key,
            **({"encoding": "UTF-8"} if fmt == "shp" else {}),
        )
        if fmt == "shp":
            archive = work / f"{layer.key}.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
                for part in sorted(work.iterdir()):
                    if part != archive and part.stem == layer.key:
                        zf.write(part, part.name)
            return archive, archive.name, content_type
        return path, path.name, content_type
    except Exception:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _field_value(value, fmt: str):
    """Gives a json column's list or object as JSON text for GeoPackage and Shapefile, which
    have no nested values (pyogrio would write Python's repr); GeoJSON keeps it nested."""
    if fmt != "geojson" and isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _check_one_shape_type(geoms: np.ndarray) -> None:
    """Raises `BadInput` when the rows mix points, lines and polygons (or hold collections):
    a Shapefile holds one shape type, GeoJSON and GeoPackage hold any mix."""
    families = geometry_families(geoms)
    if len(families) > 1 or "GeometryCollection" in families:
        raise BadInput(
            f"a Shapefile holds one geometry type and this layer has {', '.join(sorted(families))}: "
            "export it as geojson or gpkg",
            field="format",
        )


def _file_crs(target) -> str | None:
    """Gives the CRS to write in the file (none for gcj02/bd09, which have no EPSG code)."""
    if target.kind in ("gcj02", "bd09"):
        return None
    return target.label if target.epsg != 4490 else "EPSG:4490"
