"""Reads of tracking, all scoped in SQL: live positions, alarms, a tracker's track.

Who sees a tracker (`visible_condition`, over ``tr`` the tracker, ``lp`` its latest position
and ``pp`` its person):

- everyone signed in sees their own person trackers;
- holders of ``tracking.monitor`` see the trackers whose person's area meets their area
  (`Scope.area_condition` over ``pp.area_geom``: an inspector of the street, even when out of
  it) or whose latest position lies in their area (vehicles, and anyone passing through);
- system admins see every tracker; anonymous callers none (the views answer 401 first).
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.db import connection
from django.utils import timezone
from psycopg2 import sql

from accounts import permissions as perms
from accounts.scoping import Scope
from core.errors import NotFound
from core import workload
from core.sqlparts import TRUE, Part, bind, join

from . import playback, roster
from .models import Alarm, Shift

FALSE = Part(sql.SQL("FALSE"))
TRACKERS_FROM = """
FROM tracking_tracker tr
LEFT JOIN tracking_latestposition lp ON lp.tracker_id = tr.id
LEFT JOIN accounts_person pp ON pp.id = tr.person_id
"""


def visible_condition(scope: Scope) -> Part:
    """Gives the SQL condition keeping the trackers `scope` sees (see the module doc)."""
    if scope.sees_everything:
        return TRUE
    if scope.is_anonymous:
        return FALSE
    parts = []
    if scope.person_id is not None:
        parts.append(bind("tr.person_id = {me}", me=scope.person_id))
    if scope.has_perm(perms.TRACKING_MONITOR):
        for geom in ("pp.area_geom", "lp.geom"):
            area = scope.area_condition(sql.SQL(geom))
            if not area.empty:
                parts.append(Part(area.sql, area.params))
    if not parts:
        return FALSE
    either = join(parts, " OR ")
    return Part(sql.Composed([sql.SQL("("), either.sql, sql.SQL(")")]), either.params)


def _rows(query: Part) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return cursor.fetchall()


LIVE_SQL = (
    """
SELECT tr.id, tr.device_id, tr.kind, tr.name, tr.plate, tr.vehicle_type, pp.name,
       ST_X(lp.geom), ST_Y(lp.geom), lp.t, lp.speed, lp.heading, lp.accuracy, lp.battery,
       ARRAY(SELECT a.kind FROM tracking_alarm a
             WHERE a.tracker_id = tr.id AND a.ended_at IS NULL ORDER BY a.kind),
       pp.phone,
       ARRAY(SELECT g.name FROM accounts_person_grids pg
             JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
             WHERE pg.person_id = pp.id ORDER BY g.code),
       ARRAY(SELECT aa.name FROM accounts_person_admin_areas pa
             JOIN spatial_adminarea aa ON aa.id = pa.adminarea_id
             WHERE pa.person_id = pp.id ORDER BY aa.code),
       {open_work}, tr.route_id, (SELECT r.name FROM tracking_patrolroute r WHERE r.id = tr.route_id)
"""
    + TRACKERS_FROM
    + """
