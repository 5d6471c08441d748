"""The periods of the weekly, monthly and yearly reports (time arithmetic, as properties): the
period holds its day, starts on a Monday / the 1st / 1 January at local midnight, and the next
period starts where it ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from core.errors import BadInput
from evaluation.reports import period_of

DAYS = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31))


@given(st.sampled_from(["week", "month", "year"]), DAYS)
def test_a_period_holds_its_day_and_the_next_starts_where_it_ends(kind, day):
    start, end = period_of(kind, day)
    local = timezone.get_default_timezone()
    assert start.tzinfo is not None and start.astimezone(local).time() == dt.time()
    assert start.date() <= day < end.date()
    first = start.date()
    if kind == "week":
        assert first.weekday() == 0 and (end.date() - first).days == 7
    elif kind == "month":
        assert first.day == 1 and end.date().day == 1 and 28 <= (end.date() - first).days <= 31
    else:
        assert (first.month, first.day) == (1, 1) and (end.date() - first).days in (365, 366)
    assert period_of(kind, end.date())[0] == end
    assert period_of(kind, end.date() - dt.timedelta(days=1)) == (start, end)


def test_by_hand():
    start, end = period_of("month", dt.date(2025, 2, 14))
    assert (start.date(), end.date()) == (dt.date(2025, 2, 1), dt.date(2025, 3, 1))
    start, end = period_of("week", dt.date(2025, 3, 9))  # a Sunday
    assert (start.date(), end.date()) == (dt.date(2025, 3, 3), dt.date(2025, 3, 10))
    with pytest.raises(BadInput):
        period_of("decade", dt.date(2025, 3, 9))
