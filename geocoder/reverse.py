"""Reverse geocoding (逆地理编码): a point → the standard address string and its parts.

Order of answers: inside a compound → its nearest building (or the compound); else the
nearest door on the nearest road's side of the point within `DOOR_RADIUS_M`; else that road
with the door number the point's position along it implies; else the nearest place name;
else the admin area from `spatial.locate`. Outside the city every part is None.

Scope: the address database (roads, doors, places, compounds, buildings) is public; the road
segments and admin areas are registry layers, read only where the caller may see them at the
point (`Scope.layer_condition_by_key` in the same query, as `locate` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from psycopg2 import sql

from accounts.scoping import Scope, system_scope

from .dictionary import Gazetteer, gazetteer
from .linepoint import RoadGeometry
from .match import door_label, metres
from .normalize import clean

DOOR_RADIUS_M = 100.0
NEAR_DOOR_M = 15.0  # a door this close names the point, whatever road lies nearer
ROAD_RADIUS_M = 250.0
PLACE_RADIUS_M = 300.0
BUILDING_RADIUS_M = 80.0

# One round trip (eight road rows: pieces of one road count once, see _distinct_roads). The
# point is written out in each branch (not a CTE) so every KNN (`<->`) ORDER BY sees a
# constant and walks its GiST index: geocoder_compound.geom for containment,
# geocoder_road.geom, spatial_roadsegment.geom, geocoder_placename.geom and
# geocoder_dooraddress.geom for the nearest.
# {roads_visible}: the caller's scope on the roads layer at the point (a one-time filter).
_PT = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
NEARBY_SQL = f"""
(SELECT 'compound', c.id, 0.0::float8, 0.0::float8, NULL::text, NULL::geometry
   FROM geocoder_compound c WHERE ST_Intersects(c.geom, {_PT}) LIMIT 1)
UNION ALL
(SELECT 'road', r.id, 0.0, ST_LineLocatePoint(r.geom, {_PT}), NULL,
        ST_ClosestPoint(r.geom, {_PT})
   FROM geocoder_road r ORDER BY r.geom <-> {_PT} LIMIT 8)
UNION ALL
(SELECT 'segment', s.id, 0.0, 0.0, s.name, ST_ClosestPoint(s.geom, {_PT})
   FROM spatial_roadsegment s WHERE {{roads_visible}} ORDER BY s.geom <-> {_PT} LIMIT 3)
UNION ALL
(SELECT 'place', pl.id, 0.0, 0.0, NULL, pl.geom
   FROM geocoder_placename pl ORDER BY pl.geom <-> {_PT} LIMIT 1)
UNION ALL
(SELECT 'door', d.id, 0.0, 0.0, NULL, d.geom
   FROM geocoder_dooraddress d ORDER BY d.geom <-> {_PT} LIMIT 3)
