"""Merging similar cases (案件合并, spec 5.3.3): chosen similar cases, none dispatched yet, are
merged into the earliest reported of them — all reported the same local day — which handles
the problem once (and is checked once); the others wait in
已合并 (`State.MERGED`) with `merged_into` naming it, and their reporters are listed with it.
Undoing a merge (撤销合并) returns a merged case to the state it left, while the surviving case
is still not dispatched. Every step leaves an event on both cases. When the surviving case
closes, every merged case's reporter who asked for it gets the closing text message and waits
for a call-back (回访) like the survivor's own (`notifications`, `callbacks`).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, Conflict, Forbidden

from . import deadlines, dispatching, similar, visibility
from .models import Case, CaseTask, DeadlineState, State

# Before dispatch (派遣前): the states a case may be merged in.
BEFORE_DISPATCH = {
    State.REPORTED,
    State.TO_VERIFY,
    State.VERIFYING,
    State.SUPPLEMENTING,
    State.TO_REVIEW,
    State.TO_REGISTER,
    State.TO_DISPATCH,
}


def _may_merge(scope: Scope) -> None:
    if not (scope.has_perm(perms.CASES_ACCEPT) or scope.has_perm(perms.CASES_REGISTER)):
        raise Forbidden("your position may not merge cases")


def _check_mergeable(case: Case, version: int) -> None:
    current = {"state": case.state, "version": case.version, "case": case.pk}
    if version != case.version:
        raise Conflict(
            f"case {case.number} changed meanwhile: it is now version {case.version}",
            current=current,
        )
    if case.state not in BEFORE_DISPATCH:
        raise Conflict(
            f"case {case.number} is {State(case.state).label}: only cases not yet dispatched merge",
            current=current,
        )
    if case.held_since is not None or dispatching.is_multi_parent(case):
        raise Conflict(f"case {case.number} is on hold or split", current=current)
    if CaseTask.objects.filter(case=case, done_at__isnull=True).exists():
        raise Conflict(f"case {case.number} has an open task: wait for it", current=current)


@action(
    "cases.merge", permission=None, target=lambda *a, cases, **k: ",".join(str(c) for c, _ in cases)
)
def do_merge_cases(
    scope: Scope,
    *,
    cases: list[tuple[int, int]],
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Merges the chosen cases, given as (id, version) pairs, into the earliest reported of
    them; each other case must be similar to it (`cases.similar`). Gives the surviving case."""
    from .actions import action_time, set_history_actor

    at = action_time(at)
    _may_merge(scope)
    ids = [case_id for case_id, _ in cases]
    if len(ids) < 2 or len(set(ids)) != len(ids):
        raise BadInput("choose at least two different cases to merge", field="cases")
    versions = dict(cases)
    locked = [visibility.get_visible(scope, case_id, for_update=True) for case_id in sorted(ids)]
    for case in locked:
        _check_mergeable(case, versions[case.pk])
    locked.sort(key=lambda case: (case.reported_at, case.pk))
    survivor, others = locked[0], locked[1:]
    day = timezone.localtime(survivor.reported_at).date()
    for case in others:  # 5.3.3.1: cases reported on different days are not merged
        if timezone.localtime(case.reported_at).date() != day:
            raise BadInput(
                f"case {case.number} was reported on another day than {survivor.number}: only "
                "cases of the same day merge",
                field="cases",
            )
    for case in others:
        if survivor.pk not in {found for found, _ in similar.similar_to(case)}:
            raise BadInput(
                f"case {case.number} is not similar to {survivor.number}: only similar cases merge",
                field="cases",
            )
    set_history_actor(scope)
    return merge_locked(scope, survivor, others, at, opinion)


def merge_locked(
    scope: Scope, survivor: Case, others: list[Case], at: dt.datetime, opinion: str
) -> Case:
    """The merge's writes, on cases locked and checked by the caller: the others go to 已合并
    naming the survivor (their deadlines kept in the event, for an undo), with an event on
    each case."""
    from .actions import record_event

    for case in others:
        source = case.state
        kept = {
            "merged_into": survivor.pk,
            "merged_into_number": survivor.number,
            "deadline": case.deadline.isoformat() if case.deadline else None,
            "warning_at": case.warning_at.isoformat() if case.warning_at else None,
            "deadline_state": case.deadline_state,
        }
        case.state = State.MERGED
        case.merged_into = survivor
        case.deadline = case.warning_at = None
        case.deadline_state = DeadlineState.NONE
        case.version += 1
        case.save()
        record_event(scope, case, "merged_into", source, State.MERGED, at, opinion, kept)
    survivor.version += 1
    survivor.save(update_fields=["version", "updated_at"])
    record_event(
        scope,
        survivor,
        "merge",
        survivor.state,
        survivor.state,
        at,
        opinion,
        {"merged": [case.pk for case in others], "numbers": [case.number for case in others]},
    )
    return survivor


