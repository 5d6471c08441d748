"""The one tile SQL builder: Mapbox Vector Tile queries for features, clusters and bins.

Every query reads the served table's `geom_mercator` (EPSG:3857, a stored generated column
with its own GiST index) and puts the tile envelope in the SQL as literal float parameters of
`ST_MakeEnvelope(..., 3857)`, so the planner sees a constant box and serves
`geom_mercator && <box>` from the GiST index; no row is transformed. Each builder gives a
`core.sqlparts.Part` whose query returns one bytea: the layer's `ST_AsMVT` (NULL or an empty
bytea when nothing falls in the tile). Several parts are glued into one tile with `||`.
Tile bounds come from `mercantile` (XYZ tiles of EPSG:3857).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mercantile
from psycopg2 import sql

from core.sqlparts import Part, bind, join
from spatial.layers.source import MERCATOR_COLUMN

WORLD = mercantile.CE / 2  # half the Web Mercator world's width, metres
EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24
CELL_LEVEL = 18  # tiles.cells: point counts per cell of the 2^18 x 2^18 grid
MERCATOR = sql.Identifier(MERCATOR_COLUMN)

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


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Gives the Web Mercator bounds (minx, miny, maxx, maxy) of XYZ tile z/x/y."""
    return tuple(mercantile.xy_bounds(x, y, z))


def tile_size(z: int) -> float:
    """Gives the width of a tile at zoom z, in Web Mercator metres."""
    return mercantile.CE / (1 << z)


@dataclass
class TileSource:
    """What the builder needs of one layer: its table, its visible fields and the WHERE
    condition of this caller and request (`spatial.layers.source.LayerSource.where` in 3857)."""

    name: str
    table: sql.Composable
    id_column: str | None
    columns: list[tuple[str, str]]  # (name, PostgreSQL type) of visible fields
    where: Part
    simplify: bool = True
    unrestricted: bool = False  # every row of the table: no fixed filter, scope or filters
    area: Part | None = None  # the caller's area (3857) when it is the only restriction
    area_digest: str = ""  # that area's digest (accounts.Person.area_digest), with `area`


def _envelope(bounds: tuple[float, float, float, float]) -> Part:
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    return bind(
        "ST_MakeEnvelope({minx}, {miny}, {maxx}, {maxy}, 3857)",
        minx=minx,
        miny=miny,
        maxx=maxx,
        maxy=maxy,
    )


def _where(src: TileSource, box_bounds) -> Part:
    """Gives the source's condition, after `geom_mercator && <box>` when a box is given.

    When the caller's area is the only restriction (`src.area`), a point in a box the area
    covers is in the area: one `ST_Covers` of the box (a sub-select, run once) spares the
    per-row test of every point in a tile inside the area, which then costs what an admin's
    does. Lines and polygons keep the per-row test (one may leave the box, and the area).
    """
    if box_bounds is None:
        return src.where
    box = _envelope(box_bounds)
    if src.area is None:
        return bind("{g} && {box} AND {where}", g=MERCATOR, box=box, where=src.where)
    # `&& area` kept apart from the OR, so the GiST scan still reads only the rows near both.
    return bind(
        "{g} && {box} AND {g} && {area}"
        " AND ((ST_Dimension({g}) = 0 AND (SELECT ST_Covers({area}, {box}))) OR {where})",
        g=MERCATOR,
        box=box,
        area=src.area,
        where=src.where,
    )


def _attribute(name: str, pg_type: str) -> sql.Composable:
    ident = sql.Identifier(name)
    if pg_type in NATIVE_TYPES:
        return sql.SQL("{} AS {}").format(ident, ident)
    return sql.SQL("{}::text AS {}").format(ident, ident)


def _mvt_geom(geom, bounds) -> Part:
    """Gives `ST_AsMVTGeom` of `geom` in the tile of `bounds` (extent, buffer, clipped)."""
    return bind(
        "ST_AsMVTGeom({g}, {env}, {extent}, {buffer}, true)",
        g=geom,
        env=_envelope(bounds),
        extent=EXTENT,
        buffer=BUFFER,
    )


