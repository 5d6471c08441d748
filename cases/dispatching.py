"""Dispatch modes (派遣方式, spec 5.2.6): how `do_dispatch_case` sends a case to its departments,
and the actions around them.

- **Normal** (普通派遣): one department, as before.
- **Forced** (强制派遣): one department that may not apply for the case's return (the case rules'
  `no_return_forced`; `cases.applications` refuses with 409).
- **Parallel** (并行派遣): one case, several departments at once. Each has a `CaseDispatch` row
  with its own handling clock (timed alone from the class limit, from the dispatch) and its own
  feedback; a department's feedback closes its row, and only the last one moves the case to
  check. A rework reopens the rows of the departments named (default: all), their clocks
  starting anew. The case's `department` is the first one named (the lead, 牵头部门): the
  single-department code (supervision, media, the list's department filter) keeps working.
  Return, transfer, extension, hold and assist applications are refused on a parallel case
  (each department's clock is its own); the centre re-dispatches nothing there and voids it
  if need be.
- **Multi-department** (多部门派遣): the case is split into one child case per department
  (number ``<parent>-<n>``, `Case.parent`), each dispatched normally and run through the whole
  workflow (feedback, check, close) on its own; the parent waits in handling without a clock
  and closes (as the person who closed or voided the last child) once every child is closed or
  void. No transition is taken on the parent by hand (409).
- **Assisting departments** (主协办派遣) at dispatch: `CaseAssist` rows, as an approved assist
  application makes, so they see the case.
- **One-click** (一键派遣): the manual's department and assisting departments for the class
  and place; **automatic** (自动派遣): registration dispatches at once when the manual entry
  says so (`ManualEntry.auto_dispatch`), as an event by the registering person.
- **Re-dispatch** (改派): the centre moves a case in handling to another department; the event
  carries ``evaluation: wrong_dispatch`` (错派) and the new department's clock starts anew.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, Value
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Department
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, Conflict, Forbidden

from . import deadlines, visibility, workflows
from .calendars import default_calendar
from .categories import recommended_department as manual_entry_for
from .recommend import confident
from .models import (
    Case,
    CaseAssist,
    CaseDispatch,
    CaseMedia,
    DeadlineState,
    DispatchMode,
    ManualEntry,
    State,
)
from .workflow import NoTransition

Mode = DispatchMode
# A child's number is the parent's and "-n": 14 + 2 characters fit `Case.number`.
MAX_CHILDREN = 9
FINISHED_CHILD = (State.CLOSED, State.VOID)


def manual_entry(case: Case) -> ManualEntry | None:
    """The manual entry for the case's class and place (most specific area first)."""
    codes = [c for c in (case.community_code, case.street_code, case.district_code) if c]
    return manual_entry_for(case.category, codes)


def _departments(codes, field: str) -> list[Department]:
    """The active handling departments `codes` name, in order, each once."""
    if isinstance(codes, str):
        codes = [codes]
    found, seen = [], set()
    for code in codes or []:
        code = str(code)
        if code in seen:
            raise BadInput(f"{code} is named twice", field=field)
        seen.add(code)
        dept = Department.objects.filter(
            code=code, kind=Department.Kind.HANDLING, active=True
        ).first()
        if dept is None:
            raise BadInput(f"no handling department {code}", field=field)
        found.append(dept)
    return found


def is_multi_parent(case: Case) -> bool:
    """A parent of a multi-department dispatch, waiting for its children."""
    return case.dispatch_mode == Mode.MULTI and case.parent_id is None


def handles(scope: Scope, case: Case) -> bool:
    """Whether the caller's department is one the case is dispatched to and still handling it
    (its own row of a parallel case not yet fed back)."""
    if scope.department_id is None:
        return False
    if case.dispatch_mode == Mode.PARALLEL:
        return CaseDispatch.objects.filter(
            case_id=case.pk, department_id=scope.department_id, fed_back_at__isnull=True
        ).exists()
    return scope.department_id == case.department_id


def _clock(case: Case, definition, start: dt.datetime) -> tuple[dt.datetime | None, ...]:
    """A department's own handling deadline and warning time from `start` (the class limit,
    or the case's custom deadline)."""
    if case.custom_deadline:
        deadline, unit = case.custom_deadline, ""
    else:
        limit = deadlines.stage_limit(case, definition, State.HANDLING)
        if limit is None:
            return None, None
        deadline, unit = default_calendar().add(start, limit[0], limit[1]), limit[1]
    return deadline, deadlines.warning_time(start, deadline, unit)


