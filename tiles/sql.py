"""The one tile SQL builder: Mapbox Vector Tile queries for features, clusters and bins.

Every query reads the served table's `geom_mercator` (EPSG:3857, a stored generated column
with its own GiST index) and puts the tile envelope in the SQL as literal float parameters of
`ST_MakeEnvelope(..., 3857)`, so the planner sees a constant box and serves
`geom_mercator && <box>` from the GiST index; no row is transformed. Each builder gives a
`(Composable, params)` pair whose query returns one bytea: the layer's `ST_AsMVT` (NULL or an
empty bytea when nothing falls in the tile). Several pairs are glued into one tile with `||`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from psycopg2 import sql

WORLD = 20037508.342789244
EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24
MERCATOR_COLUMN = "geom_mercator"
CELL_LEVEL = 18  # tiles.cells: point counts per cell of the 2^18 x 2^18 grid

# Column types ST_AsMVT encodes natively; any other type is sent as text.
NATIVE_TYPES = {
    "smallint",
    "integer",
    "bigint",
    "real",
    "double precision",
    "boolean",
    "text",
    "character varying",
    "character",
}
INTEGER_TYPES = {"smallint", "integer", "bigint"}


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Gives the Web Mercator bounds (minx, miny, maxx, maxy) of XYZ tile z/x/y."""
    size = 2 * WORLD / (1 << z)
    minx = -WORLD + x * size
    maxy = WORLD - y * size
    return (minx, maxy - size, minx + size, maxy)


def tile_size(z: int) -> float:
    """Gives the width of a tile at zoom z, in Web Mercator metres."""
    return 2 * WORLD / (1 << z)


@dataclass
class TileSource:
    """What the builder needs of one layer: where its rows are and which conditions apply.

    `conditions` are composables ANDed into the WHERE clause with `params` bound in order
    (the layer's fixed filter, the caller's scope, the request's filters).
    """

    name: str
    schema: str
    table: str
    id_column: str | None
    columns: list[tuple[str, str]]  # (name, PostgreSQL type) of visible fields
    conditions: list[sql.Composable] = field(default_factory=list)
    params: list = field(default_factory=list)
    simplify: bool = True
    unrestricted: bool = False  # every row of the table: no fixed filter, scope or filters


def _envelope(bounds: tuple[float, float, float, float]) -> tuple[sql.Composable, list]:
    return sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, 3857)"), [float(b) for b in bounds]


def _where(src: TileSource, box_bounds) -> tuple[sql.Composable, list]:
    parts: list[sql.Composable] = [sql.SQL("true")]
    box_params: list = []
    if box_bounds is not None:
        box, box_params = _envelope(box_bounds)
        parts = [sql.SQL("{} && {}").format(sql.Identifier(MERCATOR_COLUMN), box)]
    parts += [sql.SQL("({})").format(c) for c in src.conditions]
    return sql.SQL(" AND ").join(parts), box_params + list(src.params)


def _attribute(name: str, pg_type: str) -> sql.Composable:
    ident = sql.Identifier(name)
    if pg_type in NATIVE_TYPES:
        return sql.SQL("{} AS {}").format(ident, ident)
    return sql.SQL("{}::text AS {}").format(ident, ident)


def features_query(
    src: TileSource, z: int, x: int, y: int, simplify_px: float = 1.0
) -> tuple[sql.Composable, list]:
    """Gives the query for one layer's features in tile z/x/y, clipped and simplified.

    Rows are found by `geom_mercator && <tile box grown by the buffer>` (GiST). Lines and
    polygons are simplified with a tolerance of `simplify_px` tile units before encoding.
    """
    bounds = tile_bounds(z, x, y)
    grow = tile_size(z) * BUFFER / EXTENT
    search = (bounds[0] - grow, bounds[1] - grow, bounds[2] + grow, bounds[3] + grow)
    env, env_params = _envelope(bounds)
    where, where_params = _where(src, search)
    geom = sql.Identifier(MERCATOR_COLUMN)
    params: list = []
    if src.simplify and simplify_px > 0:
        geom = sql.SQL("ST_Simplify({}, %s, true)").format(geom)
        params.append(tile_size(z) / EXTENT * simplify_px)
    select = [sql.SQL("ST_AsMVTGeom({}, {}, %s, %s, true) AS __geom").format(geom, env)]
    params += env_params + [EXTENT, BUFFER]
    id_name = sql.Literal(None)
    if src.id_column:
        select.append(sql.SQL("{} AS __fid").format(sql.Identifier(src.id_column)))
        id_name = sql.Literal("__fid")
    select += [_attribute(name, pg_type) for name, pg_type in src.columns]
    query = sql.SQL(
        "SELECT ST_AsMVT(t, %s, %s, '__geom', {id_name}) FROM ("
        "SELECT {select} FROM {table} WHERE {where}"
        ") AS t WHERE t.__geom IS NOT NULL"
    ).format(
        id_name=id_name,
        select=sql.SQL(", ").join(select),
        table=sql.Identifier(src.schema, src.table),
        where=where,
    )
    return query, [src.name, EXTENT, *params, *where_params]


