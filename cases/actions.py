"""The writes of the case workflow: every step is a ``do_*`` action taking the acting scope.

Each transition locks the case row, checks that the caller sees the case (404 otherwise), that
the version they acted on is current and that the workflow allows the action from the case's
state (409 with the current state and version otherwise), and that the caller's position may
take it (403); then it moves the state, starts the next stage's clock and appends an immutable
`CaseEvent` — all in the action's transaction, with the operation log row. Nothing else writes
`Case.state`.

`at` (the time the action happens, default now) is for the server's own work — the demo's
history is generated through these actions — and is never taken from an HTTP request.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from accounts import permissions as perms
from accounts.models import Department
from accounts.oplog import action
from accounts.scoping import Scope
from core import events
from core.errors import BadInput, Conflict, Forbidden
from data.models import Category
from spatial.locate import Placement, locate
from spatial.models import Component

from . import (
    assignment,
    deadlines,
    dispatching,
    duplicates,
    merging,
    notifications,
    precheck,
    visibility,
    workflows,
)
from .models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    CaseTask,
    Condition,
    DispatchMode,
    Level,
    Source,
    State,
)
from .workflow import NO, YES, NoTransition


@dataclass(frozen=True)
class Reporter:
    """Who reported a case (for hotline and public cases): never shown to handling departments."""

    name: str = ""
    phone: str = ""
    private: bool = False
    callback_wanted: bool = False


@dataclass(frozen=True)
class NewCase:
    """What a report gives: the point is WGS84 (the API converts other CRSs first)."""

    source: str
    category: Category
    description: str
    lon: float
    lat: float
    level: str = Level.ROUTINE
    urgent: bool = False
    address: str = ""
    component_code: str = ""
    reporter: Reporter = Reporter()
    custom_deadline: dt.datetime | None = None
    report_key: uuid.UUID | None = None  # made by the reporting device (the field app's outbox)


def action_time(at: dt.datetime | None) -> dt.datetime:
    """The time an action happens: the given one (imports, tests, offline sends) or now."""
    return at or timezone.now()


def set_history_actor(scope: Scope) -> None:
    """Names the actor for the field-history trigger for the rest of this transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('citygrid.actor', %s, true)", [scope.actor_name])


def next_number(day: dt.date) -> str:
    """The next task number (任务号) of a local day: ``YYYYMMDD`` and a 6-digit sequence."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CaseNumberCounter._meta.db_table} (day, last) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE SET last = "
            f"{CaseNumberCounter._meta.db_table}.last + 1 RETURNING last",
            [day],
        )
        (sequence,) = cursor.fetchone()
    return f"{day:%Y%m%d}{sequence:06d}"


def _snapshot(case: Case, placement: Placement) -> None:
    """Copies the placement into the case's snapshot columns."""
    case.district_code = placement.district.code if placement.district else ""
    case.district_name = placement.district.name if placement.district else ""
    case.street_code = placement.street.code if placement.street else ""
    case.street_name = placement.street.name if placement.street else ""
    case.community_code = placement.community.code if placement.community else ""
    case.community_name = placement.community.name if placement.community else ""
    case.unit_grid_code = placement.unit_grid or ""
    grid = placement.responsibility_grid
    case.grid_code = grid.code if grid else ""
    case.grid_name = grid.name if grid else ""
    case.timing_zone = placement.timing_zone.kind if placement.timing_zone else ""
    case.road_name = placement.road.name if placement.road else ""


def _check_component(new: NewCase) -> None:
    code = new.component_code
    if not code:
        return
    if new.category.kind != Category.Kind.COMPONENT:
        raise BadInput("only a component case names a component", field="component")
    if len(code) != 16 or not code.isdigit():
        raise BadInput("a component code has 16 digits", field="component")
    component = Component.objects.filter(code=code).select_related("category").first()
    if component is None:
        raise BadInput(f"no component {code}", field="component")
    if component.category_id != new.category.pk:
        raise BadInput(
            f"component {code} is a {component.category.name}, not a {new.category.name}",
            field="component",
        )


def record_event(
    scope: Scope,
    case: Case,
    name: str,
    source: str,
    target: str,
    at: dt.datetime,
    opinion: str = "",
    details: dict | None = None,
) -> CaseEvent:
    """Appends one step to a case's history (the one way it grows, for every module of
    `cases` that writes a case), tells the live streams and sends the notices it implies, in
    the action's transaction."""
    events.publish(
        "case-events",
        {
            "type": "case",
            "case": case.pk,
            "number": case.number,
            "action": name,
            "from": source,
            "to": target,
        },
    )
    event = CaseEvent.objects.create(
        case=case,
        action=name,
        from_state=source,
        to_state=target,
        actor=scope.user,
        actor_name=scope.actor_name,
        position=",".join(scope.position_names)[:256],
        department_id=scope.department_id,
        at=at,
        opinion=opinion,
        details=details or {},
    )
    notifications.notify(case, event)  # the outbox rows, in this same transaction
    return event