"""


def _with_distance(row: tuple, lon: float, lat: float) -> tuple:
    """Gives the row with its distance in metres from the point to the row's closest point
    (haversine in Python: cheaper than a geography distance on long road lines)."""
    geom = row[5]
    if geom is None:
        return row
    point = GEOSGeometry(geom)
    return (row[0], row[1], metres(lon, lat, point.x, point.y), row[3], row[4], point)


@dataclass
class ReverseResult:
    address: str | None = None
    match_level: str | None = None
    parts: dict = field(default_factory=dict)
    lon: float | None = None
    lat: float | None = None
    distance_m: float | None = None
    ref: tuple[str, int] | None = None  # (kind, primary key) of the row the address names


_WHOLE = system_scope("reverse")


def reverse(
    lon: float, lat: float, g: Gazetteer | None = None, scope: Scope | None = None
) -> ReverseResult:
    """Gives the standard address of a WGS84 point (empty result outside the city), from the
    layers `scope` sees there (all of them without a scope: for the server's own work)."""
    g = g or gazetteer()
    scope = scope or _WHOLE
    params = {"lon": lon, "lat": lat}
    with connection.cursor() as cur:
        roads, values = scope.layer_condition_by_key("roads", sql.SQL(_PT)).named(
            "scope_roads", cur.connection
        )
        cur.execute(NEARBY_SQL.format(roads_visible=roads), {**params, **values})
        rows = [_with_distance(row, lon, lat) for row in cur.fetchall()]
    compounds = [r for r in rows if r[0] == "compound"]
    roads = _distinct_roads(
        g, sorted((r for r in rows if r[0] == "road" and r[2] <= ROAD_RADIUS_M), key=lambda r: r[2])
    )
    places = [r for r in rows if r[0] == "place" and r[2] <= PLACE_RADIUS_M]
    segments = sorted(
        (r for r in rows if r[0] == "segment" and r[2] <= ROAD_RADIUS_M), key=lambda r: r[2]
    )
    near_doors = sorted(
        (r for r in rows if r[0] == "door" and r[2] <= DOOR_RADIUS_M and r[1] in g.doors),
        key=lambda r: r[2],
    )
    if compounds:
        return _in_compound(g, compounds[0][1], lon, lat)
    lines = [r[2] for r in roads + segments]
    if near_doors and near_doors[0][2] <= min([NEAR_DOOR_M, *lines]):
        # At a door (nearer to it than to any road line): the door's own road, not a main
        # road passing by; a point on a road line is answered by that road's side below.
        door = g.doors[near_doors[0][1]]
        return _door_result(g, door, door.side, lon, lat, scope)
    doors = [d for d in (_door_on_side(g, r[1], r[3], lon, lat) for r in roads) if d[0]]
    if doors:
        door, side, _ = min(doors, key=lambda d: d[2])
        return _door_result(g, door, side, lon, lat, scope)
    same_road = bool(segments and roads) and clean(segments[0][4]) == clean(
        g.roads[roads[0][1]].name
    )
    if segments and not same_road and (not roads or segments[0][2] < roads[0][2]):
        # A road segment (the base road layer holds every piece of every road) is nearer than
        # any addressed road centreline: name the road by that segment.
        return _with_areas(g, _on_segment(g, segments[0], lon, lat), lon, lat, scope)
    if roads:
        _, road_id, dist, measure = roads[0][:4]
        return _with_areas(g, _on_road(g, road_id, measure, lon, lat), lon, lat, scope)
    if places:
        entry = g.entries[("place", places[0][1])]
        return _finish(g, entry, entry.name, "place", entry.lon, entry.lat, lon, lat)
    return _in_area(g, lon, lat, scope)


ROADS_SEARCHED = 3


def _distinct_roads(g: Gazetteer, rows: list[tuple]) -> list[tuple]:
    """Gives the nearest rows of the first `ROADS_SEARCHED` road names: a main road loaded
    piece by piece must not crowd the side street the point stands on out of the search."""
    out, seen = [], set()
    for row in rows:
        name = g.roads[row[1]].name
        if name not in seen and len(seen) < ROADS_SEARCHED:
            seen.add(name)
            out.append(row)
    return out


def _door_result(g: Gazetteer, door, side: str, lon: float, lat: float, scope: Scope):
    road = g.entries[("road", door.road_id)]
    found = _finish(
        g,
        road,
        door_label(g, door),
        "door",
        door.lon,
        door.lat,
        lon,
        lat,
        road=road.name,
        number=door.number,
        side=side,
        ref=("door", door.id),
    )
    return _with_areas(g, found, lon, lat, scope)


AREA_PARTS = ("district", "street", "community")


def _with_areas(g: Gazetteer, found: ReverseResult, lon: float, lat: float, scope: Scope):
    """Gives `found` with the district, street and community it lacks taken from the areas
    the caller sees at the point (a road segment outside the address tables names none)."""
    if all(found.parts.get(k) for k in AREA_PARTS):
        return found
    area = _in_area(g, lon, lat, scope)
    before = _area_prefix(found.parts)
    for key in AREA_PARTS:
        if not found.parts.get(key) and area.parts.get(key):
            found.parts[key] = area.parts[key]
    if found.address and found.address.startswith(before):
        found.address = _area_prefix(found.parts) + found.address[len(before) :]
    return found


def _area_prefix(parts: dict) -> str:
    return "".join(parts.get(k) or "" for k in ("district", "street"))


# Served by the GiST index on spatial_adminarea.geom; the finest area the caller sees there.
AREA_SQL = """
SELECT id FROM spatial_adminarea
 WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
   AND CASE level WHEN 'community' THEN {communities} WHEN 'street' THEN {streets}
       ELSE {districts} END
 ORDER BY CASE level WHEN 'community' THEN 0 WHEN 'street' THEN 1 ELSE 2 END LIMIT 1
"""


def _in_area(g: Gazetteer, lon: float, lat: float, scope: Scope = _WHOLE) -> ReverseResult:
    point = sql.SQL(_PT)
    params: dict = {"lon": lon, "lat": lat}
    with connection.cursor() as cur:
        visible = {}
        for key in ("districts", "streets", "communities"):
            condition = scope.layer_condition_by_key(key, point)
            visible[key], values = condition.named(f"scope_{key}", cur.connection)
            params.update(values)
        cur.execute(AREA_SQL.format(**visible), params)
        row = cur.fetchone()
    if row is None:
        return ReverseResult()
    for level in ("community", "street", "district"):
        entry = g.entries.get((level, row[0]))
        if entry is not None:
            core = entry.name if level == "community" else ""
            return _finish(g, entry, core, "area", lon, lat, lon, lat)
    return ReverseResult()


def _finish(g, entry, core, level, alon, alat, lon, lat, ref=None, **parts) -> ReverseResult:
    from .match import _names, _prefix

    names = _names(g, entry)
    names.update(parts)
    return ReverseResult(
        _prefix(names) + core,
        level,
        names,
        alon,
        alat,
        round(metres(lon, lat, alon, alat), 2),
        ref or (entry.kind, entry.id),
    )


def _in_compound(g: Gazetteer, compound_id: int, lon: float, lat: float) -> ReverseResult:
    yard = g.entries[("compound", compound_id)]
    door_id = g.owner_doors.get(("compound", compound_id))
    base = door_label(g, g.doors[door_id]) if door_id in g.doors else ""
    best, best_d = None, BUILDING_RADIUS_M
    for b in g.buildings.get(("compound", compound_id), {}).values():
        d = metres(lon, lat, b.lon, b.lat)
        if d < best_d:
            best, best_d = b, d
    if best is not None:
        return _finish(
            g,
            yard,
            f"{base}{yard.name}{best.number}号楼",
            "building",
            best.lon,
            best.lat,
            lon,
            lat,
            name=yard.name,
            building=best.number,
            ref=("building", best.id),
        )
    return _finish(g, yard, base + yard.name, "place", yard.lon, yard.lat, lon, lat, name=yard.name)


def point_side(geom: RoadGeometry, measure: float, lon: float, lat: float) -> str:
    """Gives the side ('left'/'right', looking along the road) of a point near `measure`."""
    x, y, ux, uy = geom.at(measure)
    px, py = geom.frame.to_xy(lon, lat)
    return "left" if ux * (py - y) - uy * (px - x) >= 0 else "right"


def _on_segment(g: Gazetteer, row: tuple, lon: float, lat: float) -> ReverseResult:
    """Gives the road named by the nearest road segment, at its closest point."""
    name, closest = row[4], row[5]
    plon, plat = closest.x, closest.y
    entry = next((e for e in g.names.get(clean(name), ()) if e.kind == "road"), None)
    if entry is None:
        return ReverseResult(
            name,
            "road",
            {"road": name},
            plon,
            plat,
            round(metres(lon, lat, plon, plat), 2),
            ("segment", row[1]),
        )
    return _finish(g, entry, entry.name, "road", plon, plat, lon, lat, road=entry.name)


def _door_on_side(g: Gazetteer, road_id: int, measure: float, lon: float, lat: float):
    """Gives (door, side, metres): the nearest door within `DOOR_RADIUS_M` on the point's side
    of one road, or (None, side, inf)."""
    line = g.roads[road_id]
    side = point_side(RoadGeometry(line.coords), measure, lon, lat)
    best, best_d = None, DOOR_RADIUS_M
    for door in line.doors:
        if door.side != side:
            continue
        d = metres(lon, lat, door.lon, door.lat)
        if d < best_d:
            best, best_d = door, d
    return best, side, best_d


def _on_road(g: Gazetteer, road_id: int, measure: float, lon: float, lat: float) -> ReverseResult:
    """Gives the road with the number of its nearest door along the road on the point's side
    (学院路18号附近), or the road alone when it has no doors."""
    line = g.roads[road_id]
    road = g.entries[("road", road_id)]
    geom = RoadGeometry(line.coords)
    side = point_side(geom, measure, lon, lat)
    same_side = [d for d in line.doors if d.side == side] or line.doors
    x, y, _, _ = geom.at(measure)
    plon, plat = geom.frame.to_lonlat(x, y)
    if not same_side:
        return _finish(g, road, line.name, "road", plon, plat, lon, lat, road=line.name, side=side)
    nearest = min(same_side, key=lambda d: abs(d.measure - measure))
    return _finish(
        g,
        road,
        f"{line.name}{nearest.number}号附近",
        "road",
        plon,
        plat,
        lon,
        lat,
        road=line.name,
        number=nearest.number,
        side=side,
    )