def _centre_x() -> sql.Composable:
    g = sql.Identifier(MERCATOR_COLUMN)
    return sql.SQL("(ST_XMin({g}) + ST_XMax({g})) / 2").format(g=g)


def _centre_y() -> sql.Composable:
    g = sql.Identifier(MERCATOR_COLUMN)
    return sql.SQL("(ST_YMin({g}) + ST_YMax({g})) / 2").format(g=g)


def clusters_query(
    src: TileSource, z: int, x: int, y: int, cell_px: int
) -> tuple[sql.Composable, list]:
    """Gives the query for grid clusters (聚合点) of a point layer in tile z/x/y.

    Rows inside the tile box (GiST, no buffer, so each point counts in one tile) are grouped by
    a grid of about `cell_px` pixels of a 512-pixel tile (a power-of-two division of the tile,
    the same cells as `cell_clusters_query`) anchored at the tile's corner; each cluster
    is the mean position of its members with `point_count`. Grid snapping by arithmetic is
    linear in the rows, unlike ST_ClusterDBSCAN.
    """
    bounds = tile_bounds(z, x, y)
    cell = tile_size(z) / cluster_cells_per_tile(cell_px)
    env, env_params = _envelope(bounds)
    where, where_params = _where(src, bounds)
    query = sql.SQL(
        "SELECT ST_AsMVT(t, %s, %s, '__geom') FROM ("
        " SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(avg(cx), avg(cy)), 3857), {env}, %s, %s, true)"
        " AS __geom, count(*)::integer AS point_count"
        " FROM (SELECT {cx} AS cx, {cy} AS cy FROM {table} WHERE {where}) AS p"
        " WHERE cx >= %s AND cx < %s AND cy > %s AND cy <= %s"
        " GROUP BY floor((cx - %s) / %s), floor((cy - %s) / %s)"
        ") AS t WHERE t.__geom IS NOT NULL"
    ).format(
        env=env,
        cx=_centre_x(),
        cy=_centre_y(),
        table=sql.Identifier(src.schema, src.table),
        where=where,
    )
    params = [src.name, EXTENT, *env_params, EXTENT, BUFFER, *where_params, *_half_open(bounds)]
    params += [bounds[0], cell, bounds[1], cell]
    return query, params


def _half_open(bounds: tuple[float, float, float, float]) -> list[float]:
    """Gives (minx, maxx, miny, maxy) for `x >= minx AND x < maxx AND y > miny AND y <= maxy`:
    a point on a tile edge counts in exactly one tile, as in the point cells (the && box test
    alone is float4-rounded and takes edge points into both tiles)."""
    return [bounds[0], bounds[2], bounds[1], bounds[3]]


def cluster_cells_per_tile(cell_px: int) -> int:
    """Gives the clusters per tile side for `cell_px` (pixels of a 512 tile): a power of two,
    so that cluster cells are blocks of the point-cell grid."""
    return 1 << max(0, min(8, round(math.log2(512 / max(cell_px, 1)))))


def cell_clusters_query(
    name: str, source: str, z: int, x: int, y: int, cell_px: int
) -> tuple[sql.Composable, list] | None:
    """Gives the query for clusters of every point of table `source` in tile z/x/y read from
    its point cells (tiles.cells), or None when the zoom is too deep for the cells.

    The rows are found by the unique index (source, ix, iy): a tile at zoom z spans
    2^(18 - z) cells a side. Totals equal the points in the tile; a cluster sits at the mean
    of its members, like `clusters_query`.
    """
    per_tile = cluster_cells_per_tile(cell_px)
    shift = CELL_LEVEL - z - int(math.log2(per_tile))
    if shift < 0:
        return None
    span = 1 << (CELL_LEVEL - z)
    bounds = tile_bounds(z, x, y)
    env, env_params = _envelope(bounds)
    query = sql.SQL(
        "SELECT ST_AsMVT(t, %s, %s, '__geom') FROM ("
        " SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(sum(sx) / sum(n), sum(sy) / sum(n)), 3857),"
        " {env}, %s, %s, true) AS __geom, sum(n)::integer AS point_count"
        " FROM tiles_pointcell WHERE source = %s AND ix BETWEEN %s AND %s AND iy BETWEEN %s AND %s"
        " GROUP BY ix >> %s, iy >> %s"
        ") AS t WHERE t.__geom IS NOT NULL"
    ).format(env=env)
    params = [name, EXTENT, *env_params, EXTENT, BUFFER, source]
    params += [x * span, (x + 1) * span - 1, y * span, (y + 1) * span - 1, shift, shift]
    return query, params


