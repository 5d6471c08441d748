"""The case index (案件指数, spec 5.1.4.1.4) and the trend by time slice, with the same slices a
year before (同比) and in the period before (环比); the slices also cut the hot spots' time.

The index is the work of the five stages of the main path in the period: one point per
``accept``, ``register``, ``dispatch``, ``feedback`` and ``check`` event on the selected cases
(whenever they were reported). A slice is an hour for periods up to two days, a day up to 92
days, a month beyond (`Period.slice`), in local time.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet
from django.db.models.functions import Trunc
from django.utils import timezone

from accounts.scoping import Scope
from cases.models import CaseEvent

from .statistics import DAY, Period, Selection


def _by_slice(cases: QuerySet, field: str, unit: str, start: dt.datetime) -> dict[int, int]:
    """Counts of `cases` per slice of `unit` by `field`, keyed by the slice's index from
    `start` (local time)."""
    rows = (
        cases.annotate(slice=Trunc(field, unit, tzinfo=timezone.get_current_timezone()))
        .values("slice")
        .annotate(n=Count("id"))
    )
    return {slice_index(start, r["slice"], unit): r["n"] for r in rows}


def slice_index(start: dt.datetime, at: dt.datetime, unit: str) -> int:
    start, at = timezone.localtime(start), timezone.localtime(at)
    if unit == "hour":
        return int((at - start).total_seconds() // 3600)
    if unit == "day":
        return (at.date() - start.date()).days
    return (at.year - start.year) * 12 + at.month - start.month


def slice_starts(period: Period) -> list[dt.datetime]:
    """The starts of the period's trend slices."""
    unit, at, found = period.slice, timezone.localtime(period.start), []
    while at < period.end:
        found.append(at)
        if unit == "hour":
            at = timezone.localtime(at + dt.timedelta(hours=1))
        elif unit == "day":
            at = (at + DAY + dt.timedelta(hours=2)).replace(hour=0)
        else:
            at = (at.replace(day=1) + 32 * DAY).replace(day=1)
    return found


# The case index (案件指数): the work of the five stages of the main path in the period, one
# point per event (受理 accept, 立案 register, 派遣 dispatch, 处置 feedback, 核查 check) on the
# selected cases, whenever they were reported.
INDEX_ACTIONS = {
    "accept": "受理",
    "register": "立案",
    "dispatch": "派遣",
    "feedback": "处置",
    "check": "核查",
}


def _events(scope: Scope, chosen: Selection, period: Period) -> QuerySet:
    events = CaseEvent.objects.filter(
        action__in=list(INDEX_ACTIONS), at__gte=period.start, at__lt=period.end
    ).order_by()
    cases = chosen.matching(scope)
    if not cases.query.where:  # every case (the whole city, no filter): no join needed
        return events
    return events.filter(case__in=cases.values("pk"))


def _change(now: int, before: int) -> float | None:
    return round((now - before) / before * 100, 1) if before else None


def case_index(scope: Scope, chosen: Selection) -> dict:
    """Gives the case index of the period, per stage, its trend by slice with the same slices
    a year before (同比) and in the period before (环比), and both changes in percent."""
    period = chosen.period
    before, last_year = period.previous(), period.year_before()
    stages = dict(_events(scope, chosen, period).values_list("action").annotate(n=Count("id")))
    index = sum(stages.values())
    earlier = _events(scope, chosen, before).count()
    a_year_ago = _events(scope, chosen, last_year).count()
    unit = period.slice
    now_slices = _by_slice(_events(scope, chosen, period), "at", unit, period.start)
    yoy_slices = _by_slice(_events(scope, chosen, last_year), "at", unit, last_year.start)
    mom_slices = _by_slice(_events(scope, chosen, before), "at", unit, before.start)
    reports = _by_slice(chosen.cases(scope), "reported_at", unit, period.start)
    trend = []
    for n, start in enumerate(slice_starts(period)):
        trend.append(
            {
                "at": start.isoformat(),
                "index": now_slices.get(n, 0),
                "year_before": yoy_slices.get(n, 0),
                "period_before": mom_slices.get(n, 0),
                "reported": reports.get(n, 0),
            }
        )
    return {
        **period.as_json(),
        "slice": unit,
        "index": index,
        "stages": [
            {"action": a, "name": name, "count": stages.get(a, 0)}
            for a, name in INDEX_ACTIONS.items()
        ],
        "period_before": earlier,
        "year_before": a_year_ago,
        "month_on_month_pct": _change(index, earlier),
        "year_on_year_pct": _change(index, a_year_ago),
        "trend": trend,
    }
