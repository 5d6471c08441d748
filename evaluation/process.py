"""Process supervision (流程监督, spec 5.1.4.3): where the caller's cases wait in their
workflow, which of them are late, and how each one went, step by step.

- **Stages** (环节) are the states the active workflow definitions (`cases.Workflow`, 流程定义)
  let a case wait in, in the order of the main path, and 已结案 for the cases closed in the
  period; each with the caller's cases in it now and how many of them are overdue and in
  warning.
- **Lists** of one stage, filtered by task number, area, source, reporting inspector and
  report period, overdue first (then in warning, then by deadline).
- **Steps** (办理环节) of a case: one per transition, from the event that brought the case into
  the stage (start) to the one that moved it on (end), with that event's handler, position,
  department and opinion; the stage the case waits in now has no end. Before/after photos are
  the report's and supplement's (before) and the handling's, check's and self-handled's
  (after).
"""

from __future__ import annotations

from django.db.models import Case as When_, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.scoping import Scope
from cases import visibility
from cases.models import Case, CaseMedia, DeadlineState, State, WorkflowStage

from .statistics import Selection

BEFORE = (CaseMedia.Stage.REPORT, CaseMedia.Stage.SUPPLEMENT)
AFTER = (CaseMedia.Stage.HANDLING, CaseMedia.Stage.CHECK, CaseMedia.Stage.SELF_HANDLED)
_ORDER = {s: n for n, s in enumerate(State.values)}


def stage_states() -> list[str]:
    """The states a case can wait in under the active workflow definitions, main path order."""
    found = set(WorkflowStage.objects.filter(workflow__active=True).values_list("state", flat=True))
    return sorted(found, key=lambda s: _ORDER.get(s, 99))


def stages(scope: Scope, chosen: Selection) -> dict:
    """Gives each stage with the caller's cases waiting in it now (whenever reported; the
    filters other than the period apply), their overdue and warning counts; and the cases
    closed in the period."""
    waiting = chosen.matching(scope)
    states = stage_states()
    rows = {
        r["state"]: r
        for r in waiting.filter(state__in=states)
        .values("state")
        .annotate(
            count=Count("id"),
            overdue=Count("id", filter=Q(deadline_state=DeadlineState.OVERDUE)),
            warning=Count("id", filter=Q(deadline_state=DeadlineState.WARNING)),
        )
    }
    labels = dict(State.choices)
    found = [
        {
            "state": s,
            "name": labels[s],
            "count": rows.get(s, {}).get("count", 0),
            "overdue": rows.get(s, {}).get("overdue", 0),
            "warning": rows.get(s, {}).get("warning", 0),
        }
        for s in states
    ]
    closed = chosen.matching(scope).filter(
        state=State.CLOSED, closed_at__gte=chosen.period.start, closed_at__lt=chosen.period.end
    )
    found.append(
        {
            "state": State.CLOSED,
            "name": labels[State.CLOSED],
            "count": closed.count(),
            "overdue": 0,
            "warning": 0,
        }  # fmt: skip
    )
    return {**chosen.period.as_json(), "stages": found}


def stage_cases(
    scope: Scope, chosen: Selection, state: str, number: str | None, reporter: str | None
) -> QuerySet:
    """The caller's cases in `state` (closed: closed in the period; others: waiting now,
    reported in the period), overdue first, then in warning, then the nearest deadline."""
    if state == State.CLOSED:
        cases = chosen.matching(scope).filter(
            state=state, closed_at__gte=chosen.period.start, closed_at__lt=chosen.period.end
        )
    else:
        cases = chosen.cases(scope).filter(state=state)
    if number:
        cases = cases.filter(number__startswith=number.strip())
    if reporter:
        cases = cases.filter(reported_by__username=reporter.strip())
    lateness = When_(
        When(deadline_state=DeadlineState.OVERDUE, then=Value(0)),
        When(deadline_state=DeadlineState.WARNING, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        cases.select_related("category", "department")
        .annotate(lateness=lateness)
        .order_by("lateness", "deadline", "-reported_at", "-pk")
    )


def _photos(case: Case, stages_: tuple[str, ...]) -> list[dict]:
    return [
        {
            "id": m.pk,
            "stage": m.stage,
            "stage_name": m.get_stage_display(),
            "url": f"/api/v1/cases/{case.pk}/media/{m.pk}",
            "uploaded_at": timezone.localtime(m.uploaded_at).isoformat(),
        }
        for m in case.media.filter(stage__in=stages_, content_type__startswith="image/")
    ]


def steps(scope: Scope, case_id) -> dict:
    """Gives the case's steps and its before/after photos (`NotFound` outside the scope)."""
    case = visibility.get_visible(scope, case_id)
    labels = dict(State.choices)
    events = list(case.events.select_related("department").order_by("at", "pk"))
    found, entered = [], case.reported_at
    for event in events:
        if event.action == "report":
            entered = event.at
            continue
        moved = event.to_state and event.to_state != event.from_state
        found.append(
            {
                "stage": event.from_state,
                "stage_name": labels.get(event.from_state, event.from_state),
                "action": event.action,
                "handler": event.actor_name,
                "position": event.position,
                "department": event.department.name if event.department_id else None,
                "start": timezone.localtime(entered).isoformat(),
                "end": timezone.localtime(event.at).isoformat(),
                "opinion": event.opinion,
            }
        )
        if moved:
            entered = event.at
    if case.state not in (State.CLOSED, State.VOID, State.MERGED):
        found.append(
            {
                "stage": case.state,
                "stage_name": labels.get(case.state, case.state),
                "action": None,
                "handler": None,
                "position": None,
                "department": case.department.name if case.department_id else None,
                "start": timezone.localtime(entered).isoformat(),
                "end": None,
                "opinion": "",
            }
        )
    return {
        "case": case.pk,
        "number": case.number,
        "state": case.state,
        "deadline": timezone.localtime(case.deadline).isoformat() if case.deadline else None,
        "deadline_state": case.deadline_state,
        "steps": found,
        "before": _photos(case, BEFORE),
        "after": _photos(case, AFTER),
    }
