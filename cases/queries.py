"""Reading cases: the boxes (案件箱) of a position, the filtered list, the history.

Every query starts from `visibility.visible_cases(scope)`, so the caller's areas and
department are in the SQL of each list, count and page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.gis.geos import Polygon
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts import permissions as perms
from accounts.scoping import Scope
from core import params
from core.errors import BadInput

from . import assignment, callbacks, dispatching, visibility
from .models import BoxVisit, Case, CaseRules, CaseTask, DeadlineState, Source, State

S = State
OPEN_STATES = [
    s
    for s in State.values
    if s not in (S.NOT_ACCEPTED, S.INVALID, S.NOT_REGISTERED, S.CLOSED, S.MERGED)
]


@dataclass(frozen=True)
class Box:
    """A case box (案件箱): a named filter shown to positions holding one of `permissions`
    (empty: everyone who reads cases) and none of `unless`."""

    key: str
    title: str
    permissions: frozenset[str]
    unless: frozenset[str] = frozenset()

    def condition(self, scope: Scope, now: dt.datetime, own: bool | None = None) -> Q:
        """The box's cases for the caller; `own`: `assignment.own_only(scope)` when the caller
        asks for several boxes (two queries, once), else asked here."""
        user_id = scope.user.pk if scope.user is not None else None
        open_tasks = CaseTask.objects.filter(
            case=OuterRef("pk"), assignee_id=user_id, done_at__isnull=True
        )
        start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        rules = {
            "to_accept": Q(state=S.REPORTED),
            "to_verify": Q(state__in=[S.TO_VERIFY, S.VERIFYING]),
            "to_register": Q(state=S.TO_REGISTER),
            "to_dispatch": Q(state=S.TO_DISPATCH),
            "handling": Q(state=S.HANDLING) & dispatching.open_shares(scope),
            "to_check": Q(state__in=[S.TO_CHECK, S.CHECKING]),
            "to_close": Q(state=S.TO_CLOSE),
            "my_tasks": Q(Exists(open_tasks)),
            "my_verify": Q(Exists(open_tasks.filter(kind=CaseTask.Kind.VERIFY))),
            "my_check": Q(Exists(open_tasks.filter(kind=CaseTask.Kind.CHECK))),
            "my_supplement": Q(Exists(open_tasks.filter(kind=CaseTask.Kind.SUPPLEMENT))),
            "my_overdue_tasks": Q(Exists(open_tasks.filter(deadline__lte=now))),
            "my_pool": Q(
                Exists(
                    CaseTask.objects.filter(
                        case=OuterRef("pk"), assignee__isnull=True, done_at__isnull=True
                    ).exclude(pool_grid="")
                )
            ),
            "supplementing": Q(state=S.SUPPLEMENTING),
            "to_review": Q(state=S.TO_REVIEW),
            "my_reports": Q(reported_by_id=user_id, state__in=OPEN_STATES),
            "warning": Q(deadline_state=DeadlineState.WARNING, state__in=OPEN_STATES)
            & dispatching.open_shares(scope),
            "overdue": Q(deadline_state=DeadlineState.OVERDUE, state__in=OPEN_STATES)
            & dispatching.open_shares(scope),
            "closed_today": Q(state=S.CLOSED, closed_at__gte=start_of_day),
            "to_callback": callbacks.waiting(),
            "to_assign": assignment.waiting(),
        }
        if own is None and self.key in ACCEPTOR_BOXES:
            own = assignment.own_only(scope)
        if self.key in ACCEPTOR_BOXES and own:
            return rules[self.key] & Q(acceptor_id=user_id)  # assigned to them (cases.assignment)
        return rules[self.key]


def _p(*names: str) -> frozenset[str]:
    return frozenset(names)


BOXES = [
    Box("to_accept", "待受理", _p(perms.CASES_ACCEPT)),
    Box("to_verify", "待核实", _p(perms.CASES_ACCEPT)),
    Box("to_review", "自行处置", _p(perms.CASES_ACCEPT)),
    Box("supplementing", "补采中", _p(perms.CASES_ACCEPT, perms.CASES_REGISTER)),
    Box("to_register", "待立案", _p(perms.CASES_REGISTER)),
    Box("to_dispatch", "待派遣", _p(perms.CASES_DISPATCH)),
    Box("handling", "处置中", _p(perms.CASES_HANDLE, perms.CASES_DISPATCH, perms.CASES_SUPERVISE)),
    Box("to_check", "待核查", _p(perms.CASES_ACCEPT)),
    Box("to_close", "待结案", _p(perms.CASES_REGISTER)),
    Box("my_tasks", "我的任务", _p(perms.CASES_REPORT)),
    # An inspector's tasks by kind, and those past their deadline (not the centre's boxes).
    Box("my_verify", "核实任务", _p(perms.CASES_REPORT), _p(perms.CASES_ACCEPT)),
    Box("my_check", "核查任务", _p(perms.CASES_REPORT), _p(perms.CASES_ACCEPT)),
    Box("my_supplement", "待补采", _p(perms.CASES_REPORT), _p(perms.CASES_ACCEPT)),
    Box("my_overdue_tasks", "超期任务", _p(perms.CASES_REPORT), _p(perms.CASES_ACCEPT)),
    # Tasks waiting in the pool (任务池) of a grid of the inspector's areas, to be claimed.
    Box("my_pool", "任务池", _p(perms.CASES_REPORT), _p(perms.CASES_ACCEPT)),
    Box("my_reports", "我的上报", _p(perms.CASES_REPORT)),
    Box("warning", "预警", _p()),
    Box("overdue", "超期", _p()),
    Box("closed_today", "今日结案", _p()),
    Box("to_callback", "待回访", _p(perms.CASES_ACCEPT)),
    # The cases waiting for an acceptor while automatic assignment is on (cases.assignment).
    Box("to_assign", "待分配", _p(perms.CASES_REGISTER)),
]
# The acceptor's boxes that hold only their own cases when automatic assignment gives them some.
ACCEPTOR_BOXES = {"to_accept", "to_verify", "to_review"}
BOX_KEYS = {b.key: b for b in BOXES}


def boxes_for(scope: Scope) -> list[Box]:
    """The boxes the caller's positions show (待分配 only while assignment is on)."""
    if scope.sees_everything:
        shown = [b for b in BOXES if not b.key.startswith("my_")]
    else:
        shown = [
            b
            for b in BOXES
            if (not b.permissions or b.permissions & scope.permissions)
            and not b.unless & scope.permissions
        ]
    if any(b.key == "to_assign" for b in shown) and CaseRules.current().assignment_mode == "off":
        shown = [b for b in shown if b.key != "to_assign"]
    return shown


