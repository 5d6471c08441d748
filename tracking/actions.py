"""The writes of tracking: ingest of fixes, alarm acknowledgement, the signal-lost beat.

`do_ingest_fixes` is the one write that is not an `@action` with an operation-log row: ingest
is a high-volume data stream (10,000 devices sending a batch each 10-100 s is hundreds of
batches a second), and a log row per batch would flood the operation log (操作日志) with fixes,
add a write to every batch and hide the operations the log is for. It checks who may post
exactly as an action would, writes in one transaction, publishes the position and alarm
changes after commit and adds the batch to the ingest counters (`tracking.counters`). The fixes
themselves, with their ``received_at``, are the record of what was sent. Its HTTP view is
`@own_transaction`, so the operation-log middleware does not log it either.

Alarm acknowledgement, the beat's signal-lost and absent alarms, shifts and the roster (排班:
month generation, leave with a substitute) are ordinary actions.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import LineString, Point
from django.db import connection, transaction
from django.utils import timezone
from psycopg2 import sql

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core import events
from core.sqlparts import bind
from core.errors import BadInput, Conflict, Forbidden, NotFound, Unauthorized

from . import alarms, counters, patrol, queries, roster
from .conf import rules
from .ingest import IngestResult, NewFix, TrackerInfo, store_batch
from .models import Alarm, Checkpoint, PatrolRoute, RosterEntry, Shift, Tracker

CHANNEL = "tracking"


def device_scope_name(device_id: str) -> str:
    """The system actor name of a vehicle terminal signed in with its device key."""
    return f"device:{device_id}"


def may_post(scope: Scope, tracker) -> bool:
    """Whether `scope` may post fixes for `tracker`: its own person tracker, or the device
    itself (a terminal signed in with its key)."""
    if scope.system_name:
        return scope.system_name == device_scope_name(tracker.device_id)
    return tracker.person_id is not None and tracker.person_id == scope.person_id


def do_ingest_fixes(
    scope: Scope, tracker, fixes: list[NewFix], now: dt.datetime | None = None
) -> IngestResult:
    """Stores a parsed batch for `tracker` (see the module doc for why no log row)."""
    if scope.is_anonymous:
        raise Unauthorized("sign in, or send Authorization: Device <device id>:<key>")
    if not may_post(scope, tracker):
        raise Forbidden(f"you may not post fixes for device {tracker.device_id}", field="device")
    now = now or timezone.now()
    if tracker.valid_to is not None and tracker.valid_to < now or not tracker.active:
        raise Forbidden(f"device {tracker.device_id} is not in service", field="device")
    if not fixes:
        raise BadInput("fixes must be a non-empty list", field="fixes")
    info = TrackerInfo(
        tracker.pk,
        tracker.kind,
        tracker.person_id,
        getattr(tracker, "area_digest", None),
        tracker.route_id,
        getattr(tracker, "route_version", None),
    )
    with transaction.atomic():
        result = store_batch(info, fixes, rules(), now)
        if result.position is not None:
            events.publish(CHANNEL, {"type": "position", **result.position})
        for change in result.alarms:
            events.publish(CHANNEL, change.event())
        counters.count_batch(result.accepted, result.duplicates, result.flagged)
    return result


def _alarm_id(alarm: Alarm, *args, **kwargs) -> int:
    return alarm.pk


@action(
    "tracking.acknowledge",
    permission=perms.TRACKING_ACKNOWLEDGE,
    target=_alarm_id,
    details=lambda alarm, note, justified: {"note": note, "justified": justified},
)
def do_acknowledge_alarm(scope: Scope, alarm: Alarm, note: str, justified: bool) -> Alarm:
    """Gives the alarm acknowledged by the caller with a note; a justified alarm (on leave, a
    task elsewhere) is left out of statistics. Acknowledging again replaces note and verdict."""
    alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
    alarm.note = note
    alarm.justified = justified
    alarm.acknowledged_by = scope.user
    alarm.acknowledged_at = timezone.now()
    alarm.save(update_fields=["note", "justified", "acknowledged_by", "acknowledged_at"])
    change = alarms.AlarmChange(
        alarm.pk, alarm.tracker_id, alarm.kind, "acknowledged", alarm.started_at, alarm.ended_at
    )
    events.publish(CHANNEL, change.event())
    return alarm


@action(
    "tracking.signal_lost",
    permission=None,
    target=lambda trackers, now: f"{len(trackers)} trackers",
    details=lambda trackers, now: {"trackers": trackers[:100]},
)
def do_raise_signal_lost(scope: Scope, trackers: list[int], now: dt.datetime) -> list:
    """Opens the signal-lost alarms of `trackers` (silent since their newest fix)."""
    scope.require(perms.SYSTEM_ADMIN)
    changes = alarms.raise_signal_lost(trackers, now, rules().signal_lost_s)
    for change in changes:
        events.publish(CHANNEL, change.event())
    return changes


@action(
    "tracking.absent",
    permission=None,
    target=lambda duties, now: f"{len(duties)} trackers",
    details=lambda duties, now: {"trackers": [d.tracker_id for d in duties][:100]},
)
def do_raise_absent(scope: Scope, duties: list, now: dt.datetime) -> list:
    """Opens the absent alarms of `duties` (`tracking.roster.Duty`: on duty, no fix since the
    shift began)."""
    scope.require(perms.SYSTEM_ADMIN)
    changes = alarms.raise_absent(duties, now, rules().absent_s)
    for change in changes:
        events.publish(CHANNEL, change.event())
    return changes


@action(
    "tracking.checkpoint_missed",
    permission=None,
    target=lambda windows, now: f"{len(windows)} checkpoints",
    details=lambda windows, now: {
        "windows": [[w.tracker_id, w.checkpoint_id] for w in windows][:100]
    },
)
def do_raise_checkpoint_missed(scope: Scope, windows: list, now: dt.datetime) -> list:
    """Opens the missed-checkpoint alarms of `windows` (`tracking.patrol.Window`: ended short
    of visits) and ends those whose shift is over."""
    scope.require(perms.SYSTEM_ADMIN)
    changes = patrol.raise_missed(windows) + patrol.close_missed(now)
    for change in changes:
        events.publish(CHANNEL, change.event())
    return changes


@action(
    "tracking.shift",
    permission=perms.TRACKING_MONITOR,
    target=lambda name, start, end: name,
    details=lambda name, start, end: {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
)
def do_create_shift(scope: Scope, name: str, start: dt.time, end: dt.time) -> Shift:
    """Gives a new shift (班次); an end at or before the start runs past midnight."""
    if Shift.objects.filter(name=name).exists():
        raise Conflict(f"a shift named {name} exists", field="name")
    return Shift.objects.create(name=name, start=start, end=end)


def _visible(scope: Scope, ids: list[int], field: str) -> None:
    missing = sorted(set(ids) - set(queries.visible_trackers(scope, ids)))
    if missing:
        raise NotFound(f"no tracker {missing[0]}", field=field)


@action(
    "tracking.roster_generate",
    permission=perms.TRACKING_MONITOR,
    target=lambda year, month, pattern, shift, trackers=None: f"{year}-{month:02d} {shift}",
    details=lambda year, month, pattern, shift, trackers=None: {
        "pattern": pattern,
        "trackers": trackers,
    },
)
def do_generate_roster(
    scope: Scope,
    year: int,
    month: int,
    pattern: str,
    shift: Shift,
    trackers: list[int] | None = None,
) -> int:
    """Puts `trackers` (default: every active person tracker the caller sees) on `shift` on the
    days of the month `pattern` gives; gives the number of entries made (existing ones stay)."""
    if trackers is None:
        trackers = queries.visible_trackers(scope, None, kind=Tracker.Kind.PERSON)
    else:
        _visible(scope, trackers, "trackers")
    return roster.generate_month(trackers, year, month, pattern, shift)


@action(
    "tracking.roster_leave",
    permission=perms.TRACKING_MONITOR,
    target=lambda tracker, day, shift, substitute=None, note="": f"{tracker.device_id} {day}",
    details=lambda tracker, day, shift, substitute=None, note="": {
        "shift": shift.name,
        "substitute": substitute.device_id if substitute else None,
        "note": note,
    },
)
def do_set_leave(
    scope: Scope,
    tracker: Tracker,
    day: dt.date,
    shift: Shift,
    substitute: Tracker | None = None,
    note: str = "",
) -> RosterEntry:
    """Gives the tracker's entry for that shift turned to leave (请假), with the substitute
    (替班) on duty in its place."""
    _visible(scope, [tracker.pk], "tracker")
    if substitute is not None:
        if substitute.pk == tracker.pk:
            raise BadInput("the substitute must be another tracker", field="substitute")
        _visible(scope, [substitute.pk], "substitute")
    entry, _ = RosterEntry.objects.update_or_create(
        tracker=tracker,
        date=day,
        shift=shift,
        defaults={"kind": RosterEntry.Kind.LEAVE, "substitute": substitute, "note": note},
    )
    return entry


def _meets_area(scope: Scope, line: LineString) -> bool:
    area = scope.area_condition(sql.SQL("g.geom"))
    if area.unrestricted:
        return True
    if area.empty:
        return False
    query = bind(
        "SELECT {inside} FROM (SELECT ST_GeomFromEWKT({ewkt}) AS geom) g",
        inside=area,
        ewkt=line.ewkt,
    )
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return bool(cursor.fetchone()[0])


@action(
    "tracking.route_create",
    permission=perms.TRACKING_MONITOR,
    target=lambda **kw: kw["name"],
    details=lambda **kw: {
        "vertices": len(kw["line"]),
        "checkpoints": [c["name"] for c in kw.get("checkpoints") or ()][:50],
        "tolerance_m": kw.get("tolerance_m"),
    },
)
def do_create_route(
    scope: Scope,
    *,
    name: str,
    line: list[tuple[float, float]],
    tolerance_m: float | None = None,
    checkpoints: list[dict] | None = None,
) -> PatrolRoute:
    """Gives a new patrol route (巡查路线) along `line` (WGS84 lon/lat, at least two vertices),
    with its checkpoints (巡查点: ``name``, ``lon``, ``lat``, ``radius_m``, ``order``,
    ``window_start`` and ``window_end`` or neither, ``required``); the line must meet the
    caller's area."""
    geom = LineString([tuple(p) for p in line], srid=4326)
    if not _meets_area(scope, geom):
        raise Forbidden("the route lies outside your areas", field="line")
    route = PatrolRoute.objects.create(
        name=name, geom=geom, tolerance_m=tolerance_m, created_by=scope.user
    )
    _save_checkpoints(route, checkpoints or [])
    return route


