"""Gives a GeoDataFrame for any supported vector file: zipped Shapefile, GeoJSON, GeoPackage,
KML, CSV (lon/lat or WKT columns) and OSM XML/PBF (roads, POIs, buildings).

Reading is vectorised (pyogrio/GDAL for the geometry formats, pandas for CSV); nothing loops
over rows in Python. Every file is checked by `gdal_guard` first: its bytes must be what its
format names, and GDAL reads it only with that format's driver and without network access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from core.errors import BadInput

from . import gdal_guard
from .files import extract_zip

if TYPE_CHECKING:  # annotations only: the functions import them when run
    import geopandas as gpd
    import pandas as pd

FORMATS = ("shapefile", "geojson", "gpkg", "kml", "csv", "osm")
SUFFIX_FORMAT = {
    ".zip": "shapefile",
    ".shp": "shapefile",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".kml": "kml",
    ".csv": "csv",
    ".txt": "csv",
    ".osm": "osm",
    ".pbf": "osm",
}
# OSM extracts are read through GDAL's OSM driver; each choice is one of its layers plus the
# tag that makes a feature belong to it.
OSM_LAYERS = {
    "roads": ("lines", "highway"),
    "pois": ("points", "name"),
    "buildings": ("multipolygons", "building"),
    "areas": ("multipolygons", "name"),  # named areas: campuses, compounds, parks
}
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "point_x", "gps_x", "jd")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "point_y", "gps_y", "wd")
WKT_NAMES = ("wkt", "geom", "geometry", "the_geom", "shape", "几何")


@dataclass
class SourceData:
    """What a reader gives: the features, the CRS the file declares (None if it declares
    none), and what was read."""

    frame: gpd.GeoDataFrame
    declared_crs: str | None
    format: str
    layer: str | None = None


def detect_format(path: Path, explicit: str | None = None) -> str:
    """Gives the format name of `path` from an explicit choice or its suffix."""
    if explicit:
        if explicit not in FORMATS:
            raise BadInput(f"unknown format {explicit!r}; one of {', '.join(FORMATS)}", "format")
        return explicit
    name = path.name.lower()
    if name.endswith(".osm.pbf"):
        return "osm"
    fmt = SUFFIX_FORMAT.get(path.suffix.lower())
    if fmt is None:
        raise BadInput(
            f"cannot tell the format of {path.name!r}; use .zip (Shapefile), .geojson, .gpkg, "
            ".kml, .csv, .osm or .pbf",
            field="file",
        )
    return fmt


def read_source(
    path: Path,
    work_dir: Path,
    fmt: str,
    layer: str | None = None,
    x: str | None = None,
    y: str | None = None,
    wkt: str | None = None,
) -> SourceData:
    """Gives the features of one file in its own CRS (no transformation yet).

    The file must lie in `work_dir` under the upload root and its bytes must be what `fmt`
    names; GDAL reads it only with that format's driver and never touches the network.
    """
    gdal_guard.check_path(path, work_dir)
    if path.stat().st_size == 0:
        raise BadInput("the file is empty", field="file")
    gdal_guard.check_content(path, fmt)
    gdal_guard.restrict_gdal()
    gdal_guard.refused_fetches()
    reader = {
        "shapefile": _read_shapefile,
        "geojson": _read_plain,
        "gpkg": _read_gpkg,
        "kml": _read_kml,
        "osm": _read_osm,
    }
    if fmt == "csv":
        return _read_csv(path, x=x, y=y, wkt=wkt)
    try:
        if fmt == "shapefile":
            return reader[fmt](path, work_dir, layer)
        return reader[fmt](path, layer)
    finally:
        gdal_guard.refuse_fetches()


def _gdal_read(path: Path, layer: str | None = None, **kwargs) -> gpd.GeoDataFrame:
    import pyogrio

    try:
        return pyogrio.read_dataframe(path, layer=layer, use_arrow=False, **kwargs)
    except UnicodeDecodeError:
        raise  # the caller may retry with another encoding
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise BadInput(f"cannot read {path.name}: {_first_line(exc)}", field="file") from exc
    except (pyogrio.errors.FieldError, pyogrio.errors.GeometryError, ValueError) as exc:
        raise BadInput(f"cannot read {path.name}: {_first_line(exc)}", field="file") from exc
    except RuntimeError as exc:  # GDAL errors surfaced through arrow
        raise BadInput(f"cannot read {path.name}: {_first_line(exc)}", field="file") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _crs_text(frame: gpd.GeoDataFrame) -> str | None:
    if frame.crs is None:
        return None
    epsg = frame.crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else frame.crs.to_wkt()


def _layers(path: Path) -> list[str]:
    import pyogrio

    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise BadInput(f"cannot read {path.name}: {_first_line(exc)}", field="file") from exc


def _read_plain(path: Path, layer: str | None) -> SourceData:
    gdal_guard.check_driver(path, "geojson")
    frame = _gdal_read(path)
    return SourceData(frame, _crs_text(frame) or "EPSG:4326", "geojson")


def _read_shapefile(path: Path, work_dir: Path, layer: str | None) -> SourceData:
    if path.suffix.lower() == ".zip":
        folder = extract_zip(path, work_dir)
        shps = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".shp")
        if not shps:
            raise BadInput("the zip holds no .shp file", field="file")
        if layer:
            shps = [p for p in shps if p.stem == layer]
            if not shps:
                raise BadInput(f"the zip has no shapefile named {layer!r}", field="layer")
        elif len(shps) > 1:
            names = ", ".join(p.stem for p in shps)
            raise BadInput(f"the zip holds several shapefiles ({names}); choose one", "layer")
        path = shps[0]
        gdal_guard.check_content(path, "shapefile")
    for part in (".shx", ".dbf"):
        if not _sidecar(path, part):
            raise BadInput(f"the shapefile {path.name} has no {part} file", field="file")
    gdal_guard.check_driver(path, "shapefile")
    if _sidecar(path, ".cpg"):
        frame = _gdal_read(path)
    else:
        # No .cpg: Chinese shapefiles are UTF-8 or, from older desktop GIS, GBK (GB18030 reads
        # both GBK and GB2312).
        try:
            frame = _gdal_read(path, encoding="UTF-8")
        except UnicodeDecodeError:
            try:
                frame = _gdal_read(path, encoding="GB18030")
            except UnicodeDecodeError as exc:
                raise BadInput(f"the shapefile's text is neither UTF-8 nor GBK: {exc}", "file")
    declared = _crs_text(frame) if _sidecar(path, ".prj") else None
    return SourceData(frame, declared, "shapefile", path.stem)


def _sidecar(shp: Path, suffix: str) -> Path | None:
    for candidate in shp.parent.iterdir():
        if candidate.stem == shp.stem and candidate.suffix.lower() == suffix:
            return candidate
    return None


def _read_gpkg(path: Path, layer: str | None) -> SourceData:
    names = _layers(path)
    if layer is None:
        if len(names) != 1:
            raise BadInput(
                f"the GeoPackage has layers {', '.join(names) or '(none)'}; choose one", "layer"
            )
        layer = names[0]
    elif layer not in names:
        raise BadInput(f"no layer {layer!r} in the GeoPackage; it has {', '.join(names)}", "layer")
    gdal_guard.check_driver(path, "gpkg", layer)
    frame = _gdal_read(path, layer=layer)
    return SourceData(frame, _crs_text(frame), "gpkg", layer)


def _read_kml(path: Path, layer: str | None) -> SourceData:
    import geopandas as gpd
    import pandas as pd

    names = _layers(path)
    if layer is not None and layer not in names:
        raise BadInput(f"no folder {layer!r} in the KML; it has {', '.join(names)}", "layer")
    if names:
        gdal_guard.check_driver(path, "kml", layer or names[0])
    frames = [_gdal_read(path, layer=name) for name in ([layer] if layer else names)]
    frames = [f for f in frames if len(f)]
    if not frames:
        frame = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs="EPSG:4326")
    else:
        frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    return SourceData(frame, "EPSG:4326", "kml", layer)


def _read_osm(path: Path, layer: str | None) -> SourceData:
    choice = layer or "roads"
    if choice not in OSM_LAYERS:
        raise BadInput(f"OSM layer must be one of {', '.join(OSM_LAYERS)}", field="layer")
    gdal_layer, tag = OSM_LAYERS[choice]
    gdal_guard.check_driver(path, "osm", gdal_layer)
    frame = _gdal_read(path, layer=gdal_layer, where=f'"{tag}" IS NOT NULL')
    return SourceData(frame.reset_index(drop=True), "EPSG:4326", "osm", choice)


def _read_csv(path: Path, x: str | None, y: str | None, wkt: str | None) -> SourceData:
    import geopandas as gpd
    import pandas as pd

    table = _csv_table(path)
    if table.empty:
        raise BadInput("the CSV has no rows", field="file")
    columns = {str(c).strip().lower(): c for c in table.columns}
    if wkt:
        geom_col = _column(columns, wkt, "wkt")
    elif x or y:
        geom_col = None
    else:
        geom_col = next((columns[n] for n in WKT_NAMES if n in columns), None)
    if geom_col is not None:
        try:
            geoms = shapely.from_wkt(
                table[geom_col].astype("string").fillna("").to_numpy(), on_invalid="raise"
            )
        except shapely.errors.ShapelyError as exc:
            raise BadInput(f"column {geom_col!r} holds text that is not WKT: {exc}", "wkt") from exc
        geoms = np.where(shapely.is_empty(geoms), None, geoms)
        table = table.drop(columns=[geom_col])
    else:
        xcol = _column(columns, x, "x") if x else _guess(columns, LON_NAMES, "longitude", "x")
        ycol = _column(columns, y, "y") if y else _guess(columns, LAT_NAMES, "latitude", "y")
        xs = pd.to_numeric(table[xcol], errors="coerce").to_numpy(dtype="float64")
        ys = pd.to_numeric(table[ycol], errors="coerce").to_numpy(dtype="float64")
        geoms = shapely.points(xs, ys)
        geoms[~(np.isfinite(xs) & np.isfinite(ys))] = None
        table = table.drop(columns=[xcol, ycol])
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms), crs=None)
    return SourceData(frame, None, "csv")


def _csv_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    last: Exception | None = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, encoding=encoding, low_memory=False)
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.EmptyDataError as exc:
            raise BadInput("the CSV is empty", field="file") from exc
        except pd.errors.ParserError as exc:
            raise BadInput(f"the CSV cannot be parsed: {_first_line(exc)}", field="file") from exc
    raise BadInput(f"the CSV is neither UTF-8 nor GB18030 text: {last}", field="file")


def _column(columns: dict[str, str], wanted: str, field: str) -> str:
    found = columns.get(wanted.strip().lower())
    if found is None:
        raise BadInput(f"the CSV has no column {wanted!r}", field=field)
    return found


def _guess(columns: dict[str, str], names: tuple[str, ...], what: str, field: str) -> str:
    for name in names:
        if name in columns:
            return columns[name]
    raise BadInput(
        f"cannot find the {what} column (tried {', '.join(names)}); name it with --{field} "
        "or give a WKT column",
        field=field,
    )


IDENT_RE = re.compile(r"[^\w]+", re.UNICODE)
RESERVED = {
    "id",
    "geom",
    "geom_mercator",
    "ctid",
    "oid",
    "xmin",
    "xmax",
    "cmin",
    "cmax",
    "tableoid",
}


def column_names(names: list[str]) -> list[str]:
    """Gives sanitised, unique SQL column names for a file's field names (same order)."""
    out: list[str] = []
    for raw in names:
        name = IDENT_RE.sub("_", str(raw).strip().lower()).strip("_") or "field"
        if name[0].isdigit():
            name = "f_" + name
        while len(name.encode()) > 60:
            name = name[:-1]
        base, n = name, 1
        while name in RESERVED or name in out:
            n += 1
            name = f"{base}_{n}"
        out.append(name)
    return out
