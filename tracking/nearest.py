"""Search around a point (周边查询, spec 5.1.4.2.6): the trackers nearest to it by road.

The candidates are the active trackers the caller sees (`tracking.queries.visible_condition`)
with a latest position, online by default (a fix within ``TRACKING_ONLINE_S``), of one kind if
asked: the `CANDIDATES` nearest in a straight line (the latest positions' GiST index serves the
``<->`` order). Their road distances come from `spatial.routing` (pgRouting over the road
graph) and order the answer; a candidate the graph does not reach comes after those it does.
Without pgRouting or a road graph the answer is by straight line, ``"method": "straight"``.
The road way to the nearest is drawn on the monitor page (`path`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.scoping import Scope, system_scope
from core.sqlparts import TRUE, bind, join
from spatial import routing
from spatial.crs import degrees_covering

from .models import Tracker
from .queries import TRACKERS_FROM, visible_condition

CANDIDATES = 30

CANDIDATES_SQL = (
    """
SELECT tr.id, tr.device_id, tr.kind,
       COALESCE(NULLIF(tr.name, ''), pp.name, NULLIF(tr.plate, ''), tr.device_id),
       ST_X(lp.geom), ST_Y(lp.geom), lp.t,
       ST_Distance(lp.geom::geography, ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)::geography)
"""
    + TRACKERS_FROM
    + """
WHERE tr.active AND lp.tracker_id IS NOT NULL AND {filters} AND {visible}
ORDER BY lp.geom <-> ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)
LIMIT {candidates}
"""
)


def _candidates(
    scope: Scope,
    lon: float,
    lat: float,
    kind: str | None,
    online_after: dt.datetime | None,
    user_ids: list[int] | None = None,
) -> list[tuple]:
    filters = [TRUE]
    if kind is not None:
        filters.append(bind("tr.kind = {kind}", kind=kind))
    if user_ids is not None:
        filters.append(bind("pp.user_id = ANY({users}::int[])", users=list(user_ids)))
    if online_after is not None:
        filters.append(bind("lp.t >= {after}", after=online_after))
    query = bind(
        CANDIDATES_SQL,
        lon=lon,
        lat=lat,
        filters=join(filters),
        visible=visible_condition(scope),
        candidates=CANDIDATES,
    )
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return cursor.fetchall()


def nearest(
    scope: Scope,
    lon: float,
    lat: float,
    limit: int = 5,
    kind: str | None = None,
    online_only: bool = True,
    now: dt.datetime | None = None,
    user_ids: list[int] | None = None,
) -> dict:
    """Gives the `limit` trackers the caller sees nearest to (`lon`, `lat`) WGS84, by road
    where pgRouting and the road graph are there (else by straight line), with both distances
    in metres and the road way to the nearest. `user_ids` keeps only the trackers of those
    users' persons (the inspectors a task may go to)."""
    now = now or timezone.now()
    online_after = now - dt.timedelta(seconds=settings.TRACKING_ONLINE_S)
    rows = _candidates(scope, lon, lat, kind, online_after if online_only else None, user_ids)
    method = "road" if rows and routing.routing_available() else "straight"
    road: dict[int, float] = {}
    if method == "road":
        origin = routing.Place(0, lon, lat)
        road = routing.road_distances(origin, [routing.Place(r[0], r[4], r[5]) for r in rows])
    found = []
    for pk, device, tkind, name, x, y, t, straight in rows:
        found.append(
            {
                "tracker": pk,
                "device": device,
                "kind": tkind,
                "name": name,
                "status": "online" if t >= online_after else "offline",
                "t": t.isoformat(),
                "position": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]},
                "straight_m": round(straight, 1),
                "road_m": round(road[pk], 1) if pk in road else None,
            }
        )
    found.sort(key=lambda f: (f["road_m"] is None, f["road_m"] or f["straight_m"], f["tracker"]))
    found = found[:limit]
    path = None
    if found:
        first = found[0]
        there = first["position"]["coordinates"]
        if first["road_m"] is not None:
            path = routing.road_path(
                routing.Place(0, lon, lat), routing.Place(first["tracker"], *there)
            )
        if path is None:
            path = {"type": "LineString", "coordinates": [[lon, lat], there]}
    return {
        "method": method,
        "origin": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
        "nearest": found,
        "path": path,
    }


WITHIN_SQL = (
    """
SELECT tr.id, tr.device_id, tr.kind,
       COALESCE(NULLIF(tr.name, ''), pp.name, NULLIF(tr.plate, ''), tr.device_id),
       ST_X(lp.geom), ST_Y(lp.geom), lp.t, d.metres
"""
    + TRACKERS_FROM
    + """
CROSS JOIN LATERAL (SELECT ST_Distance(lp.geom::geography,
                    ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)::geography) AS metres) d
WHERE tr.active AND lp.geom && ST_Expand(ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326), {dlon}, {dlat})
  AND d.metres <= {radius} AND tr.kind = {kind} AND {visible}
ORDER BY d.metres, tr.id
LIMIT {limit}
"""
)


def within(
    scope: Scope,
    lon: float,
    lat: float,
    radius: float,
    kind: str,
    limit: int = 20,
    now: dt.datetime | None = None,
) -> list[dict]:
    """Gives the trackers of `kind` the caller sees whose latest position lies within `radius`
    metres (geodesic, straight) of (`lon`, `lat`) WGS84, nearest first, online or not (周边查询
    of a point: what is there, not who can get there first, which `nearest` answers)."""
    now = now or timezone.now()
    online_after = now - dt.timedelta(seconds=settings.TRACKING_ONLINE_S)
    dlon, dlat = degrees_covering(radius, lat)
    query = bind(
        WITHIN_SQL,
        lon=lon,
        lat=lat,
        dlon=dlon,
        dlat=dlat,
        radius=radius,
        kind=kind,
        visible=visible_condition(scope),
        limit=limit,
    )
    with connection.cursor() as cursor:
        cursor.execute(*query)
        rows = cursor.fetchall()
    return [
        {
            "tracker": pk,
            "device": device,
            "kind": tkind,
            "name": name,
            "status": "online" if t >= online_after else "offline",
            "t": t.isoformat(),
            "position": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]},
            "metres": round(metres, 1),
        }
        for pk, device, tkind, name, x, y, t, metres in rows
    ]


def nearest_online_user(lon: float, lat: float, user_ids: list[int]) -> int | None:
    """Gives the user among `user_ids` whose person tracker is online nearest to (`lon`,
    `lat`) by road (straight without a road graph), or None: the finder behind
    `core.presence.nearest_online`, for work no caller's scope limits (the candidates are)."""
    found = nearest(
        system_scope("tracking.presence"),
        lon,
        lat,
        limit=1,
        kind="person",
        online_only=True,
        user_ids=user_ids,
    )
    if not found["nearest"]:
        return None
    return Tracker.objects.filter(pk=found["nearest"][0]["tracker"]).values_list(
        "person__user_id", flat=True
    )[0]