# Which states (and, for the deadline boxes, which deadline states of open cases) each box
# counts: `box_counts` sums one grouped count with these; `Box.condition` is the same rule as a
# filter for the list's ``box=``.
_BOX_STATES = {
    "to_accept": {S.REPORTED},
    "to_verify": {S.TO_VERIFY, S.VERIFYING},
    "to_review": {S.TO_REVIEW},
    "supplementing": {S.SUPPLEMENTING},
    "to_register": {S.TO_REGISTER},
    "to_dispatch": {S.TO_DISPATCH},
    "handling": {S.HANDLING},
    "to_check": {S.TO_CHECK, S.CHECKING},
    "to_close": {S.TO_CLOSE},
    "closed_today": {S.CLOSED},
}
_BOX_DEADLINES = {"warning": DeadlineState.WARNING, "overdue": DeadlineState.OVERDUE}


def box_counts(scope: Scope, now: dt.datetime | None = None) -> list[dict]:
    """One count per box of the caller: one grouped count of their open and closed-today cases
    by state and deadline state, plus the caller's own tasks and reports when they have those
    boxes."""
    now = now or timezone.now()
    boxes = boxes_for(scope)
    if not boxes:
        return []
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    visible = visibility.visible_cases(scope)
    # A department's 处置中, 预警 and 超期 leave out the parallel cases (并行派遣) whose share it
    # has fed back: the grouped count tells those rows apart (`done`).
    grouped = (
        visible.filter(Q(state__in=OPEN_STATES) | Q(state=S.CLOSED, closed_at__gte=start_of_day))
        .order_by()
        .annotate(done=dispatching.share_fed_back(scope))
        .values_list("state", "deadline_state", "done")
        .annotate(n=Count("pk"))
    )
    by_state: dict[str, int] = {}
    by_deadline: dict[str, int] = {}
    open_state: dict[str, int] = {}
    open_deadline: dict[str, int] = {}
    for state, deadline_state, done, n in grouped:
        by_state[state] = by_state.get(state, 0) + n
        if not done:
            open_state[state] = open_state.get(state, 0) + n
        if state in OPEN_STATES:
            by_deadline[deadline_state] = by_deadline.get(deadline_state, 0) + n
            if not done:
                open_deadline[deadline_state] = open_deadline.get(deadline_state, 0) + n
    counts = {}
    own = assignment.own_only(scope)
    for box in boxes:
        shared = box.key in dispatching.SHARE_BOXES
        if box.key in _BOX_STATES and not (own and box.key in ACCEPTOR_BOXES):
            states = open_state if shared else by_state
            counts[box.key] = sum(states.get(s, 0) for s in _BOX_STATES[box.key])
        elif box.key in _BOX_DEADLINES:
            deadline_states = open_deadline if shared else by_deadline
            counts[box.key] = deadline_states.get(_BOX_DEADLINES[box.key], 0)
        else:  # the caller's own, and 待回访 (closed cases, not in the grouped count)
            counts[box.key] = visible.filter(box.condition(scope, now, own)).count()
    fresh = arrivals(scope, boxes, now, own)
    return [
        {"key": b.key, "title": b.title, "count": counts[b.key], "new": fresh[b.key]} for b in boxes
    ]