def features_query(src: TileSource, z: int, x: int, y: int, simplify_px: float = 1.0) -> Part:
    """Gives the query for one layer's features in tile z/x/y, clipped and simplified.

    Rows are found by `geom_mercator && <tile box grown by the buffer>` (GiST). Lines and
    polygons are simplified with a tolerance of `simplify_px` tile units before encoding.
    """
    bounds = tile_bounds(z, x, y)
    grow = tile_size(z) * BUFFER / EXTENT
    search = (bounds[0] - grow, bounds[1] - grow, bounds[2] + grow, bounds[3] + grow)
    geom: object = MERCATOR
    if src.simplify and simplify_px > 0:
        geom = bind(
            "ST_Simplify({g}, {tolerance}, true)",
            g=MERCATOR,
            tolerance=tile_size(z) / EXTENT * simplify_px,
        )
    select = [bind("{g} AS __geom", g=_mvt_geom(geom, bounds))]
    id_name = sql.Literal(None)
    if src.id_column:
        select.append(Part(sql.SQL("{} AS __fid").format(sql.Identifier(src.id_column))))
        id_name = sql.Literal("__fid")
    select += [Part(_attribute(name, pg_type)) for name, pg_type in src.columns]
    return bind(
        "SELECT ST_AsMVT(t, {name}, {extent}, '__geom', {id_name}) FROM ("
        "SELECT {select} FROM {table} WHERE {where}"
        ") AS t WHERE t.__geom IS NOT NULL",
        name=src.name,
        extent=EXTENT,
        id_name=id_name,
        select=join(select, ", ", wrap=False),
        table=src.table,
        where=_where(src, search),
    )


_CENTRE_X = sql.SQL("(ST_XMin({g}) + ST_XMax({g})) / 2").format(g=MERCATOR)
_CENTRE_Y = sql.SQL("(ST_YMin({g}) + ST_YMax({g})) / 2").format(g=MERCATOR)


def _half_open(bounds: tuple[float, float, float, float], cx, cy) -> Part:
    """Gives `cx >= minx AND cx < maxx AND cy > miny AND cy <= maxy`: a point on a tile edge
    counts in exactly one tile, as in the point cells (the && box test alone is float4-rounded
    and takes edge points into both tiles)."""
    minx, miny, maxx, maxy = bounds
    return bind(
        "{cx} >= {minx} AND {cx} < {maxx} AND {cy} > {miny} AND {cy} <= {maxy}",
        cx=cx,
        cy=cy,
        minx=minx,
        maxx=maxx,
        miny=miny,
        maxy=maxy,
    )


@dataclass(frozen=True)
class ClusterSummary:
    """What a cluster tells of its members beyond `point_count`: `columns` are read from each
    member row, `aggregates` are select items over them, e.g. ``count(*) FILTER (WHERE
    urgent)::integer AS urgent``."""

    columns: tuple[str, ...]
    aggregates: sql.Composable