@action("cases.unmerge", permission=None, target=lambda case_id, *a, **k: str(case_id))
def do_unmerge_case(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Undoes the merge of a merged case (撤销合并) while the case it was merged into is not yet
    dispatched: it returns to the state it left, with its deadline."""
    from .actions import record_event, action_time, set_history_actor

    at = action_time(at)
    _may_merge(scope)
    case = visibility.get_visible(scope, case_id, for_update=True)
    if version is None:
        raise BadInput("give the version of the case you acted on", field="version")
    current = {"state": case.state, "version": case.version}
    if version != case.version:
        raise Conflict(
            f"the case changed meanwhile: it is now version {case.version}", current=current
        )
    if case.state != State.MERGED or case.merged_into_id is None:
        raise Conflict("the case is not merged", current=current)
    survivor = Case.objects.select_for_update().get(pk=case.merged_into_id)
    if survivor.state not in BEFORE_DISPATCH:
        raise Conflict(
            f"{survivor.number} is {State(survivor.state).label}: a merge is undone before dispatch",
            current=current,
        )
    merge = case.events.filter(action="merged_into").order_by("-at", "-id").first()
    set_history_actor(scope)
    case.state = merge.from_state
    case.merged_into = None
    details = merge.details
    case.deadline = dt.datetime.fromisoformat(details["deadline"]) if details["deadline"] else None
    case.warning_at = (
        dt.datetime.fromisoformat(details["warning_at"]) if details["warning_at"] else None
    )
    case.deadline_state = details["deadline_state"]
    if case.deadline is not None:
        case.deadline_state = deadlines.state_at(case, at)
    case.version += 1
    case.save()
    record_event(
        scope,
        case,
        "unmerge",
        State.MERGED,
        case.state,
        at,
        opinion,
        {"merged_into": survivor.pk, "merged_into_number": survivor.number},
    )
    survivor.version += 1
    survivor.save(update_fields=["version", "updated_at"])
    record_event(
        scope,
        survivor,
        "unmerged",
        survivor.state,
        survivor.state,
        at,
        opinion,
        {"case": case.pk, "number": case.number},
    )
    return case


def reporters(scope: Scope, survivor: Case) -> list[dict]:
    """Everyone who reported the problem: the case's reporter and those of the cases merged into
    it, earliest first; names and phones only where the caller may see them."""
    rows = [survivor, *Case.objects.filter(merged_into=survivor).order_by("reported_at", "id")]
    listed = []
    for case in rows:
        visible = visibility.sees_reporter(scope, case)
        listed.append(
            {
                "case": case.pk,
                "number": case.number,
                "source": case.source,
                "reported_at": case.reported_at,
                "name": case.reporter_name if visible else None,
                "phone": case.reporter_phone if visible else None,
                "callback_wanted": case.callback_wanted,
            }
        )
    return listed


def check_department_merge(scope: Scope, case: Case, ids: list[int]) -> list[Case]:
    """A handling department's application to merge (申请合并, spec 5.3.3.3): the other cases,
    locked — each visible to the caller, in handling at the same department as `case` under a
    normal dispatch, not on hold, and each similar to the earliest reported of them all."""
    others_ids = [i for i in dict.fromkeys(ids) if i != case.pk]
    if not others_ids:
        raise BadInput("name the other cases of the same problem", field="cases")
    others = [visibility.get_visible(scope, i, for_update=True) for i in sorted(others_ids)]
    chosen = sorted([case, *others], key=lambda c: (c.reported_at, c.pk))
    for other in chosen:
        if (
            other.state != State.HANDLING
            or other.department_id != case.department_id
            or other.dispatch_mode != "normal"
            or other.held_since is not None
        ):
            raise BadInput(
                f"case {other.number} is not in handling at the same department", field="cases"
            )
    survivor = chosen[0]
    for other in chosen[1:]:
        if survivor.pk not in {found for found, _ in similar.similar_to(other)}:
            raise BadInput(
                f"case {other.number} is not similar to {survivor.number}", field="cases"
            )
    return others


def merge_applied(scope: Scope, case: Case, ids: list[int], at: dt.datetime, opinion: str):
    """The effect of an approved merge application: the cases, checked again now, merge into
    the earliest reported of them."""
    others = check_department_merge(scope, case, ids)
    chosen = sorted([case, *others], key=lambda c: (c.reported_at, c.pk))
    return merge_locked(scope, chosen[0], chosen[1:], at, opinion)