@action(
    "cases.report",
    permission=perms.CASES_REPORT,
    details=lambda new, **_: {"category": new.category.code, "source": new.source},
)
def do_report_case(scope: Scope, new: NewCase, *, at: dt.datetime | None = None) -> Case:
    """Creates a case (上报) at its point: placed with `locate`, the placement stored as a
    snapshot, numbered, under the workflow its kind and source choose. The report's rules
    (`cases.precheck`) run first: a forbidding no-report rule, or a similar case of a class
    that refuses them, refuses the report (409 naming it); the warnings come back on the case
    (`report_warnings`) and in the report event, with the similar cases' count."""
    at = action_time(at)
    _check_new(new)
    repeated = reported_before(scope, new.report_key)
    if repeated is not None:
        return repeated
    judgement = precheck.judge(
        scope, new.category, new.lon, new.lat, at, new.source, for_report=True
    )
    precheck.enforce(judgement)
    return create_case(scope, new, at, judgement=judgement)


def reported_before(scope: Scope, key: uuid.UUID | None) -> Case | None:
    """The case an earlier report with this `report_key` made, or None: a device that sends
    a report again (its answer was lost on a field network) gets that case back and makes no
    second one. Reports with the same key wait for each other (a transaction advisory lock on
    the key), so two at once make one case; the unique constraint backs this. A key another
    person's report used is refused (409 naming `report_key`). The repeat's case carries
    `repeated` and the first report's warnings."""
    if key is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"report:{key}"])
    case = Case.objects.filter(report_key=key).first()
    if case is None:
        return None
    if case.reported_by_id != scope.user.pk:
        raise Conflict("this report key was used by another report", field="report_key")
    first = CaseEvent.objects.filter(case=case, action="report").only("details").first()
    case.report_warnings = (first.details or {}).get("warnings", []) if first else []
    case.repeated = True
    return case


def _check_new(new: NewCase) -> None:
    if new.category.parent_id is None:
        raise BadInput("report a minor class (4-digit code), not a major one", field="category")
    if new.source not in Source.values:
        raise BadInput(f"unknown source {new.source!r}", field="source")
    _check_component(new)


def create_case(
    scope: Scope,
    new: NewCase,
    at: dt.datetime,
    *,
    self_handled: bool = False,
    judgement: precheck.Judgement | None = None,
):
    """The report's write, for `do_report_case` and the self-handled report
    (`cases.self_handling`): the case starts in its workflow's initial state."""
    _check_new(new)
    placement = judgement.placement if judgement else locate(new.lon, new.lat, at)
    if placement.district is None:
        raise BadInput("the point is outside the city", field="point")
    definition = workflows.choose(new.category.kind, new.source, self_handled)
    if definition is None:
        raise Conflict(f"no active workflow for {new.category.kind} cases from {new.source}")
    initial = definition.initial
    set_history_actor(scope)
    local_day = timezone.localtime(at).date()
    case = Case(
        number=next_number(local_day),
        source=new.source,
        kind=new.category.kind,
        category=new.category,
        level=new.level,
        urgent=new.urgent,
        description=new.description,
        address=new.address,
        geom=Point(new.lon, new.lat, srid=4326),
        component_code=new.component_code,
        reporter_name=new.reporter.name,
        reporter_phone=new.reporter.phone,
        reporter_private=new.reporter.private,
        callback_wanted=new.reporter.callback_wanted,
        reported_by=scope.user,
        reported_at=at,
        workflow_id=definition.id,
        state=initial,
        self_handled=self_handled,
        custom_deadline=new.custom_deadline,
        report_key=new.report_key,
        stage_started_at=at,
    )
    _snapshot(case, placement)
    deadlines.start_stage(case, definition, initial, at)
    case.similar_count = len(judgement.similar) if judgement else 0
    case.save()
    details = {"source": new.source, **({"self_handled": True} if self_handled else {})}
    case.report_warnings = []
    if judgement is not None:
        case.report_warnings = judgement.warnings
        details.update(_judgement_details(judgement))
    record_event(scope, case, "report", "", initial, at, details=details)
    assignment.after_report(case)  # a round of automatic assignment after the commit
    return case


def _judgement_details(judgement: precheck.Judgement) -> dict:
    """What the report event keeps of the rules: warnings, similar cases, cross-grid."""
    details: dict = {}
    if judgement.warnings:
        details["warnings"] = judgement.warnings
    if judgement.similar:
        details["similar"] = [case_id for case_id, _ in judgement.similar]
    if judgement.cross_grid and judgement.cross_grid["outside"]:
        details["cross_grid"] = True
    return details


# ---------------------------------------------------------------------------------------------
# Transitions


def state_conflict(case: Case, message: str) -> Conflict:
    """A 409 for an action the case's state no longer allows, with its state and version."""
    return Conflict(
        message,
        current={"state": case.state, "version": case.version},
    )