def deadline_state(row: CaseDispatch, now: dt.datetime) -> str:
    """The deadline state of one department's share now (fed back: as it was then)."""
    moment = row.fed_back_at or now
    if row.deadline is None:
        return DeadlineState.NONE
    if moment >= row.deadline:
        return DeadlineState.OVERDUE
    if row.warning_at is not None and moment >= row.warning_at:
        return DeadlineState.WARNING
    return DeadlineState.NORMAL


# ---------------------------------------------------------------------------------------------
# Dispatching (called by `cases.actions.do_dispatch_case` with the case locked)


def dispatch(
    scope: Scope,
    case: Case,
    definition,
    transition,
    at: dt.datetime,
    *,
    mode: str,
    department,
    departments,
    assisting,
    one_click: bool,
    opinion: str,
    details: dict,
) -> Case:
    from .actions import finish_transition, handling_department

    mode = mode or Mode.NORMAL
    if mode not in Mode.values:
        raise BadInput(f"mode is one of {', '.join(Mode.values)}", field="mode")
    if mode in (Mode.PARALLEL, Mode.MULTI):
        if one_click:
            raise BadInput("one-click dispatch sends a case to one department", field="one_click")
        chosen = _departments(departments, "departments")
        if len(chosen) < 2:
            raise BadInput(
                f"a {Mode(mode).label} names two or more departments", field="departments"
            )
        if mode == Mode.MULTI:
            if assisting:
                raise BadInput(
                    "a multi-department dispatch takes no assisting departments: each "
                    "department case takes its own",
                    field="assisting",
                )
            if len(chosen) > MAX_CHILDREN:
                raise BadInput(f"at most {MAX_CHILDREN} departments", field="departments")
            return _split(scope, case, definition, transition, at, chosen, opinion, details)
        main = chosen[0]
    elif one_click:
        entry = manual_entry(case)
        if entry is None:
            raise BadInput(
                f"the manual names no department for class {case.category.code} here",
                field="one_click",
            )
        main = entry.department
        if assisting in (None, []):
            assisting = [d.code for d in entry.assisting.filter(active=True)]
        details["one_click"] = True
    else:
        main = handling_department(case, department)
    helpers = _departments(assisting, "assisting")
    if any(h.pk == main.pk for h in helpers):
        raise BadInput(f"{main.name} handles the case: it does not assist", field="assisting")
    if mode == Mode.PARALLEL and any(h in chosen for h in helpers):
        raise BadInput("a parallel department does not also assist", field="assisting")
    case.department = main
    case.dispatch_mode = mode
    details["department"] = main.code
    if mode != Mode.NORMAL:
        details["mode"] = mode
    if mode == Mode.PARALLEL:
        details["departments"] = [d.code for d in chosen]
        CaseDispatch.objects.filter(case=case).delete()  # of an earlier dispatch, returned
        deadline, warning = _clock(case, definition, at)
        CaseDispatch.objects.bulk_create(
            CaseDispatch(
                case=case, department=d, dispatched_at=at, deadline=deadline, warning_at=warning
            )
            for d in chosen
        )
    if helpers:
        details["assisting"] = [h.code for h in helpers]
        for helper in helpers:
            CaseAssist.objects.get_or_create(case=case, department=helper, defaults={"at": at})
    return finish_transition(scope, case, definition, transition, at, opinion, details)


