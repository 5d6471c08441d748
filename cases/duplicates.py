"""Duplicate cases (重复案件, spec 5.2.4): a case reported within a period after a closed case of
the same minor class in the same unit grid (or within a distance, or on the same named road)
is a suspected duplicate of it: the problem came back after it was closed.

Which classes are checked is data: a class is checked when it has an active `DuplicateRule`
row, which may give its own period (`days`, default `CASES_DUPLICATE_DAYS`, 30) and either a
distance in metres or `same_road`, which replace the unit grid. The earlier case's closure lies
in (reported_at - period, reported_at]. Registration (`do_register_case`) is refused (409
naming the suspected duplicates) until the shift leader links the case to one of them
(`duplicate_of` set; the case then goes on to registration and dispatch — the problem is handled
again — and counts as a repeat of the earlier closure in `statistics`) or dismisses the
suspicion with a reason (`duplicate_dismissed`); both leave an event. A department's appeal
upheld takes the link back (`unlink_duplicate`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q

from spatial.crs import degrees_covering

from .models import Case, DuplicateRule

LIMIT = 20


@dataclass(frozen=True)
class DuplicateParameters:
    """How duplicates are judged for one class: the period and, when given, a distance."""

    days: float
    metres: float | None
    same_road: bool = False


def parameters(category_id: int) -> DuplicateParameters | None:
    """The class's duplicate rule over the defaults; None when the class is not checked."""
    rule = DuplicateRule.objects.filter(category_id=category_id, active=True).first()
    if rule is None:
        return None
    days = rule.days if rule.days is not None else settings.CASES_DUPLICATE_DAYS
    return DuplicateParameters(days, rule.metres, rule.same_road)


# Same unit grid: an index range scan on case_closed_class_grid (partial on closed cases:
# class, unit grid, closed time).
BY_GRID_SQL = """
SELECT c.id FROM cases_case c
WHERE c.state = 'closed' AND c.category_id = %(category)s AND c.unit_grid_code = %(grid)s
  AND c.closed_at > %(since)s AND c.closed_at <= %(at)s AND c.id <> %(exclude)s
ORDER BY c.closed_at DESC, c.id
LIMIT %(limit)s
"""

# On the same named road: an index range scan on case_closed_class_road.
BY_ROAD_SQL = """
SELECT c.id FROM cases_case c
WHERE c.state = 'closed' AND c.category_id = %(category)s AND c.road_name = %(road)s
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
    elif rule.same_road:
        if not case.road_name:
            return []
        sql, values["road"] = BY_ROAD_SQL, case.road_name
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
    return Case.objects.filter(duplicate_of__isnull=False).filter(**filters).count()


# Statistics (重复案件统计, spec 5.2.4.5): by what the rows are grouped — for a department, the
# handling department of the earlier case whose closure did not last.
STATISTICS_BY = {
    "category": ("category__code", "category__name"),
    "district": ("district_code", "district_name"),
    "street": ("street_code", "street_name"),
    "department": ("duplicate_of__department__code", "duplicate_of__department__name"),
}


def statistics(cases, by: str) -> list[dict]:
    """Per group of `cases` (already scoped and limited to a period by the caller): the cases
    linked as duplicates and those whose suspicion was dismissed (or an appeal upheld), most
    linked first."""
    code, name = STATISTICS_BY[by]
    rows = (
        cases.filter(Q(duplicate_of__isnull=False) | Q(duplicate_dismissed=True))
        .order_by()
        .values(code, name)
        .annotate(
            linked=Count("pk", filter=Q(duplicate_of__isnull=False)),
            dismissed=Count("pk", filter=Q(duplicate_of__isnull=True, duplicate_dismissed=True)),
        )
    )
    found = [
        {
            "code": r[code] or "",
            "name": r[name] or "",
            "linked": r["linked"],
            "dismissed": r["dismissed"],
        }  # fmt: skip
        for r in rows
    ]
    return sorted(found, key=lambda r: (-r["linked"], -r["dismissed"], r["code"]))
