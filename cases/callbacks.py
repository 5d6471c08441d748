"""Call-backs (回访, issue 20): the centre calls the reporter of a closed public or hotline case
who asked for a call-back and records the result, their satisfaction and opinion.

`do_record_callback` locks the case, appends a `CaseEvent` ``callback`` (the state does not
move; the reporter's phone is never in its details) and moves the version. One call-back per
case (a unique constraint); the box 待回访 (`cases.queries`) holds the closed cases that wait
for one. A call-back is a record: a dissatisfied reporter does not reopen the case.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, Forbidden

from . import visibility
from .actions import state_conflict, record_event, set_history_actor, case_target
from .models import Case, CaseCallback, State
from .notifications import CALLBACK_SOURCES

R = CaseCallback.Result


def waiting() -> Q:
    """The cases waiting for a call-back (待回访): closed public or hotline cases whose reporter
    asked for one and that have none yet — and those merged into a closed case (案件合并: every
    reporter is called back, spec 5.3.3.6)."""
    closed = Q(state=State.CLOSED) | Q(state=State.MERGED, merged_into__state=State.CLOSED)
    return (
        closed
        & Q(callback_wanted=True, source__in=CALLBACK_SOURCES)
        & ~Q(Exists(CaseCallback.objects.filter(case=OuterRef("pk"))))
    )


def _closed(case: Case) -> bool:
    if case.state == State.CLOSED:
        return True
    return (
        case.state == State.MERGED
        and case.merged_into_id is not None
        and Case.objects.filter(pk=case.merged_into_id, state=State.CLOSED).exists()
    )


def _waits(case: Case) -> bool:
    return (
        _closed(case)
        and case.callback_wanted
        and case.source in CALLBACK_SOURCES
        and not CaseCallback.objects.filter(case=case).exists()
    )


def may_record(scope: Scope, case: Case) -> bool:
    """Whether the caller may record the case's call-back now (for the case's `actions`)."""
    return scope.has_perm(perms.CASES_ACCEPT) and _waits(case)


def _checked(result: str, satisfaction: str) -> str:
    if result not in R.values:
        raise BadInput(f"result is one of {', '.join(R.values)}", field="result")
    if result == R.REACHED:
        if satisfaction not in CaseCallback.Satisfaction.values:
            raise BadInput(
                "a reached reporter's satisfaction is one of "
                + ", ".join(CaseCallback.Satisfaction.values),
                field="satisfaction",
            )
        return satisfaction
    if satisfaction:
        raise BadInput("only a reached reporter gives a satisfaction", field="satisfaction")
    return ""


@action("cases.callback", permission=None, target=case_target)
def do_record_callback(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    result: str,
    satisfaction: str = "",
    opinion: str = "",
    at: dt.datetime | None = None,
) -> CaseCallback:
    """Records the call-back (回访) of a closed public or hotline case whose reporter asked
    for one: 409 for another state or source, no call-back asked, one already recorded."""
    at = at or timezone.now()
    case = visibility.get_visible(scope, case_id, for_update=True)
    if version is None:
        raise BadInput("give the version of the case you acted on", field="version")
    if version != case.version:
        raise state_conflict(case, f"the case changed meanwhile: it is now version {case.version}")
    if not scope.has_perm(perms.CASES_ACCEPT):
        raise Forbidden("your position may not call reporters back")
    if not _waits(case):
        raise state_conflict(case, "the case waits for no call-back (closed, asked, none recorded)")
    satisfaction = _checked(result, satisfaction or "")
    set_history_actor(scope)
    row = CaseCallback.objects.create(
        case=case,
        result=result,
        satisfaction=satisfaction,
        opinion=opinion,
        recorded_by=scope.user,
        recorded_at=at,
    )
    case.version += 1
    case.save()
    details = {"callback": row.pk, "result": result, "satisfaction": satisfaction}
    record_event(scope, case, "callback", case.state, case.state, at, opinion, details)
    return row