def clusters_query(
    src: TileSource, z: int, x: int, y: int, cell_px: int, summary: ClusterSummary | None = None
) -> Part:
    """Gives the query for grid clusters (聚合点) of a point layer in tile z/x/y.

    Rows inside the tile box (GiST, no buffer, so each point counts in one tile) are grouped by
    a grid of about `cell_px` pixels of a 512-pixel tile (a power-of-two division of the tile,
    the same cells as `cell_clusters_query`) anchored at the tile's corner; each cluster
    is the mean position of its members with `point_count` (and the `summary`'s aggregates).
    Grid snapping by arithmetic is linear in the rows, unlike ST_ClusterDBSCAN.
    """
    bounds = tile_bounds(z, x, y)
    cell = tile_size(z) / cluster_cells_per_tile(cell_px)
    centre = sql.SQL("ST_SetSRID(ST_MakePoint(avg(cx), avg(cy)), 3857)")
    columns, aggregates = sql.SQL(""), sql.SQL("")
    if summary is not None:
        columns = sql.SQL("").join(
            sql.SQL(", {}").format(sql.Identifier(c)) for c in summary.columns
        )
        aggregates = sql.SQL(", {}").format(summary.aggregates)
    return bind(
        "SELECT ST_AsMVT(t, {name}, {extent}, '__geom') FROM ("
        " SELECT {geom} AS __geom, count(*)::integer AS point_count{aggregates}"
        " FROM (SELECT {cx} AS cx, {cy} AS cy{columns} FROM {table} WHERE {where}) AS p"
        " WHERE {inside}"
        " GROUP BY floor((cx - {minx}) / {cell}), floor((cy - {miny}) / {cell})"
        ") AS t WHERE t.__geom IS NOT NULL",
        name=src.name,
        extent=EXTENT,
        geom=_mvt_geom(centre, bounds),
        cx=_CENTRE_X,
        cy=_CENTRE_Y,
        aggregates=aggregates,
        columns=columns,
        table=src.table,
        where=_where(src, bounds),
        inside=_half_open(bounds, sql.SQL("cx"), sql.SQL("cy")),
        minx=bounds[0],
        miny=bounds[1],
        cell=cell,
    )


def cluster_cells_per_tile(cell_px: int) -> int:
    """Gives the clusters per tile side for `cell_px` (pixels of a 512 tile): a power of two,
    so that cluster cells are blocks of the point-cell grid."""
    return 1 << max(0, min(8, round(math.log2(512 / max(cell_px, 1)))))


def cell_clusters_query(
    name: str,
    source: str,
    z: int,
    x: int,
    y: int,
    cell_px: int,
    within: tuple[sql.Composable, Part, str] | None = None,
) -> Part | None:
    """Gives the query for clusters of the points of table `source` in tile z/x/y read from
    its point cells (tiles.cells), or None when the zoom is too deep for the cells.

    The rows are found by the unique index (source, ix, iy): a tile at zoom z spans
    2^(18 - z) cells a side. Totals equal the points in the tile; a cluster sits at the mean
    of its members, like `clusters_query`.

    `within` = (the table, an area geometry in 3857, the digest of the area's kept cells or "")
    keeps only the rows in that area (a caller's scope), see `_cells_within`: the area's own
    cells when they are kept (tiles.models.AreaCell), else the point cells with those across
    the area's border recounted. A street seen at z12 reads one index range, as an admin's tile
    does, instead of every point in the street.
    """
    per_tile = cluster_cells_per_tile(cell_px)
    shift = CELL_LEVEL - z - int(math.log2(per_tile))
    if shift < 0:
        return None
    span = 1 << (CELL_LEVEL - z)
    ranges = {
        "ix0": x * span,
        "ix1": (x + 1) * span - 1,
        "iy0": y * span,
        "iy1": (y + 1) * span - 1,
    }
    if within is None:
        cells = bind(
            "SELECT ix, iy, n, sx, sy FROM tiles_pointcell WHERE source = {source}"
            " AND ix BETWEEN {ix0} AND {ix1} AND iy BETWEEN {iy0} AND {iy1}",
            source=source,
            **ranges,
        )
    else:
        cells = _cells_within(source, *within, tile_bounds(z, x, y), ranges)
    centre = sql.SQL("ST_SetSRID(ST_MakePoint(sum(sx) / sum(n), sum(sy) / sum(n)), 3857)")
    return bind(
        "SELECT ST_AsMVT(t, {name}, {extent}, '__geom') FROM ("
        " SELECT {geom} AS __geom, sum(n)::integer AS point_count"
        " FROM ({cells}) AS c"
        " GROUP BY ix >> {shift}, iy >> {shift}"
        ") AS t WHERE t.__geom IS NOT NULL",
        name=name,
        extent=EXTENT,
        geom=_mvt_geom(centre, tile_bounds(z, x, y)),
        cells=cells,
        shift=shift,
    )


