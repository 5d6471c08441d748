"""Ingest of fix batches: parse, flag the implausible, store idempotently, run the alarm rules,
move the latest position — one transaction per batch (`tracking.actions.do_ingest_fixes`).

A batch is parsed whole before anything is written (`parse_batch`: every field checked, every
CRS converted to WGS84), so a bad fix refuses the batch with the field that is wrong and
nothing half-written. Storing (`store_batch`):

1. ``pg_advisory_xact_lock`` on the tracker serialises its batches; the latest position and the
   rules' state are read in the same round trip.
2. Flags: ``future`` (more than ``future_tolerance_s`` ahead of the server clock), ``accuracy``
   (worse than ``max_accuracy_m``), ``jump`` (reached from the previous plausible fix faster
   than ``max_speed_ms``). Flagged fixes are stored and never reach the rules.
3. ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING t``: one statement, the
   primary key (tracker, t) makes a batch sent twice count as duplicates; only the fixes that
   were new run through the rules.
4. The rules (`tracking.rules`) in device time. In order (every new fix after the newest
   evaluated one, the usual case, late uploads of a phone's buffer included) they continue from
   the saved state. A batch reaching before it replays the stored tail from ``grid/stay``
   windows before the batch, from an empty state, up to ``replay_max_s`` back; alarm edges are
   merged with stored alarms by overlap (`tracking.alarms.apply_edges`).
5. The latest position moves only when the batch holds a plausible fix newer than it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace

import numpy as np
from django.db import connection

from core import params
from core.errors import BadInput
from spatial import crs as crs_module

from . import grids, patrol, routes, rules as rules_module
from .alarms import AlarmChange, apply_edges, end_absent, end_signal_lost
from .conf import Rules

LOCK_NAMESPACE = 21  # pg_advisory_xact_lock(namespace, tracker id): one tracker's batches in turn
_NUMBERS = ("accuracy", "speed", "heading")
_FIELDS = frozenset({"t", "lon", "lat", "crs", "accuracy", "speed", "heading", "battery"})


@dataclass
class NewFix:
    """A parsed fix: aware time, WGS84, the optional readings, and its flag once decided."""

    t: dt.datetime
    epoch: float
    lon: float
    lat: float
    accuracy: float | None = None
    speed: float | None = None
    heading: float | None = None
    battery: int | None = None
    flag: str | None = None


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    flagged: int = 0
    position: dict | None = None
    alarms: list[AlarmChange] = field(default_factory=list)


def _number(fix: dict, name: str, where: str, low: float, high: float) -> float | None:
    value = fix.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(f"{where}.{name} must be a number", field=f"{where}.{name}")
    if not (low <= value <= high):  # also refuses NaN
        raise BadInput(f"{where}.{name} must be within {low}..{high}", field=f"{where}.{name}")
    return float(value)


def parse_batch(body: object, max_batch: int) -> tuple[str | None, list[NewFix]]:
    """Gives the batch's device id (None if absent) and its fixes in WGS84, sorted by time and
    without repeated times; `BadInput` naming the first wrong field."""
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object with fixes")
    device = body.get("device")
    if device is not None and (not isinstance(device, str) or not 0 < len(device) <= 64):
        raise BadInput("device must be a device id of 1-64 characters", field="device")
    raw = body.get("fixes")
    if not isinstance(raw, list) or not raw:
        raise BadInput("fixes must be a non-empty list", field="fixes")
    if len(raw) > max_batch:
        raise BadInput(f"at most {max_batch} fixes a batch", field="fixes")
    fixes: list[NewFix] = []
    groups: dict[str | None, list[int]] = {}
    xs = np.empty(len(raw))
    ys = np.empty(len(raw))
    for i, fix in enumerate(raw):
        where = f"fixes[{i}]"
        if not isinstance(fix, dict):
            raise BadInput(f"{where} must be an object", field=where)
        unknown = set(fix) - _FIELDS
        if unknown:
            name = sorted(unknown)[0]
            raise BadInput(f"{where}.{name} is not a fix field", field=f"{where}.{name}")
        t_text = fix.get("t")
        if not isinstance(t_text, str):
            raise BadInput(f"{where}.t must be an RFC 3339 time", field=f"{where}.t")
        try:
            t = params.instant({"t": t_text}, "t")
        except BadInput as exc:
            raise BadInput(f"{where}.{exc.message}", field=f"{where}.t") from None
        xs[i] = _required_number(fix, "lon", where)
        ys[i] = _required_number(fix, "lat", where)
        crs_text = fix.get("crs")
        if crs_text is not None and not isinstance(crs_text, str):
            raise BadInput(f"{where}.crs must be text", field=f"{where}.crs")
        groups.setdefault(crs_text, []).append(i)
        battery = _number(fix, "battery", where, 0, 100)
        fixes.append(
            NewFix(
                t=t,
                epoch=t.timestamp(),
                lon=0.0,
                lat=0.0,
                accuracy=_number(fix, "accuracy", where, 0, 1e6),
                speed=_number(fix, "speed", where, 0, 1e4),
                heading=_number(fix, "heading", where, 0, 360),
                battery=None if battery is None else round(battery),
            )
        )
    for crs_text, rows in groups.items():
        first = f"fixes[{rows[0]}].crs"
        crs = crs_module.parse_crs(crs_text, field=first)
        lon, lat = crs_module.to_wgs84_array(xs[rows], ys[rows], crs)
        ok = crs_module.valid_lonlat(lon, lat)
        if not ok.all():
            bad = rows[int(np.argmin(ok))]
            raise BadInput(
                f"fixes[{bad}]: lon/lat are not a position in {crs_text or 'EPSG:4326'}",
                field=f"fixes[{bad}].lon",
            )
        for row, x, y in zip(rows, lon.tolist(), lat.tolist()):
            fixes[row].lon, fixes[row].lat = x, y
    fixes.sort(key=lambda f: f.epoch)
    unique = [f for n, f in enumerate(fixes) if n == 0 or f.epoch != fixes[n - 1].epoch]
    return device, unique


def _required_number(fix: dict, name: str, where: str) -> float:
    value = fix.get(name)
    if value is None:
        raise BadInput(f"{where}.{name} is required", field=f"{where}.{name}")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise BadInput(f"{where}.{name} must be a number", field=f"{where}.{name}")
    return float(value)


# --- storing -----------------------------------------------------------------------------------

LOCK_AND_LATEST_SQL = """
SELECT pg_advisory_xact_lock(%(ns)s, %(tracker)s);
SELECT extract(epoch FROM t), state, ST_X(geom), ST_Y(geom)
FROM tracking_latestposition WHERE tracker_id = %(tracker)s
"""

# One statement per batch; the primary key (tracker_id, t) of each partition makes it idempotent.
INSERT_SQL = """
INSERT INTO tracking_fix (tracker_id, t, geom, accuracy, speed, heading, battery, flag)
SELECT %(tracker)s, f.t, ST_SetSRID(ST_MakePoint(f.lon, f.lat), 4326),
       f.accuracy, f.speed, f.heading, f.battery, f.flag
