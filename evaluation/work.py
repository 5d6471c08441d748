"""Work statistics of inspectors (网格员工作情况, spec 5.1.4.2.5) for any period, in SQL.

An inspector is a person with a person tracker (`tracking.Tracker`); the caller sees the
inspectors whose trackers `tracking.queries.visible_trackers` gives them (their own, those of
their areas for ``tracking.monitor``, all for system admins). For the period [start, end):

- ``reports``: cases the person reported (上报案件: ``cases_case.reported_by``, by report time);
- ``verifications``, ``checks`` and ``supplements``: verification (核实), check (核查) and
  supplementary collection (补采) tasks the person finished (by ``done_at``);
- ``self_handled``: of the reports, those of problems the person fixed on the spot (自行处置),
  and ``self_handled_archived``, those the centre archived as fixed (not sent on to
  registration);
- ``stays``, ``signal_lost``, ``out_of_grid``: alarms of the person's trackers that started in
  the period (轨迹滞留, 信号异常, 超出区域), leaving out those a supervisor judged justified;
- ``checkpoints``: patrol checkpoint visits (巡更打卡: `tracking.models.CheckpointVisit`, the
  first fix of each run within a checkpoint's radius) in the period, and
  ``checkpoints_missed``, missed-checkpoint alarms (巡查点漏巡) not justified;
- ``online_s``: the sum of the intervals between consecutive plausible fixes of a tracker, both
  in the period, shorter than ``TRACKING_SIGNAL_LOST_S`` (a longer silence is signal lost, not
  time online);
- ``in_grid_s``: the part of those intervals whose first fix lies in the person's responsibility
  grids (their area when they have none), boundary included, no tolerance;
- ``attendance``: rostered duties that began in the period, those with a clock-in, and their
  anomalies not excused by an accepted explanation (`tracking.attendance`).

Why here and not in `tracking`: the counts join cases and tracking, and tracking may not import
cases (docs/architecture.md); evaluation is built on both (issue 23's performance evaluation
reads these numbers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.scoping import Scope
from tracking import attendance, queries
from tracking.models import AttendanceExplanation, Tracker

# One row per person of %(people)s, over the trackers of theirs the caller sees, %(trackers)s.
# The fix steps read only the period's partitions of tracking_fix (its primary key (tracker_id,
# t) serves the window's order); the task counts use the index casetask_open. `counted` is
# materialized so the grid test runs once a step, in tracker order (PostGIS keeps the person's
# area prepared between consecutive calls), and the grouping sorts narrow rows, not the area
# with each (bench/README.md, "Work statistics").
WORK_SQL = """
WITH people AS (
    SELECT p.id, p.user_id, COALESCE(
        (SELECT ST_Union(g.geom) FROM accounts_person_grids pg
         JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
         WHERE pg.person_id = p.id AND g.geom IS NOT NULL),
        p.area_geom) AS area
    FROM accounts_person p WHERE p.id = ANY(%(people)s)
),
steps AS (
    SELECT tr.person_id, f.geom, f.t,
           lead(f.t) OVER (PARTITION BY f.tracker_id ORDER BY f.t) AS t_next
    FROM tracking_fix f JOIN tracking_tracker tr ON tr.id = f.tracker_id
    WHERE f.tracker_id = ANY(%(trackers)s) AND f.t >= %(start)s AND f.t < %(end)s
      AND f.flag IS NULL
),
counted AS MATERIALIZED (
    SELECT s.person_id, extract(epoch FROM s.t_next - s.t) AS step_s,
           ST_Covers(pe.area, s.geom) AS inside
    FROM steps s JOIN people pe ON pe.id = s.person_id
    WHERE s.t_next IS NOT NULL AND s.t_next - s.t < make_interval(secs => %(lost_s)s)
),
online AS (
    SELECT person_id, sum(step_s) AS online_s, sum(step_s) FILTER (WHERE inside) AS in_grid_s
    FROM counted GROUP BY person_id
),
alarms AS (
    SELECT tr.person_id,
           count(*) FILTER (WHERE a.kind = 'long_stay') AS stays,
           count(*) FILTER (WHERE a.kind = 'signal_lost') AS signal_lost,
           count(*) FILTER (WHERE a.kind = 'out_of_grid') AS out_of_grid,
           count(*) FILTER (WHERE a.kind = 'checkpoint_missed') AS checkpoints_missed
    FROM tracking_alarm a JOIN tracking_tracker tr ON tr.id = a.tracker_id
    WHERE a.tracker_id = ANY(%(trackers)s) AND a.started_at >= %(start)s
      AND a.started_at < %(end)s AND NOT a.justified
    GROUP BY tr.person_id
),
visits AS (
    SELECT tr.person_id, count(*) AS checkpoints
    FROM tracking_checkpointvisit v JOIN tracking_tracker tr ON tr.id = v.tracker_id
    WHERE v.tracker_id = ANY(%(trackers)s) AND v.t >= %(start)s AND v.t < %(end)s
    GROUP BY tr.person_id
)
SELECT pe.id,
       (SELECT count(*) FROM cases_case c WHERE c.reported_by_id = pe.user_id
          AND c.reported_at >= %(start)s AND c.reported_at < %(end)s),
       (SELECT count(*) FROM cases_casetask k WHERE k.assignee_id = pe.user_id
          AND k.kind = 'verify' AND k.done_at >= %(start)s AND k.done_at < %(end)s),
       (SELECT count(*) FROM cases_casetask k WHERE k.assignee_id = pe.user_id
          AND k.kind = 'check' AND k.done_at >= %(start)s AND k.done_at < %(end)s),
       (SELECT count(*) FROM cases_casetask k WHERE k.assignee_id = pe.user_id
          AND k.kind = 'supplement' AND k.done_at >= %(start)s AND k.done_at < %(end)s),
       (SELECT count(*) FROM cases_case c WHERE c.reported_by_id = pe.user_id
          AND c.self_handled AND c.reported_at >= %(start)s AND c.reported_at < %(end)s),
       (SELECT count(*) FROM cases_case c WHERE c.reported_by_id = pe.user_id
          AND c.self_handled AND c.reported_at >= %(start)s AND c.reported_at < %(end)s
          AND EXISTS (SELECT 1 FROM cases_caseevent e
                      WHERE e.case_id = c.id AND e.action = 'archive')),
       COALESCE(al.stays, 0), COALESCE(al.signal_lost, 0), COALESCE(al.out_of_grid, 0),
       COALESCE(o.online_s, 0), COALESCE(o.in_grid_s, 0),
       COALESCE(vi.checkpoints, 0), COALESCE(al.checkpoints_missed, 0)
