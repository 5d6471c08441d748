"""Work calendars from the database as `cases.calendar.Calendar` values, cached per process.

A calendar is read once and kept for `CACHE_SECONDS`; a save or delete of a calendar, season or
day in this process drops the cache at once, and other processes (web workers, Celery) see the
change within `CACHE_SECONDS`. Without a default `WorkCalendar` row the built-in calendar holds:
Monday–Friday 08:30–12:00 and 13:30–17:30 with China's official holidays and make-up days.
"""

from __future__ import annotations

import threading
import time

from django.db.models.signals import post_delete, post_save

from .calendar import STANDARD_PERIODS, Calendar, DayOverride, Season, official_workday
from .models import CalendarDay, SeasonalHours, WorkCalendar

CACHE_SECONDS = 10.0
DEFAULT_KEY, DEFAULT_NAME = "default", "默认工作日历"

_lock = threading.Lock()
_cache: dict[str | None, tuple[float, Calendar]] = {}


def clear_cache(**kwargs) -> None:
    """Forgets every cached calendar (a signal receiver, hence the keyword arguments)."""
    with _lock:
        _cache.clear()


def calendar_from_row(row: WorkCalendar) -> Calendar:
    """Gives the `Calendar` of a `WorkCalendar` row with its seasons and day overrides;
    `ValueError` when a stored period or month-day is malformed."""
    seasons = tuple(
        Season(start=s.start, end=s.end, periods=s.periods, name=s.name)
        for s in row.seasons.order_by("start", "id")
    )
    days = {
        d.date: DayOverride(working=d.working, periods=d.periods, note=d.note)
        for d in row.days.all()
    }
    return Calendar(
        periods=row.periods or STANDARD_PERIODS,
        seasons=seasons,
        days=days,
        official=official_workday if row.use_official_holidays else None,
        warning_ratio=float(row.warning_ratio),
        key=row.key,
    )


def calendar_for(key: str | None = None) -> Calendar:
    """Gives the calendar with this key, or the default one for None (the row marked
    `is_default`, else the built-in calendar); `WorkCalendar.DoesNotExist` for an unknown key."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    if key is None:
        row = WorkCalendar.objects.filter(is_default=True).first()
        calendar = calendar_from_row(row) if row is not None else Calendar()
    else:
        calendar = calendar_from_row(WorkCalendar.objects.get(key=key))
    with _lock:
        _cache[key] = (now, calendar)
    return calendar


def default_calendar() -> Calendar:
    """Gives the default calendar (see `calendar_for`)."""
    return calendar_for(None)


def ensure_default_calendar() -> WorkCalendar:
    """Gives the "default" calendar row, creating it with the standard working periods (and as
    the default calendar unless another one is) when it is missing. Idempotent."""
    row = WorkCalendar.objects.filter(key=DEFAULT_KEY).first()
    if row is not None:
        return row
    row, _ = WorkCalendar.objects.get_or_create(
        key=DEFAULT_KEY,
        defaults={
            "name": DEFAULT_NAME,
            "periods": [list(period) for period in STANDARD_PERIODS],
            "use_official_holidays": True,
            "is_default": not WorkCalendar.objects.filter(is_default=True).exists(),
        },
    )
    return row


for _model in (WorkCalendar, SeasonalHours, CalendarDay):
    post_save.connect(clear_cache, sender=_model, dispatch_uid=f"calendars-save-{_model}")
    post_delete.connect(clear_cache, sender=_model, dispatch_uid=f"calendars-delete-{_model}")
