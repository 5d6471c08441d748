"""Duplicate cases (重复案件, spec 5.2.4): a case reported within a period after a closed case of
the same minor class in the same unit grid (or within a distance) is a suspected duplicate of
it: the problem came back after it was closed.

Which classes are checked is data: a class is checked when it has an active `DuplicateRule`
row, which may give its own period (`days`, default `CASES_DUPLICATE_DAYS`, 30) and a distance
in metres that replaces the unit grid. The earlier case's closure lies in
(reported_at - period, reported_at]. Registration (`do_register_case`) is refused (409 naming
the suspected duplicates) until the shift leader links the case to one of them (it is then not
registered, `duplicate_of` set, counted by `linked_count`) or dismisses the suspicion with a
reason (`duplicate_dismissed`); both leave an event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from spatial.crs import degrees_covering

from .models import Case, DuplicateRule, State

LIMIT = 20


@dataclass(frozen=True)
class DuplicateParameters:
    """How duplicates are judged for one class: the period and, when given, a distance."""

    days: float
    metres: float | None


def parameters(category_id: int) -> DuplicateParameters | None:
    """The class's duplicate rule over the defaults; None when the class is not checked."""
    rule = DuplicateRule.objects.filter(category_id=category_id, active=True).first()
    if rule is None:
        return None
    days = rule.days if rule.days is not None else settings.CASES_DUPLICATE_DAYS
    return DuplicateParameters(days, rule.metres)


# Same unit grid: an index range scan on case_closed_class_grid (partial on closed cases:
# class, unit grid, closed time).
BY_GRID_SQL = """
SELECT c.id FROM cases_case c
WHERE c.state = 'closed' AND c.category_id = %(category)s AND c.unit_grid_code = %(grid)s
  AND c.closed_at > %(since)s AND c.closed_at <= %(at)s AND c.id <> %(exclude)s
ORDER BY c.closed_at DESC, c.id
LIMIT %(limit)s
"""

# Within a distance: the box is an index condition on the gist index on geom; the spheroid
# distance, class, state and closure filters run on the few cases inside it.
BY_DISTANCE_SQL = """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g)
SELECT c.id FROM cases_case c, pt
WHERE c.geom && ST_Expand(pt.g, %(dlon)s, %(dlat)s)
  AND ST_DWithin(c.geom::geography, pt.g::geography, %(metres)s)
  AND c.state = 'closed' AND c.category_id = %(category)s
  AND c.closed_at > %(since)s AND c.closed_at <= %(at)s AND c.id <> %(exclude)s
ORDER BY c.closed_at DESC, c.id
LIMIT %(limit)s
"""


def find_duplicates(case: Case) -> list[int]:
    """The ids of the closed cases `case` may duplicate, latest closure first; every case,
    whoever may see it (empty when its class is not checked)."""
    rule = parameters(case.category_id)
    if rule is None:
        return []
    at: dt.datetime = case.reported_at
    values = {
        "category": case.category_id,
        "since": at - dt.timedelta(days=rule.days),
        "at": at,
        "exclude": case.pk or 0,
        "limit": LIMIT,
    }
    if rule.metres is not None:
        dlon, dlat = degrees_covering(rule.metres, case.geom.y)
        sql = BY_DISTANCE_SQL
        values |= {
            "lon": case.geom.x,
            "lat": case.geom.y,
            "dlon": dlon,
            "dlat": dlat,
            "metres": rule.metres,
        }
    else:
        if not case.unit_grid_code:
            return []
        sql, values["grid"] = BY_GRID_SQL, case.unit_grid_code
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return [row[0] for row in cursor.fetchall()]


def blocking(case: Case) -> list[int]:
    """The suspected duplicates that hold up the case's registration (none once dismissed)."""
    if case.duplicate_dismissed or case.duplicate_of_id is not None:
        return []
    return find_duplicates(case)


def linked_count(**filters) -> int:
    """How many cases were linked as duplicates (重复案件统计, spec 5.2.4.5)."""
    return (
        Case.objects.filter(duplicate_of__isnull=False, state=State.NOT_REGISTERED)
        .filter(**filters)
        .count()
    )
