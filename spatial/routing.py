"""Road distances (路网距离) over the road graph with pgRouting, or straight lines without it.

The graph (`spatial.models.RoadEdge`, table ``spatial_roadedge``) is the road centrelines
(`RoadSegment`) noded at every crossing (``ST_Node``), each piece an edge between two vertices
numbered by their coordinates rounded to 1e-7° (about 1 cm), costing its length in metres both
ways. `rebuild_graph` makes it again from the roads: ``manage.py build_road_graph``, run by
``demo_city`` and after a roads layer import (`spatial.layers.core_targets`).

A road distance from a point A to a point B: each is put on its nearest edge (the edge table's
GiST index serves the ``<->`` search) at the fraction along it of its closest point (measured in
Web Mercator, locally proportional to metres); ``pgr_withPointsCost`` gives the shortest way
along the graph between the two, undirected; the answer adds the straight walks from A and B to
their edges. So a road distance is never shorter than the straight one (the triangle
inequality, up to centimetres of rounding). Pairs the graph does not join get no road distance.

pgRouting (``postgresql-15-pgrouting``, scripts/install.sh) is optional: migration
``spatial.0003`` creates the extension when the server has it. Without it, or without roads,
`method` answers ``straight`` and callers use straight-line distances.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection, transaction

# Noding and vertex numbering in one statement (see the module doc). A city of tens of
# thousands of segments nodes in seconds; this is a command's work, not a request's.
BUILD_SQL = """
WITH pieces AS (
    SELECT (ST_Dump(ST_Node(ST_Collect(geom)))).geom AS geom FROM spatial_roadsegment
),
ends AS (
    SELECT geom,
           round(ST_X(ST_StartPoint(geom))::numeric, 7) AS ax,
           round(ST_Y(ST_StartPoint(geom))::numeric, 7) AS ay,
           round(ST_X(ST_EndPoint(geom))::numeric, 7) AS bx,
           round(ST_Y(ST_EndPoint(geom))::numeric, 7) AS by
    FROM pieces WHERE ST_Length(geom) > 0
),
vertices AS (
    SELECT x, y, row_number() OVER (ORDER BY x, y) AS id
    FROM (SELECT ax AS x, ay AS y FROM ends UNION SELECT bx, by FROM ends) corners
)
INSERT INTO spatial_roadedge (source, target, cost, reverse_cost, geom)
SELECT va.id, vb.id, ST_Length(e.geom::geography), ST_Length(e.geom::geography), e.geom
FROM ends e
JOIN vertices va ON va.x = e.ax AND va.y = e.ay
JOIN vertices vb ON vb.x = e.bx AND vb.y = e.by
"""


def rebuild_graph() -> int:
    """Makes the road graph again from the road segments; gives the number of edges."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE spatial_roadedge IN EXCLUSIVE MODE")
        cursor.execute("DELETE FROM spatial_roadedge")
        cursor.execute(BUILD_SQL)
        count = cursor.rowcount
        cursor.execute("ANALYZE spatial_roadedge")
    return count


def routing_available() -> bool:
    """Whether pgRouting is installed in the database and the graph has edges."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgrouting')"
            " AND EXISTS (SELECT 1 FROM spatial_roadedge)"
        )
        return bool(cursor.fetchone()[0])


@dataclass(frozen=True)
class Place:
    """A point to route from or to: a key of the caller's, WGS84 lon/lat."""

    key: int
    lon: float
    lat: float


# Each place on its nearest edge (KNN on the edge table's GiST index): the edge, the fraction
# along it (Web Mercator) and the straight walk to it in metres. The points are numbered 1..n
# in the order given (pid), origin first.
SNAP_SQL = """
SELECT p.n, e.id, e.fraction, e.walk
FROM unnest(%(lons)s::float8[], %(lats)s::float8[]) WITH ORDINALITY AS p(lon, lat, n)
CROSS JOIN LATERAL (
    SELECT r.id, f.fraction,
           ST_Distance(ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography,
                       ST_Transform(ST_LineInterpolatePoint(m.line, f.fraction), 4326)::geography)
               AS walk
    FROM (SELECT id, geom FROM spatial_roadedge
          ORDER BY geom <-> ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) LIMIT 1) r
    CROSS JOIN LATERAL (SELECT ST_Transform(r.geom, 3857) AS line) m
    CROSS JOIN LATERAL (
        SELECT ST_LineLocatePoint(m.line, ST_Transform(ST_SetSRID(ST_MakePoint(p.lon, p.lat),
                                                                  4326), 3857)) AS fraction) f
) e
ORDER BY p.n
"""

# The edges pgRouting reads: those in the box around the places widened by %(margin)s degrees
# (a detour farther out than that is not a nearest way).
EDGES_SQL = (
    "SELECT id, source, target, cost, reverse_cost FROM spatial_roadedge "
    "WHERE geom && ST_Expand(ST_MakeEnvelope({minx}, {miny}, {maxx}, {maxy}, 4326), {margin})"
)
POINTS_SQL = "SELECT * FROM (VALUES {rows}) AS p(pid, edge_id, fraction)"
MARGIN_DEG = 0.02