def _split(scope, case, definition, transition, at, chosen, opinion, details) -> Case:
    """Multi-department dispatch: a child case per department, each dispatched to it; the
    parent waits in handling without a clock."""
    from .actions import record_event

    media = list(CaseMedia.objects.filter(case=case, stage=CaseMedia.Stage.REPORT))
    children = []
    for n, department in enumerate(chosen, start=1):
        child = Case.objects.get(pk=case.pk)  # a copy of the row: fields, snapshot, workflow
        child.pk = child.id = None
        child.number = f"{case.number}-{n}"
        child.parent = case
        # The reporter's data and call-back stay with the parent (one call-back per report).
        child.reporter_name = child.reporter_phone = ""
        child.callback_wanted = False
        child.department = department
        child.dispatch_mode = Mode.NORMAL
        child.state = transition.target
        child.version = 1
        child.closed_at = child.held_since = child.hold_until = None
        child.check_passed = None
        deadlines.start_stage(child, definition, transition.target, at)
        child.save()
        CaseMedia.objects.bulk_create(
            CaseMedia(
                case=child,
                stage=m.stage,
                file=m.file.name,
                name=m.name,
                content_type=m.content_type,
                size=m.size,
                uploaded_by_id=m.uploaded_by_id,
                uploaded_at=m.uploaded_at,
            )
            for m in media
        )
        record_event(
            scope,
            child,
            "dispatch",
            case.state,
            child.state,
            at,
            opinion,
            {"department": department.code, "mode": Mode.MULTI, "parent": case.number},
        )
        children.append(child)
    source = case.state
    case.state = transition.target
    case.dispatch_mode = Mode.MULTI
    case.department = None
    case.stage_started_at = at
    case.stage_limit_amount, case.stage_limit_unit = None, ""
    case.deadline = case.warning_at = case.handling_deadline = None
    case.deadline_state = DeadlineState.NONE
    case.version += 1
    case.save()
    # No "departments" here: each child's own dispatch event tells its department.
    details.update(mode=Mode.MULTI, children=[c.number for c in children])
    record_event(scope, case, "dispatch", source, case.state, at, opinion, details)
    return case


def auto_dispatch(scope: Scope, case: Case, definition, at: dt.datetime) -> Case:
    """After registration: dispatches the case at once when its manual entry says so (自动派遣),
    or when the category recommendation gives the case's own class from its description with
    at least `CASES_RECOMMEND_AUTO_DISPATCH` (`cases.recommend.confident`), as the registering
    person. The manual authorizes it, not their position."""
    from .actions import finish_transition

    entry = manual_entry(case)
    if entry is None or case.state != State.TO_DISPATCH:
        return case
    confidence = None if entry.auto_dispatch else confident(case)
    if not entry.auto_dispatch and confidence is None:
        return case
    try:
        transition = definition.machine.step(case.state, "dispatch")
    except NoTransition:
        return case
    case.department = entry.department
    case.dispatch_mode = Mode.NORMAL
    details = {"department": entry.department.code, "automatic": True}
    opinion = "按事项指挥手册自动派遣"
    if confidence is not None:
        details["confidence"] = confidence
        opinion = f"按分类推荐自动派遣（置信度 {confidence:.0%}）"
    helpers = list(entry.assisting.filter(active=True).exclude(pk=entry.department_id))
    if helpers:
        details["assisting"] = [h.code for h in helpers]
        for helper in helpers:
            CaseAssist.objects.get_or_create(case=case, department=helper, defaults={"at": at})
    return finish_transition(scope, case, definition, transition, at, opinion, details)


# ---------------------------------------------------------------------------------------------
# Feedback and rework of a parallel case (called with the case locked)


def parallel_feedback(scope: Scope, case: Case, definition, transition, at, opinion) -> Case:
    """One department's feedback of a parallel case: its row closes; the case moves to check
    only with the last one."""
    from .actions import record_event, finish_transition

    rows = CaseDispatch.objects.select_for_update().filter(case=case).select_related("department")
    mine = next((r for r in rows if r.department_id == scope.department_id), None)
    if mine is None:
        raise Forbidden("the case is not dispatched to your department")
    if mine.fed_back_at is not None:
        raise Conflict(
            f"{mine.department.name} fed back already: the others have not",
            current={"state": case.state, "version": case.version},
        )
    mine.fed_back_at, mine.feedback = at, opinion
    mine.overdue = mine.deadline is not None and at > mine.deadline
    mine.save(update_fields=["fed_back_at", "feedback", "overdue"])
    waiting = [r.department.code for r in rows if r.fed_back_at is None and r.pk != mine.pk]
    details = {"department": mine.department.code, "overdue": mine.overdue}
    if waiting:
        details["waiting"] = waiting
        case.version += 1
        case.save()
        record_event(scope, case, "feedback", case.state, case.state, at, opinion, details)
        return case
    return finish_transition(scope, case, definition, transition, at, opinion, details)


def parallel_rework(case: Case, definition, at: dt.datetime, codes) -> list[str]:
    """Reopens the rows of the departments `codes` names (default: all), each clock anew;
    gives their codes."""
    rows = list(
        CaseDispatch.objects.select_for_update().filter(case=case).select_related("department")
    )
    if codes:
        named = {d.pk for d in _departments(codes, "departments")}
        unknown = named - {r.department_id for r in rows}
        if unknown:
            raise BadInput("name departments of this parallel dispatch", field="departments")
        rows = [r for r in rows if r.department_id in named]
    deadline, warning = _clock(case, definition, at)
    for row in rows:
        row.dispatched_at, row.deadline, row.warning_at = at, deadline, warning
        row.fed_back_at, row.feedback, row.overdue = None, "", None
        row.rework_count += 1
        row.save()
    return [r.department.code for r in rows]


