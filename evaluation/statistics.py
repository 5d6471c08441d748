"""The numbers of the wall screen (大屏, spec 5.1.4.1 运行监督): the period and filters
(`Selection`), case counts by area with drill-down, the cases behind any count, the sources
(来源分析), the hot-spot summaries by type, area and hour (热点分析) and the latest cases. The
case index and its trend are in `evaluation.trend`, migration lines in `evaluation.panels`.

Every number is counted in SQL over one base set of cases: `visibility.visible_cases(scope)`
(the caller's areas and department), reported in the period, narrowed by the `Selection`'s
filters. A count's cases are listed by `selected_cases` with the same `Selection` plus the
cell's own condition (its area code, measure, stage, source, class or hour), so a number and
the list behind it can never disagree.

Definitions (docs/screen.md has the table):

- **reported** (上报): every case reported in the period;
- **registered** (立案): of those, the ones registered (their registration condition is set: the
  register action sets it, nothing clears it);
- **closed** (结案): of those, the ones now closed;
- **open** (在办): of those, the ones not in a final state;
- **overdue** (超期): of the open ones, those whose current stage is past its deadline.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import ExtractHour
from django.utils import timezone

from accounts.scoping import Scope
from cases import visibility
from cases.models import Case, CaseMedia, DeadlineState, Source, State
from cases.queries import OPEN_STATES
from core import params
from core.errors import BadInput

S = State
DAY = dt.timedelta(days=1)
MAX_DAYS = 3 * 366
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PERIODS = ("today", "week", "month", "year", "custom", "all")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

# Measures: a case condition each; the census's columns and the cell list's `measure`.
# Registered: the register action sets the registration condition and nothing clears it, so the
# column says what a ``register`` event would. The census reads each case's row anyway (state,
# deadline state): with the column it took 185 ms by street at 103k cases, with an EXISTS on the
# register event 290 ms (same run; bench/README.md "The wall screen's API").
MEASURES: dict[str, tuple[str, Q]] = {
    "reported": ("上报", Q()),
    "registered": ("立案", Q(register_condition__isnull=False)),
    "closed": ("结案", Q(state=S.CLOSED)),
    "open": ("在办", Q(state__in=OPEN_STATES)),
    "overdue": ("超期", Q(state__in=OPEN_STATES, deadline_state=DeadlineState.OVERDUE)),
}

# Stages (阶段) of the main workflow a case's state belongs to: the source analysis's
# 阶段统计 and the supervision page's navigation group states by these.
STAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "accept": ("受理", (S.REPORTED, S.TO_VERIFY, S.VERIFYING, S.SUPPLEMENTING, S.TO_REVIEW)),
    "register": ("立案", (S.TO_REGISTER,)),
    "dispatch": ("派遣", (S.TO_DISPATCH,)),
    "handle": ("处置", (S.HANDLING,)),
    "check": ("核查", (S.TO_CHECK, S.CHECKING)),
    "close": ("结案", (S.TO_CLOSE, S.CLOSED)),
    "ended": ("终止", (S.NOT_ACCEPTED, S.INVALID, S.NOT_REGISTERED, S.VOID, S.MERGED)),
}

# Area levels of the drill-down: the placement snapshot's code and name columns; a level's
# rows are those whose code starts with the parent's (codes nest, GB/T 2260 and CJ/T 213).
LEVELS: dict[str, tuple[str, str, str | None]] = {
    "district": ("district_code", "district_name", None),
    "street": ("street_code", "street_name", "district_code"),
    "community": ("community_code", "community_name", "street_code"),
    "grid": ("unit_grid_code", "unit_grid_code", "community_code"),
}
NEXT_LEVEL = {"district": "street", "street": "community", "community": "grid", "grid": None}
AREA_FIELD = {6: "district_code", 9: "street_code", 12: "community_code", 14: "unit_grid_code"}


@dataclass(frozen=True)
class Period:
    """A period [start, end) of report times, with its kind (today, week, …)."""

    kind: str
    start: dt.datetime
    end: dt.datetime

    def previous(self) -> Period:
        """The period before (环比): the previous day, week, month or year; for a custom
        period, the same length just before."""
        start = timezone.localtime(self.start)
        if self.kind == "month":
            prior = (start.replace(day=1) - DAY).replace(day=1)
            return Period(self.kind, prior, self.start)
        if self.kind == "year":
            return Period(self.kind, start.replace(year=start.year - 1), self.start)
        return Period(self.kind, self.start - (self.end - self.start), self.start)

    def year_before(self) -> Period:
        """The same period a year earlier (同比)."""

        def back(t: dt.datetime) -> dt.datetime:
            local = timezone.localtime(t)
            try:
                return local.replace(year=local.year - 1)
            except ValueError:  # 29 February
                return local.replace(year=local.year - 1, day=28)

        return Period(self.kind, back(self.start), back(self.end))

    @property
    def slice(self) -> str:
        """The trend's time slice: hour for a day or two, day up to a quarter, else month."""
        length = self.end - self.start
        if length <= 2 * DAY:
            return "hour"
        if length <= 92 * DAY:
            return "day"
        return "month"

    def as_json(self) -> dict:
        return {
            "period": self.kind,
            "from": timezone.localtime(self.start).isoformat(),
            "to": timezone.localtime(self.end).isoformat(),
        }