# pgRouting takes a point at fraction 0 or 1 for the vertex there and then leaves some of the
# costs to other points out of pgr_withPointsCost's answer: points stay a hair inside their edge
# (a millionth of it, under a millimetre on a city's roads).
INSIDE_EDGE = 1e-6


def _snap(places: list[Place]) -> list[tuple[int, int, float, float]]:
    with connection.cursor() as cursor:
        cursor.execute(SNAP_SQL, {"lons": [p.lon for p in places], "lats": [p.lat for p in places]})
        rows = cursor.fetchall()
    return [
        (n, edge, min(max(fraction, INSIDE_EDGE), 1 - INSIDE_EDGE), walk)
        for n, edge, fraction, walk in rows
    ]


def _inner_sql(places: list[Place], snapped) -> tuple[str, str]:
    """Gives the edges and points queries for pgRouting (numbers only, formatted, since
    pgRouting takes them as text)."""
    lons, lats = [p.lon for p in places], [p.lat for p in places]
    edges = EDGES_SQL.format(
        minx=float(min(lons)),
        miny=float(min(lats)),
        maxx=float(max(lons)),
        maxy=float(max(lats)),
        margin=MARGIN_DEG + max(max(lons) - min(lons), max(lats) - min(lats)) / 2,
    )
    rows = ", ".join(f"({int(n)}, {int(edge)}, {float(f)!r})" for n, edge, f, _ in snapped)
    return edges, POINTS_SQL.format(rows=rows)


COST_SQL = """
SELECT end_pid, agg_cost
FROM pgr_withPointsCost(%(edges)s, %(points)s, -1, %(ends)s::bigint[], directed => false)
"""


def road_distances(origin: Place, targets: list[Place]) -> dict[int, float]:
    """Gives the road distance in metres from `origin` to each of `targets` the graph joins it
    to, by their keys (see the module doc). Needs `routing_available`."""
    if not targets:
        return {}
    places = [origin, *targets]
    snapped = _snap(places)
    if len(snapped) != len(places):
        return {}
    edges, points = _inner_sql(places, snapped)
    walks = {n: walk for n, _, _, walk in snapped}
    with connection.cursor() as cursor:
        cursor.execute(
            COST_SQL,
            {"edges": edges, "points": points, "ends": [-(n + 2) for n in range(len(targets))]},
        )
        rows = cursor.fetchall()
    found = {}
    for end_pid, cost in rows:
        n = -end_pid
        found[places[n - 1].key] = walks[1] + cost + walks[n]
    return found


# The shortest way's pieces in order: each path row's edge cut between the fractions of its
# node and of the next node (a vertex is 0 or 1 of the edge, a point its own fraction).
PATH_SQL = """
WITH path AS (
    SELECT path_seq, node, edge, lead(node) OVER (ORDER BY path_seq) AS next_node
    FROM pgr_withPoints(%(edges)s, %(points)s, -1, -2, directed => false)
),
fractions AS (
    SELECT p.path_seq, e.geom,
           CASE WHEN p.node = -1 THEN %(f1)s WHEN p.node = -2 THEN %(f2)s
                WHEN p.node = e.source THEN 0 ELSE 1 END AS a,
           CASE WHEN p.next_node = -1 THEN %(f1)s WHEN p.next_node = -2 THEN %(f2)s
                WHEN p.next_node = e.source THEN 0 ELSE 1 END AS b
    FROM path p JOIN spatial_roadedge e ON e.id = p.edge
    WHERE p.edge > 0
)
SELECT ST_AsGeoJSON(ST_Transform(CASE WHEN a <= b
        THEN ST_LineSubstring(ST_Transform(geom, 3857), a, b)
        ELSE ST_Reverse(ST_LineSubstring(ST_Transform(geom, 3857), b, a)) END, 4326), 7)
FROM fractions ORDER BY path_seq
"""


def road_path(origin: Place, target: Place) -> dict | None:
    """Gives the shortest way by road from `origin` to `target` as a GeoJSON MultiLineString:
    the walk to the road, the road pieces in order, the walk from it; None when the graph does
    not join them. Needs `routing_available`."""
    places = [origin, target]
    snapped = _snap(places)
    if len(snapped) != 2:
        return None
    edges, points = _inner_sql(places, snapped)
    with connection.cursor() as cursor:
        cursor.execute(
            PATH_SQL,
            {"edges": edges, "points": points, "f1": snapped[0][2], "f2": snapped[1][2]},
        )
        pieces = [json.loads(row[0])["coordinates"] for row in cursor.fetchall()]
    if not pieces and snapped[0][1] != snapped[1][1]:
        return None
    lines = [piece for piece in pieces if len(piece) >= 2]
    start = lines[0][0] if lines else None
    end = lines[-1][-1] if lines else None
    walk_in = [[origin.lon, origin.lat], start] if start else []
    walk_out = [end, [target.lon, target.lat]] if end else []
    return {
        "type": "MultiLineString",
        "coordinates": [line for line in (walk_in, *lines, walk_out) if line],
    }
