"""Duty rosters (排班): shifts as intervals of local time, who is on duty when, month generation.

A `Shift` runs from its start to its end in local time (``TIME_ZONE``) on the entry's date; an
end at or before the start runs past midnight into the next day, so the entries that can cover
an instant are those of its local date and of the day before. A `RosterEntry` puts a tracker on
duty for a shift, or records its leave (请假) with a substitute (替班) who is on duty in its place.

The alarm beat asks `duty_at` once a minute: trackers that appear in a roster at all (as the
rostered tracker or a substitute) are watched only while on duty; trackers never rostered
(vehicles, a city that keeps no roster) are watched all the time, as before rosters.

A pattern says which days of a month a tracker works (`works`): ``weekdays`` (Monday to Friday),
``daily``, or ``N on / M off`` rotating over consecutive days. The rotation is anchored on the
calendar (the day's ordinal plus the tracker's id), so it continues across months and staggers
the trackers of one street.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from core.errors import BadInput

from .models import RosterEntry, Shift

DAY = dt.timedelta(days=1)
ROTATION = re.compile(r"^\s*(\d{1,2})\s*on\s*/\s*(\d{1,2})\s*off\s*$", re.IGNORECASE)
PATTERNS_HELP = "weekdays, daily, or 'N on / M off' (e.g. '5 on / 2 off')"


def shift_interval(
    day: dt.date, start: dt.time, end: dt.time, tz: dt.tzinfo
) -> tuple[dt.datetime, dt.datetime]:
    """Gives the instants a shift of `day` begins and ends (the end exclusive); an end at or
    before the start is on the next day."""
    begin = dt.datetime.combine(day, start, tz)
    finish = dt.datetime.combine(day if end > start else day + DAY, end, tz)
    return begin, finish


def covering_days(at: dt.datetime, tz: dt.tzinfo) -> tuple[dt.date, dt.date]:
    """Gives the dates whose shifts can cover `at`: the day before its local date, and that."""
    today = at.astimezone(tz).date()
    return today - DAY, today


@dataclass(frozen=True)
class Duty:
    """A tracker on duty now: the shift's name and interval, and whom it stands in for."""

    tracker_id: int
    shift: str
    start: dt.datetime
    end: dt.datetime
    in_place_of: int | None = None


def duties(entries: Iterable[RosterEntry], at: dt.datetime, tz: dt.tzinfo) -> dict[int, Duty]:
    """Gives the trackers on duty at `at` by `entries` (with their shifts): an on-duty entry
    whose shift covers it, or the substitute of a leave whose shift covers it."""
    found: dict[int, Duty] = {}
    for entry in entries:
        begin, finish = shift_interval(entry.date, entry.shift.start, entry.shift.end, tz)
        if not begin <= at < finish:
            continue
        if entry.kind == RosterEntry.Kind.ON_DUTY:
            who, for_whom = entry.tracker_id, None
        elif entry.substitute_id is not None:
            who, for_whom = entry.substitute_id, entry.tracker_id
        else:
            continue
        if who not in found or found[who].start > begin:
            found[who] = Duty(who, entry.shift.name, begin, finish, for_whom)
    return found


def duty_at(at: dt.datetime, trackers: Iterable[int] | None = None) -> dict[int, Duty]:
    """Gives the trackers on duty at `at` (of `trackers`, else all) by the stored roster."""
    tz = timezone.get_default_timezone()
    entries = RosterEntry.objects.filter(date__in=covering_days(at, tz)).select_related("shift")
    if trackers is not None:
        ids = list(trackers)
        entries = entries.filter(Q(tracker_id__in=ids) | Q(substitute_id__in=ids))
    return duties(entries, at, tz)


def on_duty(tracker, at: dt.datetime) -> bool:
    """Whether `tracker` is on duty at `at`: on a shift covering it and not on leave, or the
    substitute of one who is."""
    return tracker.pk in duty_at(at, [tracker.pk])


def rostered(trackers: Iterable[int]) -> set[int]:
    """Gives those of `trackers` that appear in the roster at all (watched only on duty)."""
    ids = list(trackers)
    found = RosterEntry.objects.filter(Q(tracker_id__in=ids) | Q(substitute_id__in=ids))
    return {
        t for pair in found.values_list("tracker_id", "substitute_id") for t in pair if t in ids
    }


def check_pattern(pattern: str) -> str:
    """Gives the pattern normalised (``weekdays``, ``daily``, ``N on / M off``); `BadInput`
    naming ``pattern`` otherwise."""
    word = pattern.strip().lower()
    if word in ("weekdays", "daily"):
        return word
    match = ROTATION.match(pattern)
    if match is None or int(match[1]) < 1 or int(match[1]) + int(match[2]) > 31:
        raise BadInput(f"pattern must be {PATTERNS_HELP}", field="pattern")
    return f"{int(match[1])} on / {int(match[2])} off"


def works(pattern: str, day: dt.date, key: int = 0) -> bool:
    """Whether a tracker (`key`, its id) works on `day` by a checked `pattern`."""
    if pattern == "daily":
        return True
    if pattern == "weekdays":
        return day.weekday() < 5
    match = ROTATION.match(pattern)
    assert match is not None, pattern
    on, off = int(match[1]), int(match[2])
    return (day.toordinal() + key) % (on + off) < on


def month_days(year: int, month: int) -> list[dt.date]:
    """Gives every date of the month."""
    return [dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def generate_month(
    trackers: Iterable[int], year: int, month: int, pattern: str, shift: Shift
) -> int:
    """Puts `trackers` on `shift` on the days of the month `pattern` gives; gives the number of
    entries made. Entries already there (a leave, another generation) are kept as they are."""
    pattern = check_pattern(pattern)
    trackers = list(trackers)
    rows = [
        RosterEntry(tracker_id=t, date=day, shift=shift, kind=RosterEntry.Kind.ON_DUTY)
        for t in trackers
        for day in month_days(year, month)
        if works(pattern, day, t)
    ]
    days = month_days(year, month)
    stored = RosterEntry.objects.filter(date__range=(days[0], days[-1]), shift=shift)
    before = stored.count()
    RosterEntry.objects.bulk_create(rows, ignore_conflicts=True)
    return stored.count() - before