def _begin(
    scope: Scope,
    case_id,
    name: str,
    version: int | None,
    outcome: str = "",
):
    """Loads and locks the case, checks version, state and permission; gives the case, its
    workflow definition and the transition to take."""
    case = visibility.get_visible(scope, case_id, for_update=True)
    definition = workflows.definition(case.workflow_id)
    if version is None:
        raise BadInput("give the version of the case you acted on", field="version")
    if version != case.version:
        raise state_conflict(
            case,
            f"the case changed meanwhile: it is now version {case.version}, "
            f"{State(case.state).label}",
        )
    if case.held_since is not None:
        raise state_conflict(case, f"the case is on hold (挂账): release it before {name}")
    if dispatching.is_multi_parent(case):
        raise state_conflict(
            case, "a multi-department case (多部门派遣) moves with its department cases"
        )
    try:
        transition = definition.machine.step(case.state, name, outcome)
    except NoTransition:
        raise state_conflict(
            case, f"{name} cannot be taken while the case is {State(case.state).label}"
        ) from None
    if not scope.has_perm(transition.permission):
        raise Forbidden(f"your position may not {name} cases")
    set_history_actor(scope)
    return case, definition, transition


def finish_transition(
    scope: Scope,
    case: Case,
    definition,
    transition,
    at: dt.datetime,
    opinion: str,
    details: dict | None = None,
) -> Case:
    """Moves the case along `transition` of its workflow at `at`: the new stage's clock, the
    saved row and the event (the end of every transition action)."""
    source = case.state
    case.state = transition.target
    deadlines.start_stage(case, definition, transition.target, at)
    if transition.target == State.CLOSED:
        case.closed_at = at
    assignment.after_transition(case, source)  # back to its acceptor, or a seat freed
    case.version += 1
    case.save()
    record_event(scope, case, transition.action, source, transition.target, at, opinion, details)
    from .autosend import schedule

    schedule(case)  # automatic verification and check tasks, after the commit (cases.autosend)
    return case


def case_target(case_id, *args, **kwargs) -> str:
    """The audit target of an action whose first argument is the case id."""
    return str(case_id)


def _simple(name: str, verb: str, doc: str, needs_opinion: bool = False):
    """Makes the action for a transition that needs only an opinion (a reason, for refusals)."""

    @action(verb, permission=None, target=case_target)
    def run(
        scope: Scope,
        case_id,
        *,
        version: int | None,
        opinion: str = "",
        at: dt.datetime | None = None,
    ) -> Case:
        at = action_time(at)
        case, definition, transition = _begin(scope, case_id, name, version)
        if needs_opinion:
            require_opinion(opinion, name.replace("_", " "))
        return finish_transition(scope, case, definition, transition, at, opinion)

    run.__doc__ = doc
    run.__name__ = f"do_{name}_case"
    return run


do_accept_case = _simple("accept", "cases.accept", "Accepts a reported case (受理).")
do_not_accept_case = _simple(
    "not_accept", "cases.not_accept", "Refuses a report (不予受理), with the reason.", True
)
do_restore_case = _simple("restore", "cases.restore", "Restores a refused report (恢复).")
do_not_register_case = _simple(
    "not_register", "cases.not_register", "Declines to register a case (不予立案).", True
)
do_archive_case = _simple(
    "archive",
    "cases.archive",
    "Archives a self-handled case (自行处置归档): closed as fixed on the spot by the inspector.",
)
do_send_to_register_case = _simple(
    "send_to_register",
    "cases.send_to_register",
    "Sends a self-handled case that was not really fixed to registration (转立案), with the "
    "reason; from there it runs the normal path.",
    True,
)


@action("cases.link_duplicate", permission=None, target=case_target)
def do_link_duplicate_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    duplicate=None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Links a case waiting for registration to the earlier closed case it repeats (认定重复案件,
    spec 5.2.4.2): `duplicate_of` names the earlier case, both cases get an event, and the
    case goes on to registration and dispatch like any other — the problem came back and is
    handled again, and the repeat is counted against the earlier closure (statistics,
    evaluation)."""
    at = action_time(at)
    case, _definition, _transition = _begin(scope, case_id, "register", version)
    try:
        earlier_id = int(duplicate)
    except (TypeError, ValueError):
        raise BadInput("name the earlier closed case it duplicates", field="duplicate") from None
    if case.duplicate_of_id is not None:
        raise state_conflict(case, "the case is already linked as a duplicate")
    if earlier_id not in duplicates.find_duplicates(case):
        raise BadInput(
            f"case {earlier_id} is not a suspected duplicate of this case", field="duplicate"
        )
    earlier = Case.objects.select_for_update().get(pk=earlier_id)
    case.duplicate_of = earlier
    case.version += 1
    case.save(update_fields=["duplicate_of", "version", "updated_at"])
    record_event(
        scope,
        case,
        "link_duplicate",
        case.state,
        case.state,
        at,
        opinion or f"重复案件：与 {earlier.number} 重复",
        {"duplicate_of": earlier.pk, "duplicate_of_number": earlier.number},
    )
    record_event(
        scope,
        earlier,
        "duplicate_linked",
        earlier.state,
        earlier.state,
        at,
        opinion,
        {"duplicate": case.pk, "duplicate_number": case.number},
    )
    return case


@action("cases.unlink_duplicate", permission=perms.CASES_REGISTER, target=case_target)
def do_unlink_duplicate_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Takes back a duplicate link (撤销重复认定), with the reason: a department's appeal upheld
    (处置部门申诉, spec 5.2.4.4) — usually after the centre corrected the case's location.
    The case is no longer counted as a repeat and is not held up as a suspect again."""
    at = action_time(at)
    case = visibility.get_visible(scope, case_id, for_update=True)
    if version is None:
        raise BadInput("give the version of the case you acted on", field="version")
    if version != case.version:
        raise state_conflict(case, f"the case changed meanwhile: it is now version {case.version}")
    if case.duplicate_of_id is None:
        raise state_conflict(case, "the case is not linked as a duplicate")
    require_opinion(opinion, "taking back a duplicate link")
    set_history_actor(scope)
    earlier_id = case.duplicate_of_id
    case.duplicate_of = None
    case.duplicate_dismissed = True
    case.version += 1
    case.save(update_fields=["duplicate_of", "duplicate_dismissed", "version", "updated_at"])
    record_event(scope, case, "unlink_duplicate", case.state, case.state, at, opinion,
           {"duplicate_of": earlier_id})  # fmt: skip
    return case