def period_of(query, now: dt.datetime | None = None) -> Period:
    """Gives the period of ``period`` (today, week, month, year: the calendar one holding now;
    custom: ``from`` and ``to``, RFC 3339 instants or dates, ``to`` a date including its day;
    all: since 2000). Default: today."""
    kind = params.choice(query, "period", PERIODS, "today")
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "today":
        return Period(kind, midnight, midnight + DAY)
    if kind == "week":
        monday = midnight - dt.timedelta(days=midnight.weekday())
        return Period(kind, monday, monday + 7 * DAY)
    if kind == "month":
        first = midnight.replace(day=1)
        return Period(kind, first, (first + 32 * DAY).replace(day=1))
    if kind == "year":
        first = midnight.replace(month=1, day=1)
        return Period(kind, first, first.replace(year=first.year + 1))
    if kind == "all":  # process supervision's lists: whenever reported
        return Period(kind, EPOCH, midnight + DAY)
    start = params.instant(query, "from")
    end = params.instant(query, "to")
    if DATE_ONLY.match(str(query.get("to", "")).strip()):
        end += DAY
    if end <= start:
        raise BadInput("from must be before to", field="to")
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise BadInput(f"at most {MAX_DAYS} days at a time", field="from")
    return Period(kind, start, end)


@dataclass(frozen=True)
class Selection:
    """What the screen counts: the period and the optional filters of its panels."""

    period: Period
    sources: tuple[str, ...] = ()
    category: str | None = None
    kind: str | None = None
    area: str | None = None

    @classmethod
    def from_query(cls, query, now: dt.datetime | None = None) -> Selection:
        sources = tuple(params.names(query, "source", []))
        for s in sources:
            if s not in Source.values:
                raise BadInput(f"unknown source {s!r}", field="source")
        category = params.text(query, "category", None)
        if category is not None and not (category.isdigit() and len(category) in (2, 4)):
            raise BadInput("category is a 2- or 4-digit class code", field="category")
        area = params.text(query, "area", None)
        if area is not None and not (area.isdigit() and len(area) in AREA_FIELD):
            raise BadInput("area is an admin area (6, 9, 12) or unit grid (14) code", field="area")
        return cls(
            period=period_of(query, now),
            sources=sources,
            category=category,
            kind=params.choice(query, "kind", ["component", "event"], None),
            area=area,
        )

    def within(self, period: Period) -> Selection:
        return replace(self, period=period)

    def cases(self, scope: Scope) -> QuerySet:
        """The caller's cases reported in the period that pass the filters (no order)."""
        return self.matching(scope).filter(
            reported_at__gte=self.period.start, reported_at__lt=self.period.end
        )

    def matching(self, scope: Scope) -> QuerySet:
        """The caller's cases that pass the filters, whenever reported (no order)."""
        cases = visibility.visible_cases(scope)
        if self.sources:
            cases = cases.filter(source__in=self.sources)
        if self.kind:
            cases = cases.filter(kind=self.kind)
        if self.category:
            field = "category__code" if len(self.category) == 4 else "category__parent__code"
            cases = cases.filter(**{field: self.category})
        if self.area:
            cases = cases.filter(**{AREA_FIELD[len(self.area)]: self.area})
        return cases.order_by()


def _measure_counts() -> dict:
    return {key: Count("id", filter=q) if q else Count("id") for key, (_, q) in MEASURES.items()}


def totals(scope: Scope, chosen: Selection) -> dict[str, int]:
    """The measures over every selected case."""
    return chosen.cases(scope).aggregate(**_measure_counts())


def census(scope: Scope, chosen: Selection, level: str, parent: str | None) -> dict:
    """Gives the measures per area of `level` (below `parent`, an area code of the level
    above, when given), largest first, and their totals."""
    code_field, name_field, parent_field = LEVELS[level]
    cases = chosen.cases(scope)
    if parent is not None:
        if parent_field is None:
            raise BadInput("a district has no parent area", field="parent")
        cases = cases.filter(**{parent_field: parent})
    rows = (
        cases.exclude(**{code_field: ""})
        .values(code=F(code_field), name=F(name_field))
        .annotate(**_measure_counts())
        .order_by("-reported", "code")
    )
    return {
        **chosen.period.as_json(),
        "level": level,
        "parent": parent,
        "next_level": NEXT_LEVEL[level],
        "measures": [{"key": k, "name": n} for k, (n, _) in MEASURES.items()],
        "areas": list(rows),
        "total": cases.aggregate(**_measure_counts()),
    }