FROM unnest(%(t)s::timestamptz[], %(lon)s::float8[], %(lat)s::float8[], %(accuracy)s::real[],
            %(speed)s::real[], %(heading)s::real[], %(battery)s::smallint[], %(flag)s::text[])
     AS f(t, lon, lat, accuracy, speed, heading, battery, flag)
ON CONFLICT DO NOTHING
RETURNING extract(epoch FROM t)
"""

# The stored plausible fixes a late batch replays with (served by the primary key's index).
TAIL_SQL = """
SELECT extract(epoch FROM t), ST_X(geom), ST_Y(geom), speed FROM tracking_fix
WHERE tracker_id = %s AND t >= %s AND flag IS NULL ORDER BY t
"""

UPSERT_LATEST_SQL = """
INSERT INTO tracking_latestposition
    (tracker_id, geom, t, speed, heading, accuracy, battery, state, updated_at)
VALUES (%(tracker)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(t)s, %(speed)s,
        %(heading)s, %(accuracy)s, %(battery)s, %(state)s, now())
ON CONFLICT (tracker_id) DO UPDATE SET
    geom = EXCLUDED.geom, t = EXCLUDED.t, speed = EXCLUDED.speed, heading = EXCLUDED.heading,
    accuracy = EXCLUDED.accuracy, battery = EXCLUDED.battery, state = EXCLUDED.state,
    updated_at = now()