def square_bins_query(
    src: TileSource, z: int, x: int, y: int, cell_px: int
) -> tuple[sql.Composable, list]:
    """Gives the query for square bins with a `count` of a point layer in tile z/x/y.

    Cells divide the tile exactly (the cell is the tile width over a power of two), so the
    counts of a tile's bins add up to the points in the tile box.
    """
    bounds = tile_bounds(z, x, y)
    per_tile = 1 << max(0, round(math.log2(512 / max(cell_px, 1))))
    cell = tile_size(z) / per_tile
    env, env_params = _envelope(bounds)
    where, where_params = _where(src, bounds)
    query = sql.SQL(
        "SELECT ST_AsMVT(t, %s, %s, '__geom') FROM ("
        " SELECT ST_AsMVTGeom(ST_MakeEnvelope(%s + i * %s, %s + j * %s,"
        " %s + (i + 1) * %s, %s + (j + 1) * %s, 3857), {env}, %s, %s, true) AS __geom,"
        " n AS count FROM ("
        "  SELECT greatest(0, least(floor(({cx} - %s) / %s), %s - 1)) AS i,"
        "   greatest(0, least(floor(({cy} - %s) / %s), %s - 1)) AS j, count(*)::integer AS n"
        "  FROM {table} WHERE {where} AND {cx} >= %s AND {cx} < %s AND {cy} > %s AND {cy} <= %s"
        "  GROUP BY 1, 2"
        " ) AS b) AS t WHERE t.__geom IS NOT NULL"
    ).format(
        env=env,
        cx=_centre_x(),
        cy=_centre_y(),
        table=sql.Identifier(src.schema, src.table),
        where=where,
    )
    minx, miny = bounds[0], bounds[1]
    params = [src.name, EXTENT, minx, cell, miny, cell, minx, cell, miny, cell]
    params += [*env_params, EXTENT, BUFFER]
    params += [minx, cell, per_tile, miny, cell, per_tile, *where_params, *_half_open(bounds)]
    return query, params


def hexagon_bins_query(
    src: TileSource, z: int, x: int, y: int, cell_px: int
) -> tuple[sql.Composable, list]:
    """Gives the query for hexagon bins with a `count` of a point layer in tile z/x/y.

    ST_HexagonGrid is anchored at the projection's origin, so a hexagon on a tile edge is the
    same hexagon in both tiles and its count covers all its points (the join reads the point
    table through GiST once per hexagon).
    """
    bounds = tile_bounds(z, x, y)
    side = tile_size(z) * cell_px / 512 / 2
    env, env_params = _envelope(bounds)
    where, where_params = _where(src, None)
    query = sql.SQL(
        "SELECT ST_AsMVT(t, %s, %s, '__geom') FROM ("
        " SELECT ST_AsMVTGeom(h.geom, {env}, %s, %s, true) AS __geom, count(*)::integer AS count"
        " FROM ST_HexagonGrid(%s, {env}) AS h"
        " JOIN LATERAL (SELECT 1 FROM {table} WHERE {where}"
        "  AND ST_Intersects({g}, h.geom)) AS p ON true"
        " GROUP BY h.i, h.j, h.geom"
        ") AS t WHERE t.__geom IS NOT NULL"
    ).format(
        env=env,
        table=sql.Identifier(src.schema, src.table),
        where=where,
        g=sql.Identifier(MERCATOR_COLUMN),
    )
    params = [src.name, EXTENT, *env_params, EXTENT, BUFFER, side, *env_params, *where_params]
    return query, params


def combine(parts: list[tuple[sql.Composable, list]]) -> tuple[sql.Composable, list]:
    """Gives one query whose bytea is the concatenation of every part's layer (one tile)."""
    pieces = [sql.SQL("COALESCE(({}), ''::bytea)").format(q) for q, _ in parts]
    params = [p for _, ps in parts for p in ps]
    return sql.SQL("SELECT ") + sql.SQL(" || ").join(pieces), params
