"""Alarms as episodes: the rules' edges merged into stored alarms, and the signal-lost beat.

An alarm is one row from its start to its end. `apply_edges` turns the edges of one batch
(`tracking.rules.Edge`) into episodes and merges each with the stored alarm of the same kind it
overlaps in time, else stores a new one: a start opens an alarm dated at the run's first fix, an
end closes it, and a late batch's replay that finds an episode already stored only widens it.
An alarm once raised is never removed by later data (its evidence stays in the log of fixes).

Signal lost (信号丢失) is decided by the clock, not by a fix: beat runs `raise_signal_lost`
every minute for active trackers whose newest fix is older than ``TRACKING_SIGNAL_LOST_S``
(started at that fix); ingest ends it at the first fix after it (`end_signal_lost`). A tracker
in the roster (`tracking.roster`) is watched only while on duty, and only for a silence that
began within its shift: silence since before the shift is absence (缺勤, `raise_absent`), dated
at the shift's start once it lasted ``TRACKING_ABSENT_S``, and ended by the first fix after it
(`end_absent`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import connection

from .models import Alarm
from .rules import Edge

SIGNAL_LOST = Alarm.Kind.SIGNAL_LOST


@dataclass(frozen=True)
class AlarmChange:
    """What happened to an alarm: ``started``, ``ended`` or ``changed``."""

    alarm_id: int
    tracker_id: int
    kind: str
    change: str
    started_at: dt.datetime
    ended_at: dt.datetime | None

    def event(self) -> dict:
        return {
            "type": "alarm",
            "alarm": self.alarm_id,
            "tracker": self.tracker_id,
            "kind": self.kind,
            "change": self.change,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }


@dataclass
class _Episode:
    kind: str
    start_t: float
    start: tuple[float, float]
    end_t: float | None
    end: tuple[float, float] | None
    details: dict


def _time(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def episodes(edges: list[Edge]) -> list[_Episode]:
    """Gives the episodes of a time-ordered list of edges (a start and its end make one)."""
    found: list[_Episode] = []
    pending: dict[str, _Episode] = {}
    for edge in edges:
        if edge.end_t is None:
            pending[edge.kind] = _Episode(
                edge.kind, edge.start_t, edge.start, None, None, dict(edge.details)
            )
            found.append(pending[edge.kind])
            continue
        episode = pending.pop(edge.kind, None)
        if episode is not None and episode.start_t == edge.start_t:
            episode.end_t, episode.end = edge.end_t, edge.end
            episode.details.update(edge.details)
        else:
            found.append(
                _Episode(edge.kind, edge.start_t, edge.start, edge.end_t, edge.end, edge.details)
            )
    return found


def apply_edges(tracker_id: int, edges: list[Edge]) -> list[AlarmChange]:
    """Stores the alarms the edges describe (see the module doc); gives what changed."""
    changes = []
    for ep in episodes(edges):
        start, end = _time(ep.start_t), _time(ep.end_t) if ep.end_t is not None else None
        overlapping = Alarm.objects.filter(tracker_id=tracker_id, kind=ep.kind).exclude(
            ended_at__lt=start
        )
        if end is not None:
            overlapping = overlapping.filter(started_at__lte=end)
        alarm = overlapping.order_by("started_at").first()
        if alarm is None:
            alarm = Alarm.objects.create(
                tracker_id=tracker_id,
                kind=ep.kind,
                started_at=start,
                ended_at=end,
                start_geom=Point(*ep.start, srid=4326),
                end_geom=Point(*ep.end, srid=4326) if ep.end else None,
                details=ep.details,
            )
            changes.append(_change(alarm, "started"))
            if end is not None:
                changes.append(_change(alarm, "ended"))
            continue
        updated = []
        if start < alarm.started_at:
            alarm.started_at, alarm.start_geom = start, Point(*ep.start, srid=4326)
            updated += ["started_at", "start_geom"]
        if end is not None and (alarm.ended_at is None or end > alarm.ended_at):
            was_open = alarm.ended_at is None
            alarm.ended_at, alarm.end_geom = end, Point(*ep.end, srid=4326)
            updated += ["ended_at", "end_geom"]
        else:
            was_open = False
        if ep.details and {**alarm.details, **ep.details} != alarm.details:
            alarm.details = {**alarm.details, **ep.details}
            updated.append("details")
        if updated:
            alarm.save(update_fields=updated)
            changes.append(_change(alarm, "ended" if was_open else "changed"))
    return changes


def _change(alarm: Alarm, change: str) -> AlarmChange:
    return AlarmChange(
        alarm.pk, alarm.tracker_id, alarm.kind, change, alarm.started_at, alarm.ended_at
    )


END_SIGNAL_LOST_SQL = """
UPDATE tracking_alarm SET ended_at = %(t)s, end_geom = ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
WHERE tracker_id = %(tracker)s AND kind = 'signal_lost' AND ended_at IS NULL AND started_at < %(t)s
RETURNING id, started_at
"""


def end_signal_lost(tracker_id: int, fixes: list, since: float) -> list[AlarmChange]:
    """Ends the tracker's open signal-lost alarm at the first of `fixes` after `since`."""
    first = next((f for f in fixes if f.epoch > since), None)
    if first is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            END_SIGNAL_LOST_SQL,
            {"t": first.t, "lon": first.lon, "lat": first.lat, "tracker": tracker_id},
        )
        rows = cursor.fetchall()
    return [
        AlarmChange(pk, tracker_id, SIGNAL_LOST, "ended", started, first.t) for pk, started in rows
    ]


