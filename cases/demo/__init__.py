"""The demo city's case history (演示案件): a few thousand cases over the last months, made
through the same actions as real ones (`cases.actions`), as the demo people.

`generate_demo_cases` plans every case first (`cases.demo.plan`: source, class, point, and the
time and actor of each step), makes sure every state and every box of the demo positions has
something (`cases.demo.cover`), then runs the plans in report-time order (`cases.demo.run`):
each step is the action of its actor's scope with ``at=`` its time. Last, the beat job's
deadline refresh marks what is in warning or overdue at `now`. `manage.py demo_cases` calls it.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from django.db.models import Count
from django.utils import timezone

from cases import deadlines
from cases.calendars import ensure_default_calendar
from cases.categories import load_demo_manual
from cases.models import Case, CaseEvent

from .cover import cover
from .people import DemoPeople
from .plan import Plan, Planner
from .run import run_plans


def generate_demo_cases(
    count: int = 3000,
    days: int = 120,
    seed: int = 1,
    now: dt.datetime | None = None,
    workers: int = 1,
) -> dict:
    """Gives a summary (counts by state, deadline state and source, failures, seconds) after
    generating `count` cases reported over the `days` days before `now` (default: now) with
    `seed`, in up to `workers` processes (`cases.demo.run`). Needs the demo city and the demo
    people; loads the demo manual and calendar."""
    started = time.perf_counter()
    now = (now or timezone.now()).replace(microsecond=0)
    load_demo_manual()
    ensure_default_calendar()
    people = DemoPeople()
    plans, replanned = plan_demo_cases(people, count, days, seed, now)
    planned = time.perf_counter() - started
    ids, errors = run_plans(plans, people, workers)
    deadlines.refresh_deadline_states(now)
    made = Case.objects.filter(pk__in=ids)
    return {
        "cases": len(ids),
        "events": CaseEvent.objects.filter(case_id__in=ids).count(),
        "replanned": replanned,
        "failed": len(errors),
        "errors": errors[:5],
        "states": _counts(made, "state"),
        "deadline_states": _counts(made, "deadline_state"),
        "sources": _counts(made, "source"),
        "plan_seconds": round(planned, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def plan_demo_cases(
    people: DemoPeople, count: int, days: int, seed: int, now: dt.datetime
) -> tuple[list[Plan], int]:
    """Gives the plans of `count` cases in report-time order (the same for the same seed,
    city, people and `now`) and how many the coverage pass re-planned."""
    planner = Planner(random.Random(seed), now, days, people)
    plans = [planner.plan() for _ in range(count)]
    replanned = cover(planner, plans, people, now) if plans else 0
    plans.sort(key=lambda p: p.steps[0].at)
    return plans, replanned


def _counts(cases, field: str) -> dict[str, int]:
    rows = cases.values(field).annotate(n=Count("pk")).order_by("-n")
    return {row[field]: row["n"] for row in rows}
