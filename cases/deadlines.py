"""Stage clocks: the limit of the stage a case enters, its deadline and warning time under the
work calendar, and the beat job's deadline-state refresh.

The limit of a stage comes from its workflow definition; the handling stage's from the case's
registration condition × timing zone × level (`cases.categories.time_limit`), else the class's
handling limit in working hours; a custom deadline overrides both. The warning time is when the
calendar's warning share of the limit (default 80%) is used, counted the way the limit counts
(working time for working units). Both are stored on the case, so the beat job's refresh is one
UPDATE comparing times.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection

from .calendars import default_calendar
from .categories import recommended_department as manual_department
from .categories import time_limit
from .models import Case, DeadlineState, LimitUnit, State

NATURAL = {LimitUnit.NATURAL_DAYS, LimitUnit.NATURAL_HOURS}
# States a case waits in with no clock: refused, invalid, closed, void.
FINISHED = (State.NOT_ACCEPTED, State.INVALID, State.NOT_REGISTERED, State.CLOSED, State.VOID)


def stage_limit(case: Case, definition, state: str) -> tuple[Decimal, str] | None:
    """The (amount, unit) limit of `state` for `case`, or None when the stage has no clock."""
    stage = definition.stages.get(state)
    if stage is None:
        return None
    if not stage.from_category:
        return (stage.amount, stage.unit) if stage.amount else None
    if case.register_condition_id:
        found = time_limit(case.register_condition, case.timing_zone, case.level, stage=state)
        if found:
            return Decimal(found[0]), found[1]
    hours = case.category.handling_limit_hours
    return (Decimal(hours), LimitUnit.WORKING_HOURS) if hours else None


def start_stage(case: Case, definition, state: str, at: dt.datetime) -> None:
    """Starts the clock of `state` on `case` at `at` (no save)."""
    case.stage_started_at = at
    limit = None if state in FINISHED else stage_limit(case, definition, state)
    calendar = default_calendar()
    if state == State.HANDLING and case.custom_deadline:
        case.stage_limit_amount, case.stage_limit_unit = None, ""
        case.deadline = case.custom_deadline
    elif limit is None:
        case.stage_limit_amount, case.stage_limit_unit = None, ""
        case.deadline = case.warning_at = None
        case.deadline_state = DeadlineState.NONE
        return
    else:
        case.stage_limit_amount, case.stage_limit_unit = limit
        case.deadline = calendar.add(at, limit[0], limit[1])
    case.warning_at = warning_time(at, case.deadline, case.stage_limit_unit)
    if state == State.HANDLING:
        case.handling_deadline = case.deadline
    case.deadline_state = state_at(case, at)


def warning_time(start: dt.datetime, deadline: dt.datetime, unit: str) -> dt.datetime:
    """When the warning share of the time between `start` and `deadline` is used."""
    calendar = default_calendar()
    ratio = Decimal(str(calendar.warning_ratio))
    if unit in NATURAL or deadline <= start:
        return start + (deadline - start) * float(ratio)
    working = calendar.working_time_between(start, deadline)
    hours = Decimal(working.total_seconds()) / 3600 * ratio
    return calendar.add(start, hours, LimitUnit.WORKING_HOURS)


def state_at(case: Case, now: dt.datetime) -> str:
    """The deadline state of `case` at `now` from its stored times."""
    if case.deadline is None:
        return DeadlineState.NONE
    if now >= case.deadline:
        return DeadlineState.OVERDUE
    if case.warning_at is not None and now >= case.warning_at:
        return DeadlineState.WARNING
    return DeadlineState.NORMAL


REFRESH_SQL = f"""
UPDATE cases_case c SET deadline_state = s.new
FROM (
    SELECT id, CASE WHEN %(now)s >= deadline THEN 'overdue'
                    WHEN warning_at IS NOT NULL AND %(now)s >= warning_at THEN 'warning'
                    ELSE 'normal' END AS new
    FROM cases_case
    WHERE ((deadline_state IN ('normal', 'warning') AND deadline <= %(now)s)
           OR (deadline_state = 'normal' AND warning_at <= %(now)s))
      AND held_since IS NULL AND state NOT IN ({", ".join(f"'{s}'" for s in FINISHED)})
) s
WHERE c.id = s.id AND c.deadline_state <> s.new
RETURNING c.id, c.number, s.new
"""


def refresh_deadline_states(now: dt.datetime) -> list[tuple[int, str, str]]:
    """Moves cases whose warning or deadline time has come to ``warning`` or ``overdue``;
    gives (id, number, new state) of each case changed. Cases only move forward here: a new
    stage resets the state when it starts."""
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_SQL, {"now": now})
        return cursor.fetchall()


def recommended_department(case: Case):
    """The handling department the responsibility manual names for the case's class and area
    (most specific area first), or None."""
    codes = [c for c in (case.community_code, case.street_code, case.district_code) if c]
    entry = manual_department(case.category, codes)
    return entry.department if entry else None