CELL = 2 * WORLD / (1 << CELL_LEVEL)  # a point cell's side, Web Mercator metres
# The SQLSTATE of `tiles_area_cells_missing` (tiles.cells): a tile read an area cell set that is
# not there.
AREA_CELLS_MISSING = "CGA01"
# A cell's square from its indexes (ix from the west, iy from the north, as in tiles.cells).
_CELL_SQUARE = sql.SQL(
    "ST_MakeEnvelope(c.ix * {c} - {w}, {w} - (c.iy + 1) * {c}, (c.ix + 1) * {c} - {w},"
    " {w} - c.iy * {c}, 3857)"
).format(c=sql.Literal(CELL), w=sql.Literal(WORLD))


def _cells_within(
    source: str,
    table: sql.Composable,
    area: Part,
    digest: str,
    bounds: tuple[float, float, float, float],
    ranges: dict[str, int],
) -> Part:
    """Gives the cells (ix, iy, n, sx, sy rows) of `source` in the tile of `bounds` (cell
    index `ranges`) cut to `area`, exactly as `clusters_query` counts the rows in the area, each
    at the centre of its bounding box.

    `digest` names the area's kept cells (tiles.models.AreaCellSet), "" when they are not kept:
    then they are one index range, as an admin's tile reads the point cells, and of exactly the
    area the digest (in the tile's cache key) names; should the set be gone (dropped since the
    caller's process read which are kept), the query fails with SQLSTATE `AREA_CELLS_MISSING`
    rather than give an empty tile. Else, from the point cells:

    - cells whose square the area covers count as they are, less the lines and polygons centred
      in them (a line centred inside may not meet the area);
    - cells across the area's border have their points recounted (GiST on the cell's square,
      the point test, the cell formula of tiles.cells so a point on a cell edge stays in its
      cell);
    - cells outside the area are dropped;
    - lines and polygons centred anywhere in the tile that are in the area (sharing a point
      with it, not only its border, as the scope condition says) are added, each in its cell: a
      long road centred outside the area may cross it. They are found through the partial GiST
      index of non-point rows that `tiles.cells.install_point_cells` creates, so the points of
      the tile are not read.
    """
    if digest:
        return bind(
            "SELECT ix, iy, n, sx, sy FROM tiles_areacell WHERE cellset_id = (SELECT coalesce("
            " (SELECT id FROM tiles_areacellset WHERE digest = {digest} AND source = {source}),"
            " tiles_area_cells_missing({digest}, {source})))"
            " AND ix BETWEEN {ix0} AND {ix1} AND iy BETWEEN {iy0} AND {iy1}",
            digest=digest,
            source=source,
            **ranges,
        )
    cx = sql.SQL("(ST_XMin(p.{g}) + ST_XMax(p.{g})) / 2").format(g=MERCATOR)
    cy = sql.SQL("(ST_YMin(p.{g}) + ST_YMax(p.{g})) / 2").format(g=MERCATOR)
    ix = sql.SQL("floor(({x} + {w}) / {c})::bigint")
    iy = sql.SQL("floor(({w} - {y}) / {c})::bigint")
    literals = {"w": sql.Literal(WORLD), "c": sql.Literal(CELL)}
    return bind(
        "WITH a AS MATERIALIZED (SELECT {area} AS g),"
        " k AS MATERIALIZED (SELECT c.ix, c.iy, c.n, c.sx, c.sy, {square} AS square"
        "  FROM a, tiles_pointcell AS c WHERE c.source = {source}"
        "  AND c.ix BETWEEN greatest({ix0}, floor((ST_XMin(a.g) + {w}) / {c})::bigint)"
        "  AND least({ix1}, floor((ST_XMax(a.g) + {w}) / {c})::bigint)"
        "  AND c.iy BETWEEN greatest({iy0}, floor(({w} - ST_YMax(a.g)) / {c})::bigint)"
        "  AND least({iy1}, floor(({w} - ST_YMin(a.g)) / {c})::bigint)),"
        " m AS MATERIALIZED (SELECT k.*, ST_Covers(a.g, k.square) AS inside FROM k, a"
        "  WHERE ST_Intersects(a.g, k.square)),"
        " s AS MATERIALIZED (SELECT {ix} AS ix, {iy} AS iy, x, y, meets FROM ("
        "  SELECT {cx} AS x, {cy} AS y,"
        "  ST_Intersects(p.{g}, a.g) AND NOT ST_Touches(p.{g}, a.g) AS meets FROM {table} AS p, a"
        "  WHERE p.{g} && {box} AND p.{g} && a.g AND ST_Dimension(p.{g}) > 0) AS q)"
        " SELECT ix, iy, n, sx, sy FROM m WHERE inside"
        " UNION ALL"
        " SELECT s.ix, s.iy, -1, -s.x, -s.y FROM s JOIN m USING (ix, iy) WHERE m.inside"
        " UNION ALL"
        " SELECT ix, iy, 1, x, y FROM s WHERE meets AND ({inside_tile})"
        " UNION ALL"
        " SELECT m.ix, m.iy, b.n, b.sx, b.sy FROM m CROSS JOIN a CROSS JOIN LATERAL ("
        "  SELECT count(*) AS n, sum(x) AS sx, sum(y) AS sy FROM ("
        "   SELECT {cx} AS x, {cy} AS y FROM {table} AS p"
        "   WHERE p.{g} && m.square AND ST_Dimension(p.{g}) = 0"
        "   AND ST_Intersects(p.{g}, a.g)) AS q"
        "  WHERE {ix} = m.ix AND {iy} = m.iy"
        " ) AS b WHERE NOT m.inside AND b.n > 0",
        area=area,
        square=_CELL_SQUARE,
        source=source,
        cx=cx,
        cy=cy,
        ix=ix.format(x=sql.SQL("x"), **literals),
        iy=iy.format(y=sql.SQL("y"), **literals),
        table=table,
        g=MERCATOR,
        box=_envelope(bounds),
        inside_tile=_half_open(bounds, sql.SQL("x"), sql.SQL("y")),
        **literals,
        **ranges,
    )