# Trackers silent too long that have no signal-lost alarm for this silence yet (an alarm that
# started at their newest fix, open or already ended by it, is this silence's).
SILENT_SQL = """
SELECT l.tracker_id, l.t FROM tracking_latestposition l
JOIN tracking_tracker tr ON tr.id = l.tracker_id
WHERE tr.active AND l.t < %(before)s
  AND NOT EXISTS (SELECT 1 FROM tracking_alarm a WHERE a.tracker_id = l.tracker_id
                  AND a.kind = 'signal_lost' AND (a.ended_at IS NULL OR a.started_at >= l.t))
"""

# Under the trackers' ingest locks (taken first, in order), so a batch committing meanwhile
# is seen and an alarm is never opened behind a fix that already ended the silence.
RAISE_SQL = """
SELECT pg_advisory_xact_lock(21, id::int) FROM unnest(%(trackers)s::bigint[]) id ORDER BY id;
INSERT INTO tracking_alarm (tracker_id, kind, started_at, start_geom, details, note, justified)
SELECT l.tracker_id, 'signal_lost', l.t, l.geom, %(details)s, '', false
FROM tracking_latestposition l WHERE l.tracker_id = ANY(%(trackers)s) AND l.t < %(before)s
ON CONFLICT DO NOTHING
RETURNING id, tracker_id, started_at
"""


def silent_trackers(now: dt.datetime, silent_s: float) -> list[tuple[int, dt.datetime]]:
    """Gives the trackers that need a signal-lost alarm now, with their newest fix's time."""
    with connection.cursor() as cursor:
        cursor.execute(SILENT_SQL, {"before": now - dt.timedelta(seconds=silent_s)})
        return cursor.fetchall()


def raise_signal_lost(trackers: list[int], now: dt.datetime, silent_s: float) -> list[AlarmChange]:
    """Opens a signal-lost alarm for each of `trackers` still silent, from its newest fix;
    call it inside a transaction."""
    from psycopg2.extras import Json

    with connection.cursor() as cursor:
        cursor.execute(
            RAISE_SQL,
            {
                "trackers": trackers,
                "before": now - dt.timedelta(seconds=silent_s),
                "details": Json({"silent_after_s": silent_s}),
            },
        )
        rows = cursor.fetchall()
    return [AlarmChange(pk, tr, SIGNAL_LOST, "started", at, None) for pk, tr, at in rows]


