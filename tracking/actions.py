"""The writes of tracking: ingest of fixes, alarm acknowledgement, the signal-lost beat.

`do_ingest_fixes` is the one write that is not an `@action` with an operation-log row: ingest
is a high-volume data stream (10,000 devices sending a batch each 10-100 s is hundreds of
batches a second), and a log row per batch would flood the operation log (操作日志) with fixes,
add a write to every batch and hide the operations the log is for. It checks who may post
exactly as an action would, writes in one transaction, publishes the position and alarm
changes after commit and adds the batch to the ingest counters (`tracking.counters`). The fixes
themselves, with their ``received_at``, are the record of what was sent. Its HTTP view is
`@own_transaction`, so the operation-log middleware does not log it either.

Alarm acknowledgement and the beat's signal-lost alarms are ordinary actions.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core import events
from core.errors import BadInput, Forbidden, Unauthorized

from . import alarms, counters
from .conf import rules
from .ingest import IngestResult, NewFix, TrackerInfo, store_batch
from .models import Alarm

CHANNEL = "tracking"


def device_scope_name(device_id: str) -> str:
    """The system actor name of a vehicle terminal signed in with its device key."""
    return f"device:{device_id}"


def may_post(scope: Scope, tracker) -> bool:
    """Whether `scope` may post fixes for `tracker`: its own person tracker, or the device
    itself (a terminal signed in with its key)."""
    if scope.system_name:
        return scope.system_name == device_scope_name(tracker.device_id)
    return tracker.person_id is not None and tracker.person_id == scope.person_id


def do_ingest_fixes(
    scope: Scope, tracker, fixes: list[NewFix], now: dt.datetime | None = None
) -> IngestResult:
    """Stores a parsed batch for `tracker` (see the module doc for why no log row)."""
    if scope.is_anonymous:
        raise Unauthorized("sign in, or send Authorization: Device <device id>:<key>")
    if not may_post(scope, tracker):
        raise Forbidden(f"you may not post fixes for device {tracker.device_id}", field="device")
    now = now or timezone.now()
    if tracker.valid_to is not None and tracker.valid_to < now or not tracker.active:
        raise Forbidden(f"device {tracker.device_id} is not in service", field="device")
    if not fixes:
        raise BadInput("fixes must be a non-empty list", field="fixes")
    info = TrackerInfo(
        tracker.pk,
        tracker.kind,
        tracker.person_id,
        getattr(tracker, "area_digest", None),
    )
    with transaction.atomic():
        result = store_batch(info, fixes, rules(), now)
        if result.position is not None:
            events.publish(CHANNEL, {"type": "position", **result.position})
        for change in result.alarms:
            events.publish(CHANNEL, change.event())
        counters.count_batch(result.accepted, result.duplicates, result.flagged)
    return result


def _alarm_id(alarm: Alarm, *args, **kwargs) -> int:
    return alarm.pk


@action(
    "tracking.acknowledge",
    permission=perms.TRACKING_ACKNOWLEDGE,
    target=_alarm_id,
    details=lambda alarm, note, justified: {"note": note, "justified": justified},
)
def do_acknowledge_alarm(scope: Scope, alarm: Alarm, note: str, justified: bool) -> Alarm:
    """Gives the alarm acknowledged by the caller with a note; a justified alarm (on leave, a
    task elsewhere) is left out of statistics. Acknowledging again replaces note and verdict."""
    alarm = Alarm.objects.select_for_update().get(pk=alarm.pk)
    alarm.note = note
    alarm.justified = justified
    alarm.acknowledged_by = scope.user
    alarm.acknowledged_at = timezone.now()
    alarm.save(update_fields=["note", "justified", "acknowledged_by", "acknowledged_at"])
    change = alarms.AlarmChange(
        alarm.pk, alarm.tracker_id, alarm.kind, "acknowledged", alarm.started_at, alarm.ended_at
    )
    events.publish(CHANNEL, change.event())
    return alarm


@action(
    "tracking.signal_lost",
    permission=None,
    target=lambda trackers, now: f"{len(trackers)} trackers",
    details=lambda trackers, now: {"trackers": trackers[:100]},
)
def do_raise_signal_lost(scope: Scope, trackers: list[int], now: dt.datetime) -> list:
    """Opens the signal-lost alarms of `trackers` (silent since their newest fix)."""
    scope.require(perms.SYSTEM_ADMIN)
    changes = alarms.raise_signal_lost(trackers, now, rules().signal_lost_s)
    for change in changes:
        events.publish(CHANNEL, change.event())
    return changes