WHERE tr.active AND lp.tracker_id IS NOT NULL AND {visible}
ORDER BY tr.id
"""
)


def status(online: bool, open_tasks: int) -> str:
    """Gives a tracker's status: ``offline`` without a fix in the last ``TRACKING_ONLINE_S``,
    else ``busy`` (忙碌) while its person has open work (`core.workload`: open case tasks), else
    ``online``."""
    if not online:
        return "offline"
    return "busy" if open_tasks else "online"


def live(scope: Scope, now: dt.datetime | None = None) -> dict:
    """Gives the latest positions the caller sees as a GeoJSON FeatureCollection; `status` by
    `status` (``open_tasks`` the person's open work); ``on_duty`` and ``shift`` from the roster
    (`tracking.roster`); the assigned patrol ``route`` and ``route_name``. A person's
    tracker also gives the person's phone, responsibility grids and areas (for the card)."""
    now = now or timezone.now()
    online_after = now - dt.timedelta(seconds=settings.TRACKING_ONLINE_S)
    duty = roster.duty_at(now)
    features = []
    query = bind(
        LIVE_SQL,
        visible=visible_condition(scope),
        open_work=workload.open_work_count(sql.SQL("pp.user_id")),
    )
    for row in _rows(query):
        (pk, device, kind, name, plate, vtype, person, lon, lat, t, speed, heading, acc, battery,
         open_alarms, phone, grid_names, area_names, open_tasks, route, route_name) = row  # fmt: skip
        features.append(
            {
                "type": "Feature",
                "id": pk,
                "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                "properties": {
                    "tracker": pk,
                    "device": device,
                    "kind": kind,
                    "name": name or person or plate or device,
                    "person": person,
                    "plate": plate or None,
                    "vehicle_type": vtype or None,
                    "t": t.isoformat(),
                    "status": status(t >= online_after, open_tasks),
                    "open_tasks": open_tasks,
                    "route": route,
                    "route_name": route_name,
                    "on_duty": pk in duty,
                    "shift": duty[pk].shift if pk in duty else None,
                    "speed": speed,
                    "heading": heading,
                    "accuracy": acc,
                    "battery": battery,
                    "open_alarms": list(open_alarms),
                    "phone": phone or None,
                    "grids": list(grid_names),
                    "areas": list(area_names),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "at": now.isoformat()}


ALARMS_SQL = """
SELECT a.id, a.tracker_id, tr.device_id, tr.kind, COALESCE(NULLIF(tr.name, ''), pp.name,
       NULLIF(tr.plate, ''), tr.device_id), a.kind, a.started_at, a.ended_at,
       ST_X(a.start_geom), ST_Y(a.start_geom), ST_X(a.end_geom), ST_Y(a.end_geom), a.details,
       u.username, a.acknowledged_at, a.note, a.justified
FROM tracking_alarm a
JOIN tracking_tracker tr ON tr.id = a.tracker_id
LEFT JOIN tracking_latestposition lp ON lp.tracker_id = tr.id
LEFT JOIN accounts_person pp ON pp.id = tr.person_id
LEFT JOIN auth_user u ON u.id = a.acknowledged_by_id
WHERE {filters} AND {visible}
ORDER BY a.started_at DESC, a.id DESC
LIMIT {limit}
"""


def alarms(
    scope: Scope,
    tracker: int | None = None,
    kind: str | None = None,
    open_only: bool | None = None,
    since: dt.datetime | None = None,
    limit: int = 200,
    alarm_id: int | None = None,
) -> list[dict]:
    """Gives the alarms of the trackers the caller sees, newest first; `since` keeps alarms
    still open at or ended after it."""
    filters = [TRUE]
    if alarm_id is not None:
        filters.append(bind("a.id = {v}", v=alarm_id))
    if tracker is not None:
        filters.append(bind("a.tracker_id = {v}", v=tracker))
    if kind is not None:
        filters.append(bind("a.kind = {v}", v=kind))
    if open_only is not None:
        filters.append(
            Part(sql.SQL("a.ended_at IS NULL" if open_only else "a.ended_at IS NOT NULL"))
        )
    if since is not None:
        filters.append(bind("COALESCE(a.ended_at, 'infinity') >= {v}", v=since))
    query = bind(ALARMS_SQL, filters=join(filters), visible=visible_condition(scope), limit=limit)
    return [_alarm_json(row) for row in _rows(query)]


def _point(lon, lat) -> dict | None:
    if lon is None:
        return None
    return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}


def _alarm_json(row: tuple) -> dict:
    (pk, tracker, device, tkind, name, kind, started, ended, slon, slat, elon, elat, details,
     by, at, note, justified) = row  # fmt: skip
    return {
        "id": pk,
        "tracker": tracker,
        "device": device,
        "tracker_kind": tkind,
        "name": name,
        "kind": kind,
        "kind_label": Alarm.Kind(kind).label,
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat() if ended else None,
        "open": ended is None,
        "start": _point(slon, slat),
        "end": _point(elon, elat),
        "details": json.loads(details) if isinstance(details, str) else details,
        "acknowledged_by": by,
        "acknowledged_at": at.isoformat() if at else None,
        "note": note,
        "justified": justified,
    }


def visible_alarm(scope: Scope, alarm_id: int) -> Alarm:
    """Gives the alarm if the caller sees it, else `NotFound`."""
    if not alarms(scope, alarm_id=alarm_id, limit=1):
        raise NotFound(f"no alarm {alarm_id}")
    return Alarm.objects.get(pk=alarm_id)


TRACKER_SQL = (
    "SELECT tr.id, tr.device_id, tr.kind, tr.name"
    + TRACKERS_FROM
    + "WHERE tr.id = {id} AND {visible}"
)

FIXES_SQL = """
SELECT extract(epoch FROM t), ST_X(geom), ST_Y(geom) FROM tracking_fix
WHERE tracker_id = %s AND t >= %s AND t < %s AND flag IS NULL ORDER BY t
"""


def _iso(epoch: float) -> str:
    return timezone.localtime(dt.datetime.fromtimestamp(epoch, dt.UTC)).isoformat()


def track(scope: Scope, tracker_id: int, start: dt.datetime, end: dt.datetime, zoom: float) -> dict:
    """Gives a tracker's plausible fixes from `start` to `end` as GeoJSON: the line simplified
    for `zoom` with a time per kept vertex, its stops and its signal gaps."""
    found = _rows(bind(TRACKER_SQL, id=tracker_id, visible=visible_condition(scope)))
    if not found:
        raise NotFound(f"no tracker {tracker_id}")
    _, device, kind, name = found[0]
    with connection.cursor() as cursor:
        cursor.execute(FIXES_SQL, [tracker_id, start, end])
        points = [(float(t), lon, lat) for t, lon, lat in cursor.fetchall()]
    result = playback.build_track(
        points,
        zoom,
        settings.TRACKING_STAY_RADIUS_M,
        settings.TRACKING_PLAYBACK_STOP_MIN_S,
        settings.TRACKING_ONLINE_S,
    )
    kept = [points[i] for i in result.kept]
    features = []
    if kept:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[round(p[1], 7), round(p[2], 7)] for p in kept],
                },
                "properties": {
                    "kind": "track",
                    "times": [_iso(p[0]) for p in kept],
                    "fixes": len(points),
                    "kept": len(kept),
                },
            }
        )
    for stop in result.stops:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(stop.lon, 7), round(stop.lat, 7)],
                },
                "properties": {
                    "kind": "stop",
                    "start": _iso(stop.start),
                    "end": _iso(stop.end),
                    "duration_s": round(stop.duration_s),
                },
            }
        )
    for gap in result.gaps:
        a, b = points[gap.before], points[gap.after]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [round(a[1], 7), round(a[2], 7)],
                        [round(b[1], 7), round(b[2], 7)],
                    ],
                },
                "properties": {
                    "kind": "gap",
                    "start": _iso(gap.start),
                    "end": _iso(gap.end),
                    "duration_s": round(gap.end - gap.start),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "tracker": {"id": tracker_id, "device": device, "kind": kind, "name": name},
        "from": start.isoformat(),
        "to": end.isoformat(),
        "zoom": zoom,
        "features": features,
    }