def square_bins_query(src: TileSource, z: int, x: int, y: int, cell_px: int) -> Part:
    """Gives the query for square bins with a `count` of a point layer in tile z/x/y.

    Cells divide the tile exactly (the cell is the tile width over a power of two), so the
    counts of a tile's bins add up to the points in the tile box.
    """
    bounds = tile_bounds(z, x, y)
    per_tile = 1 << max(0, round(math.log2(512 / max(cell_px, 1))))
    cell = tile_size(z) / per_tile
    minx, miny = bounds[0], bounds[1]
    square = bind(
        "ST_MakeEnvelope({minx} + i * {cell}, {miny} + j * {cell},"
        " {minx} + (i + 1) * {cell}, {miny} + (j + 1) * {cell}, 3857)",
        minx=minx,
        miny=miny,
        cell=cell,
    )
    return bind(
        "SELECT ST_AsMVT(t, {name}, {extent}, '__geom') FROM ("
        " SELECT {geom} AS __geom, n AS count FROM ("
        "  SELECT greatest(0, least(floor(({cx} - {minx}) / {cell}), {per_tile} - 1)) AS i,"
        "   greatest(0, least(floor(({cy} - {miny}) / {cell}), {per_tile} - 1)) AS j,"
        "   count(*)::integer AS n"
        "  FROM {table} WHERE {where} AND {inside}"
        "  GROUP BY 1, 2"
        " ) AS b) AS t WHERE t.__geom IS NOT NULL",
        name=src.name,
        extent=EXTENT,
        geom=_mvt_geom(square, bounds),
        cx=_CENTRE_X,
        cy=_CENTRE_Y,
        minx=minx,
        miny=miny,
        cell=cell,
        per_tile=per_tile,
        table=src.table,
        where=_where(src, bounds),
        inside=_half_open(bounds, _CENTRE_X, _CENTRE_Y),
    )


