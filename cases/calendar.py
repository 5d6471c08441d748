"""Deadlines on a work calendar (工作日历): pure date arithmetic, no Django and no database.

A `Calendar` says which moments are working time: the working periods of a day (08:30–12:00 and
13:30–17:30 by default), other periods for parts of the year (`Season`, e.g. summer hours), the
official holidays and make-up working days (调休) of China from the `chinesecalendar` library,
and per-date overrides (`DayOverride`) that win over everything else. Outside the library's
years (2004–2026 for chinesecalendar 1.11) a day is a working day from Monday to Friday.

Time limits (时限) count in one of four units (`cases.models.LimitUnit`):

* ``working_hours`` — only working time counts: 2 working hours from Friday 17:50 end on
  Monday 10:30.
* ``working_days`` — the same clock time N working days later. A start outside working time
  (at night, at lunch, on a holiday) counts from the start of the next working period, so a
  case reported on Saturday with 1 working day is due on Tuesday 08:30. When the target day's
  periods end before that clock time (shorter seasonal or override hours) the deadline is the
  end of its last period, and when they begin after it, the start of its first: a deadline is
  always within the target day's working hours. Working days are whole numbers.
* ``natural_days`` — the same clock time N calendar days later; fractions count as 24 hours.
* ``natural_hours`` — plain elapsed time.

A pause (挂起: the case is on hold) stops the clock: it moves the deadline by the time paused,
measured in the limit's own terms (working time for the working units, elapsed time for the
natural ones). Only a pause that begins before the deadline (as moved by earlier pauses)
counts; it counts whole, even when it runs past the deadline.

Times are aware datetimes in, aware datetimes in the calendar's zone (Asia/Shanghai) out.
Working arithmetic runs on the zone's wall clock, which is exact for a zone without daylight
saving time (China has had none since 1991). A period may not run past midnight.

All of it walks a day at a time, never a minute at a time: 400 working hours is ~70 steps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "NATURAL_UNITS",
    "SHANGHAI",
    "STANDARD_PERIODS",
    "UNITS",
    "WORKING_UNITS",
    "Calendar",
    "DayOverride",
    "Period",
    "Season",
    "official_workday",
    "parse_periods",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
STANDARD_PERIODS = (("08:30", "12:00"), ("13:30", "17:30"))
WORKING_UNITS = ("working_hours", "working_days")
NATURAL_UNITS = ("natural_days", "natural_hours")
UNITS = WORKING_UNITS + NATURAL_UNITS
# A calendar with this many days in a row without working time has none to give: stop looking.
MAX_IDLE_DAYS = 3660
# The largest working limits `Calendar.add` takes (about 50 years of working time), so that a
# wrong figure in a configuration fails at once instead of walking the calendar for minutes.
MAX_WORKING_HOURS = 100_000
MAX_WORKING_DAYS = 12_500

State = Literal["normal", "warning", "overdue"]
Period = tuple[int, int]  # seconds after midnight: start inclusive, end exclusive
Pause = tuple[datetime, datetime]
_CLOCK = re.compile(r"(\d{2}):(\d{2})", re.ASCII)
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})", re.ASCII)
_DAY = timedelta(days=1)


def official_workday(day: date) -> bool | None:
    """Gives whether `day` is an official working day in China (make-up days included), or
    None for a year the `chinesecalendar` library does not cover."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


# --- periods ---------------------------------------------------------------------------------


def _seconds(clock: str | time, *, end: bool) -> int:
    if isinstance(clock, time):
        return clock.hour * 3600 + clock.minute * 60 + clock.second
    match = _CLOCK.fullmatch(str(clock))
    hours, minutes = (int(match[1]), int(match[2])) if match else (99, 99)
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end)):
        raise ValueError(f"{clock!r} is no time of day HH:MM (24:00 only as an end)")
    return hours * 3600 + minutes * 60


