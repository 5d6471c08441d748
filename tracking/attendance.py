"""Attendance (考勤): clock-in and clock-out, anomalies against the roster, explanations.

An inspector clocks in (上班打卡) and out (下班打卡) from the phone with a position (any CRS
`spatial.crs` knows, as ingest), a photo and the server's time; the clock records the
responsibility grid the position falls in and flags it `off_grid` when it lies more than the
out-of-grid tolerance outside the person's grids (their area when they have none), as the alarm
rule does (`tracking.grids`). Clocking off-grid is allowed: the flag makes it an anomaly.

Anomalies (考勤异常) are computed, never stored: for each rostered duty (an on-duty entry, or the
substitute of a leave; `tracking.roster`) of a day, the clocks of the duty's tracker near the
shift's interval [start, end) are those it counts:

- a clock-in counts from ``TRACKING_CLOCK_WINDOW_S`` before the start to the end, a clock-out
  from the start to that long after the end (so a night shift's clock-out the next morning is
  its own, and yesterday's clock-out is not today's);
- ``missing_in`` (未签到): no clock-in, once the start plus ``TRACKING_LATE_GRACE_S`` is past;
- ``late`` (迟到): the first clock-in after the start plus the grace;
- ``missing_out`` (未签退): no clock-out once the shift has ended;
- ``left_early`` (早退): the last clock-out before the end minus the grace;
- ``off_grid`` (网格外打卡): one of its clocks flagged off-grid.

The inspector writes an explanation (考勤说明) of an anomaly (`do_explain_anomaly`); a holder of
``tracking.monitor`` who sees the tracker accepts or rejects it (`do_decide_explanation`). An
accepted explanation excuses the anomaly in the statistics; a rejected one may be written again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import UploadedFile
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, Conflict, Forbidden, NotFound

from . import grids, queries, roster
from .models import AttendanceExplanation, ClockRecord, RosterEntry, Shift, Tracker

Anomaly = AttendanceExplanation.Anomaly


@dataclass(frozen=True)
class Clock:
    """A clock as the anomaly rules see it."""

    kind: str
    at: dt.datetime
    off_grid: bool = False
    id: int | None = None


@dataclass
class DutyAttendance:
    """One rostered duty of a tracker (its entry's date and shift) with its clocks and
    anomalies, each ``(kind, details)``."""

    tracker_id: int
    date: dt.date
    shift: Shift
    start: dt.datetime
    end: dt.datetime
    in_place_of: int | None = None
    clock_in: Clock | None = None
    clock_out: Clock | None = None
    anomalies: list[tuple[str, dict]] = field(default_factory=list)


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def shift_anomalies(
    start: dt.datetime,
    end: dt.datetime,
    clocks: Iterable[Clock],
    now: dt.datetime,
    grace: dt.timedelta,
    window: dt.timedelta,
) -> tuple[Clock | None, Clock | None, list[tuple[str, dict]]]:
    """Gives a duty's counted clock-in (the first), clock-out (the last) and anomalies, by the
    rules of the module doc, for the shift [`start`, `end`) as it stands at `now`."""
    ins = sorted((c for c in clocks if c.kind == "in" and start - window <= c.at < end),
                 key=lambda c: c.at)  # fmt: skip
    outs = sorted((c for c in clocks if c.kind == "out" and start < c.at <= end + window),
                  key=lambda c: c.at)  # fmt: skip
    first_in = ins[0] if ins else None
    last_out = outs[-1] if outs else None
    found: list[tuple[str, dict]] = []
    if first_in is None:
        if now > start + grace:
            found.append((Anomaly.MISSING_IN, {}))
    elif first_in.at > start + grace:
        found.append((Anomaly.LATE, {"minutes": _minutes(first_in.at - start)}))
    if last_out is None:
        if now >= end:
            found.append((Anomaly.MISSING_OUT, {}))
    elif last_out.at < end - grace:
        found.append((Anomaly.LEFT_EARLY, {"minutes": _minutes(end - last_out.at)}))
    off = [c for c in (first_in, last_out) if c is not None and c.off_grid]
    if off:
        found.append((Anomaly.OFF_GRID, {"clocks": [c.kind for c in off]}))
    return first_in, last_out, found


def _rules() -> tuple[dt.timedelta, dt.timedelta]:
    return (
        dt.timedelta(seconds=settings.TRACKING_LATE_GRACE_S),
        dt.timedelta(seconds=settings.TRACKING_CLOCK_WINDOW_S),
    )


def duties_between(
    trackers: list[int], first: dt.date, last: dt.date, now: dt.datetime | None = None
) -> list[DutyAttendance]:
    """Gives the duties of `trackers` on the dates `first`..`last` (their shifts' start dates)
    that have begun by `now`, with their clocks and anomalies, in time order."""
    now = now or timezone.now()
    tz = timezone.get_default_timezone()
    grace, window = _rules()
    entries = (
        RosterEntry.objects.filter(date__range=(first, last))
        .filter(Q(tracker_id__in=trackers) | Q(substitute_id__in=trackers))
        .select_related("shift")
    )
    found: list[DutyAttendance] = []
    for entry in entries:
        if entry.kind == RosterEntry.Kind.ON_DUTY:
            who, for_whom = entry.tracker_id, None
        elif entry.substitute_id is not None:
            who, for_whom = entry.substitute_id, entry.tracker_id
        else:
            continue
        if who not in trackers:
            continue
        start, end = roster.shift_interval(entry.date, entry.shift.start, entry.shift.end, tz)
        if start > now:
            continue
        found.append(DutyAttendance(who, entry.date, entry.shift, start, end, for_whom))
    if not found:
        return []
    span = (min(d.start for d in found) - window, max(d.end for d in found) + window)
    clocks: dict[int, list[Clock]] = {}
    rows = ClockRecord.objects.filter(tracker_id__in=trackers, at__range=span).values_list(
        "tracker_id", "kind", "at", "off_grid", "id"
    )
    for tracker_id, kind, at, off_grid, pk in rows:
        clocks.setdefault(tracker_id, []).append(Clock(kind, at, off_grid, pk))
    for duty in found:
        duty.clock_in, duty.clock_out, duty.anomalies = shift_anomalies(
            duty.start, duty.end, clocks.get(duty.tracker_id, []), now, grace, window
        )
    found.sort(key=lambda d: (d.start, d.tracker_id))
    return found


# --- clock-in / clock-out ---------------------------------------------------------------------

GRID_AT_SQL = """
SELECT g.id FROM spatial_responsibilitygrid g
LEFT JOIN accounts_person_grids pg ON pg.responsibilitygrid_id = g.id AND pg.person_id = %s
WHERE ST_Intersects(g.geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
ORDER BY pg.person_id IS NULL, g.code
LIMIT 1
"""


def grid_at(person_id: int | None, lon: float, lat: float) -> int | None:
    """Gives the responsibility grid (责任网格) the point falls in, the person's own first
    (the grids' spatial index serves the ST_Intersects)."""
    with connection.cursor() as cursor:
        cursor.execute(GRID_AT_SQL, [person_id, lon, lat])
        row = cursor.fetchone()
    return row[0] if row else None


def off_grid_metres(person_id: int | None, lon: float, lat: float) -> float:
    """Gives how far the point lies outside the person's grids (their area when none); 0 with
    no grid or area to be outside of."""
    area = grids.grid_area(person_id)
    if area is None:
        return 0.0
    return float(area.off_metres([lon], [lat])[0])


def own_tracker(scope: Scope, now: dt.datetime) -> Tracker:
    """Gives the caller's own active person tracker (an inspector's phone)."""
    scope.require_signed_in()
    tracker = (
        Tracker.objects.filter(person_id=scope.person_id, active=True, person_id__isnull=False)
        .exclude(valid_to__lt=now)
        .order_by("-valid_from", "-id")
        .first()
    )
    if scope.person_id is None or tracker is None:
        raise Forbidden("only an inspector with a tracker clocks in and out")
    return tracker


@action(
    "tracking.clock",
    permission=None,
    target=lambda kind, lon, lat, photo, photo_type, **_: kind,
    details=lambda kind, lon, lat, photo, photo_type, **kw: {
        "lon": round(lon, 6),
        "lat": round(lat, 6),
        "accuracy": kw.get("accuracy"),
    },
)
def do_clock(
    scope: Scope,
    kind: str,
    lon: float,
    lat: float,
    photo: UploadedFile,
    photo_type: str,
    *,
    accuracy: float | None = None,
    taken_at: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> ClockRecord:
    """Gives the caller's clock-in or clock-out (打卡) at (`lon`, `lat`) WGS84 with the photo
    (its type checked by the caller, `core.uploads`); flagged off-grid outside the person's
    grids beyond the out-of-grid tolerance. `at` is the server's now but for the demo and
    tests. A clock made on the phone in a dead zone (离线打卡) gives `taken_at`, the phone's
    time of it: accepted up to `TRACKING_OFFLINE_CLOCK_MAX_AGE_S` back and never ahead of the
    server (a phone's clock may drift a little ahead: `TRACKING_OFFLINE_CLOCK_SKEW_S`, and is
    then taken as the server's now); the record keeps both times, `at` the phone's and
    `received_at` the server's, and is shown as made offline so its time can be judged."""
    at = at or timezone.now()
    received_at = None
    if taken_at is not None:
        if taken_at > at + dt.timedelta(seconds=settings.TRACKING_OFFLINE_CLOCK_SKEW_S):
            raise BadInput("taken_at lies in the future", field="taken_at")
        if at - taken_at > dt.timedelta(seconds=settings.TRACKING_OFFLINE_CLOCK_MAX_AGE_S):
            hours = settings.TRACKING_OFFLINE_CLOCK_MAX_AGE_S / 3600
            raise BadInput(
                f"an offline clock is accepted up to {hours:g} hours later", field="taken_at"
            )
        received_at, at = at, min(taken_at, at)
    tracker = own_tracker(scope, at)
    if kind not in ClockRecord.Kind.values:
        raise BadInput("kind must be in or out", field="kind")
    if received_at is not None:  # sent again (its answer lost): the first one stands
        sent = ClockRecord.objects.filter(tracker=tracker, kind=kind, at=at).first()
        if sent is not None:
            return sent
    off_m = off_grid_metres(tracker.person_id, lon, lat)
    record = ClockRecord(
        tracker=tracker,
        kind=kind,
        at=at,
        received_at=received_at,
        geom=Point(lon, lat, srid=4326),
        accuracy=accuracy,
        grid_id=grid_at(tracker.person_id, lon, lat),
        off_grid=off_m > settings.TRACKING_OUT_OF_GRID_TOLERANCE_M,
        off_grid_m=round(off_m, 1),
        photo_type=photo_type,
        photo_size=photo.size or 0,
        by=scope.user,
    )
    record.photo.save(photo.name or f"clock.{photo_type.rsplit('/', 1)[-1]}", photo, save=False)
    record.save()
    return record


# --- explanations -----------------------------------------------------------------------------


def _duty_anomaly(tracker: Tracker, day: dt.date, shift: Shift, anomaly: str) -> bool:
    return any(
        d.date == day and d.shift.pk == shift.pk and anomaly in [k for k, _ in d.anomalies]
        for d in duties_between([tracker.pk], day, day)
    )


@action(
    "tracking.explain_attendance",
    permission=None,
    target=lambda tracker, day, shift, anomaly, text: f"{tracker.device_id} {day} {anomaly}",
    details=lambda tracker, day, shift, anomaly, text: {"shift": shift.name, "text": text},
)
def do_explain_anomaly(
    scope: Scope, tracker: Tracker, day: dt.date, shift: Shift, anomaly: str, text: str
) -> AttendanceExplanation:
    """Gives the caller's explanation (考勤说明) of an anomaly of their own duty, pending a
    supervisor's decision; a pending or rejected one is replaced, an accepted one stays."""
    if tracker.person_id is None or tracker.person_id != scope.person_id:
        raise Forbidden("only the inspector explains their own attendance", field="tracker")
    if not text.strip():
        raise BadInput("write the explanation", field="text")
    if not _duty_anomaly(tracker, day, shift, anomaly):
        raise NotFound(f"no {anomaly} anomaly on {day} {shift.name}", field="anomaly")
    found = (
        AttendanceExplanation.objects.select_for_update()
        .filter(tracker=tracker, date=day, shift=shift, anomaly=anomaly)
        .first()
    )
    if found is not None and found.status == AttendanceExplanation.Status.ACCEPTED:
        raise Conflict("this explanation was accepted already", field="anomaly")
    explanation = found or AttendanceExplanation(
        tracker=tracker, date=day, shift=shift, anomaly=anomaly
    )
    explanation.text = text.strip()
    explanation.status = AttendanceExplanation.Status.PENDING
    explanation.submitted_by = scope.user
    explanation.submitted_at = timezone.now()
    explanation.decided_by = None
    explanation.decided_at = None
    explanation.decision_note = ""
    explanation.save()
    return explanation


@action(
    "tracking.decide_attendance",
    permission=perms.TRACKING_MONITOR,
    target=lambda explanation, accepted, note="": explanation.pk,
    details=lambda explanation, accepted, note="": {"accepted": accepted, "note": note},
)
def do_decide_explanation(
    scope: Scope, explanation: AttendanceExplanation, accepted: bool, note: str = ""
) -> AttendanceExplanation:
    """Gives the explanation accepted or rejected by a supervisor who sees the tracker; only a
    pending one (409 otherwise)."""
    explanation = AttendanceExplanation.objects.select_for_update().get(pk=explanation.pk)
    if not queries.visible_trackers(scope, [explanation.tracker_id]):
        raise NotFound(f"no explanation {explanation.pk}")
    if explanation.status != AttendanceExplanation.Status.PENDING:
        raise Conflict(f"the explanation is {explanation.status} already", field="accepted")
    explanation.status = (
        AttendanceExplanation.Status.ACCEPTED if accepted else AttendanceExplanation.Status.REJECTED
    )
    explanation.decided_by = scope.user
    explanation.decided_at = timezone.now()
    explanation.decision_note = note
    explanation.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return explanation
