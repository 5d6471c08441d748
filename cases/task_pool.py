"""The task pool of a responsibility grid (网格任务池, spec 5.3.1-5.3.2): verification and check
tasks sent to a grid rather than to a person (`request_verify` / `request_check` with
``pool``, by hand or by an `AutoTaskRule`) wait there, unassigned, until one of the grid's
inspectors (those whose areas hold the case, `actions.inspectors_covering`) claims it; the
first claim wins and the task is then theirs like any other. The grid's inspectors are told
when a task arrives; an inspector sees the pool of their areas in the box 任务池 (`my_pool`)
and in `GET /api/v1/cases/task-pool`."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import Conflict, Forbidden, NotFound

from . import visibility
from .models import CaseTask


def _pooled():
    return CaseTask.objects.filter(assignee__isnull=True, done_at__isnull=True).exclude(
        pool_grid=""
    )


def pool_tasks(scope: Scope, limit: int = 200) -> list[dict]:
    """The open pooled tasks on the cases the caller sees, oldest first."""
    cases = visibility.visible_cases(scope).filter(Exists(_pooled().filter(case=OuterRef("pk"))))
    tasks = (
        _pooled()
        .filter(case__in=cases.values("pk"))
        .select_related("case__category")
        .order_by("created_at", "pk")[:limit]
    )
    now = timezone.now()
    return [
        {
            "task": t.pk,
            "kind": t.kind,
            "kind_name": CaseTask.Kind(t.kind).label,
            "case": t.case_id,
            "number": t.case.number,
            "category": t.case.category.name,
            "address": t.case.address or t.case.street_name,
            "grid": t.pool_grid,
            "lon": t.case.geom.x,
            "lat": t.case.geom.y,
            "note": t.note,
            "created_at": timezone.localtime(t.created_at),
            "deadline": timezone.localtime(t.deadline) if t.deadline else None,
            "overdue": bool(t.deadline and t.deadline <= now),
        }
        for t in tasks
    ]


@action(
    "cases.claim_task",
    permission=perms.CASES_REPORT,
    target=lambda case_id, *_, **__: case_id,
    details=lambda case_id, task_id, **_: {"task": task_id},
)
def do_claim_task(scope: Scope, case_id, task_id: int, *, at: dt.datetime | None = None):
    """Claims a pooled task (认领): it becomes the caller's; a second claim gets 409 naming
    who was first."""
    from .actions import record_event, inspectors_covering

    at = at or timezone.now()
    case = visibility.get_visible(scope, case_id, for_update=True)
    task = CaseTask.objects.select_for_update().filter(pk=task_id, case=case).first()
    if task is None:
        raise NotFound(f"case {case.number} has no task {task_id}", field="task")
    if not task.pool_grid:
        raise Conflict("this task was sent to a person, not to a pool", field="task")
    if task.done_at is not None:
        raise Conflict("this task is done", field="task")
    if task.assignee_id is not None:
        taker = getattr(task.assignee, "person", None)
        name = taker.name if taker is not None else task.assignee.get_username()
        raise Conflict(f"{name} claimed this task first", field="task")
    if not inspectors_covering(case).filter(user_id=scope.user.pk).exists():
        raise Forbidden("only the inspectors of the case's grid claim its pooled tasks")
    task.assignee, task.claimed_at = scope.user, at
    task.save(update_fields=["assignee", "claimed_at"])
    details = {
        "task": task.pk,
        "kind": task.kind,
        "inspector": scope.user.get_username(),
        "inspector_id": scope.user.pk,
    }
    record_event(scope, case, "claim_task", case.state, case.state, at, details=details)
    return task