@action("cases.dismiss_duplicate", permission=None, target=case_target)
def do_dismiss_duplicate_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Dismisses the suspicion that a case waiting for registration is a duplicate (排除重复),
    with the reason: registration then proceeds."""
    at = action_time(at)
    case, _definition, _transition = _begin(scope, case_id, "register", version)
    require_opinion(opinion, "dismissing a duplicate")
    suspected = duplicates.blocking(case)
    if not suspected:
        raise state_conflict(case, "the case is not a suspected duplicate")
    case.duplicate_dismissed = True
    case.version += 1
    case.save(update_fields=["duplicate_dismissed", "version", "updated_at"])
    record_event(
        scope,
        case,
        "dismiss_duplicate",
        case.state,
        case.state,
        at,
        opinion,
        {"duplicates": suspected},
    )
    return case


def require_opinion(opinion: str, what: str) -> None:
    """Refuses a blank opinion where the step needs one (a reason for a refusal)."""
    if not opinion.strip():
        raise BadInput(f"{what} needs an opinion", field="opinion")


def _condition(case: Case, condition_id, kind: str) -> Condition:
    if condition_id in (None, ""):
        raise BadInput(
            f"choose a {kind} condition of class {case.category.code}", field="condition"
        )
    found = Condition.objects.filter(
        pk=condition_id if str(condition_id).isdigit() else -1,
        category_id=case.category_id,
        kind=kind,
        active=True,
    ).first()
    if found is None:
        raise BadInput(
            f"{condition_id} is not a {kind} condition of class {case.category.code}",
            field="condition",
        )
    return found


def _inspector(user_id, field: str):
    """The active user with the inspector permission named by `user_id`."""
    user = (
        get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if str(user_id).isdigit()
        else None
    )
    if user is None:
        raise BadInput(f"no active user {user_id}", field=field)
    from accounts.scoping import scope_for_user

    if not scope_for_user(user).has_perm(perms.CASES_REPORT):
        raise BadInput(f"{user.get_username()} is not an inspector", field=field)
    return user


def inspectors_covering(case: Case):
    """The active inspectors (``cases.report``, not the centre) whose areas hold the case's
    point, as `Person` rows with their users, by id."""
    from accounts.models import Person

    return (
        Person.objects.filter(
            user__is_active=True,
            positions__permissions__contains=[perms.CASES_REPORT],
            area_geom__intersects=case.geom,
        )
        .exclude(positions__permissions__contains=[perms.CASES_ACCEPT])
        .select_related("user")
        .distinct()
        .order_by("pk")
    )


_REPORTER_FIRST = (CaseTask.Kind.CHECK, CaseTask.Kind.SUPPLEMENT)


def _default_inspector(case: Case, kind: str):
    """The reporting inspector for a check or a supplement; else an inspector whose area
    holds the case."""
    if kind in _REPORTER_FIRST and case.reported_by_id and case.source == Source.INSPECTOR:
        from accounts.scoping import scope_for_user

        reporter = scope_for_user(case.reported_by)
        # An inspector's own report; not one the centre entered on an inspector's behalf.
        if reporter.has_perm(perms.CASES_REPORT) and not reporter.has_perm(perms.CASES_ACCEPT):
            return case.reported_by
    person = inspectors_covering(case).first()
    if person is None:
        raise BadInput("no inspector covers the case's point: name one", field="inspector")
    return person.user


def _request_task(kind: str, name: str, verb: str, doc: str):
    @action(verb, permission=None, target=case_target)
    def run(
        scope: Scope,
        case_id,
        *,
        version: int | None,
        inspector=None,
        pool: bool = False,
        opinion: str = "",
        at: dt.datetime | None = None,
    ) -> Case:
        at = action_time(at)
        case, definition, transition = _begin(scope, case_id, name, version)
        if kind == CaseTask.Kind.SUPPLEMENT:
            require_opinion(opinion, "a supplementary collection (say what to collect)")
        if pool:  # into the grid's task pool (任务池): its inspectors claim it
            if inspector not in (None, ""):
                raise BadInput("send to an inspector or to the pool, not both", field="pool")
            if not case.grid_code:
                raise BadInput("the case lies in no responsibility grid: no pool", field="pool")
            user = None
        else:
            user = (
                _default_inspector(case, kind)
                if inspector in (None, "")
                else _inspector(inspector, "inspector")
            )
        asked_from = case.state
        task = CaseTask.objects.create(
            case=case,
            kind=kind,
            assignee=user,
            pool_grid=case.grid_code if pool else "",
            requested_by=scope.user,
            note=opinion,
            created_at=at,
            return_state=asked_from if kind == CaseTask.Kind.SUPPLEMENT else "",
        )
        details = (
            {"pool": case.grid_code, "task": task.pk}
            if pool
            else {"inspector": user.get_username(), "inspector_id": user.pk, "task": task.pk}
        )
        case = finish_transition(scope, case, definition, transition, at, opinion, details)
        # The task's deadline is the clock of the stage the case now waits in.
        task.deadline = case.deadline
        task.save(update_fields=["deadline"])
        return case

    run.__doc__ = doc
    run.__name__ = f"do_{name}_case"
    return run


do_request_verify_case = _request_task(
    CaseTask.Kind.VERIFY,
    "request_verify",
    "cases.request_verify",
    "Sends a verification task (核实) to an inspector (default: one covering the point).",
)
do_request_check_case = _request_task(
    CaseTask.Kind.CHECK,
    "request_check",
    "cases.request_check",
    "Sends a check task (核查) to the reporting inspector or one covering the point.",
)
do_request_supplement_case = _request_task(
    CaseTask.Kind.SUPPLEMENT,
    "request_supplement",
    "cases.request_supplement",
    "Asks an inspector for a supplementary collection (补采: photos and details of the scene) "
    "while the case waits for acceptance or registration; the opinion says what to collect. "
    "Default: the reporting inspector, else one covering the point.",
)


def _answer_task(kind: str, name: str, verb: str, doc: str):
    @action(verb, permission=None, target=case_target)
    def run(
        scope: Scope,
        case_id,
        *,
        version: int | None,
        result: bool | None,
        opinion: str = "",
        at: dt.datetime | None = None,
    ) -> Case:
        at = action_time(at)
        if result is None:
            field = "valid" if kind == CaseTask.Kind.VERIFY else "passed"
            raise BadInput(f"say whether the case is {field} (true or false)", field=field)
        case, definition, transition = _begin(scope, case_id, name, version, YES if result else NO)
        task = (
            CaseTask.objects.filter(case=case, kind=kind, done_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if task is None or (scope.user is None or task.assignee_id != scope.user.pk):
            if not scope.sees_everything:
                raise Forbidden(f"the {kind} task of this case is someone else's")
        details = {"result": result}
        if task is not None:
            task.done_at, task.result, task.answer = at, result, opinion
            task.save(update_fields=["done_at", "result", "answer"])
            details.update(task=task.pk, late=bool(task.deadline and at > task.deadline))
        if kind == CaseTask.Kind.CHECK:
            case.check_passed = result
        return finish_transition(scope, case, definition, transition, at, opinion, details)

    run.__doc__ = doc
    run.__name__ = f"do_{name}_case"
    return run


do_verify_case = _answer_task(
    CaseTask.Kind.VERIFY, "verify", "cases.verify", "Answers a verification task (核实)."
)
do_check_case = _answer_task(
    CaseTask.Kind.CHECK, "check", "cases.check", "Answers a check task (核查)."
)


@action("cases.supplement", permission=None, target=case_target)
def do_supplement_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Answers a supplementary collection task (补采上报) as its inspector: what was found (the
    opinion) and the files uploaded to the supplement stage since the task was sent, which the
    answer's event keeps; the case returns to the state it was asked from (the asker's box)."""
    at = action_time(at)
    from .models import CaseMedia

    peek = (
        CaseTask.objects.filter(case_id=case_id, kind=CaseTask.Kind.SUPPLEMENT, done_at=None)
        .order_by("-created_at", "-pk")
        .values_list("return_state", flat=True)
        .first()
        if str(case_id).isdigit()
        else None
    )
    case, definition, transition = _begin(scope, case_id, "supplement", version, peek or "")
    task = (
        CaseTask.objects.select_for_update()
        .filter(case=case, kind=CaseTask.Kind.SUPPLEMENT, done_at=None)
        .order_by("-created_at", "-pk")
        .first()
    )
    if task is None or task.return_state != transition.outcome:
        raise state_conflict(case, "the case has no open supplementary collection task")
    if not scope.sees_everything and (scope.user is None or task.assignee_id != scope.user.pk):
        raise Forbidden("the supplementary collection task of this case is someone else's")
    require_opinion(opinion, "a supplementary collection")
    files = CaseMedia.objects.filter(
        case=case,
        stage=CaseMedia.Stage.SUPPLEMENT,
        event__isnull=True,
        uploaded_at__gte=task.created_at,
    )
    media = list(files.order_by("pk").values_list("pk", flat=True))
    if not media:
        raise BadInput(
            "upload the photos of the supplementary collection first "
            f"(POST /api/v1/cases/{case.pk}/media)",
            field="media",
        )
    task.done_at, task.answer = at, opinion
    task.save(update_fields=["done_at", "answer"])
    details = {
        "task": task.pk,
        "media": media,
        "late": bool(task.deadline and at > task.deadline),
        "asker_id": task.requested_by_id,
    }
    case = finish_transition(scope, case, definition, transition, at, opinion, details)
    event = CaseEvent.objects.filter(case=case, action="supplement").order_by("-pk").first()
    CaseMedia.objects.filter(pk__in=media).update(event=event)
    return case


