"""Timed dispatch (定时派遣, issue 20 §dispatch modes): a dispatcher sets the time and the
department, and beat dispatches the case then, as that dispatcher; until then the timed
dispatch is edited or cancelled.

Scheduling, editing and cancelling are ``do_*`` actions that lock the case, append a
`CaseEvent` (``schedule_dispatch``, ``edit_scheduled_dispatch``, ``cancel_scheduled_dispatch``;
the state does not move) and move the case's version. A case has at most one scheduled
dispatch (a partial unique index). `do_run_due_dispatches` (beat, every 30 s) claims the due
rows with ``FOR UPDATE SKIP LOCKED`` and dispatches each through `do_dispatch_case` in the
scope of the person who scheduled it, so the event, the permission check and the operation
log are theirs; a case that can no longer be dispatched (dispatched by hand meanwhile, on
hold, the person's position changed) leaves the row ``failed`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope, scope_for_user
from core.errors import ApiError, BadInput, Forbidden, NotFound

from . import visibility
from .actions import (
    _begin,
    state_conflict,
    record_event,
    set_history_actor,
    case_target,
    do_dispatch_case,
    handling_department,
)
from .models import Case, ScheduledDispatch

log = logging.getLogger(__name__)
S = ScheduledDispatch.State


def latest(case: Case) -> ScheduledDispatch | None:
    """The case's newest timed dispatch, in any state."""
    return (
        ScheduledDispatch.objects.filter(case=case)
        .select_related("department", "created_by")
        .order_by("-created_at", "-pk")
        .first()
    )


def _future(run_at: dt.datetime | None, at: dt.datetime) -> dt.datetime:
    if run_at is None:
        raise BadInput("give the time to dispatch at", field="run_at")
    if timezone.is_naive(run_at):
        run_at = timezone.make_aware(run_at)
    if run_at <= at:
        raise BadInput("the time to dispatch at lies in the future", field="run_at")
    return run_at


def _details(row: ScheduledDispatch) -> dict:
    return {
        "scheduled_dispatch": row.pk,
        "department": row.department.code,
        "run_at": timezone.localtime(row.run_at).isoformat(),
    }


