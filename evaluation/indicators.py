"""The evaluation indicators (考核指标, `evaluation.definitions`) for any period [start, end),
counted in SQL from the case events and the case rows, scoped to the caller's cases.

Each subject has one *facts* query (`evaluation.facts`): a row per counted thing (a case of the
cohort for areas, a department's share of a case, an inspector's report, missed report or task,
a centre person's act) with its case id, its key (area code, department code, person id) and
one boolean column per count. The table is ``count(*) FILTER (WHERE <column>)`` grouped by key;
the back-query of a number (`cases_behind`) is the case ids of the rows with that key and that
column true. Nothing is stored: a number is the same whenever it is asked, because events are
never updated and each is read only before `end`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection

from accounts import permissions as perms
from accounts.scoping import Scope
from spatial.models import AdminArea

from . import definitions as d
from .facts import (
    LEVELS,
    area_facts,
    department_facts,
    inspector_facts,
    position_facts,
    visible_sql,
)
from .rules import rules

__all__ = ["LEVELS", "Row", "Table", "cases_behind", "judges_people", "table"]


@dataclass
class Row:
    """One area, department or person: its key, name and the values of its indicators."""

    key: str
    name: str
    counts: dict[str, int]
    values: dict[str, float | int | None] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"key": self.key, "name": self.name, "values": self.values}


@dataclass
class Table:
    subject: str
    level: str
    start: dt.datetime
    end: dt.datetime
    rows: list[Row]
    total: Row


# Who sees the position tables of other people: leaders and supervisors, evaluators, system
# admins. Anyone else who reads cases sees their own row only.
JUDGES = (perms.CASES_SUPERVISE, perms.EVALUATION_MANAGE, perms.EVALUATION_SCORE)


def judges_people(scope: Scope) -> bool:
    """Whether the caller sees other people's position indicators."""
    return scope.sees_everything or any(scope.has_perm(p) for p in JUDGES)


def _facts(scope: Scope, subject: str, level: str) -> tuple[str, dict]:
    """The facts SQL of `subject` for the caller and its extra parameters; a position's facts
    only of the caller themself unless they judge people (`judges_people`)."""
    facts, extra = _subject_facts(scope, subject, level)
    if subject in d.POSITIONS and not judges_people(scope):
        facts = f"SELECT * FROM ({facts}) own WHERE own.key = %(own_person)s"
        extra["own_person"] = scope.person_id or 0
    return facts, extra


def _subject_facts(scope: Scope, subject: str, level: str) -> tuple[str, dict]:
    visible = visible_sql(scope)
    if subject == d.AREA:
        return area_facts(level, visible), {}
    if subject == d.DEPARTMENT:
        return department_facts(visible), {}
    if subject == d.INSPECTOR:
        from .work import visible_inspectors

        people = [w.person for w in visible_inspectors(scope)]
        found = rules()
        return inspector_facts(visible), {
            "people": people,
            "missed_hours": float(found.missed_report_hours),
            "missed_m": float(found.missed_report_metres),
        }
    return position_facts(subject, visible), {}


def _counts_sql(subject: str, facts: str) -> str:
    counts = d.counts_of(subject)
    columns = ",\n       ".join(f"count(*) FILTER (WHERE f.{c})" for c in counts)
    return f"SELECT f.key::text, max(f.name), {columns}\nFROM ({facts}) f GROUP BY f.key"


def _area_names(level: str, codes: list[str]) -> dict[str, str]:
    """The names of administrative areas by code (a unit grid is named by its code)."""
    if level == "grid":
        return {}
    found = AdminArea.objects.filter(code__in=[c for c in codes if c])
    return dict(found.values_list("code", "name"))


def table(
    scope: Scope, subject: str, start: dt.datetime, end: dt.datetime, level: str = "street"
) -> Table:
    """Gives the indicator table of `subject` (per area of `level` for areas) for [start, end),
    rows by key, with the total over all rows."""
    facts, extra = _facts(scope, subject, level)
    counts = d.counts_of(subject)
    with connection.cursor() as cursor:
        cursor.execute(_counts_sql(subject, facts), {"start": start, "end": end, **extra})
        fetched = cursor.fetchall()
    names = _area_names(level, [key for key, *_ in fetched]) if subject == d.AREA else {}
    rows = []
    for key, name, *numbers in fetched:
        name = names.get(key) or name or key or ""
        row = Row(key or "", name, dict(zip(counts, numbers)))
        rows.append(row)
    rows.sort(key=lambda r: r.key)
    total = Row("", "合计", {c: sum(r.counts[c] for r in rows) for c in counts})
    for row in [*rows, total]:
        row.values = {**row.counts, **d.rates(subject, row.counts)}
        row.values = {code: row.values[code] for code in d.BY_SUBJECT[subject]}
    return Table(subject, level if subject == d.AREA else "", start, end, rows, total)


def cases_behind(
    scope: Scope,
    subject: str,
    indicator: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    level: str = "street",
    key: str | None = None,
    part: str = "numerator",
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, list[int]]:
    """Gives how many cases lie behind one number (反查) and the ids of a page of them, by id:
    the rows of the subject's facts with that key (any, when None) whose count column is
    true; a rate gives its numerator's cases (or its denominator's, `part`)."""
    found = d.BY_SUBJECT[subject][indicator]
    column = found.code
    if found.is_rate:
        column = found.denominator if part == "denominator" else found.numerator
    facts, extra = _facts(scope, subject, level)
    where = f"f.{column}"
    params = {"start": start, "end": end, **extra, "limit": limit, "offset": offset}
    if key is not None:
        where += " AND f.key::text = %(key)s"
        params["key"] = key
    sql = f"""
WITH behind AS MATERIALIZED (SELECT DISTINCT f.case_id FROM ({facts}) f WHERE {where})
SELECT (SELECT count(*) FROM behind),
       ARRAY(SELECT case_id FROM behind ORDER BY 1 LIMIT %(limit)s OFFSET %(offset)s)"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        total, ids = cursor.fetchone()
    return total, list(ids)
