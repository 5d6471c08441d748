"""Forward geocoding: parse → interpretations → ranked candidates with standard addresses.

Names, doors and buildings are resolved from the in-memory gazetteer; the few questions that
need real geometry (a road's part inside a street, a unit grid or component by code, an
area's polygon, the `within` filter) are single indexed SQL queries kept below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from psycopg2 import sql

from accounts.scoping import Scope, system_scope
from core.sqlparts import bind

from .confidence import AMBIGUOUS, AMBIGUOUS_M, AMBIGUOUS_RATIO, UNEXPLAINED, confidence
from .dictionary import AREA_KINDS, BuildingPoint, Door, Entry, Gazetteer, gazetteer
from .linepoint import DoorMark, interpolate, side_for
from .parse import Interpretation, Parse, interpretations, parse

NEAR_PLACE_M = 400.0
LEVEL_WEIGHT = {
    "door": 1.0,
    "building": 1.0,
    "component": 1.0,
    "grid": 1.0,
    "organization": 0.97,
    "place": 0.97,
    "interpolated": 0.93,
    "road": 0.85,
    "area": 0.8,
}
WRONG_AREA = 0.85
UNUSED_TOKEN = 0.9
MIN_CONFIDENCE = 0.3  # default of settings.GEOCODER_MIN_CONFIDENCE


@dataclass
class Candidate:
    """One answer to a forward query."""

    address: str
    match_level: str
    combination: int | None
    score: float
    lon: float
    lat: float
    parts: dict = field(default_factory=dict)
    qualifier: list[str] = field(default_factory=list)
    ref: tuple[str, int] | None = None  # (kind, primary key) of the row it stands for
    variant: str = ""  # what makes it more than that row: a road's part in an area, a door number
    extrapolated: bool = False
    exact: bool = True  # every name read as written (False: a typo, homophone or pinyin guess)
    evidence: float = 0.0  # what `confidence` is read from (see geocoder.confidence)
    confidence: float = 0.0  # 0–1, calibrated on the evaluation set

    def key(self) -> tuple:
        return (self.match_level, self.ref, self.variant, round(self.lon, 5), round(self.lat, 5))


# The registry layer behind each kind of candidate that comes from one; the rest come from the
# address database (roads, doors, places, compounds, organizations, buildings), which is public.
SOURCE_LAYERS = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "grid": "unit_grids",
    "component": "components",
}
_WHOLE = system_scope("geocoder")


def geocode(
    query: str,
    limit: int = 5,
    g: Gazetteer | None = None,
    scope: Scope | None = None,
    min_confidence: float | None = None,
) -> tuple[Parse, list[Candidate]]:
    """Gives the parse of `query` and up to `limit` candidates, best first: only candidates
    from layers `scope` sees (whole without a scope: for the server's own work) and with a
    confidence of at least `min_confidence` (default settings.GEOCODER_MIN_CONFIDENCE)."""
    g = g or gazetteer()
    scope = scope or _WHOLE
    p = parse(query, g)
    if p.foreign_area is not None or _foreign_city(p.stated_city):
        return p, []  # a district or city the data does not hold: nothing here lies in it
    found: dict[tuple, Candidate] = {}
    for reading in interpretations(p):
        for cand in resolve(reading, p, g, scope):
            cand.qualifier = p.qualifiers
            k = cand.key()
            if k not in found or found[k].score < cand.score:
                found[k] = cand
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.address))
    rate(ranked, p)
    if min_confidence is None:
        min_confidence = getattr(settings, "GEOCODER_MIN_CONFIDENCE", MIN_CONFIDENCE)
    return p, [c for c in ranked if c.confidence >= min_confidence][:limit]


def _foreign_city(city: str | None) -> bool:
    """Whether a stated city is none of settings.GEOCODER_CITY_NAMES (when those are set)."""
    names = getattr(settings, "GEOCODER_CITY_NAMES", ())
    if not city or not names:
        return False
    return city.removesuffix("市") not in {n.removesuffix("市") for n in names}


def rate(ranked: list[Candidate], p: Parse) -> None:
    """Sets each candidate's evidence and confidence (geocoder.confidence): its score, lowered
    when a candidate at another place scores nearly as well or text was left unexplained."""
    unexplained = any(t.kind == "residue" for t in p.tokens)
    exact = p.exact and not unexplained  # every name read as written, nothing left unread
    for cand in ranked:
        evidence = cand.score * (UNEXPLAINED if unexplained else 1.0)
        rival = next(
            (
                o
                for o in ranked
                if o is not cand and metres(o.lon, o.lat, cand.lon, cand.lat) > AMBIGUOUS_M
            ),
            None,
        )
        if rival is not None and rival.score >= AMBIGUOUS_RATIO * cand.score:
            evidence *= AMBIGUOUS
        cand.exact = exact
        cand.evidence = round(evidence, 4)
        cand.confidence = confidence(evidence, exact)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Gives the great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


# -- resolution -----------------------------------------------------------------------------


def resolve(r: Interpretation, p: Parse, g: Gazetteer, scope: Scope = _WHOLE) -> list[Candidate]:
    """Gives the candidates one interpretation stands for (those `scope` may see)."""
    if r.code is not None:
        return _by_code(r, scope)
    if r.main is None:
        return []
    if not _in_named_areas(r, g):
        return []  # a stated district, street or community restricts the answer to it
    out = _resolve_main(r, g, scope)
    factor = r.similarity * _area_factor(r, g)
    for cand in out:
        used = cand.parts.pop("_used", ())
        unused = sum(1 for t in (r.door, r.building) if t is not None and t.kind not in used)
        cand.score = round(cand.score * factor * (UNUSED_TOKEN**unused), 4)
        if cand.combination is None:
            cand.combination = r.combination
    return out


def _in_named_areas(r: Interpretation, g: Gazetteer) -> bool:
    """Whether the main thing lies in (a road: passes through) every district, street and
    community the text names; an area named as the main thing must lie in the others."""
    main = r.main
    assert main is not None
    for area in (r.district, r.street, r.community):
        if area is None or area is main:
            continue
        if main.kind == "road" or main.kind in AREA_KINDS:
            inside = g.within(main, area.id) or g.within(area, main.id)
        else:  # a thing not placed in any area (community unknown) is not ruled out
            held = getattr(main, f"{area.kind}_id")
            inside = held is None or held == area.id
        if not inside:
            return False
    return True


def _area_factor(r: Interpretation, g: Gazetteer) -> float:
    """Lowers the score when a named district/street/community does not hold the main thing."""
    main = r.main
    if main is None or main.kind in ("district", "street", "community"):
        return 1.0
    factor = 1.0
    if main.kind == "road":
        for area in (r.street, r.community):
            if area is not None and not g.within(main, area.id):
                factor *= WRONG_AREA
        return factor
    for area, attr in (
        (r.district, "district_id"),
        (r.street, "street_id"),
        (r.community, "community_id"),
    ):
        if area is not None and getattr(main, attr) is not None and getattr(main, attr) != area.id:
            factor *= WRONG_AREA
    return factor


def _resolve_main(r: Interpretation, g: Gazetteer, scope: Scope) -> list[Candidate]:
    main = r.main
    assert main is not None
    kind = main.kind
    if kind in ("district", "street", "community"):
        area = _area_candidate(r, main, g, scope)
        return [area] if area is not None else []
    if kind == "road":
        return _resolve_road(r, main, g)
    if kind in ("organization", "storefront"):
        return _resolve_owner(r, main, g, "organization")
    if kind in ("compound", "courtyard"):
        return _resolve_courtyard(r, main, g)
    return _resolve_place(r, main, g)


def _names(g: Gazetteer, e: Entry) -> dict:
    parts: dict = {}
    for level, attr in (
        ("district", "district_id"),
        ("street", "street_id"),
        ("community", "community_id"),
    ):
        ident = getattr(e, attr)
        area = g.entries.get((level, ident)) if ident else None
        parts[level] = area.name if area else None
    return parts


def _prefix(parts: dict) -> str:
    return "".join(parts.get(k) or "" for k in ("district", "street"))


def _candidate(
    g: Gazetteer,
    e: Entry,
    level: str,
    core: str,
    lon: float,
    lat: float,
    used: tuple[str, ...] = (),
    **parts,
) -> Candidate:
    names = _names(g, e)
    names.update(parts)
    names["_used"] = used
    return Candidate(
        _prefix(names) + core, level, None, LEVEL_WEIGHT[level], lon, lat, names, ref=(e.kind, e.id)
    )


def _area_candidate(r: Interpretation, area: Entry, g: Gazetteer, scope: Scope) -> Candidate | None:
    """Gives the candidate of an admin area, or None when `scope` may not see that area."""
    code = _area_code(area, scope)
    if code is None:
        return None
    parts = _names(g, area)
    core = parts["community"] or "" if area.kind == "community" else ""
    cand = _candidate(g, area, "area", core, area.lon, area.lat)
    cand.parts["area_code"] = code
    return cand


def _area_code(area: Entry, scope: Scope = _WHOLE) -> str | None:
    """Gives the code of an admin area if `scope` sees it in its level's layer (one query by
    primary key; the scope's condition reads the layer's flags in the same query)."""
    condition = scope.layer_condition_by_key(SOURCE_LAYERS[area.kind], sql.SQL("a.geom"))
    query = bind(
        "SELECT a.code FROM spatial_adminarea a WHERE a.id = {id} AND {visible}",
        id=area.id,
        visible=condition,
    )
    with connection.cursor() as cur:
        cur.execute(*query)
        row = cur.fetchone()
    return row[0] if row else None


def door_label(g: Gazetteer, door: Door) -> str:
    """Gives the standard door string: road + number + suffix + 号 (学院路18号, 学院路甲18号)."""
    road = g.roads[door.road_id].name
    if door.suffix.startswith("之"):
        return f"{road}{door.number}号{door.suffix}"
    return f"{road}{door.suffix}{door.number}号"


def find_door(g: Gazetteer, road_id: int, number: int, suffix: str = "") -> Door | None:
    """Gives the door `number` (+ suffix) of a road, or the plain number when the suffix is
    not on record."""
    doors = [d for d in g.roads[road_id].doors if d.number == number]
    exact = [d for d in doors if d.suffix == suffix]
    if exact:
        return exact[0]
    plain = [d for d in doors if not d.suffix]
    return (plain or doors or [None])[0]


def _door_or_interpolated(r: Interpretation, road: Entry, g: Gazetteer, used=("door",)):
    """Gives the door candidate of road + number: recorded, else interpolated, else None."""
    assert r.door is not None and r.door.number is not None
    number, suffix = r.door.number, r.door.suffix
    door = find_door(g, road.id, number, suffix)
    if door is not None:
        cand = _candidate(
            g,
            road,
            "door",
            door_label(g, door),
            door.lon,
            door.lat,
            used,
            road=road.name,
            number=door.number,
        )
        if door.suffix != suffix:
            cand.score *= 0.95
        cand.ref = ("door", door.id)
        return cand, door
    line = g.roads[road.id]
    side = side_for(number, line.odd_side)
    marks = [
        DoorMark(d.number, d.measure, d.lon, d.lat)
        for d in line.doors
        if d.number % 2 == number % 2 and d.side == side
    ]
    if not marks:
        marks = [
            DoorMark(d.number, d.measure, d.lon, d.lat)
            for d in line.doors
            if d.number % 2 == number % 2
        ]
    placed = interpolate(line.coords, number, line.odd_side, marks)
    if placed is None:
        return None, None
    cand = _candidate(
        g,
        road,
        "interpolated",
        f"{road.name}{number}号",
        placed.lon,
        placed.lat,
        used,
        road=road.name,
        number=number,
        measure=round(placed.measure, 5),
    )
    cand.extrapolated = placed.extrapolated
    cand.parts["extrapolated"] = placed.extrapolated
    cand.variant = f"number:{number}"
    return cand, None


def _building_at_door(g: Gazetteer, door: Door, number: str) -> BuildingPoint | None:
    for owner in g.door_owners.get(door.id, ()):
        found = g.buildings.get(owner, {}).get(number)
        if found:
            return found
    return None


def _building_candidate(g: Gazetteer, b: BuildingPoint, base: str, used) -> Candidate:
    owner = g.entries[(b.owner_kind, b.owner_id)]
    cand = _candidate(
        g,
        owner,
        "building",
        f"{base}{owner.name}{b.number}号楼",
        b.lon,
        b.lat,
        used,
        building=b.number,
        owner=owner.name,
    )
    cand.ref = ("building", b.id)
    return cand


def _owner_base(g: Gazetteer, owner: Entry) -> str:
    door_id = g.owner_doors.get((owner.kind, owner.id))
    return door_label(g, g.doors[door_id]) if door_id in g.doors else ""


def _resolve_road(r: Interpretation, road: Entry, g: Gazetteer) -> list[Candidate]:
    if r.door is not None:
        cand, door = _door_or_interpolated(r, road, g)
        if cand is None:
            return [_road_candidate(r, road, g)]
        if r.building is not None:
            b = _building_at_door(g, door, r.building.text) if door else None
            if b is not None:
                return [_building_candidate(g, b, door_label(g, door), ("door", "building"))]
        if r.place is not None and metres(cand.lon, cand.lat, r.place.lon, r.place.lat) > 2000:
            cand.score *= WRONG_AREA
        return [cand]
    if r.building is not None:
        out = []
        for door in g.roads[road.id].doors:
            b = _building_at_door(g, door, r.building.text)
            if b is not None:
                out.append(_building_candidate(g, b, door_label(g, door), ("building",)))
        if out:
            return out
    return [_road_candidate(r, road, g)]


def _road_candidate(r: Interpretation, road: Entry, g: Gazetteer) -> Candidate:
    area = r.community or r.street
    lon, lat, inside = road.lon, road.lat, True
    if area is not None:
        point = _road_point_in_area(road.id, area.id)
        if point is None:
            inside = False
        else:
            lon, lat = point
    cand = _candidate(g, road, "road", road.name, lon, lat, road=road.name)
    if area is not None:
        cand.parts.update(_names(g, area))
        cand.address = (
            _prefix(cand.parts) + (cand.parts["community"] or "" if r.community else "") + road.name
        )
        cand.variant = f"area:{area.id}"
    if not inside:
        cand.score *= WRONG_AREA
    return cand


# Served by the primary keys; ST_Intersection runs on one road and one area.
ROAD_IN_AREA_SQL = """
SELECT ST_X(p), ST_Y(p) FROM (
  SELECT ST_ClosestPoint(r.geom, ST_Centroid(ST_Intersection(r.geom, a.geom))) p
    FROM geocoder_road r, spatial_adminarea a
   WHERE r.id = %s AND a.id = %s AND ST_Intersects(r.geom, a.geom)) q