"""

UPDATE_STATE_SQL = "UPDATE tracking_latestposition SET state = %s WHERE tracker_id = %s"


@dataclass(frozen=True)
class TrackerInfo:
    """What ingest needs of a tracker."""

    id: int
    kind: str
    person_id: int | None
    area_digest: str | None = None
    route_id: int | None = None
    route_version: int | None = None


def store_batch(
    tracker: TrackerInfo, fixes: list[NewFix], rules: Rules, now: dt.datetime
) -> IngestResult:
    """Stores one parsed batch for `tracker` and runs the rules (see the module doc); call it
    inside a transaction."""
    from psycopg2.extras import Json

    result = IngestResult()
    with connection.cursor() as cursor:
        cursor.execute(LOCK_AND_LATEST_SQL, {"ns": LOCK_NAMESPACE, "tracker": tracker.id})
        latest = cursor.fetchone()
    latest_t = float(latest[0]) if latest else None
    # Django reads jsonb as text through raw cursors.
    state = json.loads(latest[1]) if latest and latest[1] else {}
    evaluator = rules_module.Evaluator(rules, state, vehicle=tracker.kind == "vehicle")
    in_order = evaluator.last_t is None or fixes[0].epoch > evaluator.last_t
    now_s = now.timestamp()
    for fix in fixes:
        fix.flag = rules_module.implausible(rules, fix.epoch, fix.accuracy, now_s)

    tail: list[tuple[float, float, float, float | None]] = []
    replay = False
    if in_order:
        last = state.get("last")
        prev = (last["t"], last["lon"], last["lat"]) if last else None
        for fix in fixes:
            if fix.flag is None:
                if rules_module.is_jump(rules, prev, fix.epoch, fix.lon, fix.lat):
                    fix.flag = "jump"
                else:
                    prev = (fix.epoch, fix.lon, fix.lat)
    else:
        replay = evaluator.last_t - fixes[0].epoch <= rules.replay_max_s
        window = fixes[0].epoch - 2 * max(rules.grid_min_s, rules.stay_min_s) - 600
        with connection.cursor() as cursor:
            cursor.execute(TAIL_SQL, [tracker.id, dt.datetime.fromtimestamp(window, dt.UTC)])
            tail = [(float(r[0]), r[1], r[2], r[3]) for r in cursor.fetchall()]
        _flag_jumps_among(rules, fixes, tail)

    new = _insert(tracker.id, fixes)
    result.accepted = len(new)
    result.duplicates = len(fixes) - len(new)
    fresh = [f for f in fixes if f.epoch in new]
    result.flagged = sum(1 for f in fresh if f.flag)
    plausible = [f for f in fresh if f.flag is None]
    if not plausible:
        return result

    area = grids.grid_area(tracker.person_id, tracker.area_digest)
    route = routes.route_index(tracker.route_id, tracker.route_version)
    vehicle = tracker.kind == "vehicle"
    if route is not None and route.tolerance_m is not None:
        rules = replace(rules, route_tolerance_m=route.tolerance_m)
        evaluator.rules = rules
    if in_order:
        samples = _samples(
            area, [(f.epoch, f.lon, f.lat, f.speed) for f in plausible], route, vehicle
        )
    elif replay:
        merged = sorted(tail + [(f.epoch, f.lon, f.lat, f.speed) for f in plausible])
        samples = _samples(area, merged, route, vehicle)
        evaluator = rules_module.Evaluator(rules, {}, vehicle=tracker.kind == "vehicle")
        if tail and samples and tail[0][0] < plausible[0].epoch:
            evaluator.prime(samples[0])  # a stored fix: its checkpoints were reached before
    else:
        samples = []
    edges = []
    for sample in samples:
        edges.extend(evaluator.feed(sample))
    if edges:
        result.alarms = apply_edges(tracker.id, edges)
    if evaluator.visits:
        result.alarms.extend(patrol.store_visits(tracker.id, evaluator.visits))

    newest = plausible[-1]
    with connection.cursor() as cursor:
        if latest_t is None or newest.epoch > latest_t:
            cursor.execute(
                UPSERT_LATEST_SQL,
                {
                    "tracker": tracker.id,
                    "lon": newest.lon,
                    "lat": newest.lat,
                    "t": newest.t,
                    "speed": newest.speed,
                    "heading": newest.heading,
                    "accuracy": newest.accuracy,
                    "battery": newest.battery,
                    "state": Json(evaluator.state),
                },
            )
            result.position = {
                "tracker": tracker.id,
                "lon": round(newest.lon, 7),
                "lat": round(newest.lat, 7),
                "t": newest.t.isoformat(),
                "speed": newest.speed,
                "battery": newest.battery,
            }
            if latest_t is not None and now_s - latest_t >= rules.signal_lost_s:
                result.alarms.extend(end_signal_lost(tracker.id, plausible, latest_t))
            if latest_t is None or now_s - latest_t >= rules.absent_s:  # absent: none since
                result.alarms.extend(end_absent(tracker.id, plausible))
        elif samples:
            cursor.execute(UPDATE_STATE_SQL, [Json(evaluator.state), tracker.id])
    return result


def _flag_jumps_among(rules: Rules, fixes: list[NewFix], tail: list[tuple]) -> None:
    """Flags the batch's jumps against the stored plausible fixes around them (late batches)."""
    stored = [(t, lon, lat, None) for t, lon, lat, _ in tail]
    merged = sorted(
        stored + [(f.epoch, f.lon, f.lat, f) for f in fixes if f.flag is None],
        key=lambda row: (row[0], row[3] is not None),
    )
    prev = None
    for t, lon, lat, fix in merged:
        if fix is None:
            prev = (t, lon, lat)
        elif rules_module.is_jump(rules, prev, t, lon, lat):
            fix.flag = "jump"
        else:
            prev = (t, lon, lat)