VISIBLE_TRACKERS_SQL = (
    "SELECT tr.id" + TRACKERS_FROM + "WHERE tr.active AND {filters} AND {visible}"
)


def visible_trackers(scope: Scope, ids: list[int] | None, kind: str | None = None) -> list[int]:
    """Gives the active trackers (of `ids`, else all, of `kind` if given) the caller sees."""
    filters = [TRUE]
    if ids is not None:
        filters.append(bind("tr.id = ANY({ids})", ids=list(ids)))
    if kind is not None:
        filters.append(bind("tr.kind = {kind}", kind=kind))
    query = bind(VISIBLE_TRACKERS_SQL, filters=join(filters), visible=visible_condition(scope))
    return [row[0] for row in _rows(query)]


def shift_json(shift: Shift) -> dict:
    return {
        "id": shift.pk,
        "name": shift.name,
        "start": f"{shift.start:%H:%M}",
        "end": f"{shift.end:%H:%M}",
        "overnight": shift.end <= shift.start,
    }


ROSTER_SQL = """
SELECT e.id, e.date, e.kind, e.note, e.shift_id, tr.id, tr.device_id,
       COALESCE(NULLIF(tr.name, ''), pp.name, NULLIF(tr.plate, ''), tr.device_id),
       sub.id, sub.device_id, NULLIF(sub.name, '')
FROM tracking_rosterentry e
JOIN tracking_tracker tr ON tr.id = e.tracker_id
LEFT JOIN tracking_latestposition lp ON lp.tracker_id = tr.id
LEFT JOIN accounts_person pp ON pp.id = tr.person_id
LEFT JOIN tracking_tracker sub ON sub.id = e.substitute_id
JOIN tracking_shift s ON s.id = e.shift_id
WHERE {filters} AND {visible}
ORDER BY e.date, s.start, tr.device_id
"""