@action("cases.register", permission=None, target=case_target)
def do_register_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    condition=None,
    opinion: str = "",
    level: str | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """Registers a case (立案) under one of its class's registration conditions, which sets
    the handling time limit."""
    at = action_time(at)
    case, definition, transition = _begin(scope, case_id, "register", version)
    suspected = duplicates.blocking(case)
    if suspected:
        numbers = list(Case.objects.filter(pk__in=suspected).values_list("number", flat=True))
        raise Conflict(
            "suspected duplicate (重复案件) of closed case(s) "
            + ", ".join(sorted(numbers))
            + ": link it or dismiss the suspicion first",
            code="duplicate",
            current={"state": case.state, "version": case.version, "duplicates": suspected},
        )
    case.register_condition = _condition(case, condition, Condition.Kind.REGISTER)
    if level:
        if level not in Level.values:
            raise BadInput(f"unknown level {level!r}", field="level")
        case.level = level
    finish_transition(
        scope, case, definition, transition, at, opinion, {"condition": case.register_condition_id}
    )
    return dispatching.auto_dispatch(scope, case, definition, at)


@action("cases.dispatch", permission=None, target=case_target)
def do_dispatch_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    department=None,
    opinion: str = "",
    scheduled: int | None = None,
    mode: str = "normal",
    departments: list[str] | None = None,
    assisting: list[str] | None = None,
    one_click: bool = False,
    at: dt.datetime | None = None,
) -> Case:
    """Dispatches a case (派遣) to a handling department: the one given, else the one the
    responsibility manual recommends for the class and area. `scheduled` names the timed
    dispatch (cases.scheduling) that runs it, kept in the event. `mode` (forced, parallel with
    `departments`, multi with `departments`), `assisting` and `one_click`: see
    `cases.dispatching`."""
    at = action_time(at)
    case, definition, transition = _begin(scope, case_id, "dispatch", version)
    details = {} if scheduled is None else {"scheduled_dispatch": scheduled}
    return dispatching.dispatch(
        scope,
        case,
        definition,
        transition,
        at,
        mode=mode,
        department=department,
        departments=departments,
        assisting=assisting,
        one_click=one_click,
        opinion=opinion,
        details=details,
    )


