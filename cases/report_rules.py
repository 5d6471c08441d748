"""No-report rules at report time (非采集区域, spec 5.1.2.19-5.1.2.21 and 5.2.2): which rules a
report of a class at a point and a time hits, and whether the reporter is outside their grids.

Three kinds of rule, all data:

* a controlled area (管控区域, `spatial.ControlledArea`): a polygon (holes allowed) with a
  validity, daily windows and classes; `locate` already gives the areas in force at the point
  and time, so only the class is tested here;
* a road-segment rule (上报路段, `RoadReportRule`): one segment by id, or every segment of a
  name, with a buffer in metres;
* reporting hours of a class (上报时段, `ReportHours`): outside its windows the class is hit.

A rule either forbids (`forbid`: the report is refused, 4xx naming the rule and its reason) or
warns (`warn`: the report goes through, the warning comes back with the case). Daily windows
are ``["HH:MM", "HH:MM"]`` pairs in local time; a window whose end comes before its start runs
past midnight, equal ends mean all day, and no window at all means all day.

Cross-grid (跨网格, spec 5.1.1.7): the reporter's responsibility grids (`Person.grids`, else
their areas) do not hold the point.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import asdict, dataclass

from django.db import connection
from django.utils import timezone

from core.errors import BadInput
from data.models import Category
from spatial.locate import Placement

from .models import ReportHours, RuleEffect

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class RuleHit:
    """A no-report rule a report hits: its kind (`area`, `road`, `hours`), the rule, what it
    does and why."""

    kind: str
    id: int
    name: str
    action: str
    reason: str
    requirement: str = ""

    @property
    def forbids(self) -> bool:
        return self.action == RuleEffect.FORBID

    def as_dict(self) -> dict:
        return {**asdict(self), "action_name": RuleEffect(self.action).label}


def parse_windows(value, field: str = "daily_windows") -> list[list[str]]:
    """Gives daily windows checked: a list of ``["HH:MM", "HH:MM"]``; `BadInput` otherwise."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadInput('daily windows are a list of ["HH:MM", "HH:MM"] pairs', field=field)
    windows = []
    for window in value:
        if (
            not isinstance(window, list | tuple)
            or len(window) != 2
            or not all(isinstance(t, str) and _HHMM.match(t) for t in window)
        ):
            raise BadInput(f'a daily window is ["HH:MM", "HH:MM"], not {window!r}', field=field)
        windows.append([window[0], window[1]])
    return windows


def in_windows(local: dt.time, windows: list) -> bool:
    """Whether the local time of day lies in one of the windows (none: all day). A window
    holds its start and not its end; one whose end comes first runs past midnight."""
    if not windows:
        return True
    for start_text, end_text in windows:
        start, end = dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)
        if start == end:
            return True
        if start < end and start <= local < end:
            return True
        if start > end and (local >= start or local < end):
            return True
    return False


def concerns(codes: list[str], category: Category) -> bool:
    """Whether a rule's class codes (major or minor; none: every class) take in `category`."""
    if not codes:
        return True
    major = category.parent.code if category.parent_id else None
    return category.code in codes or (major is not None and major in codes)


def _local_time(at: dt.datetime) -> dt.time:
    return timezone.localtime(at).time().replace(tzinfo=None)


def area_hits(placement: Placement, category: Category) -> list[RuleHit]:
    """The controlled areas in force at the placement (`locate` tested place, validity and
    windows) that concern the class."""
    return [
        RuleHit("area", area.id, area.name, area.action, area.reason, area.requirement)
        for area in placement.controlled_areas
        if concerns(area.categories, category)
    ]


