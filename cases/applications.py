"""Applications and approvals (申请与答复授权, spec 5.1.3.3–5.1.3.10): a handling department (or
the centre) applies for a return (退回), an extension (延期), a hold (挂账), a void (作废), a transfer
(转办) or assistance (协办); the authorizers of the kind's `ApprovalRule` levels answer one level
after another; the last approval applies the effect in the same transaction.

Every step is a ``do_*`` action that locks the case, appends a `CaseEvent` (``apply_<kind>``,
``answer_<kind>`` for a level passed, ``approve_<kind>``, ``deny_<kind>``, ``withdraw_<kind>``,
``return``, ``release_hold``) and moves the case's version. A case has at most one pending
application (a partial unique index). Return and void move the state through the workflow's
``return`` and ``void`` transitions, which are taken only here.

A hold pauses the handling clock: the deadline state is ``none`` while held, and the release (by
hand, or by beat at `hold_until`) moves the deadline and the warning time by exactly the time
held, measured as the limit counts (working time for working units). As in `cases.calendar`, a
hold that begins after the deadline moves nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Department
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, Conflict, Forbidden, NotFound

from . import deadlines, merging, visibility, workflows
from .actions import case_target, record_event, set_history_actor, state_conflict
from .calendars import default_calendar
from .dispatching import follow_parent
from .models import (
    Application,
    ApplicationKind,
    ApplicationStep,
    ApprovalRule,
    Case,
    CaseAssist,
    CaseRules,
    DeadlineState,
    DispatchMode,
    HoldMode,
    LimitUnit,
    State,
)
from .workflow import NoTransition

K = ApplicationKind
AFTER_REGISTRATION = (
    State.TO_DISPATCH,
    State.HANDLING,
    State.TO_CHECK,
    State.CHECKING,
    State.TO_CLOSE,
)
# The states a case may be in when each kind is applied for (and approved).
KIND_STATES = {
    K.RETURN: (State.HANDLING,),
    K.EXTENSION: (State.HANDLING,),
    K.HOLD: (State.HANDLING,),
    K.TRANSFER: (State.HANDLING,),
    K.ASSIST: (State.HANDLING,),
    K.MERGE: (State.HANDLING,),
    K.VOID: AFTER_REGISTRATION,
}
REGISTER, SUPERVISE, HANDLE = perms.CASES_REGISTER, perms.CASES_SUPERVISE, perms.CASES_HANDLE
# (level, permission, receiving department, opinion required, above hours) per kind: the shift
# leader answers, the leader too for extensions and holds of more than a day.
DEFAULT_RULES = {
    K.EXTENSION: [(1, REGISTER, False, False, None), (2, SUPERVISE, False, True, "24")],
    K.HOLD: [(1, REGISTER, False, False, None), (2, SUPERVISE, False, True, "24")],
    K.RETURN: [(1, REGISTER, False, True, None)],
    K.VOID: [(1, REGISTER, False, True, None)],
    K.TRANSFER: [(1, HANDLE, True, False, None)],
    K.ASSIST: [(1, REGISTER, False, False, None)],
    K.MERGE: [(1, REGISTER, False, False, None)],
}
_HOURS_PER = {
    LimitUnit.WORKING_HOURS: 1,
    LimitUnit.NATURAL_HOURS: 1,
    LimitUnit.WORKING_DAYS: 8,
    LimitUnit.NATURAL_DAYS: 24,
}


def load_default_approval_rules(sender=None, using="default", **kwargs) -> int:
    """Creates the default chain of each kind that has no rule yet, and the case rules row
    (idempotent: edited rules are kept). Gives how many kinds got rules."""
    CaseRules.objects.using(using).get_or_create(pk=1)
    created = 0
    for kind, levels in DEFAULT_RULES.items():
        if ApprovalRule.objects.using(using).filter(kind=kind).exists():
            continue
        ApprovalRule.objects.using(using).bulk_create(
            ApprovalRule(
                kind=kind,
                level=level,
                permission=permission,
                receiving_department=receiving,
                opinion_required=opinion,
                above_hours=Decimal(above) if above else None,
            )
            for level, permission, receiving, opinion, above in levels
        )
        created += 1
    return created


# ---------------------------------------------------------------------------------------------
# Reading the rules


def requested_hours(app: Application, at: dt.datetime) -> Decimal | None:
    """The hours an extension or hold asks for (None: without end); 0 for the other kinds."""
    if app.kind == K.EXTENSION:
        if app.new_deadline is not None:
            base = app.case.deadline or at
            return Decimal((app.new_deadline - base).total_seconds()) / 3600
        return (app.amount or Decimal(0)) * _HOURS_PER.get(app.unit, 1)
    if app.kind == K.HOLD:
        if app.hold_mode == HoldMode.HOURS:
            return app.hold_hours
        if app.hold_mode == HoldMode.UNTIL and app.hold_until:
            return Decimal((app.hold_until - at).total_seconds()) / 3600
        return None
    return Decimal(0)


def chain(app: Application, at: dt.datetime) -> list[ApprovalRule]:
    """The levels that answer `app` as it now asks (a level with `above_hours` applies only
    when more hours are asked)."""
    hours = requested_hours(app, at)
    return [
        rule
        for rule in ApprovalRule.objects.filter(kind=app.kind).order_by("level")
        if rule.above_hours is None or hours is None or hours > rule.above_hours
    ]


def current_rule(app: Application, at: dt.datetime | None = None) -> ApprovalRule | None:
    at = at or timezone.now()
    return next((r for r in chain(app, at) if r.level >= app.level), None)


def may_answer(scope: Scope, app: Application, rule: ApprovalRule | None) -> bool:
    """Whether the caller may answer `app` at `rule`'s level: its permission (and, for a
    receiving-department level, the target department), never their own application and never
    two levels of one application."""
    if rule is None or app.state != Application.State.PENDING:
        return False
    if scope.sees_everything:
        return True
    if not scope.has_perm(rule.permission) or scope.user is None:
        return False
    if rule.receiving_department and scope.department_id != app.target_department_id:
        return False
    if app.applicant_id == scope.user.pk:
        return False
    return not app.steps.filter(approver_id=scope.user.pk).exists()


def extension_share(department_id: int | None) -> dict:
    """How many of the department's cases were extended, of how many, under which cap; `allowed`
    is how many may be (the cap's share of its cases, rounded up; null without a cap)."""
    cases = Case.objects.filter(department_id=department_id).count()
    extended = (
        Application.objects.filter(
            kind=K.EXTENSION,
            state=Application.State.APPROVED,
            department_id=department_id,
            case__department_id=department_id,
        )
        .values("case_id")
        .distinct()
        .count()
    )
    cap = CaseRules.current().extension_cap
    allowed = math.ceil(cases * cap) if cap is not None else None
    return {"extended": extended, "cases": cases, "cap": cap, "allowed": allowed}


def _check_extension(case: Case, department_id: int | None) -> None:
    rules = CaseRules.current()
    blocked = rules.non_extendable.filter(
        Q(pk=case.category_id) | Q(pk=case.category.parent_id or -1)
    )
    if blocked.exists():
        raise state_conflict(case, f"cases of class {case.category.code} may not be extended")
    if rules.extension_cap is None or department_id is None:
        return
    share = extension_share(department_id)
    already = Application.objects.filter(
        kind=K.EXTENSION, state=Application.State.APPROVED, case=case, department_id=department_id
    ).exists()
    if not already and share["extended"] + 1 > share["allowed"]:
        raise state_conflict(
            case,
            f"the department has extended {share['extended']} of its {share['cases']} cases; "
            f"the cap of {rules.extension_cap:.0%} allows {share['allowed']}",
        )


def return_restrictions(case: Case, at: dt.datetime) -> list[str]:
    """Why a case may not be returned without an approved application (the case rules)."""
    rules, found = CaseRules.current(), []
    if rules.no_return_overdue and case.deadline and at >= case.deadline:
        found.append("overdue")
    if rules.no_return_rework and case.rework_count:
        found.append("rework")
    extended = Application.objects.filter(
        case=case, kind=K.EXTENSION, state=Application.State.APPROVED
    ).exists()
    if rules.no_return_extended and extended:
        found.append("extended")
    if case.dispatch_mode == DispatchMode.FORCED:  # the centre's own application: the chain
        found.append("forced")
    return found


# ---------------------------------------------------------------------------------------------
# Applying


def _may_apply(scope: Scope, case: Case) -> bool:
    if scope.sees_everything or scope.has_perm(REGISTER) or scope.has_perm(perms.CASES_DISPATCH):
        return True
    return (
        scope.has_perm(HANDLE)
        and case.department_id is not None
        and scope.department_id == case.department_id
    )


def _refusal(scope: Scope, case: Case, kind: str) -> str | None:
    """Why the dispatch mode refuses `kind` on `case` (None: it does not): a parallel case takes
    only a void (each department's clock is its own), a multi-department parent none (its
    department cases take theirs), and the department of a forced dispatch no return."""
    if case.dispatch_mode == DispatchMode.MULTI and case.parent_id is None:
        return "a multi-department case (多部门派遣) takes applications on its department cases"
    if case.dispatch_mode == DispatchMode.PARALLEL and kind != K.VOID:
        return f"a parallel case (并行派遣) takes no {kind} application"
    if (
        kind == K.RETURN
        and case.dispatch_mode == DispatchMode.FORCED
        and scope.department_id is not None
        and scope.department_id == case.department_id
        and CaseRules.current().no_return_forced  # the one query, last
    ):
        return "the case was dispatched by force (强制派遣): its department may not return it"
    return None


def applicable_kinds(scope: Scope, case: Case) -> list[str]:
    """The kinds the caller may apply for on `case` in its state (a query only for a case
    dispatched by force or to several departments)."""
    if scope.is_anonymous or case.held_since or not _may_apply(scope, case):
        return []
    kinds = [kind for kind, states in KIND_STATES.items() if case.state in states]
    if case.dispatch_mode != DispatchMode.NORMAL:
        kinds = [k for k in kinds if _refusal(scope, case, k) is None]
    return kinds


def _other_department(case: Case, code, field: str = "department") -> Department:
    if code in (None, ""):
        raise BadInput("name the other handling department", field=field)
    found = Department.objects.filter(
        code=str(code), kind=Department.Kind.HANDLING, active=True
    ).first()
    if found is None:
        raise BadInput(f"no handling department {code}", field=field)
    if found.pk == case.department_id:
        raise BadInput("the case is already with that department", field=field)
    return found


def _check_time(kind: str, values: dict, at: dt.datetime) -> None:
    """Checks the time an extension or hold asks for (`values` as `Application` fields)."""
    if kind == K.EXTENSION:
        if values.get("new_deadline") is not None:
            if values["new_deadline"] <= at:
                raise BadInput("a new deadline lies in the future", field="new_deadline")
        elif values.get("amount") is None or values["amount"] <= 0:
            raise BadInput("give the extension: amount and unit, or new_deadline", field="amount")
        elif values.get("unit") not in LimitUnit.values:
            raise BadInput(f"unit is one of {', '.join(LimitUnit.values)}", field="unit")
    if kind == K.HOLD:
        mode = values.get("hold_mode") or HoldMode.NONE
        if mode == HoldMode.HOURS and not (values.get("hold_hours") or 0) > 0:
            raise BadInput("a hold for N hours needs hold_hours", field="hold_hours")
        if mode == HoldMode.UNTIL and (
            values.get("hold_until") is None or values["hold_until"] <= at
        ):
            raise BadInput("a hold until a time needs a future hold_until", field="hold_until")


@action(
    "cases.apply",
    permission=None,
    target=case_target,
    details=lambda case_id, *, kind, **_: {"kind": kind},
)
def do_apply(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    kind: str,
    reason: str,
    amount: Decimal | None = None,
    unit: str = "",
    new_deadline: dt.datetime | None = None,
    hold_mode: str = "",
    hold_hours: Decimal | None = None,
    hold_until: dt.datetime | None = None,
    department=None,
    cases: list[int] | None = None,
    at: dt.datetime | None = None,
) -> Application:
    """Applies for `kind` on a case (申请): checked against the case's state, the rules and a
    forbidden re-application; a return no restriction applies to is taken at once. A merge
    (申请合并) names the department's other `cases` of the same problem."""
    at = at or timezone.now()
    scope.require(perms.CASES_READ)
    case = visibility.get_visible(scope, case_id, for_update=True)
    if kind not in K.values:
        raise BadInput(f"kind is one of {', '.join(K.values)}", field="kind")
    if version is None:
        raise BadInput("give the version of the case you acted on", field="version")
    if version != case.version:
        raise state_conflict(case, f"the case changed meanwhile: it is now version {case.version}")
    if not _may_apply(scope, case):
        raise Forbidden("only the handling department or the centre applies for a case")
    if case.state not in KIND_STATES[kind] or case.held_since:
        held = " and on hold" if case.held_since else ""
        raise state_conflict(case, f"no {kind} application while the case is {case.state}{held}")
    if not reason.strip():
        raise BadInput("an application needs a reason", field="reason")
    refused = _refusal(scope, case, kind)
    if refused:
        raise state_conflict(case, refused)
    if Application.objects.filter(case=case, state=Application.State.PENDING).exists():
        raise state_conflict(case, "the case has a pending application: withdraw it or await it")
    if Application.objects.filter(
        case=case,
        kind=kind,
        department_id=scope.department_id,
        state=Application.State.DENIED,
        forbid_reapply=True,
    ).exists():
        raise state_conflict(case, f"a new {kind} application on this case was forbidden")
    values = {
        "amount": amount,
        "unit": unit or (LimitUnit.WORKING_HOURS if amount is not None else ""),
        "new_deadline": new_deadline,
        "hold_mode": (hold_mode or HoldMode.NONE) if kind == K.HOLD else "",
        "hold_hours": hold_hours,
        "hold_until": hold_until,
    }
    _check_time(kind, values, at)
    if kind == K.EXTENSION:
        _check_extension(case, scope.department_id)
    merge_cases: list[int] = []
    if kind == K.MERGE:
        merge_cases = [c.pk for c in merging.check_department_merge(scope, case, cases or [])]
    target = None
    if kind in (K.TRANSFER, K.ASSIST):
        target = _other_department(case, department)
        if kind == K.ASSIST and CaseAssist.objects.filter(case=case, department=target).exists():
            raise state_conflict(case, f"{target.name} already assists with the case")
    set_history_actor(scope)
    app = Application.objects.create(
        case=case,
        kind=kind,
        applicant=scope.user,
        applicant_name=scope.actor_name,
        department_id=scope.department_id,
        reason=reason,
        target_department=target,
        merge_cases=merge_cases,
        created_at=at,
        **values,
    )
    case.version += 1
    if kind == K.RETURN and CaseRules.current().free_return and not return_restrictions(case, at):
        app.state, app.answered_at, app.level = Application.State.APPROVED, at, 0
        app.save(update_fields=["state", "answered_at", "level"])
        _take_effect(scope, app, case, at, reason)
        return app
    case.save()
    details = {"application": app.pk, "kind": kind}
    if target:
        details["department"] = target.code
    if merge_cases:
        details["cases"] = merge_cases
    record_event(scope, case, f"apply_{kind}", case.state, case.state, at, reason, details)
    return app


# ---------------------------------------------------------------------------------------------
# Answering


def _locked_application(scope: Scope, application_id) -> tuple[Application, Case]:
    try:
        pk = int(application_id)
    except (TypeError, ValueError):
        raise NotFound(f"no application {application_id}") from None
    app = Application.objects.select_for_update().filter(pk=pk).first()
    if app is None:
        raise NotFound(f"no application {application_id}")
    try:
        case = visibility.get_visible(scope, app.case_id, for_update=True)
    except NotFound:
        raise NotFound(f"no application {application_id}") from None
    app.case = case
    return app, case


def _pending(app: Application, case: Case) -> None:
    if app.state != Application.State.PENDING:
        raise Conflict(
            f"the application is {app.get_state_display()}",
            current={"state": app.state, "version": case.version},
        )


@action(
    "cases.answer_application",
    permission=None,
    target=lambda application_id, **_: str(application_id),
)
def do_answer_application(
    scope: Scope,
    application_id,
    *,
    decision: str,
    opinion: str = "",
    amount: Decimal | None = None,
    unit: str = "",
    new_deadline: dt.datetime | None = None,
    hold_hours: Decimal | None = None,
    hold_until: dt.datetime | None = None,
    forbid_reapply: bool = False,
    at: dt.datetime | None = None,
) -> Application:
    """Answers the pending level of an application (答复授权): a denial ends it (and may forbid a
    new one); an approval passes it to the next level, or at the last level applies it. The
    approver may change the time an extension or hold asks for."""
    at = at or timezone.now()
    scope.require(perms.CASES_READ)
    if decision not in ("approve", "deny"):
        raise BadInput("decision is approve or deny", field="decision")
    app, case = _locked_application(scope, application_id)
    _pending(app, case)
    rule = current_rule(app, at)
    if not may_answer(scope, app, rule):
        raise Forbidden("your position does not answer this application at its level")
    if rule.opinion_required and not opinion.strip():
        raise BadInput("this level's answer needs an opinion", field="opinion")
    changes = {}
    for name, value in (
        ("amount", amount),
        ("unit", unit),
        ("new_deadline", new_deadline),
        ("hold_hours", hold_hours),
        ("hold_until", hold_until),
    ):
        if value not in (None, "") and decision == "approve":
            if not rule.may_change_time or app.kind not in (K.EXTENSION, K.HOLD):
                raise BadInput(f"this answer may not change {name}", field=name)
            setattr(app, name, value)
            changes[name] = str(value)
    if changes:
        if app.kind == K.EXTENSION and (amount is not None or unit) and new_deadline is None:
            app.new_deadline = None
            app.unit = app.unit or LimitUnit.WORKING_HOURS
        if app.kind == K.HOLD:
            app.hold_mode = HoldMode.UNTIL if hold_until else HoldMode.HOURS
        _check_time(app.kind, {f: getattr(app, f) for f in _TIME_FIELDS}, at)
    set_history_actor(scope)
    ApplicationStep.objects.create(
        application=app,
        level=rule.level,
        approver=scope.user,
        approver_name=scope.actor_name,
        decision=decision,
        opinion=opinion,
        changes=changes,
        at=at,
    )
    details = {"application": app.pk, "level": rule.level, **changes}
    case.version += 1
    if decision == "deny":
        app.state, app.answered_at, app.forbid_reapply = (
            Application.State.DENIED,
            at,
            forbid_reapply,
        )
        app.save()
        case.save()
        details["forbid_reapply"] = forbid_reapply
        record_event(scope, case, f"deny_{app.kind}", case.state, case.state, at, opinion, details)
        return app
    following = next((r for r in chain(app, at) if r.level > rule.level), None)
    if following is not None:
        app.level = following.level
        app.save()
        case.save()
        record_event(
            scope, case, f"answer_{app.kind}", case.state, case.state, at, opinion, details
        )
        return app
    app.state, app.answered_at = Application.State.APPROVED, at
    app.save()
    _take_effect(scope, app, case, at, opinion, details)
    return app


_TIME_FIELDS = ("amount", "unit", "new_deadline", "hold_mode", "hold_hours", "hold_until")


def _take_effect(
    scope: Scope, app: Application, case: Case, at: dt.datetime, opinion: str, details=None
) -> None:
    """Applies an approved application to its (locked) case and appends the event; the case's
    version has been moved."""
    details = {"application": app.pk, **(details or {})}
    source = case.state
    if case.state not in KIND_STATES[app.kind]:
        raise state_conflict(
            case, f"the case is {case.state} now: the {app.kind} no longer applies"
        )
    if app.kind in (K.RETURN, K.VOID):
        definition = workflows.definition(case.workflow_id)
        try:
            transition = definition.machine.step(case.state, app.kind)
        except NoTransition:
            raise state_conflict(
                case, f"the case's workflow has no {app.kind} from {case.state}"
            ) from None
        if app.kind == K.RETURN:
            # A return counts against the dispatch for evaluation (回退: a wrong dispatch).
            details.update(department=case.department.code, evaluation="returned")
            case.department = None
        case.state = transition.target
        case.held_since = case.hold_until = None
        deadlines.start_stage(case, definition, transition.target, at)
    elif app.kind == K.EXTENSION:
        _check_extension(case, app.department_id)
        before = case.deadline
        if app.new_deadline is not None:
            case.deadline = app.new_deadline
        else:
            case.deadline = default_calendar().add(case.deadline or at, app.amount, app.unit)
        _moved(case, at)
        details.update(before=_iso(before), after=_iso(case.deadline))
    elif app.kind == K.HOLD:
        case.held_since = at
        case.hold_until = (
            at + dt.timedelta(hours=float(app.hold_hours))
            if app.hold_mode == HoldMode.HOURS
            else app.hold_until
            if app.hold_mode == HoldMode.UNTIL
            else None
        )
        case.deadline_state = DeadlineState.NONE
        details.update(until=_iso(case.hold_until))
    elif app.kind == K.TRANSFER:
        details.update(before=case.department.code, department=app.target_department.code)
        case.department = app.target_department
    elif app.kind == K.MERGE:
        survivor = merging.merge_applied(scope, case, app.merge_cases, at, opinion)
        details.update(cases=app.merge_cases, survivor=survivor.pk)
    elif app.kind == K.ASSIST:
        CaseAssist.objects.create(
            case=case, department=app.target_department, application=app, at=at
        )
        details.update(department=app.target_department.code)
    case.save()
    name = "return" if app.kind == K.RETURN and app.level == 0 else f"approve_{app.kind}"
    record_event(scope, case, name, source, case.state, at, opinion, details)
    if app.kind == K.VOID:
        follow_parent(scope, case, at)  # a multi-department parent follows its last case


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _moved(case: Case, at: dt.datetime) -> None:
    """After the handling deadline moved: the warning time and state follow."""
    case.handling_deadline = case.deadline
    unit = case.stage_limit_unit or LimitUnit.WORKING_HOURS
    case.warning_at = deadlines.warning_time(case.stage_started_at, case.deadline, unit)
    case.deadline_state = deadlines.state_at(case, at)


@action(
    "cases.withdraw_application",
    permission=None,
    target=lambda application_id, **_: str(application_id),
)
def do_withdraw_application(
    scope: Scope, application_id, *, opinion: str = "", at: dt.datetime | None = None
) -> Application:
    """Withdraws a pending application (撤销申请): its applicant or their department."""
    at = at or timezone.now()
    scope.require(perms.CASES_READ)
    app, case = _locked_application(scope, application_id)
    _pending(app, case)
    mine = scope.user is not None and app.applicant_id == scope.user.pk
    same_department = app.department_id is not None and app.department_id == scope.department_id
    if not (mine or same_department or scope.sees_everything):
        raise Forbidden("only the applicant's department withdraws an application")
    set_history_actor(scope)
    app.state, app.answered_at = Application.State.WITHDRAWN, at
    app.save()
    case.version += 1
    case.save()
    details = {"application": app.pk}
    record_event(scope, case, f"withdraw_{app.kind}", case.state, case.state, at, opinion, details)
    return app


# ---------------------------------------------------------------------------------------------
# Releasing a hold


def release(case: Case, at: dt.datetime) -> dict:
    """Ends the hold of `case` at `at` (no save): the deadline and warning time move by the
    time held, as the limit counts it. Gives the event's details."""
    held_since = case.held_since
    unit = case.stage_limit_unit or LimitUnit.WORKING_HOURS
    calendar = default_calendar()
    if unit in deadlines.NATURAL:
        span = max(at - held_since, dt.timedelta(0))
    else:
        span = calendar.working_time_between(held_since, at)
    hours = Decimal(span // dt.timedelta(microseconds=1)) / Decimal(3_600_000_000)

    def shifted(moment: dt.datetime | None) -> dt.datetime | None:
        if moment is None or held_since >= moment:
            return moment
        if unit in deadlines.NATURAL:
            return moment + span
        return calendar.add(moment, hours, LimitUnit.WORKING_HOURS)

    before = case.deadline
    case.deadline, case.warning_at = shifted(case.deadline), shifted(case.warning_at)
    if case.state == State.HANDLING:
        case.handling_deadline = case.deadline
    case.held_since = case.hold_until = None
    case.deadline_state = deadlines.state_at(case, at)
    return {
        "held_since": _iso(held_since),
        "held_seconds": int(span.total_seconds()),
        "before": _iso(before),
        "after": _iso(case.deadline),
    }


def may_release(scope: Scope, case: Case) -> bool:
    return case.held_since is not None and _may_apply(scope, case)


@action("cases.release_hold", permission=None, target=case_target)
def do_release_hold(
    scope: Scope, case_id, *, version: int | None, opinion: str = "", at: dt.datetime | None = None
) -> Case:
    """Releases a held case by hand (解除挂账): the handling department or the centre."""
    at = at or timezone.now()
    scope.require(perms.CASES_READ)
    case = visibility.get_visible(scope, case_id, for_update=True)
    if version is None:
        raise BadInput("give the version of the case you acted on", field="version")
    if version != case.version:
        raise state_conflict(case, f"the case changed meanwhile: it is now version {case.version}")
    if case.held_since is None:
        raise state_conflict(case, "the case is not on hold")
    if not _may_apply(scope, case):
        raise Forbidden("only the handling department or the centre releases a hold")
    set_history_actor(scope)
    details = release(case, at)
    case.version += 1
    case.save()
    record_event(scope, case, "release_hold", case.state, case.state, at, opinion, details)
    return case


@action(
    "cases.release_holds",
    permission=perms.SYSTEM_ADMIN,
    details=lambda now=None, **_: {"now": str(now)},
)
def do_release_due_holds(scope: Scope, now: dt.datetime | None = None) -> list[int]:
    """Releases every hold whose time has come (run by beat every minute as the system actor);
    gives the ids of the cases released. Each release is an event as by hand."""
    now = now or timezone.now()
    due = Case.objects.select_for_update(skip_locked=True).filter(
        held_since__isnull=False, hold_until__isnull=False, hold_until__lte=now
    )
    set_history_actor(scope)
    released = []
    for case in due.order_by("pk"):
        at = case.hold_until
        details = {**release(case, at), "automatic": True}
        case.version += 1
        case.save()
        record_event(scope, case, "release_hold", case.state, case.state, at, "", details)
        released.append(case.pk)
    return released
