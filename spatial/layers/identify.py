"""Gives the features of chosen layers at a map click (spec 5.1.6.5 图层查询), nearest first, with
the click tolerance converted from screen pixels at the map's zoom to metres."""

from __future__ import annotations

import math

from django.db import connection
from psycopg2 import sql

from core.errors import BadInput
from core.sqlparts import bind
from spatial import crs

from .features import FeatureQuery, Filters
from .registry import get_layer

EARTH_CIRCUMFERENCE_M = 40_075_016.686
MAX_LAYERS = 20
PER_LAYER = 20


def tolerance_metres(tolerance_px: float, zoom: float, lat: float, tile_size: int = 512) -> float:
    """Gives the ground distance of `tolerance_px` screen pixels at `zoom` (Web Mercator, tiles
    of `tile_size` pixels) at latitude `lat`."""
    resolution = EARTH_CIRCUMFERENCE_M * math.cos(math.radians(lat)) / (tile_size * 2**zoom)
    return tolerance_px * resolution


def identify(
    scope,
    lon: float,
    lat: float,
    keys: list[str],
    tolerance_px: float,
    zoom: float,
    tile_size: int = 512,
    filters: Filters | None = None,
) -> dict:
    """Gives {"tolerance_m", "features": [...]} for the layers `keys` at (lon, lat), narrowed by
    `filters` when given."""
    if not keys:
        raise BadInput("name at least one layer: layers=a,b", field="layers")
    if len(keys) > MAX_LAYERS:
        raise BadInput(f"at most {MAX_LAYERS} layers at once", field="layers")
    if not (0 <= tolerance_px <= 100):
        raise BadInput("tolerance_px must be within 0..100", field="tolerance_px")
    if not (0 <= zoom <= 24):
        raise BadInput("zoom must be within 0..24", field="zoom")
    metres = tolerance_metres(tolerance_px, zoom, lat, tile_size)
    found = []
    for key in keys:
        layer = get_layer(key, scope)
        if not layer.table_name or layer.kind == layer.Kind.RASTER:
            continue
        found += _near(FeatureQuery(layer, scope), lon, lat, metres, filters or Filters())
    found.sort(key=lambda f: (f["distance_m"], f["layer"]))
    return {"lon": lon, "lat": lat, "tolerance_m": round(metres, 3), "features": found}


def _near(
    query: FeatureQuery, lon: float, lat: float, metres: float, filters: Filters
) -> list[dict]:
    # The bounding-box test (geom && box) is served by the layer's GiST index on geom; the exact
    # distance is then measured on the spheroid for the few candidates.
    dlon, dlat = crs.degrees_covering(metres, lat)
    point = bind("ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)::geography", lon=lon, lat=lat)
    statement = bind(
        "SELECT {id}, ST_AsGeoJSON({g}, 7), {cols} ST_Distance({g}::geography, {pt}) AS d "
        "FROM {table} WHERE {where} "
        "AND {g} && ST_MakeEnvelope({minx}, {miny}, {maxx}, {maxy}, 4326) "
        "AND ST_DWithin({g}::geography, {pt}, {metres}) ORDER BY d, {id} LIMIT {limit}",
        id=query.id,
        g=query.geom,
        pt=point,
        table=query.source.table,
        where=query.source.where(filters),
        cols=sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(c)) for c in query.columns),
        minx=lon - dlon,
        miny=lat - dlat,
        maxx=lon + dlon,
        maxy=lat + dlat,
        metres=metres,
        limit=PER_LAYER,
    )
    with connection.cursor() as cur:
        cur.execute(*statement)
        rows = cur.fetchall()
    out = []
    for row in rows:
        feature = query._feature(row[:-1])
        feature["layer"] = query.layer.key
        feature["layer_title"] = query.layer.title
        feature["distance_m"] = round(float(row[-1]), 3)
        aliases = {f["name"]: f.get("alias") or f["name"] for f in query.layer.fields}
        feature["aliases"] = {c: aliases.get(c, c) for c in query.columns}
        out.append(feature)
    return out