# ---------------------------------------------------------------------------------------------
# New arrivals (新到): per box, the cases that came into it since the person last opened it.

# How far back "new" reaches: a box not opened for longer (or never) counts from then.
ARRIVALS_LOOKBACK = dt.timedelta(days=3)


def _arrived(key: str, since: dt.datetime) -> Q:
    """When a case in box `key` came into it, after `since`: the start of its stage for the
    state boxes (and 今日结案, 待回访: the close), its warning time or deadline for 预警 and 超期,
    the report for 我的上报, the task for 我的任务."""
    if key == "warning":
        return Q(warning_at__gt=since)
    if key == "overdue":
        return Q(deadline__gt=since)
    if key == "my_reports":
        return Q(reported_at__gt=since)
    if key in ("my_tasks", "my_pool"):
        return Q(Exists(CaseTask.objects.filter(case=OuterRef("pk"), created_at__gt=since)))
    return Q(stage_started_at__gt=since)


def arrivals(
    scope: Scope, boxes: list[Box], now: dt.datetime, own: bool | None = None
) -> dict[str, int]:
    """The "new arrival" count of each box: its cases that came into it since the caller last
    opened it (`BoxVisit`, written by `mark_box_seen`), at most `ARRIVALS_LOOKBACK` back. One
    aggregate over the cases that entered a stage, or reached their warning time or deadline,
    since the earliest of those times (`case_stage_started`, and `case_state_warning` /
    `case_state_deadline` for the warning and overdue ones): the whole box is not read again."""
    floor = now - ARRIVALS_LOOKBACK
    if own is None:
        own = assignment.own_only(scope)
    seen = dict(
        BoxVisit.objects.filter(user_id=scope.user.pk, box__in=[b.key for b in boxes]).values_list(
            "box", "seen_at"
        )
    )
    since = {b.key: max(seen.get(b.key, floor), floor) for b in boxes}
    earliest = min(since.values())
    recent = visibility.visible_cases(scope).filter(
        Q(stage_started_at__gt=earliest)
        | Q(deadline_state=DeadlineState.WARNING, warning_at__gt=earliest, warning_at__lte=now)
        | Q(deadline_state=DeadlineState.OVERDUE, deadline__gt=earliest, deadline__lte=now)
    )
    counted = recent.aggregate(
        **{
            b.key: Count("pk", filter=b.condition(scope, now, own) & _arrived(b.key, since[b.key]))
            for b in boxes
        }
    )
    return {key: n or 0 for key, n in counted.items()}


def mark_box_seen(scope: Scope, key: str, at: dt.datetime | None = None) -> None:
    """Records that the caller opened box `key` now (the list of a box does): its "new" count
    starts again from here. Bookkeeping of a read, like a read receipt: one upsert, no event
    and no operation log."""
    if scope.user is None or key not in BOX_KEYS:
        return
    BoxVisit.objects.bulk_create(
        [BoxVisit(user_id=scope.user.pk, box=key, seen_at=at or timezone.now())],
        update_conflicts=True,
        unique_fields=["user", "box"],
        update_fields=["seen_at"],
    )


