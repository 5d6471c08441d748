"""Patrol checkpoints (巡查点): visits stored by ingest, missed checkpoints decided by the clock.

A checkpoint belongs to a patrol route (巡查路线); a tracker assigned the route must reach it
(a plausible fix within ``radius_m``) within its window during an on-duty shift (`tracking.roster`):

- with a window (``window_start``–``window_end``, local time), the window on the shift's days
  clipped to the shift (a window outside the shift does not apply to it);
- without one, the whole shift.

The window needs ``required`` visits; a visit is the first fix of a run within the radius
(`tracking.rules.Evaluator` collects them, `store_visits` stores them, idempotent on (tracker,
checkpoint, t)). Trackers that are never rostered (vehicles, usually) have no checkpoint windows.

**Checkpoint missed** (巡查点漏巡) is raised by beat (`raise_missed`, every minute) at the end of
a window that has fewer visits than required, dated at the window's end, one alarm per
checkpoint and window (so several may be open at once). It ends at the first visit of the
checkpoint after the window began — a late visit (ended at it, ``details.visited_late``), or a
visit inside the window that reached the server after the window's end, a phone's offline
buffer (ended at its own start, zero length: the alarm stays, as every alarm raised, with
``details.visited_at``) — or else at the end of the shift (`close_missed`), so an alarm left
open is one whose shift is still running.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from .alarms import AlarmChange
from .models import Alarm, Checkpoint, RosterEntry, Tracker
from .roster import DAY, covering_days, shift_interval

MISSED = Alarm.Kind.CHECKPOINT_MISSED

STORE_VISITS_SQL = """
INSERT INTO tracking_checkpointvisit (tracker_id, checkpoint_id, t, geom)
SELECT %(tracker)s, v.checkpoint, to_timestamp(v.t), ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326)
FROM unnest(%(checkpoints)s::bigint[], %(t)s::float8[], %(lon)s::float8[], %(lat)s::float8[])
     AS v(checkpoint, t, lon, lat)
WHERE EXISTS (SELECT 1 FROM tracking_checkpoint c WHERE c.id = v.checkpoint)
ON CONFLICT DO NOTHING
"""

# Open missed alarms of the visited checkpoints, ended at the first visit after the window began.
END_MISSED_SQL = """
WITH v AS (
    SELECT checkpoint, to_timestamp(t) AS t, lon, lat
    FROM unnest(%(checkpoints)s::bigint[], %(t)s::float8[], %(lon)s::float8[], %(lat)s::float8[])
         AS v(checkpoint, t, lon, lat)
), hit AS (
    SELECT DISTINCT ON (a.id) a.id, v.t, v.lon, v.lat
    FROM tracking_alarm a JOIN v ON v.checkpoint = (a.details->>'checkpoint')::bigint
    WHERE a.tracker_id = %(tracker)s AND a.kind = 'checkpoint_missed' AND a.ended_at IS NULL
      AND v.t >= (a.details->>'window_start')::timestamptz
    ORDER BY a.id, v.t
)
UPDATE tracking_alarm a SET
    ended_at = GREATEST(hit.t, a.started_at),
    end_geom = ST_SetSRID(ST_MakePoint(hit.lon, hit.lat), 4326),
    details = a.details || jsonb_build_object('visited_at', hit.t,
                                              'visited_late', hit.t > a.started_at)
FROM hit WHERE a.id = hit.id
RETURNING a.id, a.started_at, a.ended_at
"""


def store_visits(tracker_id: int, visits: list) -> list[AlarmChange]:
    """Stores the visits (`tracking.rules.Visit`) and ends the missed-checkpoint alarms they
    answer; gives the alarms ended."""
    values = {
        "tracker": tracker_id,
        "checkpoints": [v.checkpoint for v in visits],
        "t": [v.t for v in visits],
        "lon": [v.lon for v in visits],
        "lat": [v.lat for v in visits],
    }
    with connection.cursor() as cursor:
        cursor.execute(STORE_VISITS_SQL, values)
        cursor.execute(END_MISSED_SQL, values)
        rows = cursor.fetchall()
    return [AlarmChange(pk, tracker_id, MISSED, "ended", s, e) for pk, s, e in rows]


@dataclass(frozen=True)
class Window:
    """One checkpoint's window for one tracker on one shift, in instants (end exclusive)."""

    tracker_id: int
    checkpoint_id: int
    start: dt.datetime
    end: dt.datetime
    required: int
    shift_end: dt.datetime


def checkpoint_window(
    checkpoint, day: dt.date, begin: dt.datetime, finish: dt.datetime, tz: dt.tzinfo
) -> tuple[dt.datetime, dt.datetime] | None:
    """Gives the checkpoint's window within the shift [begin, finish) of `day` (None when its
    window falls outside the shift): its daily window on the shift's days clipped to the shift,
    or the whole shift without one."""
    if checkpoint.window_start is None:
        return begin, finish
    for d in (day, day + DAY):
        start, end = shift_interval(d, checkpoint.window_start, checkpoint.window_end, tz)
        start, end = max(start, begin), min(end, finish)
        if start < end:
            return start, end
    return None