# The active road rules whose road passes within their buffer of the point. The rules are few;
# for each, the segments are found by primary key or the name, and the exact spheroid distance
# is taken on those segments only (spatial_roadsegment's gist index on geom serves the box test).
ROAD_RULES_SQL = """
SELECT r.id, r.name, r.action, r.reason, r.categories, r.daily_windows
FROM cases_roadreportrule r
WHERE r.active
  AND (r.valid_from IS NULL OR r.valid_from <= %(at)s)
  AND (r.valid_to IS NULL OR %(at)s < r.valid_to)
  AND EXISTS (
    SELECT 1 FROM spatial_roadsegment s
    WHERE (s.id = r.road_id OR (r.road_name <> '' AND s.name = r.road_name))
      AND s.geom && ST_Expand(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),
                              r.buffer_m / %(m_per_deg_lat)s * 1.01 / %(cos_lat)s)
      AND ST_DWithin(s.geom::geography,
                     ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, r.buffer_m))
ORDER BY r.id
"""


def road_hits(lon: float, lat: float, at: dt.datetime, category: Category) -> list[RuleHit]:
    """The road-segment rules in force at `at` near the point that concern the class."""
    with connection.cursor() as cursor:
        cursor.execute(
            ROAD_RULES_SQL,
            {
                "lon": lon,
                "lat": lat,
                "at": at,
                "m_per_deg_lat": 111_132.0,
                "cos_lat": max(math.cos(math.radians(lat)), 0.01),
            },
        )
        rows = cursor.fetchall()
    local = _local_time(at)
    return [
        RuleHit("road", rule_id, name, action, reason)
        for rule_id, name, action, reason, codes, windows in rows
        if concerns(codes, category) and in_windows(local, _json(windows))
    ]


def _json(value):
    """A jsonb column read by raw SQL comes as text (Django turns psycopg2's decoding off)."""
    return json.loads(value) if isinstance(value, str) else value


def hours_hits(at: dt.datetime, category: Category) -> list[RuleHit]:
    """The class's reporting hours (its own, then its major class's) that `at` lies outside."""
    ids = [category.pk] + ([category.parent_id] if category.parent_id else [])
    local = _local_time(at)
    hits = []
    for rule in ReportHours.objects.filter(category_id__in=ids, active=True).order_by("id"):
        if not in_windows(local, rule.daily_windows):
            spans = "、".join(f"{a}-{b}" for a, b in rule.daily_windows)
            reason = rule.reason or f"该类问题只在 {spans} 上报"
            hits.append(RuleHit("hours", rule.pk, f"上报时段 {spans}", rule.action, reason))
    return hits


def no_report_hits(
    placement: Placement, lon: float, lat: float, at: dt.datetime, category: Category
) -> list[RuleHit]:
    """Every no-report rule the report hits, forbidding ones first. `placement` is the whole
    placement (no scope): a rule binds whether or not the reporter may see its layer."""
    hits = [
        *area_hits(placement, category),
        *road_hits(lon, lat, at, category),
        *hours_hits(at, category),
    ]
    return sorted(hits, key=lambda hit: not hit.forbids)


# Whether the person has grids, and whether their grids (else their areas) hold the point: the
# m2m's person index, then the grids' rows by primary key.
CROSS_GRID_SQL = """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g)
SELECT
  ARRAY(SELECT g.name FROM accounts_person_grids pg
        JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
        WHERE pg.person_id = p.id ORDER BY g.code),
  EXISTS (SELECT 1 FROM accounts_person_grids pg
          JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
          WHERE pg.person_id = p.id AND ST_Intersects(g.geom, pt.g)),
  ST_Intersects(p.area_geom, pt.g)
FROM accounts_person p, pt
WHERE p.id = %(person)s
"""


def cross_grid(person_id: int | None, lon: float, lat: float) -> dict | None:
    """Whether the point lies outside the reporter's responsibility grids (跨网格): ``{outside,
    grids}`` with the names of their grids; None for a reporter without grids or areas."""
    if person_id is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(CROSS_GRID_SQL, {"lon": lon, "lat": lat, "person": person_id})
        row = cursor.fetchone()
    if row is None:
        return None
    grids, in_grids, in_area = row
    if grids:
        return {"outside": not in_grids, "grids": list(grids)}
    if in_area is None:
        return None
    return {"outside": not in_area, "grids": []}