@dataclass(frozen=True)
class Cell:
    """The extra conditions of one count on the screen: its area, measure, stage, hour of
    report, handling department."""

    measure: str = "reported"
    level: str | None = None
    code: str | None = None
    stage: str | None = None
    hour: int | None = None
    department: str | None = None

    @classmethod
    def from_query(cls, query) -> Cell:
        level = params.choice(query, "level", list(LEVELS), None)
        code = params.text(query, "code", None)
        if (level is None) != (code is None):
            raise BadInput("level and code go together", field="code")
        return cls(
            measure=params.choice(query, "measure", list(MEASURES), "reported"),
            level=level,
            code=code,
            stage=params.choice(query, "stage", list(STAGES), None),
            hour=params.integer(query, "hour", None, low=0, high=23),
            department=params.text(query, "department", None),
        )

    def apply(self, cases: QuerySet) -> QuerySet:
        cases = cases.filter(MEASURES[self.measure][1])
        if self.level:
            cases = cases.filter(**{LEVELS[self.level][0]: self.code})
        if self.stage:
            cases = cases.filter(state__in=STAGES[self.stage][1])
        if self.hour is not None:
            cases = cases.annotate(hour_of_report=ExtractHour("reported_at")).filter(
                hour_of_report=self.hour
            )
        if self.department:
            cases = cases.filter(department__code=self.department)
        return cases


def selected_cases(scope: Scope, chosen: Selection, cell: Cell) -> QuerySet:
    """The cases behind one count, newest first."""
    cases = cell.apply(chosen.cases(scope))
    return cases.select_related("category", "department").order_by("-reported_at", "-pk")


def thumbnails(case_ids: list[int]) -> dict[int, str]:
    """The thumbnail URL of each case's first report photo (one query for a page of cases)."""
    rows = (
        CaseMedia.objects.filter(
            case_id__in=case_ids,
            content_type__startswith="image/",
            stage__in=[CaseMedia.Stage.REPORT, CaseMedia.Stage.SUPPLEMENT],
        )
        .order_by("case_id", "uploaded_at", "id")
        .values_list("case_id", "id")
    )
    found: dict[int, str] = {}
    for case_id, media_id in rows:
        found.setdefault(case_id, f"/api/v1/screen/cases/{case_id}/media/{media_id}/thumbnail")
    return found


def case_rows(cases: list[Case]) -> list[dict]:
    """The screen's short form of each case (never reporter data)."""
    photos = thumbnails([c.pk for c in cases])
    return [
        {
            "id": c.pk,
            "number": c.number,
            "state": c.state,
            "state_name": c.get_state_display(),
            "source": c.source,
            "source_name": c.get_source_display(),
            "category": c.category.name,
            "category_code": c.category.code,
            "kind": c.kind,
            "description": c.description[:120],
            "address": c.address,
            "street": c.street_name,
            "community": c.community_name,
            "lon": round(c.geom.x, 7),
            "lat": round(c.geom.y, 7),
            "reported_at": timezone.localtime(c.reported_at).isoformat(),
            "department": c.department.name if c.department_id else None,
            "deadline_state": c.deadline_state,
            "urgent": c.urgent,
            "thumbnail": photos.get(c.pk),
        }
        for c in cases
    ]


def sources(scope: Scope, chosen: Selection) -> dict:
    """Gives, per source (来源), the measures and the count per stage (阶段统计)."""
    stage_counts = {
        f"stage_{key}": Count("id", filter=Q(state__in=states))
        for key, (_, states) in STAGES.items()
    }
    rows = chosen.cases(scope).values("source").annotate(**_measure_counts(), **stage_counts)
    labels = dict(Source.choices)
    found = []
    for row in sorted(rows, key=lambda r: -r["reported"]):
        found.append(
            {
                "source": row["source"],
                "name": labels.get(row["source"], row["source"]),
                **{k: row[k] for k in MEASURES},
                "stages": {k: row[f"stage_{k}"] for k in STAGES},
            }
        )
    return {
        **chosen.period.as_json(),
        "stages": [{"key": k, "name": n} for k, (n, _) in STAGES.items()],
        "sources": found,
    }


def hot_summary(scope: Scope, chosen: Selection, top: int = 10) -> dict:
    """Gives the hot-spot summaries (热点分析): the classes and the streets with the most
    cases (with registered and closed), and the cases per hour of report."""
    cases = chosen.cases(scope)
    counts = {k: _measure_counts()[k] for k in ("reported", "registered", "closed")}
    by_type = (
        cases.values(code=F("category__code"), name=F("category__name"))
        .annotate(**counts)
        .order_by("-reported", "code")[:top]
    )
    by_area = (
        cases.exclude(street_code="")
        .values(code=F("street_code"), name=F("street_name"))
        .annotate(**counts)
        .order_by("-reported", "code")[:top]
    )
    hours = dict(
        cases.annotate(h=ExtractHour("reported_at")).values_list("h").annotate(n=Count("id"))
    )
    return {
        **chosen.period.as_json(),
        "by_type": list(by_type),
        "by_area": list(by_area),
        "by_hour": [{"hour": h, "reported": hours.get(h, 0)} for h in range(24)],
    }


def latest(scope: Scope, chosen: Selection, limit: int) -> list[dict]:
    """The newest selected cases, by report time."""
    cases = chosen.cases(scope).select_related("category", "department")
    return case_rows(list(cases.order_by("-reported_at", "-pk")[:limit]))
