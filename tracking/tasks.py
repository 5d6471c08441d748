"""Beat tasks of tracking: the fix partitions daily, signal-lost and absent alarms every
minute."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from core.context import Origin, origin

from . import alarms, partitions, patrol, roster
from .conf import rules


@shared_task(name="tracking.maintain_partitions")
def maintain_partitions() -> dict:
    """Creates the fix partitions ahead and drops those past the retention."""
    return partitions.maintain()


@shared_task(name="tracking.signal_lost")
def signal_lost() -> dict:
    """Raises signal-lost and absent alarms as the system actor ``beat``; a minute in which no
    tracker fell silent or stayed away writes nothing (and logs nothing). Trackers in the
    roster are watched only on duty (`tracking.roster`), and a silence that began before the
    shift is absence, not signal lost."""
    from accounts.scoping import system_scope

    from .actions import do_raise_absent, do_raise_signal_lost

    now = timezone.now()
    limits = rules()
    duty = roster.duty_at(now)
    silent = alarms.silent_trackers(now, limits.signal_lost_s)
    watched = roster.rostered(pk for pk, _ in silent)
    silent_ids = [
        pk for pk, last in silent if pk not in watched or (pk in duty and last >= duty[pk].start)
    ]
    absent = alarms.absent_trackers(list(duty.values()), now, limits.absent_s)
    raised, away = [], []
    with origin(Origin(via="task")):
        if silent_ids:
            raised = do_raise_signal_lost(system_scope("beat"), silent_ids, now)
        if absent:
            away = do_raise_absent(system_scope("beat"), [duty[pk] for pk in absent], now)
    return {"raised": len(raised), "absent": len(away)}


@shared_task(name="tracking.checkpoints")
def checkpoints() -> dict:
    """Raises missed-checkpoint alarms (巡查点漏巡) at the end of each checkpoint window short of
    visits, and ends those whose shift is over, as the system actor ``beat``; a minute with
    neither writes nothing (`tracking.patrol`)."""
    from accounts.scoping import system_scope

    from .actions import do_raise_checkpoint_missed

    now = timezone.now()
    due = patrol.missing(patrol.due_windows(now))
    over = patrol.overdue_open(now)
    raised = []
    if due or over:
        with origin(Origin(via="task")):
            raised = do_raise_checkpoint_missed(system_scope("beat"), due, now)
    return {"changed": len(raised)}