FROM people pe
LEFT JOIN online o ON o.person_id = pe.id
LEFT JOIN alarms al ON al.person_id = pe.id
LEFT JOIN visits vi ON vi.person_id = pe.id
"""

NAMES_SQL = """
SELECT p.id, COALESCE(NULLIF(p.name, ''), u.username), array_agg(tr.id ORDER BY tr.id)
FROM accounts_person p JOIN auth_user u ON u.id = p.user_id
JOIN tracking_tracker tr ON tr.person_id = p.id
WHERE tr.id = ANY(%(trackers)s)
GROUP BY p.id, p.name, u.username
ORDER BY 2, 1
"""


@dataclass
class Attendance:
    duties: int = 0
    clocked_in: int = 0
    anomalies: int = 0
    excused: int = 0


@dataclass
class Work:
    """One inspector's numbers for a period (see the module doc)."""

    person: int
    name: str
    trackers: list[int]
    reports: int = 0
    verifications: int = 0
    checks: int = 0
    supplements: int = 0
    self_handled: int = 0
    self_handled_archived: int = 0
    stays: int = 0
    signal_lost: int = 0
    out_of_grid: int = 0
    checkpoints: int = 0
    checkpoints_missed: int = 0
    online_s: int = 0
    in_grid_s: int = 0
    attendance: Attendance = field(default_factory=Attendance)

    def as_json(self) -> dict:
        return asdict(self)


def visible_inspectors(
    scope: Scope, person: int | None = None, tracker: int | None = None
) -> list[Work]:
    """Gives an empty `Work` per inspector the caller sees (of `person`, or the one carrying
    `tracker`, if given): their name and the person trackers of theirs the caller sees."""
    trackers = queries.visible_trackers(scope, None, kind=Tracker.Kind.PERSON)
    with connection.cursor() as cursor:
        cursor.execute(NAMES_SQL, {"trackers": trackers})
        rows = cursor.fetchall()
    return [
        Work(pk, name, list(ids))
        for pk, name, ids in rows
        if person in (None, pk) and (tracker is None or tracker in ids)
    ]


def _attendance(found: list[Work], start: dt.datetime, end: dt.datetime) -> None:
    tz = timezone.get_default_timezone()
    first = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date()
    owner = {t: w for w in found for t in w.trackers}
    duties = [
        d for d in attendance.duties_between(list(owner), first, last) if start <= d.start < end
    ]
    accepted = set(
        AttendanceExplanation.objects.filter(
            tracker_id__in=list(owner),
            date__range=(first, last),
            status=AttendanceExplanation.Status.ACCEPTED,
        ).values_list("tracker_id", "date", "shift_id", "anomaly")
    )
    for duty in duties:
        numbers = owner[duty.tracker_id].attendance
        numbers.duties += 1
        numbers.clocked_in += duty.clock_in is not None
        for kind, _ in duty.anomalies:
            if (duty.tracker_id, duty.date, duty.shift.pk, kind) in accepted:
                numbers.excused += 1
            else:
                numbers.anomalies += 1


def work(
    scope: Scope,
    start: dt.datetime,
    end: dt.datetime,
    person: int | None = None,
    tracker: int | None = None,
) -> list[Work]:
    """Gives the work statistics of the inspectors the caller sees (or of one, by person or
    tracker) for [start, end), by name."""
    found = visible_inspectors(scope, person, tracker)
    if not found:
        return []
    by_person = {w.person: w for w in found}
    with connection.cursor() as cursor:
        cursor.execute(
            WORK_SQL,
            {
                "people": list(by_person),
                "trackers": [t for w in found for t in w.trackers],
                "start": start,
                "end": end,
                "lost_s": settings.TRACKING_SIGNAL_LOST_S,
            },
        )
        rows = cursor.fetchall()
    for row in rows:
        (pk, reports, verifications, checks, supplements, self_handled, archived, stays, lost,
         out, online_s, in_grid_s, visits, missed) = row  # fmt: skip
        w = by_person[pk]
        w.supplements, w.self_handled, w.self_handled_archived = supplements, self_handled, archived
        w.checkpoints, w.checkpoints_missed = visits, missed
        w.reports, w.verifications, w.checks = reports, verifications, checks
        w.stays, w.signal_lost, w.out_of_grid = stays, lost, out
        w.online_s, w.in_grid_s = round(online_s), round(in_grid_s)
    _attendance(found, start, end)
    return found