def parse_periods(periods: Iterable[Sequence[str | time | int]]) -> tuple[Period, ...]:
    """Gives working periods as (start, end) seconds after midnight, from pairs of "HH:MM"
    texts (or `time`s, or seconds); `ValueError` unless each starts before it ends and they
    are in order without overlapping."""
    parsed: list[Period] = []
    for pair in periods:
        if len(pair) != 2:
            raise ValueError(f"a period is a [start, end] pair, not {pair!r}")
        start, end = (
            value if isinstance(value, int) else _seconds(value, end=which == 1)
            for which, value in enumerate(pair)
        )
        if not 0 <= start < end <= 86400:
            raise ValueError(f"period {pair!r} must start before it ends, within one day")
        if parsed and start < parsed[-1][1]:
            raise ValueError(f"period {pair!r} overlaps or precedes the one before it")
        parsed.append((start, end))
    return tuple(parsed)


def _month_day(text: str) -> tuple[int, int]:
    match = _MONTH_DAY.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is no month-day MM-DD")
    date(2000, int(match[1]), int(match[2]))  # a leap year, so 02-29 is a valid day
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class Season:
    """Working periods for part of every year (e.g. summer hours, 夏令时作息), from month-day
    `start` to month-day `end` inclusive ("06-01" … "09-30"); an end before the start runs
    across the new year ("11-15" … "03-15")."""

    start: str
    end: str
    periods: tuple[Period, ...]
    name: str = ""

    def __post_init__(self) -> None:
        _month_day(self.start), _month_day(self.end)
        object.__setattr__(self, "periods", parse_periods(self.periods))

    def holds(self, day: date) -> bool:
        """Gives whether `day` falls within this season."""
        first, last, today = _month_day(self.start), _month_day(self.end), (day.month, day.day)
        if first <= last:
            return first <= today <= last
        return today >= first or today <= last


@dataclass(frozen=True)
class DayOverride:
    """One date set by hand: working or not, and its own periods (None: the usual ones)."""

    working: bool
    periods: tuple[Period, ...] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.periods is not None:
            object.__setattr__(self, "periods", parse_periods(self.periods))