def handling_department(case: Case, department=None) -> Department:
    """The active handling department `department` names (a code), else the one the manual
    recommends for the case's class and area; `BadInput` on ``department`` otherwise."""
    if department in (None, ""):
        chosen = deadlines.recommended_department(case)
        if chosen is None:
            raise BadInput(
                f"the manual names no department for class {case.category.code} here: choose one",
                field="department",
            )
        return chosen
    chosen = Department.objects.filter(
        code=str(department), kind=Department.Kind.HANDLING, active=True
    ).first()
    if chosen is None:
        raise BadInput(f"no handling department {department}", field="department")
    return chosen


@action("cases.feedback", permission=None, target=case_target)
def do_feedback_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Reports the handling done (处置反馈): the department's opinion, with the photos
    uploaded to the handling stage."""
    at = action_time(at)
    case, definition, transition = _begin(scope, case_id, "feedback", version)
    require_opinion(opinion, "handling feedback")
    if case.dispatch_mode == DispatchMode.PARALLEL:  # each department its own (并行派遣)
        return dispatching.parallel_feedback(scope, case, definition, transition, at, opinion)
    if not scope.sees_everything and scope.department_id != case.department_id:
        raise Forbidden("the case is dispatched to another department")
    return finish_transition(scope, case, definition, transition, at, opinion)


@action("cases.close", permission=None, target=case_target)
def do_close_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    condition=None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Closes a case (结案) whose check passed, under one of its class's closure conditions
    (optional when the class has none)."""
    at = action_time(at)
    case, definition, transition = _begin(scope, case_id, "close", version)
    if case.check_passed is not True:
        raise state_conflict(case, "the check failed: send the case back for rework")
    has_conditions = Condition.objects.filter(
        category_id=case.category_id, kind=Condition.Kind.CLOSE, active=True
    ).exists()
    if has_conditions or condition not in (None, ""):
        case.close_condition = _condition(case, condition, Condition.Kind.CLOSE)
    finish_transition(scope, case, definition, transition, at, opinion)
    dispatching.follow_parent(scope, case, at)  # a multi-department parent closes with its last
    return case


