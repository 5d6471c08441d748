"""TileJSON 3.0.0 documents for tile layers (bounds, centre, zooms, vector layers and fields)."""

from __future__ import annotations

from django.db import connection
from psycopg2 import sql

from spatial.models import Layer
from core import cache
from tiles import raster
from spatial.layers.source import visible_fields
from tiles.service import TileLayer

WORLD_BOUNDS = [-180.0, -85.0511, 180.0, 85.0511]
OSM_ATTRIBUTION = (
    '<a href="https://www.openstreetmap.org/copyright">© OpenStreetMap contributors</a>'
)

# PostgreSQL types as TileJSON field descriptions (TileJSON only says "a description").
FIELD_TYPES = {
    "smallint": "Number",
    "integer": "Number",
    "bigint": "Number",
    "real": "Number",
    "double precision": "Number",
    "numeric": "Number",
    "boolean": "Boolean",
}


def layer_bounds(layer: Layer) -> list[float]:
    """Gives the layer's [minlon, minlat, maxlon, maxlat]: its registered extent, the raster's
    footprint, or ST_Extent of its rows (cached per layer version)."""
    if layer.extent and len(layer.extent) == 4:
        return [float(v) for v in layer.extent]
    if layer.kind == Layer.Kind.RASTER:
        return (
            list(raster.raster_bounds_4326(layer.raster_path))
            if layer.raster_path
            else WORLD_BOUNDS
        )
    key = f"tiles:bounds:{layer.pk}:{layer.version}"
    bounds = cache.read(key)
    if bounds is None:
        where = sql.SQL(layer.filter_sql) if layer.filter_sql else sql.SQL("true")
        query = sql.SQL(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent({g})::geometry AS e FROM {t} WHERE {w}) AS s"
        ).format(
            g=sql.Identifier(layer.geometry_column),
            t=sql.Identifier(layer.schema_name, layer.table_name),
            w=where,
        )
        with connection.cursor() as cur:
            cur.execute(query.as_string(cur.cursor))
            row = cur.fetchone()
        bounds = [float(v) for v in row] if row and row[0] is not None else WORLD_BOUNDS
        cache.write(key, bounds, timeout=24 * 3600)
    return bounds


def uses_osm_data(layer: Layer) -> bool:
    """Whether the layer shows OpenStreetMap data (so maps must credit its contributors)."""
    if layer.style.get("attribution") == "osm" or "openstreetmap" in layer.description.lower():
        return True
    if layer.purpose != Layer.Purpose.ROAD or layer.kind != Layer.Kind.CORE:
        return False
    with connection.cursor() as cur:
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM spatial_roadsegment "
            "WHERE source_id <> '' AND source_id NOT LIKE 'demo:%%')"
        )
        return bool(cur.fetchone()[0])


def vector_layer(item: TileLayer) -> dict:
    """Gives the TileJSON `vector_layers` entry of a tile layer."""
    layer = item.layer
    tiling = item.tiling
    if item.aggregate == "labels":
        fields = {name: FIELD_TYPES.get(t, "String") for name, t in visible_fields(layer)}
        description = f"{layer.title}: label points"
    elif item.aggregate:
        fields = {"count": "Number"}
        description = f"{layer.title}: {'hexagon' if item.aggregate == 'hex' else 'square'} bins"
    else:
        fields = {name: FIELD_TYPES.get(t, "String") for name, t in visible_fields(layer)}
        description = layer.title
        if tiling is not None and tiling.points:
            fields["point_count"] = "Number"
            description += f" (clusters with point_count below zoom {tiling.cluster_below_zoom})"
    return {
        "id": item.name,
        "fields": fields,
        "description": description,
        "minzoom": layer.min_zoom,
        "maxzoom": min(layer.max_zoom, 30),
    }


def document(items: list[TileLayer], name: str, base_url: str) -> dict:
    """Gives the TileJSON 3.0.0 document of the tile at /tiles/{name}/{z}/{x}/{y}."""
    rasters = [i for i in items if i.layer.kind == Layer.Kind.RASTER]
    ext = "png" if rasters else "mvt"
    boxes = [layer_bounds(i.layer) for i in items]
    bounds = [
        max(-180.0, min(b[0] for b in boxes)),
        max(-85.0511, min(b[1] for b in boxes)),
        min(180.0, max(b[2] for b in boxes)),
        min(85.0511, max(b[3] for b in boxes)),
    ]
    minzoom = min(i.layer.min_zoom for i in items)
    maxzoom = min(max(i.layer.max_zoom for i in items), 30)
    centre_zoom = max(minzoom, min(maxzoom, 12))
    doc = {
        "tilejson": "3.0.0",
        "name": name,
        "description": ", ".join(i.layer.title for i in items),
        "scheme": "xyz",
        "tiles": [f"{base_url}/tiles/{name}/{{z}}/{{x}}/{{y}}.{ext}"],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, centre_zoom],
    }
    if not rasters:
        doc["vector_layers"] = [vector_layer(i) for i in items]
    if any(uses_osm_data(i.layer) for i in items):
        doc["attribution"] = OSM_ATTRIBUTION
    return doc