def _insert(tracker_id: int, fixes: list[NewFix]) -> set[float]:
    """Inserts the fixes; gives the epoch times of those that were new."""
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_SQL,
            {
                "tracker": tracker_id,
                "t": [f.t for f in fixes],
                "lon": [f.lon for f in fixes],
                "lat": [f.lat for f in fixes],
                "accuracy": [f.accuracy for f in fixes],
                "speed": [f.speed for f in fixes],
                "heading": [f.heading for f in fixes],
                "battery": [f.battery for f in fixes],
                "flag": [f.flag for f in fixes],
            },
        )
        return {float(row[0]) for row in cursor.fetchall()}


def _samples(area, rows: list[tuple], route=None, vehicle=False) -> list[rules_module.Sample]:
    """Gives the rules' samples of (epoch, lon, lat, speed) rows, with their distance outside
    the grid area (None without one), from the route (vehicles only, the off-route rule's; None
    without one) and the route's checkpoints they lie at."""
    if not rows:
        return []
    off = None
    if area is not None:
        off = area.off_metres([r[1] for r in rows], [r[2] for r in rows]).tolist()
    if route is None:
        return [
            rules_module.Sample(t, lon, lat, off[n] if off is not None else None, speed)
            for n, (t, lon, lat, speed) in enumerate(rows)
        ]
    lons, lats = [r[1] for r in rows], [r[2] for r in rows]
    route_off = route.off_metres(lons, lats).tolist() if vehicle else [None] * len(rows)
    reached = route.reached(lons, lats)
    return [
        rules_module.Sample(
            t, lon, lat, off[n] if off is not None else None, speed, route_off[n], reached[n]
        )
        for n, (t, lon, lat, speed) in enumerate(rows)
    ]