@action("cases.rework", permission=None, target=case_target)
def do_rework_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    opinion: str = "",
    departments: list[str] | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """Sends a case back to the same department for rework (返工) with the reason; the failed
    check's inspector and opinion go into the event beside it. A parallel case goes back to
    the `departments` named (default: all of them), each clock anew."""
    at = action_time(at)
    case, definition, transition = _begin(scope, case_id, "rework", version)
    require_opinion(opinion, "rework")
    case.rework_count += 1
    case.check_passed = None
    details = {"rework": case.rework_count}
    check = case.events.filter(action="check").order_by("-at", "-pk").first()
    if check is not None and check.details.get("result") is False:
        details.update(check_opinion=check.opinion, checked_by=check.actor_name)
    if case.dispatch_mode == DispatchMode.PARALLEL:
        details["departments"] = dispatching.parallel_rework(case, definition, at, departments)
    return finish_transition(scope, case, definition, transition, at, opinion, details)


TRANSITIONS = {
    "accept": do_accept_case,
    "not_accept": do_not_accept_case,
    "restore": do_restore_case,
    "request_verify": do_request_verify_case,
    "verify": do_verify_case,
    "register": do_register_case,
    "not_register": do_not_register_case,
    "dispatch": do_dispatch_case,
    "feedback": do_feedback_case,
    "request_check": do_request_check_case,
    "check": do_check_case,
    "close": do_close_case,
    "rework": do_rework_case,
    "request_supplement": do_request_supplement_case,
    "supplement": do_supplement_case,
    "archive": do_archive_case,
    "send_to_register": do_send_to_register_case,
    "redispatch": dispatching.do_redispatch_case,
    "link_duplicate": do_link_duplicate_case,
    "dismiss_duplicate": do_dismiss_duplicate_case,
    "unlink_duplicate": do_unlink_duplicate_case,
    "unmerge": merging.do_unmerge_case,
}
# Actions whose taker must hold the case's open task of a kind.
_TASK_ACTIONS = {
    "verify": CaseTask.Kind.VERIFY,
    "check": CaseTask.Kind.CHECK,
    "supplement": CaseTask.Kind.SUPPLEMENT,
}


def allowed_actions(
    scope: Scope, case: Case, open_tasks: set[tuple[int, str]] | None = None
) -> list[str]:
    """The actions the caller may take on `case` now (its workflow, state and the guards that
    need the case: the task's assignee, the handling department, a passed check).
    `open_tasks` holds (case id, kind) of the caller's open tasks when a page is known."""
    if scope.is_anonymous:
        return []
    from .applications import applicable_kinds, may_release
    from .callbacks import may_record

    extra = ["apply"] if applicable_kinds(scope, case) else []
    extra += ["release"] if may_release(scope, case) else []
    extra += ["callback"] if may_record(scope, case) else []
    if case.state == State.MERGED and (
        scope.has_perm(perms.CASES_ACCEPT) or scope.has_perm(perms.CASES_REGISTER)
    ):
        return extra + ["unmerge"]
    if case.held_since is not None or dispatching.is_multi_parent(case):
        return extra
    extra += ["redispatch"] if dispatching.may_redispatch(scope, case) else []
    definition = workflows.definition(case.workflow_id)
    # return and void are taken through applications only (cases.applications).
    names = [
        n for n in definition.machine.allowed(case.state, scope.permissions) if n in TRANSITIONS
    ]
    if scope.sees_everything:
        return [n for n in names if n != "close" or case.check_passed is True] + extra
    if open_tasks is None and set(names) & set(_TASK_ACTIONS):
        open_tasks = set(
            CaseTask.objects.filter(
                case=case, assignee_id=scope.user.pk, done_at__isnull=True
            ).values_list("case_id", "kind")
        )
    kept = []
    for name in names:
        if name in _TASK_ACTIONS and (case.pk, _TASK_ACTIONS[name]) not in (open_tasks or set()):
            continue
        if name == "feedback" and not dispatching.handles(scope, case):
            continue
        if name == "close" and case.check_passed is not True:
            continue
        kept.append(name)
    return kept + extra


@action(
    "cases.attach",
    permission=None,
    target=lambda case, *a, **k: case.number,
    details=lambda case, stage, upload, content_type, **k: {
        "stage": stage,
        "type": content_type,
        "size": upload.size,
    },
)
def do_attach_media(scope: Scope, case: Case, stage: str, upload, content_type: str, *, at=None):
    """Stores an uploaded photo, video or recording on a case's stage (the API has checked the
    type, the size and that the caller may attach to this stage)."""
    return store_media(scope, case, stage, upload, content_type, action_time(at))


def store_media(scope: Scope, case: Case, stage: str, upload, content_type: str, at, event=None):
    """The write of `do_attach_media`, for actions that store files with their event."""
    from .models import CaseMedia

    media = CaseMedia(
        case=case,
        stage=stage,
        name=(upload.name or "")[:128],
        content_type=content_type,
        size=upload.size,
        uploaded_by=scope.user,
        uploaded_at=at,
        event=event,
    )
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}.get(
        content_type, ""
    )
    media.file.save(f"{case.number}{extension}", upload, save=False)
    media.save()
    return media