# ---------------------------------------------------------------------------------------------
# Multi-department: the parent follows its children


def follow_parent(scope: Scope, child: Case, at: dt.datetime) -> None:
    """After a child closed or was voided: closes the parent once every child is closed or void
    (void when none closed). Locks the parent after the child, so the last of two children
    finishing at once sees the other's."""
    from .actions import record_event

    if child.parent_id is None:
        return
    parent = Case.objects.select_for_update(of=("self",)).get(pk=child.parent_id)
    if parent.state in FINISHED_CHILD:
        return
    states = list(parent.children.values_list("state", flat=True))
    if any(s not in FINISHED_CHILD for s in states):
        return
    source = parent.state
    closed = State.CLOSED in states
    parent.state = State.CLOSED if closed else State.VOID
    if closed:
        parent.closed_at = at
    parent.version += 1
    parent.save()
    numbers = list(parent.children.order_by("pk").values_list("number", flat=True))
    record_event(
        scope,
        parent,
        "close" if closed else "void",
        source,
        parent.state,
        at,
        "各部门案件均已办结" if closed else "各部门案件均已作废",
        {"children": numbers, "automatic": True},
    )


# ---------------------------------------------------------------------------------------------
# Re-dispatch (改派)


def may_redispatch(scope: Scope, case: Case) -> bool:
    return (
        case.state == State.HANDLING
        and case.held_since is None
        and case.dispatch_mode != Mode.MULTI
        and scope.has_perm(perms.CASES_DISPATCH)
    )


def _target(case_id, *args, **kwargs) -> str:
    return str(case_id)


@action("cases.redispatch", permission=None, target=_target)
def do_redispatch_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    department=None,
    mode: str = Mode.NORMAL,
    replace=None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Re-dispatches a case in handling to another department (改派): the centre found the
    first one wrong. The event counts as a wrong dispatch (错派) for evaluation; the new
    department's handling clock starts anew. On a parallel case it moves the share of the
    department `replace` names (one still handling) to the new one."""
    from .actions import (
        state_conflict,
        record_event,
        require_opinion,
        set_history_actor,
        handling_department,
    )

    at = at or timezone.now()
    case = visibility.get_visible(scope, case_id, for_update=True)
    if version is None:
        raise BadInput("give the version of the case you acted on", field="version")
    if version != case.version:
        raise state_conflict(case, f"the case changed meanwhile: it is now version {case.version}")
    if case.state != State.HANDLING or case.held_since is not None:
        raise state_conflict(case, "only a case in handling, not on hold, is re-dispatched")
    if case.dispatch_mode == Mode.MULTI:
        raise state_conflict(case, "re-dispatch a multi-department case's department cases")
    if not scope.has_perm(perms.CASES_DISPATCH):
        raise Forbidden("your position may not re-dispatch cases")
    if department in (None, ""):
        raise BadInput("name the department to re-dispatch to", field="department")
    if case.dispatch_mode == Mode.PARALLEL:
        mode = Mode.PARALLEL
    elif mode not in (Mode.NORMAL, Mode.FORCED):
        raise BadInput("a re-dispatch is normal or forced", field="mode")
    require_opinion(opinion, "a re-dispatch")
    chosen = handling_department(case, department)
    if mode == Mode.PARALLEL:
        return _redispatch_share(scope, case, chosen, replace, at, opinion)
    if chosen.pk == case.department_id:
        raise BadInput("the case is with that department already", field="department")
    set_history_actor(scope)
    before = case.department.code if case.department_id else None
    case.department, case.dispatch_mode = chosen, mode
    CaseAssist.objects.filter(case=case, department=chosen).delete()
    deadlines.start_stage(case, workflows.definition(case.workflow_id), State.HANDLING, at)
    case.version += 1
    case.save()
    details = {"before": before, "department": chosen.code, "evaluation": "wrong_dispatch"}
    if mode != Mode.NORMAL:
        details["mode"] = mode
    record_event(scope, case, "redispatch", State.HANDLING, State.HANDLING, at, opinion, details)
    return case


def _redispatch_share(scope, case, chosen, replace, at, opinion) -> Case:
    """Moves one department's share of a parallel case to `chosen`, with a clock of its own
    from now; the lead follows when it was the lead's."""
    from .actions import record_event, set_history_actor

    if replace in (None, ""):
        raise BadInput("name the department whose share is re-dispatched", field="replace")
    rows = list(
        CaseDispatch.objects.select_for_update().filter(case=case).select_related("department")
    )
    row = next((r for r in rows if r.department.code == str(replace)), None)
    if row is None:
        raise BadInput(f"{replace} has no share of this parallel case", field="replace")
    if row.fed_back_at is not None:
        raise Conflict(
            f"{row.department.name} has fed back: its share is not re-dispatched",
            current={"state": case.state, "version": case.version},
        )
    if any(r.department_id == chosen.pk for r in rows):
        raise BadInput(f"{chosen.name} has a share already", field="department")
    set_history_actor(scope)
    before = row.department
    row.department, row.dispatched_at = chosen, at
    row.deadline, row.warning_at = _clock(case, workflows.definition(case.workflow_id), at)
    row.save()
    if case.department_id == before.pk:
        case.department = chosen
    CaseAssist.objects.filter(case=case, department=chosen).delete()
    case.version += 1
    case.save()
    details = {
        "before": before.code,
        "department": chosen.code,
        "departments": [chosen.code],  # who is told: the new department only
        "evaluation": "wrong_dispatch",
        "mode": Mode.PARALLEL,
    }
    record_event(scope, case, "redispatch", State.HANDLING, State.HANDLING, at, opinion, details)
    return case


