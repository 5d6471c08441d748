"""Supervision (督办, issue 20): a leader (`cases.supervise`) presses the handling department
of a case in handling with a note and a time to reply by; the department's handlers hear of
it (`notifications.RULES`) and one of them replies.

`do_supervise` and `do_reply_supervision` lock the case and append a `CaseEvent`
(``supervise``, ``reply_supervision``; the state does not move). Neither moves the case's
version: a supervision is said to the department, it does not change the case, so a handler
acting on the case meanwhile is not turned away with a 409.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, Forbidden, NotFound

from . import visibility
from .actions import state_conflict, record_event, set_history_actor, case_target
from .models import Case, CaseSupervision, State


def _details(row: CaseSupervision) -> dict:
    return {
        "supervision": row.pk,
        "department": row.department.code,
        "deadline": timezone.localtime(row.deadline).isoformat(),
    }


@action("cases.supervise", permission=None, target=case_target)
def do_supervise(
    scope: Scope,
    case_id,
    note: str,
    deadline: dt.datetime | None,
    *,
    at: dt.datetime | None = None,
) -> CaseSupervision:
    """Supervises (督办) a case in handling: a note to its department, to reply by `deadline`
    (in the future)."""
    at = at or timezone.now()
    case = visibility.get_visible(scope, case_id, for_update=True)
    if not scope.has_perm(perms.CASES_SUPERVISE):
        raise Forbidden("your position may not supervise cases")
    if case.state != State.HANDLING or case.department_id is None:
        raise state_conflict(case, f"only a case in handling is supervised, not a {case.state} one")
    if not (note or "").strip():
        raise BadInput("say what the department is pressed for", field="note")
    if deadline is None:
        raise BadInput("give the time to reply by", field="deadline")
    if timezone.is_naive(deadline):
        deadline = timezone.make_aware(deadline)
    if deadline <= at:
        raise BadInput("the time to reply by lies in the future", field="deadline")
    set_history_actor(scope)
    row = CaseSupervision.objects.create(
        case=case,
        by=scope.user,
        department=case.department,
        note=note,
        deadline=deadline,
        created_at=at,
    )
    record_event(scope, case, "supervise", case.state, case.state, at, note, _details(row))
    return row


@action(
    "cases.reply_supervision",
    permission=None,
    target=lambda supervision_id, *a, **k: str(supervision_id),
)
def do_reply_supervision(
    scope: Scope, supervision_id, reply: str, *, at: dt.datetime | None = None
) -> CaseSupervision:
    """Replies to a supervision (督办回复) as its department's handler; once."""
    at = at or timezone.now()
    try:
        pk = int(supervision_id)
    except (TypeError, ValueError):
        raise NotFound(f"no supervision {supervision_id}") from None
    case_id = CaseSupervision.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotFound(f"no supervision {supervision_id}")
    case = visibility.get_visible(scope, case_id, for_update=True)  # 404 as for the case
    row = CaseSupervision.objects.select_for_update().select_related("department").get(pk=pk)
    if not scope.has_perm(perms.CASES_HANDLE) or scope.department_id != row.department_id:
        raise Forbidden("only the supervised department replies")
    if row.replied_at is not None:
        raise state_conflict(case, "the supervision is already answered")
    if not (reply or "").strip():
        raise BadInput("give the reply", field="reply")
    set_history_actor(scope)
    row.reply, row.replied_by, row.replied_at = reply, scope.user, at
    row.save(update_fields=["reply", "replied_by", "replied_at"])
    record_event(scope, case, "reply_supervision", case.state, case.state, at, reply, _details(row))
    return row


def supervisions_of(scope: Scope, case_id) -> list[CaseSupervision]:
    """The supervisions of a case the caller sees, oldest first."""
    case: Case = visibility.get_visible(scope, case_id)
    return list(
        CaseSupervision.objects.filter(case=case).select_related("department", "by", "replied_by")
    )