@action(
    "cases.deadlines",
    permission=perms.SYSTEM_ADMIN,
    details=lambda now=None, **_: {"now": str(now)},
)
def do_refresh_deadline_states(scope: Scope, now: dt.datetime | None = None) -> list:
    """Moves the cases whose warning or deadline time has come to ``warning`` or ``overdue``
    (run by beat every minute, as the system actor), notifies who acts on each (one INSERT …
    SELECT, `notifications.notify_deadlines`) and publishes the changes on ``cases``."""
    now = action_time(now)
    changed = deadlines.refresh_deadline_states(now)
    notifications.notify_deadlines(changed, now)  # the outbox rows, in this transaction
    if changed:
        events.publish(
            "cases",
            {
                "type": "cases.deadline_state",
                "cases": [{"id": i, "number": n, "deadline_state": s} for i, n, s in changed],
            },
        )
    return changed


# ---------------------------------------------------------------------------------------------
# Edits outside transitions: each recorded by the field-history trigger and an event.

_EDITABLE = ("description", "address", "level", "urgent", "component_code", "custom_deadline")
_EDITABLE_STATES = {
    s
    for s in State.values
    if s not in (State.CLOSED, State.INVALID, State.NOT_REGISTERED, State.MERGED)
}


def _begin_edit(scope: Scope, case_id, version: int | None, what: str) -> Case:
    case = visibility.get_visible(scope, case_id, for_update=True)
    if version is None:
        raise BadInput("give the version of the case you edited", field="version")
    if version != case.version:
        raise state_conflict(case, f"the case changed meanwhile: it is now version {case.version}")
    if case.state not in _EDITABLE_STATES:
        raise state_conflict(case, f"a {case.get_state_display()} case is not edited")
    if not (scope.has_perm(perms.CASES_ACCEPT) or scope.has_perm(perms.CASES_REGISTER)):
        raise Forbidden(f"your position may not {what}")
    set_history_actor(scope)
    return case


@action("cases.edit", permission=None, target=case_target, details=lambda *a, changes, **k: changes)
def do_edit_case(
    scope: Scope, case_id, *, version: int | None, changes: dict, at: dt.datetime | None = None
) -> Case:
    """Edits a case's fields (description, address, level, urgency, component, custom
    deadline) outside a transition; the trigger records each old and new value."""
    at = action_time(at)
    case = _begin_edit(scope, case_id, version, "edit cases")
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise BadInput(f"{sorted(unknown)[0]} is not editable", field=sorted(unknown)[0])
    for name, value in changes.items():
        setattr(case, name, value)
    if "custom_deadline" in changes and case.state == State.HANDLING:
        definition = workflows.definition(case.workflow_id)
        started = case.stage_started_at
        deadlines.start_stage(case, definition, State.HANDLING, started)
        case.deadline_state = deadlines.state_at(case, at)
    case.version += 1
    case.save()
    record_event(
        scope, case, "edit", case.state, case.state, at, details={"fields": sorted(changes)}
    )
    return case


@action("cases.correct_placement", permission=None, target=case_target)
def do_correct_placement(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    lon: float,
    lat: float,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Moves a case to its right point and takes a new placement snapshot (立案修正): the
    responsible district, street, community and grids follow; old and new are in the event."""
    at = action_time(at)
    case = _begin_edit(scope, case_id, version, "correct a case's placement")
    require_opinion(opinion, "a placement correction")
    placement = locate(lon, lat, at)
    if placement.district is None:
        raise BadInput("the point is outside the city", field="point")
    before = {
        "street": case.street_code,
        "grid": case.unit_grid_code,
        "lon": case.geom.x,
        "lat": case.geom.y,
    }
    case.geom = Point(lon, lat, srid=4326)
    _snapshot(case, placement)
    case.version += 1
    case.save()
    after = {"street": case.street_code, "grid": case.unit_grid_code, "lon": lon, "lat": lat}
    record_event(
        scope,
        case,
        "correct_placement",
        case.state,
        case.state,
        at,
        opinion,
        {"before": before, "after": after},
    )
    return case


@action(
    "cases.export",
    permission=perms.CASES_READ,
    target=lambda query, photos, **_: "photos" if photos else "",
    details=lambda query, photos, **_: {"query": query, "photos": photos},
)
def do_export_cases(scope: Scope, query: dict, photos: bool, *, total: int, sync: bool = False):
    """Gives the job writing the caller's cases matching `query` (the case list's parameters)
    to an Excel file (案件导出), with report photos when `photos`; queued after commit, or run
    now when `sync`. The job runs as the caller."""
    from .export import start_export

    return start_export(scope, query, photos, total, sync=sync)


def do_print_cases(scope: Scope, query: dict, *, total: int, sync: bool = False):
    """Gives the job printing the caller's cases matching `query` (the case list's parameters)
    to a PDF (打印); queued after commit, or run now when `sync`. The job runs as the caller."""
    from .printing import start_print

    return start_print(scope, query, total, sync=sync)