@dataclass(frozen=True)
class CaseFilter:
    """The query parameters of a case list (and of its tiles and exports)."""

    box: str | None = None
    states: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    category: str | None = None
    kind: str | None = None
    area: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    deadline_state: str | None = None
    q: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    department: str | None = None
    self_handled: bool | None = None

    @classmethod
    def from_query(cls, query) -> CaseFilter:
        states = tuple(params.names(query, "state", []))
        for s in states:
            if s not in State.values:
                raise BadInput(f"unknown state {s!r}", field="state")
        sources = tuple(params.names(query, "source", []))
        for s in sources:
            if s not in Source.values:
                raise BadInput(f"unknown source {s!r}", field="source")
        box = params.choice(query, "box", list(BOX_KEYS), None)
        category = params.text(query, "category", None)
        if category is not None and not (category.isdigit() and len(category) in (2, 4)):
            raise BadInput("category is a 2- or 4-digit class code", field="category")
        area = params.text(query, "area", None)
        if area is not None and not (area.isdigit() and len(area) in (6, 9, 12)):
            raise BadInput("area is a 6-, 9- or 12-digit admin area code", field="area")
        bbox = params.bbox(query, "bbox", None)
        since = params.instant(query, "since", None)
        until = params.instant(query, "until", None)
        if since and until and until < since:
            raise BadInput("until comes before since", field="until")
        return cls(
            box=box,
            states=states,
            sources=sources,
            category=category,
            kind=params.choice(query, "kind", ["component", "event"], None),
            area=area,
            bbox=tuple(bbox) if bbox else None,
            deadline_state=params.choice(query, "deadline_state", DeadlineState.values, None),
            q=params.text(query, "q", None),
            since=since,
            until=until,
            department=params.text(query, "department", None),
            self_handled=params.boolean(query, "self_handled", None),
        )

    def apply(self, scope: Scope, cases: QuerySet) -> QuerySet:
        if self.box:
            box = BOX_KEYS[self.box]
            if box not in boxes_for(scope):
                raise BadInput(f"your position has no box {self.box!r}", field="box")
            cases = cases.filter(box.condition(scope, timezone.now()))
        if self.states:
            cases = cases.filter(state__in=self.states)
        if self.sources:
            cases = cases.filter(source__in=self.sources)
        if self.kind:
            cases = cases.filter(kind=self.kind)
        if self.category:
            field = "category__code" if len(self.category) == 4 else "category__parent__code"
            cases = cases.filter(**{field: self.category})
        if self.area:
            field = {6: "district_code", 9: "street_code", 12: "community_code"}[len(self.area)]
            cases = cases.filter(**{field: self.area})
        if self.bbox:
            cases = cases.filter(geom__intersects=Polygon.from_bbox(self.bbox))
        if self.deadline_state:
            cases = cases.filter(deadline_state=self.deadline_state)
        if self.since:
            cases = cases.filter(reported_at__gte=self.since)
        if self.until:
            cases = cases.filter(reported_at__lt=self.until)
        if self.department:
            cases = cases.filter(department__code=self.department)
        if self.self_handled is not None:
            cases = cases.filter(self_handled=self.self_handled)
        if self.q:
            text = self.q.strip()
            if text.isdigit() and len(text) >= 8:
                cases = cases.filter(number__startswith=text)
            else:
                cases = cases.filter(Q(description__icontains=text) | Q(address__icontains=text))
        return cases


def case_list(scope: Scope, chosen: CaseFilter) -> QuerySet:
    """The caller's cases matching `chosen`, newest first."""
    cases = chosen.apply(scope, visibility.visible_cases(scope))
    return cases.select_related("category__parent", "department").order_by("-reported_at", "-pk")


def open_tasks_of(scope: Scope, case_ids: list[int]) -> set[tuple[int, str]]:
    """(case id, task kind) of the caller's open tasks among `case_ids`: one query for a page."""
    if scope.user is None or not case_ids:
        return set()
    return set(
        CaseTask.objects.filter(
            case_id__in=case_ids, assignee_id=scope.user.pk, done_at__isnull=True
        ).values_list("case_id", "kind")
    )


def history(case: Case) -> list[dict]:
    """The case's events, oldest first (办理经过)."""
    rows = case.events.select_related("department").order_by("at", "pk")
    return [
        {
            "action": e.action,
            "from": e.from_state,
            "to": e.to_state,
            "actor": e.actor_name,
            "position": e.position,
            "department": e.department.name if e.department_id else None,
            "at": timezone.localtime(e.at).isoformat(),
            "opinion": e.opinion,
            "details": e.details,
        }
        for e in rows
    ]