def roster_entries(scope: Scope, day: dt.date, tracker: int | None = None) -> dict:
    """Gives the roster of `day` for the trackers the caller sees: the shifts, and per entry
    the tracker, the kind (on duty or leave), the substitute and the note."""
    filters = [bind("e.date = {day}", day=day)]
    if tracker is not None:
        filters.append(bind("e.tracker_id = {v}", v=tracker))
    query = bind(ROSTER_SQL, filters=join(filters), visible=visible_condition(scope))
    rows = _rows(query)
    shifts = {s.pk: shift_json(s) for s in Shift.objects.filter(pk__in={r[4] for r in rows})}
    entries = []
    for pk, date, kind, note, shift, tr, device, name, sub, sub_device, sub_name in rows:
        entries.append(
            {
                "id": pk,
                "date": date.isoformat(),
                "kind": kind,
                "shift": shifts[shift],
                "tracker": tr,
                "device": device,
                "name": name,
                "substitute": (
                    {"tracker": sub, "device": sub_device, "name": sub_name or sub_device}
                    if sub
                    else None
                ),
                "note": note,
            }
        )
    return {"date": day.isoformat(), "entries": entries}


def route_visible_condition(scope: Scope) -> Part:
    """Gives the SQL condition keeping the patrol routes (``r``) `scope` sees: system admins
    all; anyone the route of their own tracker; holders of ``tracking.monitor`` the routes that
    meet their area."""
    if scope.sees_everything:
        return TRUE
    if scope.is_anonymous:
        return FALSE
    parts = []
    if scope.person_id is not None:
        parts.append(
            bind(
                "EXISTS (SELECT 1 FROM tracking_tracker own WHERE own.route_id = r.id "
                "AND own.person_id = {me})",
                me=scope.person_id,
            )
        )
    if scope.has_perm(perms.TRACKING_MONITOR):
        area = scope.area_condition(sql.SQL("r.geom"))
        if not area.empty:
            parts.append(Part(area.sql, area.params))
    if not parts:
        return FALSE
    either = join(parts, " OR ")
    return Part(sql.Composed([sql.SQL("("), either.sql, sql.SQL(")")]), either.params)


ROUTES_SQL = """
SELECT r.id, r.name, r.tolerance_m, r.active, r.version, ST_AsGeoJSON(r.geom, 7),
       ARRAY(SELECT tr.id FROM tracking_tracker tr WHERE tr.route_id = r.id ORDER BY tr.id)
FROM tracking_patrolroute r
WHERE {filters} AND {visible}
ORDER BY r.name, r.id
"""

CHECKPOINTS_SQL = """
SELECT c.id, c.route_id, c.name, ST_X(c.geom), ST_Y(c.geom), c.radius_m, c."order",
       c.window_start, c.window_end, c.required
FROM tracking_checkpoint c WHERE c.route_id = ANY(%s) ORDER BY c.route_id, c."order", c.id
"""


def checkpoint_json(row: tuple) -> dict:
    pk, route, name, lon, lat, radius, order, start, end, required = row
    return {
        "type": "Feature",
        "id": f"checkpoint-{pk}",
        "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
        "properties": {
            "kind": "checkpoint",
            "checkpoint": pk,
            "route": route,
            "name": name,
            "radius_m": radius,
            "order": order,
            "window_start": f"{start:%H:%M}" if start else None,
            "window_end": f"{end:%H:%M}" if end else None,
            "required": required,
        },
    }


def routes(scope: Scope, route_id: int | None = None) -> dict:
    """Gives the patrol routes the caller sees and their checkpoints as one GeoJSON
    FeatureCollection (``kind`` ``route`` or ``checkpoint``); a route lists the trackers
    assigned to it that the caller sees."""
    filters = [TRUE] if route_id is None else [bind("r.id = {v}", v=route_id)]
    rows = _rows(bind(ROUTES_SQL, filters=join(filters), visible=route_visible_condition(scope)))
    seen = (
        set(visible_trackers(scope, sorted({t for row in rows for t in row[6]}))) if rows else set()
    )
    features = []
    for pk, name, tolerance, active, version, geojson, trackers in rows:
        features.append(
            {
                "type": "Feature",
                "id": f"route-{pk}",
                "geometry": json.loads(geojson),
                "properties": {
                    "kind": "route",
                    "route": pk,
                    "name": name,
                    "tolerance_m": tolerance,
                    "active": active,
                    "version": version,
                    "trackers": [t for t in trackers if t in seen],
                },
            }
        )
    if rows:
        with connection.cursor() as cursor:
            cursor.execute(CHECKPOINTS_SQL, [[row[0] for row in rows]])
            features += [checkpoint_json(row) for row in cursor.fetchall()]
    return {"type": "FeatureCollection", "features": features}