# --- the calendar ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """A work calendar as a value: which moments are working time, and deadlines on it.

    `periods` are the usual working periods of a working day; `seasons` replace them on their
    dates (the first season holding a date wins); `days` override single dates; `official`
    tells whether a date is an official working day (None: unknown, so Monday–Friday), or is
    None itself to ignore official holidays. `warning_ratio` is the share of a limit used
    from which `deadline_state` warns.
    """

    periods: tuple[Period, ...] = STANDARD_PERIODS  # type: ignore[assignment]
    seasons: tuple[Season, ...] = ()
    days: Mapping[date, DayOverride] = field(default_factory=dict, hash=False)
    official: Callable[[date], bool | None] | None = official_workday
    tz: ZoneInfo = SHANGHAI
    warning_ratio: float = 0.8
    key: str = "default"
    _day_cache: dict[date, tuple[Period, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "periods", parse_periods(self.periods))
        object.__setattr__(self, "seasons", tuple(self.seasons))
        object.__setattr__(self, "days", dict(self.days))
        if not 0 < self.warning_ratio <= 1:
            raise ValueError("warning_ratio must be within (0, 1]")

    # --- days --------------------------------------------------------------------------------

    def periods_on(self, day: date) -> tuple[Period, ...]:
        """Gives the working periods of `day`: none on a day off."""
        found = self._day_cache.get(day)
        if found is None:
            found = self._periods_on(day)
            if len(self._day_cache) > 50_000:
                self._day_cache.clear()
            self._day_cache[day] = found
        return found

    def _periods_on(self, day: date) -> tuple[Period, ...]:
        override = self.days.get(day)
        if override is not None:
            if not override.working:
                return ()
            if override.periods is not None:
                return override.periods
        else:
            official = self.official(day) if self.official is not None else None
            working = day.weekday() < 5 if official is None else official
            if not working:
                return ()
        season = next((s for s in self.seasons if s.holds(day)), None)
        return season.periods if season is not None else self.periods

    def is_working_day(self, day: date) -> bool:
        """Gives whether `day` has any working time."""
        return bool(self.periods_on(day))

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of `day` as naive wall-clock datetimes."""
        midnight = datetime.combine(day, time())
        return [
            (midnight + timedelta(seconds=a), midnight + timedelta(seconds=b))
            for a, b in self.periods_on(day)
        ]

    # --- wall clock --------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"an aware datetime is needed, not {moment!r}")
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def _aware(self, wall: datetime) -> datetime:
        return wall.replace(tzinfo=self.tz)

    def _days_from(self, day: date):
        """Yields `day` and the days after it; `ValueError` after MAX_IDLE_DAYS in a row
        without working time (a calendar that never works)."""
        idle = 0
        while True:
            yield day
            idle = 0 if self.periods_on(day) else idle + 1
            if idle > MAX_IDLE_DAYS:
                raise ValueError(f"calendar {self.key!r} has no working time after {day}")
            day += _DAY

    def _next_working(self, wall: datetime) -> datetime:
        """The first moment of working time at or after `wall`."""
        for day in self._days_from(wall.date()):
            for a, b in self._intervals(day):
                if wall < b:
                    return max(a, wall)
        raise AssertionError("unreachable")

    def _add_working_time(self, wall: datetime, span: timedelta) -> datetime:
        """The earliest moment at which `span` of working time after `wall` has passed."""
        if span <= timedelta(0):
            return wall
        remaining = span
        for day in self._days_from(wall.date()):
            for a, b in self._intervals(day):
                if b <= wall:
                    continue
                available = b - max(a, wall)
                if remaining <= available:
                    return max(a, wall) + remaining
                remaining -= available
        raise AssertionError("unreachable")

    def _add_working_days(self, wall: datetime, count: int) -> datetime:
        if count == 0:
            return wall
        begin = self._next_working(wall)
        clock = begin - datetime.combine(begin.date(), time())
        target = begin.date()
        for _ in range(count):
            target = self._next_working(datetime.combine(target + _DAY, time())).date()
        periods = self.periods_on(target)
        seconds = min(max(clock.total_seconds(), periods[0][0]), periods[-1][1])
        return datetime.combine(target, time()) + timedelta(seconds=seconds)

    def _working_between(self, a: datetime, b: datetime) -> timedelta:
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            for start, end in self._intervals(day):
                low, high = max(start, a), min(end, b)
                if low < high:
                    total += high - low
            day += _DAY
        return total

    # --- the public arithmetic ---------------------------------------------------------------

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Gives the working time inside [a, b] (zero when b is not after a)."""
        start, end = self._local(a), self._local(b)
        return self._working_between(start, end) if start < end else timedelta(0)

    def add(
        self,
        start: datetime,
        amount: Decimal | float | int,
        unit: str = "working_hours",
        pauses: Iterable[Pause] = (),
    ) -> datetime:
        """Gives the deadline of a limit of `amount` `unit`s that starts at `start`, moved by
        the `pauses` (on-hold intervals) that begin before it (see the module docstring)."""
        return self._paused(self._add(start, amount, unit), start, unit, pauses)

    def _paused(
        self, unpaused: datetime, start: datetime, unit: str, pauses: Iterable[Pause]
    ) -> datetime:
        """Moves `unpaused` by the pauses after `start` that begin before it (as moved)."""
        moved, paused = unpaused, timedelta(0)
        for a, b in _merge(pauses, start):
            if a >= moved:
                break
            paused += self._measure(a, b, unit)
            moved = self._extend(unpaused, paused, unit)
        return moved

    def _add(self, start: datetime, amount: Decimal | float | int, unit: str) -> datetime:
        wall = self._local(start)
        try:
            if unit == "working_hours":
                hours = _bounded(amount, MAX_WORKING_HOURS)
                return self._aware(self._add_working_time(wall, _span(hours, 3600)))
            if unit == "working_days":
                days = _whole(_bounded(amount, MAX_WORKING_DAYS))
                return self._aware(self._add_working_days(wall, days))
            if unit == "natural_days":
                return self._aware(wall + _span(amount, 86400))
            if unit == "natural_hours":
                return _elapsed(start, _span(amount, 3600), self.tz)
        except OverflowError:
            raise ValueError(f"{amount} {unit} after {start} is past the year 9999") from None
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")

    def _measure(self, a: datetime, b: datetime, unit: str) -> timedelta:
        """The time between a and b that a limit in `unit` counts."""
        if unit in NATURAL_UNITS:
            return max(b.astimezone(UTC) - a.astimezone(UTC), timedelta(0))
        return self.working_time_between(a, b)

    def _extend(self, deadline: datetime, span: timedelta, unit: str) -> datetime:
        try:
            if unit in NATURAL_UNITS:
                return _elapsed(deadline, span, self.tz)
            return self._aware(self._add_working_time(self._local(deadline), span))
        except OverflowError:
            raise ValueError("a pause moves the deadline past the year 9999") from None

    def _limit(
        self, started: datetime, deadline: datetime, unit: str, pauses: Iterable[Pause]
    ) -> timedelta:
        """The time a limit from `started` to `deadline` counts, the pauses left out."""
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
        return self._used(started, deadline, unit, _merge(pauses, started))

    def _used(self, started: datetime, now: datetime, unit: str, merged: list[Pause]) -> timedelta:
        paused = sum((self._measure(a, min(b, now), unit) for a, b in merged), timedelta())
        return self._measure(started, now, unit) - paused

    def _warning_span(self, total: timedelta, warning_ratio: float | Decimal | None) -> timedelta:
        ratio = float(self.warning_ratio if warning_ratio is None else warning_ratio)
        return total * ratio

    def warning_at(
        self,
        started: datetime,
        deadline: datetime,
        unit: str = "working_hours",
        warning_ratio: float | Decimal | None = None,
        pauses: Iterable[Pause] = (),
    ) -> datetime:
        """Gives the moment from which `deadline_state` says "warning": when `warning_ratio`
        (default: the calendar's) of the limit from `started` to `deadline` is used."""
        total = self._limit(started, deadline, unit, pauses)
        unpaused = self._extend(started, self._warning_span(total, warning_ratio), unit)
        return self._paused(unpaused, started, unit, pauses)

    def deadline_state(
        self,
        started: datetime,
        deadline: datetime,
        now: datetime,
        warning_ratio: float | Decimal | None = None,
        unit: str = "working_hours",
        pauses: Iterable[Pause] = (),
    ) -> State:
        """Gives "overdue" from `deadline` on, "warning" once `warning_ratio` (default: the
        calendar's) of the limit is used, else "normal". The limit and its use are measured
        as the limit counts (working time for working units, elapsed time for the natural
        ones), without the time paused."""
        total = self._limit(started, deadline, unit, pauses)
        if now >= deadline:
            return "overdue"
        if now < started:
            return "normal"
        used = self._used(started, now, unit, _merge(pauses, started))
        return "warning" if used >= self._warning_span(total, warning_ratio) else "normal"


# --- amounts and pauses ----------------------------------------------------------------------


def _decimal(amount: Decimal | float | int) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | float | int):
        raise ValueError(f"an amount is a number, not {amount!r}")
    if isinstance(amount, float) and not math.isfinite(amount):
        raise ValueError(f"an amount must be finite, not {amount!r}")
    try:
        value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"an amount is a number, not {amount!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"an amount must be finite and not negative, not {amount!r}")
    return value