ABSENT = Alarm.Kind.ABSENT

# Of the (tracker, shift start) given: active trackers with no plausible fix since the start and
# no absent alarm for this shift yet.
ABSENT_FROM = """
FROM unnest(%(trackers)s::bigint[], %(starts)s::timestamptz[]) c(tracker_id, start)
JOIN tracking_tracker tr ON tr.id = c.tracker_id
LEFT JOIN tracking_latestposition l ON l.tracker_id = c.tracker_id
WHERE tr.active AND (l.t IS NULL OR l.t < c.start)
  AND NOT EXISTS (SELECT 1 FROM tracking_alarm a WHERE a.tracker_id = c.tracker_id
                  AND a.kind = 'absent' AND (a.ended_at IS NULL OR a.started_at >= c.start))
"""
ABSENT_SQL = "SELECT c.tracker_id " + ABSENT_FROM

# Under the ingest locks, as RAISE_SQL.
RAISE_ABSENT_SQL = (
    """
SELECT pg_advisory_xact_lock(21, id::int) FROM unnest(%(trackers)s::bigint[]) id ORDER BY id;
INSERT INTO tracking_alarm (tracker_id, kind, started_at, start_geom, details, note, justified)
SELECT c.tracker_id, 'absent', c.start, l.geom, %(details)s, '', false
"""
    + ABSENT_FROM
    + """
ON CONFLICT DO NOTHING
RETURNING id, tracker_id, started_at
"""
)


def _absent_params(duties: list, now: dt.datetime, absent_s: float) -> dict:
    late = [d for d in duties if now - d.start >= dt.timedelta(seconds=absent_s)]
    return {"trackers": [d.tracker_id for d in late], "starts": [d.start for d in late]}


def absent_trackers(duties: list, now: dt.datetime, absent_s: float) -> list[int]:
    """Gives those of `duties` (`tracking.roster.Duty`) on duty for `absent_s` without a fix
    since their shift began, that have no absent alarm for it yet."""
    query = _absent_params(duties, now, absent_s)
    if not query["trackers"]:
        return []
    with connection.cursor() as cursor:
        cursor.execute(ABSENT_SQL, query)
        return [row[0] for row in cursor.fetchall()]


def raise_absent(duties: list, now: dt.datetime, absent_s: float) -> list[AlarmChange]:
    """Opens an absent alarm, dated at the shift's start, for each of `duties` still without a
    fix; call it inside a transaction."""
    from psycopg2.extras import Json

    query = _absent_params(duties, now, absent_s)
    if not query["trackers"]:
        return []
    query["details"] = Json({"absent_after_s": absent_s})
    with connection.cursor() as cursor:
        cursor.execute(RAISE_ABSENT_SQL, query)
        rows = cursor.fetchall()
    return [AlarmChange(pk, tr, ABSENT, "started", at, None) for pk, tr, at in rows]


OPEN_ABSENT_SQL = """
SELECT id, started_at FROM tracking_alarm
WHERE tracker_id = %s AND kind = 'absent' AND ended_at IS NULL
"""
END_ABSENT_SQL = """
UPDATE tracking_alarm SET ended_at = %(t)s, end_geom = ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
WHERE id = %(id)s
"""


def end_absent(tracker_id: int, fixes: list) -> list[AlarmChange]:
    """Ends the tracker's open absent alarm at the first of `fixes` after its start."""
    with connection.cursor() as cursor:
        cursor.execute(OPEN_ABSENT_SQL, [tracker_id])
        open_alarms = cursor.fetchall()
        changes = []
        for pk, started in open_alarms:
            first = next((f for f in fixes if f.t > started), None)
            if first is None:
                continue
            cursor.execute(
                END_ABSENT_SQL, {"t": first.t, "lon": first.lon, "lat": first.lat, "id": pk}
            )
            changes.append(AlarmChange(pk, tracker_id, ABSENT, "ended", started, first.t))
    return changes
