"""Beat tasks of tracking: the fix partitions daily, signal-lost alarms every minute."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from core.context import Origin, origin

from . import alarms, partitions
from .conf import rules


@shared_task(name="tracking.maintain_partitions")
def maintain_partitions() -> dict:
    """Creates the fix partitions ahead and drops those past the retention."""
    return partitions.maintain()


@shared_task(name="tracking.signal_lost")
def signal_lost() -> dict:
    """Raises signal-lost alarms as the system actor ``beat``; a minute in which no tracker
    fell silent writes nothing (and logs nothing)."""
    from accounts.scoping import system_scope

    from .actions import do_raise_signal_lost

    now = timezone.now()
    silent = alarms.silent_trackers(now, rules().signal_lost_s)
    if not silent:
        return {"raised": 0}
    with origin(Origin(via="task")):
        changes = do_raise_signal_lost(system_scope("beat"), silent, now)
    return {"raised": len(changes)}