def _bounded(amount: Decimal | float | int, most: int) -> Decimal:
    value = _decimal(amount)
    if value > most:
        raise ValueError(f"an amount of {amount} is more than the most, {most}")
    return value


def _elapsed(start: datetime, span: timedelta, tz: ZoneInfo) -> datetime:
    """`span` of elapsed time after `start` (in UTC, so a daylight saving change counts)."""
    return (start.astimezone(UTC) + span).astimezone(tz)


def _span(amount: Decimal | float | int, unit_seconds: int) -> timedelta:
    """The amount as a timedelta, to the microsecond."""
    microseconds = (_decimal(amount) * unit_seconds * 1_000_000).to_integral_value()
    try:
        return timedelta(microseconds=int(microseconds))
    except OverflowError:
        raise ValueError(f"an amount of {amount} is too large") from None


def _whole(amount: Decimal | float | int) -> int:
    value = _decimal(amount)
    if value != value.to_integral_value():
        raise ValueError(f"working days are whole numbers, not {amount}")
    return int(value)


def _merge(pauses: Iterable[Pause], start: datetime) -> list[Pause]:
    """Gives the pauses cut to begin no earlier than `start`, in order, overlaps merged."""
    cut: list[Pause] = []
    for a, b in pauses:
        if b < a:
            raise ValueError(f"a pause ends before it begins: {a} … {b}")
        a = max(a, start)
        if a < b:
            cut.append((a, b))
    merged: list[Pause] = []
    for a, b in sorted(cut):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
