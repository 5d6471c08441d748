"""Celery tasks of the cases package: the deadline-state refresh beat runs every minute, the
Excel export of long case lists, and the delivery of notifications."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.context import Origin, origin
from core.jobs import job_task

from .export import run_export
from .printing import run_print

# Two short index ranges (case_state_deadline, case_state_warning): the normal and warning
# cases whose deadline passed, the normal ones whose warning time passed — not every past
# deadline (bench/README.md "Deadline notices").
DUE_SQL = """
SELECT EXISTS (
    SELECT 1 FROM cases_case
    WHERE deadline_state IN ('normal', 'warning') AND deadline <= %(now)s
) OR EXISTS (
    SELECT 1 FROM cases_case WHERE deadline_state = 'normal' AND warning_at <= %(now)s
)
"""


@shared_task(name="cases.refresh_deadlines")
def refresh_deadlines() -> dict:
    """Marks warnings and overdue cases as the system actor ``beat``; a minute in which no
    case's time came writes nothing (and logs nothing)."""
    from accounts.scoping import system_scope

    from .actions import do_refresh_deadline_states

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(DUE_SQL, {"now": now})
        (due,) = cursor.fetchone()
    if not due:
        return {"changed": 0}
    with origin(Origin(via="task")):
        changed = do_refresh_deadline_states(system_scope("beat"), now)
    return {"changed": len(changed)}


# The Excel export of a long case list (cases.export), run as the job's owner.
export_cases = job_task("cases.export", run_export)
# The PDF of a long case list (cases.printing), run as the job's owner.
print_cases = job_task("cases.print", run_print)


@shared_task(name="cases.release_holds")
def release_holds(now=None) -> dict:
    """Releases the holds (挂账) whose time has come, as the system actor ``beat``; a minute in
    which none is due writes nothing."""
    from accounts.scoping import system_scope

    from .applications import do_release_due_holds
    from .models import Case

    now = now or timezone.now()
    if not Case.objects.filter(hold_until__lte=now, held_since__isnull=False).exists():
        return {"released": 0}
    with origin(Origin(via="task")):
        released = do_release_due_holds(system_scope("beat"), now)
    return {"released": len(released)}


@shared_task(
    name="cases.deliver_notifications",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver_notifications(self) -> dict:
    """Delivers the notifications due (woken after the commit that wrote them, and every 30 s
    by beat); after a sender's error, runs again when the first failed row is due. Each row is
    claimed and marked in one transaction (cases.notifications), so a message given back by a
    dead worker, or delivered twice, sends no row twice."""
    from .notifications import deliver_due, next_retry_in

    counts = deliver_due()
    wait = next_retry_in() if counts["failed"] else None
    if wait is not None and self.request.retries < settings.CITYGRID_NOTIFY_MAX_ATTEMPTS:
        raise self.retry(countdown=wait, max_retries=settings.CITYGRID_NOTIFY_MAX_ATTEMPTS)
    return counts  # past the retries, beat's sweep takes the rows still due


@shared_task(name="cases.run_scheduled_dispatches")
def run_scheduled_dispatches(now=None) -> dict:
    """Dispatches the cases whose timed dispatch (定时派遣) is due, each as the person who
    scheduled it (beat every 30 s); a run in which none is due writes nothing."""
    from accounts.scoping import system_scope

    from .models import ScheduledDispatch
    from .scheduling import do_run_due_dispatches

    now = now or timezone.now()
    due = ScheduledDispatch.objects.filter(state=ScheduledDispatch.State.SCHEDULED, run_at__lte=now)
    if not due.exists():
        return {"ran": 0}
    with origin(Origin(via="task")):
        ran = do_run_due_dispatches(system_scope("beat"), now)
    return {"ran": len(ran)}


@shared_task(name="cases.train_recommend_model")
def train_recommend_model() -> dict:
    """Trains the category recommendation's model again on the case history (beat, nightly) and
    writes it as the next version, which every process loads on its next recommendation."""
    from .recommend import train

    meta = train()
    return {k: meta[k] for k in ("version", "source", "samples", "classes", "seconds")}


@shared_task(name="cases.assign_waiting")
def assign_waiting() -> dict:
    """A round of automatic assignment to acceptors (cases.assignment) as the safety net behind
    the rounds after each commit; a minute with nothing waiting or nobody on duty writes
    nothing."""
    from .assignment import run_round

    with origin(Origin(via="task")):
        return {"assigned": run_round()}