def hexagon_bins_query(src: TileSource, z: int, x: int, y: int, cell_px: int) -> Part:
    """Gives the query for hexagon bins with a `count` of a point layer in tile z/x/y.

    ST_HexagonGrid is anchored at the projection's origin, so a hexagon on a tile edge is the
    same hexagon in both tiles and its count covers all its points (the join reads the point
    table through GiST once per hexagon).
    """
    bounds = tile_bounds(z, x, y)
    return bind(
        "SELECT ST_AsMVT(t, {name}, {extent}, '__geom') FROM ("
        " SELECT {geom} AS __geom, count(*)::integer AS count"
        " FROM ST_HexagonGrid({side}, {env}) AS h"
        " JOIN LATERAL (SELECT 1 FROM {table} WHERE {where}"
        "  AND ST_Intersects({g}, h.geom)) AS p ON true"
        " GROUP BY h.i, h.j, h.geom"
        ") AS t WHERE t.__geom IS NOT NULL",
        name=src.name,
        extent=EXTENT,
        geom=_mvt_geom(sql.SQL("h.geom"), bounds),
        side=tile_size(z) * cell_px / 512 / 2,
        env=_envelope(bounds),
        table=src.table,
        where=src.where,
        g=MERCATOR,
    )


def label_points_query(src: TileSource, z: int, x: int, y: int, cell_px: int = 0) -> Part:
    """Gives the query for one label point (标注点) per polygon of a layer in tile z/x/y.

    A polygon clipped into many tiles would get a label in each; its label point (the centroid
    when it lies inside, else ST_PointOnSurface) lies in exactly one tile (half-open box), so
    the name is written once. Rows are found by `geom_mercator && <tile box>` (GiST) and carry
    the layer's visible fields. `cell_px` is unused (the aggregates' signature).
    """
    bounds = tile_bounds(z, x, y)
    point = sql.SQL(
        "CASE WHEN ST_Intersects(ST_Centroid({g}), {g}) THEN ST_Centroid({g})"
        " ELSE ST_PointOnSurface({g}) END"
    ).format(g=MERCATOR)
    columns = [Part(_attribute(name, pg_type)) for name, pg_type in src.columns]
    return bind(
        "SELECT ST_AsMVT(t, {name}, {extent}, '__geom') FROM ("
        " SELECT {geom} AS __geom{columns} FROM ("
        "  SELECT {point} AS __point, * FROM {table} WHERE {where}"
        " ) AS p WHERE {inside}"
        ") AS t WHERE t.__geom IS NOT NULL",
        name=src.name,
        extent=EXTENT,
        geom=_mvt_geom(sql.SQL("__point"), bounds),
        columns=bind("") if not columns else bind(", {c}", c=join(columns, ", ", wrap=False)),
        point=point,
        table=src.table,
        where=_where(src, bounds),
        inside=_half_open(bounds, sql.SQL("ST_X(__point)"), sql.SQL("ST_Y(__point)")),
    )


def combine(parts: list[Part]) -> Part:
    """Gives one query whose bytea is the concatenation of every part's layer (one tile).

    The bytea is wrapped in `tiles_serial()` (tiles migration 0003), which keeps the statement
    out of parallel plans: a tile is small work, and starting parallel workers and merging
    their partial MVTs costs more than it saves.
    """
    pieces = [bind("COALESCE(({q}), ''::bytea)", q=q) for q in parts]
    return bind("SELECT tiles_serial({tile})", tile=join(pieces, " || ", wrap=False))
