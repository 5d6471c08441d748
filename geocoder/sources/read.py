"""Gives the features of an address file in WGS84, each with its address fields as text:
read by the layer import's readers (`spatial.layers.readers`: Shapefile, GeoJSON, GeoPackage,
KML, CSV, OSM) and converted by its `transform` (any EPSG, CGCS2000 zones, gcj02, bd09).

OSM extracts are read as three of GDAL's OSM layers: ways with `highway` (roads), named
points, and named areas; their tags become the same fields a table would have (`addr:street`
→ 路名, `addr:housenumber` → 门牌号) plus what the feature is (`osm`: road, organization, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.errors import GEOSException

from core.errors import BadInput
from spatial import crs as crs_module
from spatial.layers import readers, transform

from . import fields as fields_module

if TYPE_CHECKING:  # annotations only: the functions import them when run
    import pandas as pd


@dataclass
class Feature:
    """One row of the file: where it is (None when it has no usable geometry) and its fields."""

    row: int | str  # the file row (1-based), or the OSM layer and id
    geom: object | None
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class FileFeatures:
    features: list[Feature]
    format: str
    crs: str
    columns: dict[str, str] = field(default_factory=dict)  # field → the file's column


def read_table(path: Path, work_dir: Path, options: dict) -> FileFeatures:
    """Gives the features of a table-like file (not OSM) with fields from the mapping."""
    fmt = readers.detect_format(path, options.get("format") or None)
    if fmt == "osm":
        raise BadInput("an OSM file loads with --kind osm", field="kind")
    source = _read(path, work_dir, fmt, options)
    src_crs = transform.resolve_source_crs(source.declared_crs, options.get("crs") or None, fmt)
    frame = source.frame
    geoms, read_as = _wgs84(np.asarray(frame.geometry.array, dtype=object), src_crs, options)
    attributes = frame.drop(columns=frame.geometry.name)
    mapping = fields_module.parse_mapping(options.get("mapping"))
    columns = fields_module.columns_for(mapping, [str(c) for c in attributes.columns])
    texts = {f: _texts(attributes[c]) for f, c in columns.items()}
    features = [
        Feature(i + 1, geoms[i], {f: values[i] for f, values in texts.items() if values[i]})
        for i in range(len(frame))
    ]
    return FileFeatures(features, fmt, read_as, columns)


def _read(path: Path, work_dir: Path, fmt: str, options: dict) -> readers.SourceData:
    try:
        return readers.read_source(
            path,
            work_dir,
            fmt,
            layer=options.get("layer") or None,
            x=options.get("x") or None,
            y=options.get("y") or None,
            wkt=options.get("wkt") or None,
        )
    except GEOSException as exc:
        raise BadInput(f"the file holds a geometry that cannot be read: {exc}", "file") from exc


def _texts(column: pd.Series) -> list[str]:
    """Gives a column as stripped text, '' for missing values (12.0 → '12')."""
    out = []
    for value in column.tolist():
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            out.append("")
        elif isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))
        else:
            out.append(str(value).strip())
    return out


def _wgs84(
    geoms: np.ndarray, src_crs: transform.SourceCrs, options: dict
) -> tuple[np.ndarray, str]:
    """Gives 2D WGS84 geometries (None where a row has none or its coordinates have no WGS84
    position: each such row is refused by the caller, not the whole file) and the CRS they were
    read in. The offset check of layer imports applies: GCJ-02 or BD-09 data read as WGS84 is
    refused (`crs=auto` converts it)."""
    from spatial.layers import offsets

    read_as = src_crs.label
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    present = np.where(missing, None, geoms)
    if (~missing).any():
        kept = shapely.force_2d(present[~missing])
        converted = transform.to_wgs84(kept, src_crs)
        check = options.get("extent_check", "city")
        if check != "off":
            box = transform.city_box() if check == "city" else None
            transform.check_extent(kept, converted, src_crs, box)
        converted, read_as, _ = offsets.apply(kept, converted, src_crs, options.get("crs") or None)
        coords, index = shapely.get_coordinates(converted, return_index=True)
        bad = np.unique(index[~crs_module.valid_lonlat(coords[:, 0], coords[:, 1])])
        converted[bad] = None
        present[~missing] = converted
    return present, read_as


# -- OSM ----------------------------------------------------------------------------------

_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_CJK = re.compile(r"[\u4e00-\u9fff]")
ORGANIZATION_AMENITIES = {
    "university", "college", "school", "kindergarten", "hospital", "clinic", "police",
    "townhall", "courthouse", "library", "research_institute", "bank", "post_office",
    "fire_station", "community_centre", "social_facility", "place_of_worship", "theatre",
    "arts_centre", "bus_station", "prison",
}  # fmt: skip
STOREFRONT_AMENITIES = {
    "restaurant", "cafe", "fast_food", "bar", "pub", "pharmacy", "ice_cream", "food_court",
}  # fmt: skip
LANDMARK_KEYS = ("tourism", "historic", "man_made", "leisure")
# Names that are a building of something, not a place of their own: 10号楼, 3栋, A座.
BUILDING_NAME = re.compile(r"^[\w\-]{0,6}?(\d+|[A-Za-z])(号楼|栋|幢|座|号)$")


def osm_tags(row: dict) -> dict[str, str]:
    """Gives every tag of a feature GDAL read: its own columns plus `other_tags`."""
    tags = {
        k: str(v)
        for k, v in row.items()
        if k not in ("other_tags", "geometry", "osm_id", "osm_way_id", "z_order")
        and v is not None
        and not (isinstance(v, float) and np.isnan(v))
    }
    for key, value in _TAG.findall(str(row.get("other_tags") or "")):
        tags.setdefault(key.replace('\\"', '"'), value.replace('\\"', '"'))
    return tags


def osm_name(tags: dict[str, str]) -> str:
    """Gives the Chinese name of a feature (name:zh, then name), '' when it has none."""
    for key in ("name:zh", "name:zh-Hans", "name"):
        name = tags.get(key, "").strip()
        if name and _CJK.search(name):
            return name
    return ""


def osm_category(tags: dict[str, str], geom) -> str:
    """Gives what a named OSM point or area is for the address database."""
    amenity = tags.get("amenity", "")
    if "office" in tags or amenity in ORGANIZATION_AMENITIES:
        return "organization"
    if "shop" in tags or amenity in STOREFRONT_AMENITIES or "craft" in tags:
        return "storefront"
    if tags.get("landuse") == "residential" or tags.get("place") in ("neighbourhood", "quarter"):
        return "compound" if geom is not None and geom.geom_type.endswith("Polygon") else "place"
    if "place" in tags:
        return "place"
    if any(k in tags for k in LANDMARK_KEYS) or "building" in tags:
        return "landmark"
    return "poi"


def _is_stop(tags: dict[str, str]) -> bool:
    return (
        tags.get("highway") == "bus_stop"
        or tags.get("public_transport") in ("stop_position", "platform")
        or tags.get("bus") == "yes"
    )


def read_osm(path: Path, work_dir: Path, options: dict) -> FileFeatures:
    """Gives the features of an OSM extract: named highways (`osm` road), named points and
    areas (organization, storefront, compound, place, landmark, poi) and their addresses."""
    features: list[Feature] = []
    for layer in ("roads", "pois", "areas"):
        source = _read(path, work_dir, "osm", {**options, "layer": layer, "x": "", "y": ""})
        frame = source.frame
        geoms = np.asarray(frame.geometry.array, dtype=object)
        records = frame.drop(columns=frame.geometry.name).to_dict("records")
        for i, (row, geom) in enumerate(zip(records, geoms)):
            tags = osm_tags(row)
            ident = f"{layer}:{row.get('osm_id') or row.get('osm_way_id') or i + 1}"
            features.append(_osm_feature(ident, layer, tags, geom))
    if options.get("extent_check", "city") != "off":
        present = np.array([f.geom for f in features if f.geom is not None], dtype=object)
        box = transform.city_box() if options.get("extent_check", "city") == "city" else None
        wgs84 = transform.SourceCrs("EPSG:4326")
        transform.check_extent(present, present, wgs84, box)
    return FileFeatures(features, "osm", "EPSG:4326")


def _osm_feature(ident: str, layer: str, tags: dict[str, str], geom) -> Feature:
    name = osm_name(tags)
    values: dict[str, str] = {"osm_id": ident}
    if layer == "roads":
        values.update(osm="road", road_class=tags.get("highway", ""))
        if name:
            values["road"] = name
        aliases = [tags.get(k, "") for k in ("alt_name", "old_name", "short_name", "official_name")]
    else:
        category = osm_category(tags, geom)
        if name and _is_stop(tags) and not name.endswith("站"):
            name += "公交站"  # a stop named after the campus it serves is not the campus
        if name and not BUILDING_NAME.match(name):
            values.update(osm=category, name=name)
        aliases = [tags.get(k, "") for k in ("alt_name", "old_name", "short_name", "official_name")]
        if tags.get("addr:street") and tags.get("addr:housenumber"):
            values.update(road=tags["addr:street"], number=tags["addr:housenumber"])
    aliases = [a.strip() for a in ";".join(aliases).split(";") if _CJK.search(a or "")]
    if aliases:
        values["aliases"] = ";".join(dict.fromkeys(a for a in aliases if a != name))
    return Feature(ident, None if geom is None else shapely.force_2d(geom), values)  # type: ignore[arg-type]