"""


def _road_point_in_area(road_id: int, area_id: int) -> tuple[float, float] | None:
    with connection.cursor() as cur:
        cur.execute(ROAD_IN_AREA_SQL, [road_id, area_id])
        row = cur.fetchone()
    return (row[0], row[1]) if row and row[0] is not None else None


def _resolve_owner(r: Interpretation, org: Entry, g: Gazetteer, level: str) -> list[Candidate]:
    base = _owner_base(g, org)
    if r.building is not None:
        b = g.buildings.get((org.kind, org.id), {}).get(r.building.text)
        if b is not None:
            return [_building_candidate(g, b, base, ("building",))]
    cand = _candidate(g, org, level, base + org.name, org.lon, org.lat, name=org.name)
    if r.road is not None:
        road_id = g.owner_doors.get((org.kind + ":road", org.id))
        door_id = g.owner_doors.get((org.kind, org.id))
        door_road = g.doors[door_id].road_id if door_id in g.doors else None
        if r.road.id not in (road_id, door_road):
            cand.score *= WRONG_AREA
    return [cand]


def _resolve_courtyard(r: Interpretation, yard: Entry, g: Gazetteer) -> list[Candidate]:
    if yard.kind == "courtyard":
        door = g.doors[yard.id]
        if r.door is not None and r.door.number is not None:
            same = [
                d
                for d in g.doors_by_courtyard.get(_key(yard.name), ())
                if d.number == r.door.number
            ]
            if same:
                door = same[0]
        if r.building is not None:
            b = _building_at_door(g, door, r.building.text)
            if b is not None:
                return [_building_candidate(g, b, door_label(g, door), ("building",))]
        used = ("door",) if r.door is not None and door.number == r.door.number else ()
        cand = _candidate(
            g,
            yard,
            "door",
            door_label(g, door) + yard.name,
            door.lon,
            door.lat,
            used,
            name=yard.name,
        )
        cand.ref = ("door", door.id)
        return [cand]
    if r.building is not None:
        b = g.buildings.get(("compound", yard.id), {}).get(r.building.text)
        if b is not None:
            return [_building_candidate(g, b, _owner_base(g, yard), ("building",))]
    if r.door is not None and r.door.number is not None:
        door_id = g.owner_doors.get(("compound", yard.id))
        if door_id in g.doors:
            road_id = g.doors[door_id].road_id
            road = g.entries[("road", road_id)]
            cand, _ = _door_or_interpolated(r, road, g)
            if cand is not None:
                return [cand]
    return [
        _candidate(
            g, yard, "place", _owner_base(g, yard) + yard.name, yard.lon, yard.lat, name=yard.name
        )
    ]


def _key(name: str) -> str:
    from .normalize import clean

    return clean(name)


def _resolve_place(r: Interpretation, place: Entry, g: Gazetteer) -> list[Candidate]:
    if r.door is not None and r.door.number is not None:
        door = _door_near(g, place, r.door.number)
        if door is not None:
            if r.building is not None:
                b = _building_at_door(g, door, r.building.text)
                if b is not None:
                    return [_building_candidate(g, b, door_label(g, door), ("door", "building"))]
            cand = _candidate(
                g,
                place,
                "door",
                door_label(g, door),
                door.lon,
                door.lat,
                ("door",),
                name=place.name,
                number=door.number,
            )
            cand.ref = ("door", door.id)
            return [cand]
    if r.building is not None:
        b = _nearest(g.buildings_by_number.get(r.building.text, ()), place)
        if b is not None:
            return [_building_candidate(g, b, "", ("building",))]
    base = _owner_base(g, place)
    return [_candidate(g, place, "place", base + place.name, place.lon, place.lat, name=place.name)]


def _door_near(g: Gazetteer, place: Entry, number: int) -> Door | None:
    door_id = g.owner_doors.get(("place", place.id))
    if door_id in g.doors and g.doors[door_id].number == number:
        return g.doors[door_id]
    return _nearest(g.doors_by_number.get(number, ()), place)


def _nearest(items, place: Entry):
    best, best_d = None, NEAR_PLACE_M
    for item in items:
        d = metres(item.lon, item.lat, place.lon, place.lat)
        if d < best_d:
            best, best_d = item, d
    return best


# Served by the unique btree indexes on the code columns; {visible} is the caller's scope on
# the row (for a non-public layer an anonymous caller's is a one-time FALSE: nothing is read).
GRID_SQL = """
SELECT g.id, g.code, ST_X(p), ST_Y(p), c.name FROM (
  SELECT *, ST_PointOnSurface(geom) p FROM spatial_unitgrid u WHERE code = {code} AND {visible}) g
  JOIN spatial_adminarea c ON c.id = g.community_id
