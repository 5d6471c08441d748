"""The one placement call: everything a point belongs to, in one SQL query.

`locate(lon, lat, at)` gives a `Placement` (落点): district, street and community, unit grid,
responsibility grid, timing zone, the controlled areas in force at `at`, and the nearest road
segment within `ROAD_SEARCH_METRES`. Case registration, reverse geocoding, the field app and the
dispatcher's map click all call it.

Boundary rule: a point on an edge shared by two polygons touches both (ST_Intersects is true for
the boundary), so every part picks ONE candidate by a fixed order and the answer is stable:

* admin areas: the finest level that contains the point (community, else street, else
  district), lowest id first; street and district are then that area's parents, so the three
  always form one chain;
* unit grid: grids of the chosen community first, then the lowest id;
* responsibility grid: the one that lists the chosen unit grid first, then the lowest id;
* timing zone: core before general before outer, then the lowest id.

Scope rule: every part comes from a registry layer (`LAYER_OF_PART`), and a part of a layer the
caller may not read at this point is left out (None or an empty list): a non-public layer shows
only to callers whose grants name it and whose area holds the point. The rule is
`Scope.layer_condition_by_key` applied to the point, inside the same query.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import threading
from dataclasses import dataclass, field, fields, is_dataclass

from cachetools import LRUCache, cached
from django.conf import settings
from django.db import connection
from django.utils import timezone
from psycopg2 import sql

from accounts.scoping import Scope, system_scope
from core.errors import BadInput
from spatial import crs

ROAD_SEARCH_METRES = 50.0

# One round trip. Each LATERAL subquery probes one GiST index with the constant point `pt.g`
# (no per-row transform: every table is stored in EPSG:4326 and compared in 4326):
#   area      -> spatial_adminarea_geom gist (ST_Intersects), parents by primary key
#   ug        -> spatial_unitgrid_geom gist
#   rg        -> spatial_responsibilitygrid_geom gist; membership via the m2m unitgrid_id index
#   tz        -> spatial_timingzone_geom gist
#   ctrl      -> spatial_controlledarea_geom gist, then the time filters on the few hits
#   road      -> spatial_roadsegment_geom gist on a bounding box of +-50 m (`&&`), then the
#                exact spheroid distance on the handful of segments inside it
# `vis` holds, once per query, whether the caller may see each layer at this point (the scope's
# conditions on the point: constants, or the layer's flags from the spatial_layer key index and
# one point-in-area test). Each subquery reads it as a one-time filter, so a hidden part costs
# no index probe at all.
LOCATE_SQL = """
WITH pt AS (
    SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g,
           (%(at)s::timestamptz AT TIME ZONE %(tz)s)::time AS local_time
), vis AS MATERIALIZED (
    SELECT {visibility}
    FROM pt
)
SELECT
    area.level, area.code, area.name,
    p1.level, p1.code, p1.name,
    p2.level, p2.code, p2.name,
    ug.code,
    rg.code, rg.name,
    tz.kind, tz.name,
    ctrl.items,
    road.name, road.road_class, road.distance_m