def due_windows(now: dt.datetime, trackers: list[int] | None = None) -> list[Window]:
    """Gives the checkpoint windows of on-duty shifts (today's and yesterday's entries) that
    ended by `now`: on-duty entries, and leave entries for their substitutes."""
    tz = timezone.get_default_timezone()
    entries = RosterEntry.objects.filter(date__in=covering_days(now, tz)).select_related("shift")
    if trackers is not None:
        entries = entries.filter(tracker_id__in=trackers)
    duty = []
    for entry in entries:
        if entry.kind == RosterEntry.Kind.ON_DUTY:
            who = entry.tracker_id
        elif entry.substitute_id is not None:
            who = entry.substitute_id
        else:
            continue
        begin, finish = shift_interval(entry.date, entry.shift.start, entry.shift.end, tz)
        if begin < now:
            duty.append((who, entry.date, begin, finish))
    if not duty:
        return []
    routes = dict(
        Tracker.objects.filter(pk__in={d[0] for d in duty}, active=True, route__active=True)
        .exclude(route=None)
        .values_list("pk", "route_id")
    )
    checkpoints: dict[int, list] = {}
    for checkpoint in Checkpoint.objects.filter(route_id__in=set(routes.values())):
        checkpoints.setdefault(checkpoint.route_id, []).append(checkpoint)
    found = []
    for who, day, begin, finish in duty:
        for checkpoint in checkpoints.get(routes.get(who), ()):
            window = checkpoint_window(checkpoint, day, begin, finish, tz)
            if window is not None and window[1] <= now:
                found.append(
                    Window(who, checkpoint.pk, window[0], window[1], checkpoint.required, finish)
                )
    return found


# Of the windows given: those with no missed alarm yet and fewer visits than required. Under the
# trackers' ingest locks (taken first, in order), so a batch committing a visit meanwhile is seen.
MISSED_FROM = """
FROM unnest(%(trackers)s::bigint[], %(checkpoints)s::bigint[], %(starts)s::timestamptz[],
            %(ends)s::timestamptz[], %(required)s::int[], %(shift_ends)s::timestamptz[])
     AS w(tracker_id, checkpoint_id, start, "end", required, shift_end)
JOIN tracking_checkpoint c ON c.id = w.checkpoint_id
CROSS JOIN LATERAL (SELECT count(*) AS n FROM tracking_checkpointvisit v
                    WHERE v.tracker_id = w.tracker_id AND v.checkpoint_id = w.checkpoint_id
                      AND v.t >= w.start AND v.t < w."end") visits
WHERE visits.n < w.required
  AND NOT EXISTS (SELECT 1 FROM tracking_alarm a WHERE a.tracker_id = w.tracker_id
                  AND a.kind = 'checkpoint_missed' AND a.started_at = w."end"
                  AND (a.details->>'checkpoint')::bigint = w.checkpoint_id)
"""
MISSING_SQL = "SELECT w.tracker_id, w.checkpoint_id " + MISSED_FROM

RAISE_MISSED_SQL = (
    """
SELECT pg_advisory_xact_lock(21, id::int)
FROM (SELECT DISTINCT id FROM unnest(%(trackers)s::bigint[]) id) t ORDER BY id;
INSERT INTO tracking_alarm (tracker_id, kind, started_at, start_geom, details, note, justified)
SELECT w.tracker_id, 'checkpoint_missed', w."end", c.geom,
       jsonb_build_object('checkpoint', c.id, 'name', c.name, 'route', c.route_id,
                          'window_start', w.start, 'window_end', w."end",
                          'shift_end', w.shift_end, 'required', w.required,
                          'visits', visits.n),
       '', false
"""
    + MISSED_FROM
    + """
RETURNING id, tracker_id, started_at
"""
)


def _params(windows: list[Window]) -> dict:
    return {
        "trackers": [w.tracker_id for w in windows],
        "checkpoints": [w.checkpoint_id for w in windows],
        "starts": [w.start for w in windows],
        "ends": [w.end for w in windows],
        "required": [w.required for w in windows],
        "shift_ends": [w.shift_end for w in windows],
    }


def missing(windows: list[Window]) -> list[Window]:
    """Gives those of `windows` short of visits that have no missed alarm yet."""
    if not windows:
        return []
    with connection.cursor() as cursor:
        cursor.execute(MISSING_SQL, _params(windows))
        keys = set(cursor.fetchall())
    return [w for w in windows if (w.tracker_id, w.checkpoint_id) in keys]


def raise_missed(windows: list[Window]) -> list[AlarmChange]:
    """Opens a missed-checkpoint alarm, dated at the window's end, for each of `windows` still
    short of visits; call it inside a transaction."""
    if not windows:
        return []
    with connection.cursor() as cursor:
        cursor.execute(RAISE_MISSED_SQL, _params(windows))
        rows = cursor.fetchall()
    return [AlarmChange(pk, tr, MISSED, "started", at, None) for pk, tr, at in rows]


CLOSE_MISSED_SQL = """
UPDATE tracking_alarm SET ended_at = (details->>'shift_end')::timestamptz
WHERE kind = 'checkpoint_missed' AND ended_at IS NULL
  AND (details->>'shift_end')::timestamptz <= %s
RETURNING id, tracker_id, started_at, ended_at
"""


def close_missed(now: dt.datetime) -> list[AlarmChange]:
    """Ends the missed-checkpoint alarms whose shift is over, at the shift's end."""
    with connection.cursor() as cursor:
        cursor.execute(CLOSE_MISSED_SQL, [now])
        rows = cursor.fetchall()
    return [AlarmChange(pk, tr, MISSED, "ended", s, e) for pk, tr, s, e in rows]


def overdue_open(now: dt.datetime) -> int:
    """Gives how many missed-checkpoint alarms are open past their shift's end."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tracking_alarm WHERE kind = 'checkpoint_missed' "
            "AND ended_at IS NULL AND (details->>'shift_end')::timestamptz <= %s",
            [now],
        )
        return cursor.fetchone()[0]