def _save_checkpoints(route: PatrolRoute, checkpoints: list[dict]) -> None:
    Checkpoint.objects.bulk_create(
        Checkpoint(
            route=route,
            name=c["name"],
            geom=Point(c["lon"], c["lat"], srid=4326),
            radius_m=c.get("radius_m", 30.0),
            order=c.get("order", n),
            window_start=c.get("window_start"),
            window_end=c.get("window_end"),
            required=c.get("required", 1),
        )
        for n, c in enumerate(checkpoints)
    )


ROUTE_FIELDS = ("name", "line", "tolerance_m", "active", "checkpoints")


@action(
    "tracking.route_update",
    permission=perms.TRACKING_MONITOR,
    target=lambda **kw: kw["route"].name,
    details=lambda **kw: {
        "route": kw["route"].pk,
        "changed": sorted(k for k in ROUTE_FIELDS if k in kw["changes"]),
    },
)
def do_update_route(scope: Scope, *, route: PatrolRoute, changes: dict) -> PatrolRoute:
    """Gives the route with `changes` (any of ``name``, ``line``, ``tolerance_m``, ``active``,
    ``checkpoints``: the new list replaces the old, their visits go with them) and its version
    moved, so ingest's index follows at the next batch. A route the caller sees; a new line must
    meet the caller's area."""
    if not queries.routes(scope, route.pk)["features"]:
        raise NotFound(f"no route {route.pk}")
    route = PatrolRoute.objects.select_for_update().get(pk=route.pk)
    if "line" in changes:
        route.geom = LineString([tuple(p) for p in changes["line"]], srid=4326)
        if not _meets_area(scope, route.geom):
            raise Forbidden("the route lies outside your areas", field="line")
    for name in ("name", "tolerance_m", "active"):
        if name in changes:
            setattr(route, name, changes[name])
    route.version += 1
    route.save()
    if "checkpoints" in changes:
        route.checkpoints.all().delete()
        _save_checkpoints(route, changes["checkpoints"] or [])
    return route


@action(
    "tracking.route_assign",
    permission=perms.TRACKING_MONITOR,
    target=lambda **kw: kw["tracker"].device_id,
    details=lambda **kw: {"route": kw["route"].pk if kw["route"] else None},
)
def do_assign_route(scope: Scope, *, tracker: Tracker, route: PatrolRoute | None) -> Tracker:
    """Gives the tracker assigned `route` (None: no route); both must be ones the caller sees.
    Ingest reads the assignment with the tracker, so the next batch follows it."""
    _visible(scope, [tracker.pk], "tracker")
    if route is not None and not queries.routes(scope, route.pk)["features"]:
        raise NotFound(f"no route {route.pk}", field="route")
    tracker = Tracker.objects.select_for_update().get(pk=tracker.pk)
    tracker.route = route
    tracker.save(update_fields=["route"])
    return tracker