"""
COMPONENT_SQL = """
SELECT c.id, c.code, ST_X(p), ST_Y(p), coalesce(nullif(c.name, ''), k.name) FROM (
  SELECT *, ST_PointOnSurface(geom) p FROM spatial_component c WHERE code = {code} AND {visible}) c
  LEFT JOIN data_category k ON k.id = c.category_id
"""


def _by_code(r: Interpretation, scope: Scope = _WHOLE) -> list[Candidate]:
    """Gives the unit grid (combination 17) or component with the code, if `scope` sees it:
    a person only those inside their areas."""
    grid = r.combination == 17
    level = "grid" if grid else "component"
    template, alias = (GRID_SQL, "u") if grid else (COMPONENT_SQL, "c")
    condition = scope.layer_condition_by_key(SOURCE_LAYERS[level], sql.Identifier(alias, "geom"))
    with connection.cursor() as cur:
        cur.execute(*bind(template, code=r.code, visible=condition))
        row = cur.fetchone()
    if row is None:
        return []
    ident, code, lon, lat, label = row
    address = f"{label}单元网格{code}" if grid else f"{label}({code})"
    return [
        Candidate(
            address,
            level,
            r.combination,
            1.0,
            lon,
            lat,
            {"code": code, "name": label},
            ref=(level, ident),
        )
    ]