# ---------------------------------------------------------------------------------------------
# Reading


def progress(scope: Scope, case: Case, now: dt.datetime | None = None) -> dict:
    """Per-department progress: the rows of a parallel case, the children of a multi-department
    one (those the caller sees), the assisting departments."""
    from .serializers import local_time

    now = now or timezone.now()
    rows = CaseDispatch.objects.filter(case=case).select_related("department").order_by("pk")
    children = visibility.visible_cases(scope).filter(parent_id=case.pk).order_by("pk")
    assists = CaseAssist.objects.filter(case=case).select_related("department").order_by("pk")
    return {
        "mode": case.dispatch_mode,
        "mode_name": Mode(case.dispatch_mode).label,
        "parent": (
            {"id": case.parent_id, "number": case.number.rsplit("-", 1)[0]}
            if case.parent_id
            else None
        ),
        "departments": [
            {
                "department": {"code": r.department.code, "name": r.department.name},
                "dispatched_at": local_time(r.dispatched_at),
                "deadline": local_time(r.deadline),
                "deadline_state": deadline_state(r, now),
                "fed_back_at": local_time(r.fed_back_at),
                "feedback": r.feedback,
                "overdue": r.overdue,
                "rework_count": r.rework_count,
            }
            for r in rows
        ],
        "children": [
            {
                "id": c.pk,
                "number": c.number,
                "state": c.state,
                "state_name": c.get_state_display(),
                "department": (
                    {"code": c.department.code, "name": c.department.name}
                    if c.department_id
                    else None
                ),
                "deadline": local_time(c.deadline),
                "deadline_state": c.deadline_state,
                "closed_at": local_time(c.closed_at),
            }
            for c in children.select_related("department")
        ],
        "assisting": [{"code": a.department.code, "name": a.department.name} for a in assists],
    }


# The boxes a handling department's fed-back parallel shares leave (`open_shares`).
SHARE_BOXES = ("handling", "warning", "overdue")


def share_fed_back(scope: Scope):
    """Whether the case is a parallel one whose share the caller's department has fed back
    (an EXISTS on the share's unique (case, department) index; false for anyone but a
    handling department)."""
    if not visibility.department_only(scope):
        return Value(False)
    return Exists(
        CaseDispatch.objects.filter(
            case_id=OuterRef("pk"), department_id=scope.department_id, fed_back_at__isnull=False
        )
    )


def open_shares(scope: Scope) -> Q:
    """For a handling department's boxes 处置中, 预警 and 超期: all but the parallel cases whose
    share it has fed back (it reads them still, but they wait for the others, and another
    department's lateness is not its own: 超期只体现超期的单位). No condition for anyone else.
    A NOT EXISTS, not ``NOT id = ANY(ARRAY(…))``, which compares each row with every id
    (bench/README.md "Parallel shares")."""
    if not visibility.department_only(scope):
        return Q()
    return ~Q(share_fed_back(scope))