@action("cases.schedule_dispatch", permission=None, target=case_target)
def do_schedule_dispatch(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    run_at: dt.datetime | None,
    department=None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> ScheduledDispatch:
    """Sets a case waiting for dispatch to be dispatched at `run_at` (定时派遣) to the
    department given, else the manual's; the caller must be allowed to dispatch it now."""
    at = at or timezone.now()
    case, _, _ = _begin(scope, case_id, "dispatch", version)
    run_at = _future(run_at, at)
    chosen = handling_department(case, department)
    if ScheduledDispatch.objects.filter(case=case, state=S.SCHEDULED).exists():
        raise state_conflict(case, "the case already has a timed dispatch: edit or cancel it")
    row = ScheduledDispatch.objects.create(
        case=case,
        department=chosen,
        opinion=opinion,
        run_at=run_at,
        created_by=scope.user,
        created_at=at,
    )
    case.version += 1
    case.save()
    record_event(
        scope, case, "schedule_dispatch", case.state, case.state, at, opinion, _details(row)
    )
    return row


def _scheduled(case: Case) -> ScheduledDispatch:
    """The case's scheduled row, locked; 409 when there is none (done, cancelled, failed)."""
    row = (
        ScheduledDispatch.objects.select_for_update()
        .filter(case=case, state=S.SCHEDULED)
        .select_related("department")
        .first()
    )
    if row is None:
        last = latest(case)
        what = f"is {last.get_state_display()} ({last.state})" if last else "does not exist"
        raise state_conflict(case, f"the case's timed dispatch {what}")
    return row


@action("cases.edit_scheduled_dispatch", permission=None, target=case_target)
def do_edit_scheduled_dispatch(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    run_at: dt.datetime | None = None,
    department=None,
    opinion: str | None = None,
    at: dt.datetime | None = None,
) -> ScheduledDispatch:
    """Changes the time, the department or the opinion of a case's timed dispatch while it is
    still scheduled (and the case still waits for dispatch)."""
    at = at or timezone.now()
    case, _, _ = _begin(scope, case_id, "dispatch", version)
    row = _scheduled(case)
    if run_at is None and department in (None, "") and opinion is None:
        raise BadInput("give a new run_at, department or opinion", field="run_at")
    before = _details(row)
    if run_at is not None:
        row.run_at = _future(run_at, at)
    if department not in (None, ""):
        row.department = handling_department(case, department)
    if opinion is not None:
        row.opinion = opinion
    row.save()
    case.version += 1
    case.save()
    details = {**_details(row), "before": before}
    record_event(scope, case, "edit_scheduled_dispatch", case.state, case.state, at, "", details)
    return row


@action("cases.cancel_scheduled_dispatch", permission=None, target=case_target)
def do_cancel_scheduled_dispatch(
    scope: Scope,
    case_id,
    *,
    version: int | None,
    opinion: str = "",
    at: dt.datetime | None = None,
) -> ScheduledDispatch:
    """Cancels a case's timed dispatch while it is still scheduled (whatever the case's state
    now: a case dispatched by hand meanwhile may still have its row cancelled)."""
    at = at or timezone.now()
    case = visibility.get_visible(scope, case_id, for_update=True)
    if version is None:
        raise BadInput("give the version of the case you acted on", field="version")
    if version != case.version:
        raise state_conflict(case, f"the case changed meanwhile: it is now version {case.version}")
    if not scope.has_perm(perms.CASES_DISPATCH):
        raise Forbidden("your position may not dispatch cases")
    row = _scheduled(case)
    set_history_actor(scope)
    row.state, row.done_at = S.CANCELLED, at
    row.save(update_fields=["state", "done_at"])
    case.version += 1
    case.save()
    record_event(
        scope, case, "cancel_scheduled_dispatch", case.state, case.state, at, opinion, _details(row)
    )
    return row


def _run_one(row: ScheduledDispatch, now: dt.datetime) -> None:
    """Dispatches `row`'s case as the person who scheduled it; marks the row done or failed."""
    scheduler = scope_for_user(row.created_by)
    try:
        if scheduler.is_anonymous:
            raise Forbidden("the person who scheduled the dispatch is no longer active")
        version = Case.objects.filter(pk=row.case_id).values_list("version", flat=True).first()
        do_dispatch_case(
            scheduler,
            row.case_id,
            version=version,
            department=row.department.code,
            opinion=row.opinion,
            scheduled=row.pk,
            at=now,
        )
    except ApiError as exc:
        row.state, row.error = S.FAILED, exc.message[:500]
    except Exception as exc:  # noqa: BLE001 - one bad row must not stop the others
        log.exception("timed dispatch %s failed", row.pk)
        row.state, row.error = S.FAILED, f"server error: {exc}"[:500]
    else:
        row.state = S.DONE
    row.done_at = now
    row.save(update_fields=["state", "error", "done_at"])


@action(
    "cases.run_scheduled_dispatches",
    permission=perms.SYSTEM_ADMIN,
    details=lambda now=None, **_: {"now": str(now)},
)
def do_run_due_dispatches(scope: Scope, now: dt.datetime | None = None) -> list[int]:
    """Dispatches every case whose timed dispatch is due (beat every 30 s, as the system
    actor; each dispatch in its scheduler's scope, in a savepoint of its own); gives the ids
    of the rows run. Rows another run holds are skipped (``SKIP LOCKED``), so no row runs
    twice; the claim is served by the partial index ``scheduled_dispatch_due``."""
    now = now or timezone.now()
    due = (
        ScheduledDispatch.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(state=S.SCHEDULED, run_at__lte=now)
        .select_related("department", "created_by")
        .order_by("run_at", "pk")
    )
    ran = []
    for row in due:
        _run_one(row, now)
        ran.append(row.pk)
    return ran


def get_scheduled(scope: Scope, case_id) -> ScheduledDispatch:
    """The newest timed dispatch of a case the caller sees; `NotFound` when it has none."""
    case = visibility.get_visible(scope, case_id)
    row = latest(case)
    if row is None:
        raise NotFound(f"case {case_id} has no timed dispatch")
    return row
