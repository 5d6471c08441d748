"""The work calendar's arithmetic (cases/calendar.py): deadlines in working hours, working days
and natural time across weekends, China's official holidays and make-up days, overrides,
seasonal hours and pauses.

Expected deadlines are worked out by hand from the day list of the `chinesecalendar` library
(asserted next to each example); the properties compare against a minute-by-minute count.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cases.calendar import SHANGHAI, Calendar, DayOverride, Season

SUMMER = Season("06-01", "09-30", [["08:30", "12:00"], ["14:00", "18:00"]], name="夏季")
STANDARD = Calendar()
WITH_SUMMER = Calendar(seasons=(SUMMER,))
NO_HOLIDAYS = Calendar(official=None)
WITH_OVERRIDES = Calendar(
    days={
        date(2026, 12, 7): DayOverride(working=False, note="停电"),
        date(2026, 12, 12): DayOverride(working=True, periods=[["09:00", "11:00"]]),
        date(2026, 3, 2): DayOverride(working=True, periods=[["10:00", "12:00"]]),
    }
)
CALENDARS = [STANDARD, WITH_SUMMER, NO_HOLIDAYS, WITH_OVERRIDES]


def at(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def is_workday(day: date) -> bool:
    return chinese_calendar.is_workday(day)


# --- fixed examples ---------------------------------------------------------------------------


def test_friday_evening_with_two_working_hours_is_due_monday_morning():
    assert [is_workday(date(2026, 12, d)) for d in (4, 5, 6, 7)] == [True, False, False, True]
    # Friday 17:50 is after work: Monday 08:30 + 2 h.
    assert STANDARD.add(at(2026, 12, 4, 17, 50), Decimal("2"), "working_hours") == at(
        2026, 12, 7, 10, 30
    )


def test_a_limit_running_into_national_day_resumes_after_it():
    assert is_workday(date(2026, 9, 30))
    assert not any(is_workday(date(2026, 10, d)) for d in range(1, 8))
    assert is_workday(date(2026, 10, 8))
    # 16:30–17:30 on Sep 30 is 1 h; the other 3 h run from 08:30 on Oct 8.
    assert STANDARD.add(at(2026, 9, 30, 16, 30), 4, "working_hours") == at(2026, 10, 8, 11, 30)
    assert STANDARD.working_time_between(at(2026, 10, 1), at(2026, 10, 8)) == timedelta(0)
    assert STANDARD.working_time_between(at(2026, 9, 30), at(2026, 10, 9)) == timedelta(hours=15)


def test_make_up_weekend_days_are_working_days():
    assert date(2026, 9, 20).weekday() == 6 and is_workday(date(2026, 9, 20))
    assert date(2026, 10, 10).weekday() == 5 and is_workday(date(2026, 10, 10))
    assert not is_workday(date(2026, 9, 19))
    # Saturday Sep 19 is off; Sunday Sep 20 is a working day from 08:30.
    assert STANDARD.add(at(2026, 9, 19, 10), 1, "working_hours") == at(2026, 9, 20, 9, 30)
    # Friday Oct 9 17:00: half an hour that day, half an hour on Saturday Oct 10.
    assert STANDARD.add(at(2026, 10, 9, 17), 1, "working_hours") == at(2026, 10, 10, 9)
    assert STANDARD.is_working_day(date(2026, 10, 10))


def test_without_official_holidays_national_day_is_an_ordinary_thursday():
    assert NO_HOLIDAYS.add(at(2026, 10, 1, 9), 1, "working_hours") == at(2026, 10, 1, 10)
    assert not NO_HOLIDAYS.is_working_day(date(2026, 10, 10))  # a plain Saturday


def test_day_overrides_win_over_everything():
    # Monday Dec 7 is set off: Friday 17:50 + 2 h runs to Tuesday.
    assert WITH_OVERRIDES.add(at(2026, 12, 4, 17, 50), 2) == at(2026, 12, 8, 10, 30)
    # Saturday Dec 12 works 09:00–11:00 only: Friday Dec 11 17:00 + 2 h.
    assert WITH_OVERRIDES.add(at(2026, 12, 11, 17), 2) == at(2026, 12, 12, 10, 30)
    assert WITH_OVERRIDES.working_time_between(at(2026, 12, 12), at(2026, 12, 13)) == timedelta(
        hours=2
    )
    # A working override without periods works the usual ones.
    usual = Calendar(days={date(2026, 12, 5): DayOverride(working=True)})
    assert usual.add(at(2026, 12, 4, 17, 50), 2) == at(2026, 12, 5, 10, 30)
    # An override turns an official holiday into a working day, too.
    assert not is_workday(date(2026, 10, 2))
    opened = Calendar(days={date(2026, 10, 2): DayOverride(working=True)})
    assert opened.add(at(2026, 10, 1, 12), 1) == at(2026, 10, 2, 9, 30)


def test_summer_hours_apply_within_their_season():
    # Wednesday Jul 1: 11:00–12:00, then from 14:00 (summer) rather than 13:30.
    assert WITH_SUMMER.add(at(2026, 7, 1, 11), 2) == at(2026, 7, 1, 15)
    assert WITH_SUMMER.add(at(2026, 7, 1, 17, 30), 1) == at(2026, 7, 2, 9)  # to 18:00, then 08:30
    # The season holds on its last day, Sep 30, and not on Nov 4.
    assert WITH_SUMMER.working_time_between(at(2026, 9, 30), at(2026, 10, 1)) == timedelta(
        hours=7.5
    )
    assert WITH_SUMMER.periods_on(date(2026, 9, 30))[1] == (14 * 3600, 18 * 3600)
    assert WITH_SUMMER.add(at(2026, 11, 4, 11), 2) == at(2026, 11, 4, 14, 30)


def test_a_season_across_the_new_year_wraps():
    winter = Calendar(seasons=[Season("11-15", "03-15", [["09:00", "12:00"], ["13:00", "17:00"]])])
    assert winter.periods_on(date(2026, 12, 1)) == ((9 * 3600, 12 * 3600), (13 * 3600, 17 * 3600))
    assert winter.periods_on(date(2026, 3, 16)) == ((30600, 43200), (48600, 63000))
    assert winter.add(at(2026, 12, 1, 11), 2) == at(2026, 12, 1, 14)


def test_beyond_the_library_years_monday_to_friday_work():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 1))
    assert date(2027, 1, 1).weekday() == 4  # a Friday: working without the library's list
    assert STANDARD.add(at(2027, 1, 1, 17), 1) == at(2027, 1, 4, 9)
    new_year = Calendar(days={date(2027, 1, 1): DayOverride(working=False)})
    assert new_year.add(at(2026, 12, 31, 17), 1) == at(2027, 1, 4, 9)
    assert STANDARD.add(at(2003, 6, 6, 17), 1) == at(2003, 6, 9, 9)


def test_working_days_are_the_same_clock_time_later():
    assert STANDARD.add(at(2026, 12, 4, 15), 1, "working_days") == at(2026, 12, 7, 15)
    # Outside working time (Saturday, lunch) counting starts at the next working period.
    assert STANDARD.add(at(2026, 12, 5, 10), 1, "working_days") == at(2026, 12, 8, 8, 30)
    assert STANDARD.add(at(2026, 12, 2, 12, 30), 1, "working_days") == at(2026, 12, 3, 13, 30)
    # Across National Day: Oct 8, 9 and Saturday Oct 10 (make-up) are the next working days.
    assert STANDARD.add(at(2026, 9, 30, 10), 1, "working_days") == at(2026, 10, 8, 10)
    assert STANDARD.add(at(2026, 9, 30, 10), 3, "working_days") == at(2026, 10, 10, 10)
    # A target day whose work ends earlier ends the limit at its last period's end.
    short = Calendar(days={date(2026, 12, 3): DayOverride(True, [["08:30", "12:00"]])})
    assert short.add(at(2026, 12, 2, 15), 1, "working_days") == at(2026, 12, 3, 12)
    assert STANDARD.add(at(2026, 12, 2, 15), 0, "working_days") == at(2026, 12, 2, 15)


def test_natural_units_are_plain_time():
    start = at(2026, 12, 4, 17, 50)
    assert STANDARD.add(start, 1, "natural_days") == at(2026, 12, 5, 17, 50)
    assert STANDARD.add(start, Decimal("0.25"), "natural_hours") == at(2026, 12, 4, 18, 5)
    assert STANDARD.add(start, 1.5, "natural_days") == at(2026, 12, 6, 5, 50)
    # Any offset in, Asia/Shanghai out.
    deadline = STANDARD.add(datetime(2026, 12, 4, 9, 50, tzinfo=UTC), 2, "working_hours")
    assert deadline == at(2026, 12, 7, 10, 30) and deadline.utcoffset() == timedelta(hours=8)
    assert str(deadline.tzinfo) == "Asia/Shanghai"


def test_a_pause_moves_the_deadline_by_the_working_time_paused():
    start = at(2026, 12, 2, 9)  # Wednesday; 4 h are due at 14:30
    assert STANDARD.add(start, 4) == at(2026, 12, 2, 14, 30)
    assert STANDARD.add(start, 4, pauses=[(at(2026, 12, 2, 10), at(2026, 12, 2, 11))]) == at(
        2026, 12, 2, 15, 30
    )
    # Paused over lunch: no working time paused.
    lunch = [(at(2026, 12, 2, 12, 10), at(2026, 12, 2, 13, 20))]
    assert STANDARD.add(start, 4, pauses=lunch) == at(2026, 12, 2, 14, 30)
    # Paused after the deadline: no effect; paused from before the start: counted from it.
    late = [(at(2026, 12, 2, 15), at(2026, 12, 2, 16))]
    assert STANDARD.add(start, 4, pauses=late) == at(2026, 12, 2, 14, 30)
    early = [(at(2026, 12, 1, 15), at(2026, 12, 2, 9, 30))]
    assert STANDARD.add(start, 4, pauses=early) == at(2026, 12, 2, 15)
    # Overlapping pauses count once; a pause that starts before the moved deadline counts.
    chained = [
        (at(2026, 12, 2, 10), at(2026, 12, 2, 11)),
        (at(2026, 12, 2, 10, 30), at(2026, 12, 2, 11, 30)),
        (at(2026, 12, 2, 15), at(2026, 12, 2, 15, 30)),
    ]
    assert STANDARD.add(start, 4, pauses=chained) == at(2026, 12, 2, 16, 30)
    # Natural limits move by the natural time paused.
    assert STANDARD.add(
        start, 2, "natural_hours", pauses=[(at(2026, 12, 2, 10), at(2026, 12, 2, 10, 45))]
    ) == at(2026, 12, 2, 11, 45)


def test_deadline_states_follow_the_used_share():
    started, deadline = at(2026, 12, 2, 9), at(2026, 12, 2, 14, 30)  # 4 working hours
    # 80% is 3 h 12 min: 09:00–12:00 and 13:30–13:42.
    assert STANDARD.warning_at(started, deadline) == at(2026, 12, 2, 13, 42)
    state = STANDARD.deadline_state
    assert state(started, deadline, at(2026, 12, 2, 12, 30)) == "normal"  # lunch: 3 h used
    assert state(started, deadline, at(2026, 12, 2, 13, 41)) == "normal"
    assert state(started, deadline, at(2026, 12, 2, 13, 42)) == "warning"
    assert state(started, deadline, at(2026, 12, 2, 14, 30)) == "overdue"
    assert state(started, deadline, at(2026, 12, 2, 10), warning_ratio=0.25) == "warning"
    assert state(started, deadline, at(2026, 12, 2, 8)) == "normal"
    # Natural units count natural time: 10 h from midnight warn at 08:00.
    started, deadline = at(2026, 12, 5), at(2026, 12, 5, 10)
    assert state(started, deadline, at(2026, 12, 5, 7, 59), unit="natural_hours") == "normal"
    assert state(started, deadline, at(2026, 12, 5, 8), unit="natural_hours") == "warning"
    # Paused time is not used time.
    started, pause = at(2026, 12, 2, 9), [(at(2026, 12, 2, 10), at(2026, 12, 2, 11))]
    deadline = STANDARD.add(started, 4, pauses=pause)
    assert deadline == at(2026, 12, 2, 15, 30)
    assert state(started, deadline, at(2026, 12, 2, 14, 41), pauses=pause) == "normal"
    assert state(started, deadline, at(2026, 12, 2, 14, 42), pauses=pause) == "warning"
    assert STANDARD.warning_at(started, deadline, pauses=pause) == at(2026, 12, 2, 14, 42)


def test_the_calendar_warning_ratio_is_the_default():
    strict = Calendar(warning_ratio=0.5)
    started, deadline = at(2026, 12, 2, 9), at(2026, 12, 2, 14, 30)
    assert strict.deadline_state(started, deadline, at(2026, 12, 2, 11)) == "warning"
    assert strict.deadline_state(started, deadline, at(2026, 12, 2, 10, 59)) == "normal"


@pytest.mark.parametrize(
    "call",
    [
        lambda: STANDARD.add(datetime(2026, 12, 4, 9), 1),  # naive
        lambda: STANDARD.add(at(2026, 12, 4), -1),
        lambda: STANDARD.add(at(2026, 12, 4), float("nan")),
        lambda: STANDARD.add(at(2026, 12, 4), Decimal("Infinity")),
        lambda: STANDARD.add(at(2026, 12, 4), 1, "fortnights"),
        lambda: STANDARD.add(at(2026, 12, 4), 1.5, "working_days"),
        lambda: STANDARD.add(at(2026, 12, 4), 10**9, "working_hours"),
        lambda: STANDARD.add(at(9999, 12, 1), 365, "natural_days"),
        lambda: STANDARD.add(at(2026, 12, 4), 1, pauses=[(at(2026, 12, 5), at(2026, 12, 4))]),
        lambda: Calendar(periods=[["13:00", "12:00"]]),
        lambda: Calendar(periods=[["08:00", "12:00"], ["11:00", "17:00"]]),
        lambda: Calendar(periods=[["8:00", "12:00"]]),
        lambda: Calendar(periods=[["24:00", "24:00"]]),
        lambda: Season("13-01", "09-30", [["08:30", "12:00"]]),
        lambda: Season("02-30", "09-30", [["08:30", "12:00"]]),
        lambda: Calendar(warning_ratio=0),
        lambda: Calendar(periods=()).add(at(2026, 12, 4), 1),  # never works
    ],
)
def test_bad_arguments_are_value_errors(call):
    with pytest.raises(ValueError):
        call()


def test_long_limits_walk_days_not_minutes():
    looked_up: list[date] = []

    def official(day: date) -> bool | None:
        looked_up.append(day)
        return chinese_calendar.is_workday(day)

    calendar = Calendar(official=official)
    deadline = calendar.add(at(2026, 1, 5, 9), 400, "working_hours")
    assert len(looked_up) == len(set(looked_up)) <= (deadline.date() - date(2026, 1, 5)).days + 1
    began = time.perf_counter()
    for _ in range(100):
        Calendar().add(at(2026, 1, 5, 9), 400, "working_hours")
        Calendar().working_time_between(at(2025, 1, 1), at(2026, 1, 1))
    assert time.perf_counter() - began < 5  # ~0.1 s on a laptop


# --- properties -------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 3, 1)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=SHANGHAI)
)
hours = st.decimals(min_value=0, max_value=300, places=2)
calendars = st.sampled_from(CALENDARS)
HOLIDAYS = chinese_calendar.get_holidays(date(2025, 1, 1), date(2026, 12, 31))


def reference_working_minutes(a: datetime, b: datetime, official: bool = True) -> int:
    """The working minutes in [a, b) of the standard calendar, one minute at a time."""
    count, minute = 0, a
    while minute < b:
        day = minute.date()
        if official and 2004 <= day.year <= 2026:
            working = chinese_calendar.is_workday(day)
        else:
            working = day.weekday() < 5
        clock = (minute.hour, minute.minute)
        if working and ((8, 30) <= clock < (12, 0) or (13, 30) <= clock < (17, 30)):
            count += 1
        minute += timedelta(minutes=1)
    return count


@settings(max_examples=150, deadline=None)
@given(moments, st.integers(0, 6 * 24 * 60), st.booleans())
def test_working_time_is_the_count_of_working_minutes(start, minutes, official):
    end = start + timedelta(minutes=minutes)
    calendar = STANDARD if official else NO_HOLIDAYS
    expected = timedelta(minutes=reference_working_minutes(start, end, official))
    assert calendar.working_time_between(start, end) == expected


@settings(max_examples=200, deadline=None)
@given(calendars, moments, hours, hours)
def test_more_hours_never_end_sooner(calendar, start, h1, h2):
    h1, h2 = sorted((h1, h2))
    assert calendar.add(start, h1) <= calendar.add(start, h2)


@settings(max_examples=200, deadline=None)
@given(calendars, moments, moments, hours, st.sampled_from(["working_hours", "natural_hours"]))
def test_a_later_start_never_ends_sooner(calendar, s1, s2, amount, unit):
    s1, s2 = sorted((s1, s2))
    assert calendar.add(s1, amount, unit) <= calendar.add(s2, amount, unit)


@settings(max_examples=200, deadline=None)
@given(calendars, moments, st.integers(0, 40), st.integers(0, 40))
def test_more_working_days_never_end_sooner(calendar, start, n1, n2):
    n1, n2 = sorted((n1, n2))
    assert calendar.add(start, n1, "working_days") <= calendar.add(start, n2, "working_days")


@settings(max_examples=200, deadline=None)
@given(calendars, moments, hours, hours)
def test_adding_hours_in_two_steps_is_adding_their_sum(calendar, start, a, b):
    assert calendar.add(calendar.add(start, a), b) == calendar.add(start, a + b)


@settings(max_examples=200, deadline=None)
@given(calendars, moments, hours)
def test_the_working_time_to_the_deadline_is_the_limit(calendar, start, amount):
    deadline = calendar.add(start, amount)
    assert calendar.working_time_between(start, deadline) == timedelta(hours=float(amount))


@settings(max_examples=200, deadline=None)
@given(moments, hours.filter(lambda h: h > 0))
def test_a_deadline_falls_in_working_time_of_a_working_day(start, amount):
    deadline = STANDARD.add(start, amount)
    assume(deadline.year <= 2026)
    assert chinese_calendar.is_workday(deadline.date())
    clock = (deadline.hour, deadline.minute, deadline.second)
    assert (8, 30, 0) < clock <= (12, 0, 0) or (13, 30, 0) < clock <= (17, 30, 0)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(HOLIDAYS), st.sampled_from([STANDARD, WITH_SUMMER]))
def test_holidays_never_count(day, calendar):
    midnight = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    assert calendar.working_time_between(midnight, midnight + timedelta(days=1)) == timedelta(0)
    assert not calendar.is_working_day(day)


@settings(max_examples=200, deadline=None)
@given(
    calendars,
    moments,
    hours.filter(lambda h: h > 0),
    st.lists(st.tuples(st.floats(0, 0.999), st.integers(0, 4 * 24 * 60)), min_size=1, max_size=3),
)
def test_a_pause_shifts_the_deadline_by_exactly_the_working_time_paused(
    calendar, start, amount, drawn
):
    deadline = calendar.add(start, amount)
    pauses = []
    for share, minutes in drawn:
        a = start + (deadline - start) * share
        pauses.append((a, a + timedelta(minutes=minutes)))
    moved = calendar.add(start, amount, pauses=pauses)
    # The union of the pauses, cut into its disjoint stretches, measured without `add`.
    stretches: list[list[datetime]] = []
    for a, b in sorted(pauses):
        if stretches and a <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], b)
        else:
            stretches.append([a, b])
    paused = sum((calendar.working_time_between(a, b) for a, b in stretches), timedelta())
    assert calendar.working_time_between(deadline, moved) == paused
    assert moved >= deadline
    # A pause that begins at or after the deadline changes nothing.
    assert calendar.add(start, amount, pauses=[(deadline, deadline + timedelta(days=3))]) == (
        deadline
    )


@settings(max_examples=150, deadline=None)
@given(
    moments,
    st.integers(1, 60).map(lambda quarters: Decimal(quarters) / 4),
    st.integers(0, 10 * 24 * 60),
    st.sampled_from([0.5, 0.8, 0.9]),
)
def test_deadline_states_match_the_minutes_used(start, amount, minutes, ratio):
    deadline = STANDARD.add(start, amount)
    now = start + timedelta(minutes=minutes)
    state = STANDARD.deadline_state(start, deadline, now, warning_ratio=ratio)
    used = reference_working_minutes(start, now)
    if now >= deadline:
        assert state == "overdue"
    else:
        assert state == ("warning" if used >= float(amount) * 60 * ratio else "normal")
        assert (now >= STANDARD.warning_at(start, deadline, warning_ratio=ratio)) == (
            state == "warning"
        )