FROM pt CROSS JOIN vis
LEFT JOIN LATERAL (
    SELECT a.id, a.level, a.code, a.name, a.parent_id
    FROM spatial_adminarea a
    WHERE ST_Intersects(a.geom, pt.g) AND {area_visible}
    ORDER BY CASE a.level WHEN 'community' THEN 0 WHEN 'street' THEN 1 ELSE 2 END, a.id
    LIMIT 1
) area ON true
LEFT JOIN spatial_adminarea p1 ON p1.id = area.parent_id AND {p1_visible}
LEFT JOIN spatial_adminarea p2 ON p2.id = p1.parent_id AND {p2_visible}
LEFT JOIN LATERAL (
    SELECT u.id, u.code
    FROM spatial_unitgrid u
    WHERE vis.unit_grids AND ST_Intersects(u.geom, pt.g)
    ORDER BY (u.community_id IS NOT DISTINCT FROM area.id) DESC, u.id
    LIMIT 1
) ug ON true
LEFT JOIN LATERAL (
    SELECT r.code, r.name
    FROM spatial_responsibilitygrid r
    WHERE vis.responsibility_grids AND ST_Intersects(r.geom, pt.g)
    ORDER BY EXISTS (
        SELECT 1 FROM spatial_responsibilitygrid_unit_grids m
        WHERE m.unitgrid_id = ug.id AND m.responsibilitygrid_id = r.id
    ) DESC, r.id
    LIMIT 1
) rg ON true
LEFT JOIN LATERAL (
    SELECT t.kind, t.name
    FROM spatial_timingzone t
    WHERE vis.timing_zones AND ST_Intersects(t.geom, pt.g)
    ORDER BY CASE t.kind WHEN 'core' THEN 0 WHEN 'general' THEN 1 ELSE 2 END, t.id
    LIMIT 1
) tz ON true
LEFT JOIN LATERAL (
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'id', c.id, 'name', c.name, 'action', c.action, 'categories', c.categories,
               'reason', c.reason, 'requirement', c.requirement,
               'valid_from', c.valid_from, 'valid_to', c.valid_to,
               'daily_windows', c.daily_windows) ORDER BY c.id), '[]'::jsonb) AS items
    FROM spatial_controlledarea c
    WHERE vis.controlled_areas AND ST_Intersects(c.geom, pt.g)
      AND (c.valid_from IS NULL OR c.valid_from <= %(at)s::timestamptz)
      AND (c.valid_to IS NULL OR %(at)s::timestamptz < c.valid_to)
      AND (jsonb_array_length(c.daily_windows) = 0 OR EXISTS (
            SELECT 1
            FROM jsonb_array_elements(c.daily_windows) w,
                 LATERAL (SELECT (w->>0)::time AS t0, (w->>1)::time AS t1) win
            WHERE CASE
                WHEN win.t0 = win.t1 THEN true
                WHEN win.t0 < win.t1 THEN pt.local_time >= win.t0 AND pt.local_time < win.t1
                ELSE pt.local_time >= win.t0 OR pt.local_time < win.t1
            END))
) ctrl ON true
LEFT JOIN LATERAL (
    SELECT s.name, s.road_class, d.metres AS distance_m
    FROM spatial_roadsegment s,
         LATERAL (SELECT ST_Distance(s.geom::geography, pt.g::geography) AS metres) d
    WHERE vis.roads AND s.geom && ST_Expand(pt.g, %(dlon)s, %(dlat)s)
      AND d.metres <= %(radius)s
    ORDER BY d.metres, s.id
    LIMIT 1
) road ON true
"""


@dataclass(frozen=True)
class AreaRef:
    """An admin area as a placement names it."""

    code: str
    name: str


@dataclass(frozen=True)
class GridRef:
    """A responsibility grid (责任网格) as a placement names it."""

    code: str
    name: str


@dataclass(frozen=True)
class TimingZoneRef:
    """The timing zone (计时区域) a point falls in."""

    kind: str
    name: str


@dataclass(frozen=True)
class ControlledAreaHit:
    """A controlled area (管控区域) in force at the placement time."""

    id: int
    name: str
    action: str
    categories: list[str]
    reason: str
    valid_from: str | None
    valid_to: str | None
    daily_windows: list
    requirement: str = ""


@dataclass(frozen=True)
class RoadRef:
    """The nearest road segment and its distance in metres."""

    name: str
    road_class: str
    distance_m: float


@dataclass(frozen=True)
class Placement:
    """Everything a point belongs to (落点结果); every part is None/empty outside the city."""

    at: dt.datetime
    district: AreaRef | None = None
    street: AreaRef | None = None
    community: AreaRef | None = None
    unit_grid: str | None = None
    responsibility_grid: GridRef | None = None
    timing_zone: TimingZoneRef | None = None
    controlled_areas: list[ControlledAreaHit] = field(default_factory=list)
    road: RoadRef | None = None

    def as_dict(self) -> dict:
        """Gives the placement as plain JSON-ready data."""
        data = _plain(self)
        local = timezone.localtime(self.at)
        # Before 1901 Asia/Shanghai is local mean time (+08:05:43), which RFC 3339 cannot write.
        data["at"] = (
            local if local.utcoffset().seconds % 60 == 0 else self.at.astimezone(dt.UTC)
        ).isoformat()
        return data


def _plain(value):
    """Gives a placement part as plain data, as `dataclasses.asdict` would without its deep
    copies (a fifth of a locate request's Python time): the parts are frozen and are
    serialized at once."""
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def search_box_degrees(lat: float, metres: float = ROAD_SEARCH_METRES) -> tuple[float, float]:
    """Gives (dlon, dlat) in degrees that cover at least `metres` around latitude `lat`."""
    return crs.degrees_covering(metres, lat)


def locate(
    lon: float, lat: float, at: dt.datetime | None = None, scope: Scope | None = None
) -> Placement:
    """Gives the `Placement` of a WGS84 point at time `at` (default now) in one query, with
    only the parts `scope` may see at that point. Without a scope the placement is whole:
    for the server's own work (case registration, batch jobs); HTTP views pass the caller's."""
    if not (math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
        raise BadInput("lon/lat must be a WGS84 point within lon ±180, lat ±90", field="lon")
    at = at or timezone.now()
    if timezone.is_naive(at):
        at = timezone.make_aware(at, timezone.get_default_timezone())
    dlon, dlat = search_box_degrees(lat)
    params = {
        "lon": lon,
        "lat": lat,
        # The same instant in UTC: Python allows offsets up to ±23:59, PostgreSQL ±15:59.
        "at": at.astimezone(dt.UTC),
        "tz": settings.TIME_ZONE,
        "dlon": dlon,
        "dlat": dlat,
        "radius": ROAD_SEARCH_METRES,
    }
    with connection.cursor() as cursor:
        statement, scope_params = _statement(scope or _WHOLE, cursor.connection)
        _execute_prepared(cursor, statement, {**params, **scope_params})
        row = cursor.fetchone()
    return _placement(row, at)


# The registry layer each part of a placement comes from.
LAYER_OF_PART = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "unit_grid": "unit_grids",
    "responsibility_grid": "responsibility_grids",
    "timing_zone": "timing_zones",
    "controlled_areas": "controlled_areas",
    "road": "roads",
}
_WHOLE = system_scope("locate")
_POINT = sql.SQL("pt.g")


def _admin_visible(alias: str) -> str:
    """Gives the `vis` flag of the admin-area layer that holds row `alias` (by its level)."""
    return (
        f"CASE {alias}.level WHEN 'community' THEN vis.communities "
        f"WHEN 'street' THEN vis.streets ELSE vis.districts END"
    )


def _visibility(scope: Scope, context) -> tuple[str, dict]:
    """Gives the select list of the `vis` row (one boolean per layer, named by its key) with
    the parameters of the scope's conditions on the point."""
    columns, params = [], {}
    for key in dict.fromkeys(LAYER_OF_PART.values()):
        condition = scope.layer_condition_by_key(key, _POINT)
        text, values = condition.named(f"scope_{key}", context)
        columns.append(f"{text} AS {key}")
        params.update(values)
    return ",\n           ".join(columns), params


# The query is prepared once per database session and shape of scope (the whole placement,
# anonymous, a person with all layers, a person with some) and then only executed with a
# generic plan: planning seven LATERAL joins costs about twice as much as running them (p50
# 0.70 ms custom vs 0.25 ms generic at scale 20, see bench/README.md). The generic plan keeps
# every index scan because each `geom && $n` condition is an index condition on a parameter.
# Left to itself the planner keeps choosing custom plans (their row estimates look better), so
# the EXECUTE runs with `plan_cache_mode = force_generic_plan` set LOCAL: it lasts for the
# implicit transaction of this one statement string (or, inside an atomic block, until that
# transaction ends). Prepared statements survive rollbacks and live as long as the session; a
# new connection prepares again. A pooler in transaction mode (pgbouncer) would need this
# turned off.
PREPARED_PREFIX = "citygrid_locate_v2_"
_PARAM_TYPES = {
    "lon": "float8",
    "lat": "float8",
    "at": "timestamptz",
    "tz": "text",
    "dlon": "float8",
    "dlat": "float8",
    "radius": "float8",
}


@dataclass(frozen=True)
class _Prepared:
    """One shape of the locate statement: its PREPARE and its EXECUTE (named parameters)."""

    name: str
    prepare: str
    execute: str


_STATEMENTS: dict[str, _Prepared] = {}


# Building the scope's conditions costs more than running them (70 µs for a person), and a
# scope gives the same text and values every time (the layers' flags are read by the query), so
# they are kept per scope: scopes are frozen values, equal for the same person, grants and area.
@cached(LRUCache(maxsize=4096), key=lambda scope, context: scope, lock=threading.Lock())
def _statement(scope: Scope, context) -> tuple[_Prepared, dict]:
    """Gives the prepared statement for the scope's shape, and the scope's parameters."""
    visibility, scope_params = _visibility(scope, context)
    prepared = _STATEMENTS.get(visibility)
    if prepared is None:
        text = LOCATE_SQL.format(
            visibility=visibility,
            area_visible=_admin_visible("a"),
            p1_visible=_admin_visible("p1"),
            p2_visible=_admin_visible("p2"),
        )
        order = [*_PARAM_TYPES, *scope_params]  # the scope's types are inferred from use
        for n, name in enumerate(order, start=1):
            text = text.replace(f"%({name})s", f"${n}")
        name = PREPARED_PREFIX + hashlib.md5(text.encode()).hexdigest()[:12]
        types = ", ".join(_PARAM_TYPES.values())
        prepared = _Prepared(
            name,
            f"PREPARE {name} ({types}) AS {text}",
            "SET LOCAL plan_cache_mode = force_generic_plan; "
            f"EXECUTE {name} (" + ", ".join(f"%({n})s" for n in order) + ")",
        )
        _STATEMENTS[visibility] = prepared
    return prepared, scope_params


# The whole placement's statement (no scope, or a system admin's): its conditions are constants.
PREPARED_NAME = _statement(_WHOLE, None)[0].name


def _execute_prepared(cursor, statement: _Prepared, params: dict) -> None:
    raw = connection.connection  # the live DB-API connection, replaced on reconnect
    prepared = getattr(connection, "_citygrid_locate_prepared", None)
    if prepared is None or prepared[0] is not raw:
        prepared = (raw, set())
        connection._citygrid_locate_prepared = prepared
    if statement.name not in prepared[1]:
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [statement.name])
        if cursor.fetchone() is None:
            cursor.execute(statement.prepare)
        prepared[1].add(statement.name)
    cursor.execute(statement.execute, params)


def _placement(row: tuple, at: dt.datetime) -> Placement:
    levels: dict[str, AreaRef] = {}
    for level, code, name in (row[0:3], row[3:6], row[6:9]):
        if level is not None:
            levels[level] = AreaRef(code, name)
    ug_code, rg_code, rg_name, tz_kind, tz_name, ctrl, road_name, road_class, road_m = row[9:]
    return Placement(
        at=at,
        district=levels.get("district"),
        street=levels.get("street"),
        community=levels.get("community"),
        unit_grid=ug_code,
        responsibility_grid=GridRef(rg_code, rg_name) if rg_code is not None else None,
        timing_zone=TimingZoneRef(tz_kind, tz_name) if tz_kind is not None else None,
        controlled_areas=[ControlledAreaHit(**item) for item in _json(ctrl)],
        road=RoadRef(road_name, road_class, round(road_m, 2)) if road_name is not None else None,
    )


def _json(value) -> list:
    if isinstance(value, str):
        import json

        return json.loads(value)
    return value or []
