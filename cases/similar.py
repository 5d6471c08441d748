"""Similar cases (相似案件, spec 5.2.3): cases of the same (or a related) minor class reported
within a distance and a time window before a report, among those being accepted, handled or
voided.

The defaults (10 m, one day) are settings (`CASES_SIMILAR_METRES`, `CASES_SIMILAR_HOURS`); a
class's `SimilarRule` row may give its own distance and window, the related classes counted
with it, and `refuse` (a similar report is refused, spec 5.2.3.2). At report time the case keeps
the count (`Case.similar_count`, the console's 相似 mark); `similar_to(case)` lists them again
for the case's detail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from data.models import Category
from spatial.crs import degrees_covering

from .models import SimilarRule, State

# Being accepted or handled (every state not finished), and voided (spec 5.2.3.1).
SIMILAR_STATES = [
    state.value
    for state in State
    if state
    not in (State.CLOSED, State.NOT_ACCEPTED, State.INVALID, State.NOT_REGISTERED, State.MERGED)
]
LIMIT = 50


@dataclass(frozen=True)
class SimilarParameters:
    """How similar is judged for one class: distance, window, the classes compared, refusal."""

    metres: float
    hours: float
    category_ids: list[int]
    refuse: bool


def parameters(category: Category) -> SimilarParameters:
    """Gives the class's similar-case rule: its own `SimilarRule` over the settings' defaults."""
    rule = SimilarRule.objects.filter(category=category).first()
    metres = settings.CASES_SIMILAR_METRES
    hours = settings.CASES_SIMILAR_HOURS
    ids = [category.pk]
    refuse = False
    if rule is not None:
        metres = rule.metres if rule.metres is not None else metres
        hours = rule.hours if rule.hours is not None else hours
        refuse = rule.refuse
        if rule.related:
            related = Category.objects.filter(
                kind=category.kind, code__in=rule.related, parent__isnull=False
            ).values_list("pk", flat=True)
            ids += [pk for pk in related if pk != category.pk]
    return SimilarParameters(metres, hours, ids, refuse)


# The bounding box `c.geom && box` is an index condition on the case table's gist index on geom
# (cases_case_geom_..._id); the exact spheroid distance and the class, state and time filters
# run on the few cases inside the box. `reported_at` lies in [at - window, at].
SIMILAR_SQL = """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g)
SELECT c.id, d.metres
FROM cases_case c, pt,
     LATERAL (SELECT ST_Distance(c.geom::geography, pt.g::geography) AS metres) d
WHERE c.geom && ST_Expand(pt.g, %(dlon)s, %(dlat)s)
  AND ST_DWithin(c.geom::geography, pt.g::geography, %(metres)s)
  AND c.category_id = ANY(%(categories)s)
  AND c.state = ANY(%(states)s)
  AND c.reported_at >= %(since)s AND c.reported_at <= %(at)s
  AND c.id <> %(exclude)s
ORDER BY d.metres, c.reported_at DESC, c.id
LIMIT %(limit)s
"""


def find_similar(
    lon: float,
    lat: float,
    at: dt.datetime,
    rule: SimilarParameters,
    *,
    exclude: int = 0,
) -> list[tuple[int, float]]:
    """Gives (case id, metres) of the similar cases of a report at the point and time, nearest
    first (at most `LIMIT`); every case, whoever may see it."""
    dlon, dlat = degrees_covering(rule.metres, lat)
    with connection.cursor() as cursor:
        cursor.execute(
            SIMILAR_SQL,
            {
                "lon": lon,
                "lat": lat,
                "dlon": dlon,
                "dlat": dlat,
                "metres": rule.metres,
                "categories": rule.category_ids,
                "states": SIMILAR_STATES,
                "since": at - dt.timedelta(hours=rule.hours),
                "at": at,
                "exclude": exclude,
                "limit": LIMIT,
            },
        )
        return [(case_id, round(metres, 2)) for case_id, metres in cursor.fetchall()]


# The advisory lock's namespace (the first key; the class id is the second).
LOCK_NAMESPACE = 5203


def lock_class(rule: SimilarParameters) -> None:
    """Serializes the reports of a class that refuses similar reports until the transaction
    ends, so two reports at once cannot both pass: the second waits, then sees the first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, rule.category_ids[0]]
        )


def similar_to(case) -> list[tuple[int, float]]:
    """Gives the similar cases of a registered case, judged at its report time."""
    return find_similar(
        case.geom.x, case.geom.y, case.reported_at, parameters(case.category), exclude=case.pk
    )
