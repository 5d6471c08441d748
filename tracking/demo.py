"""The demo trackers: a phone for every demo inspector and a few vehicles with device keys.

Built after the demo organization (``manage.py demo_tracking``, run by `make run`), idempotent.
The inspectors get a day shift (白班 08:30–17:30) on the weekdays of the current month
(`tracking.roster`), so they are watched on duty only; the vehicles, never rostered, always.
The vehicles' device keys are derived from their device ids and are as public as the demo
passwords; `describe` prints them so a terminal (or the simulator) can sign in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import Department, Person

from . import roster
from .models import Shift, Tracker, hash_key

VEHICLES = [
    ("VEH-001", "京A·C1001", "巡查车"),
    ("VEH-002", "京A·C1002", "执法车"),
    ("VEH-003", "京A·C1003", "环卫车"),
]


def demo_key(device_id: str) -> str:
    """The demo device key of `device_id` (public, like the demo passwords)."""
    return "demo-" + hashlib.sha256(f"citygrid-demo:{device_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class DemoTracker:
    device_id: str
    kind: str
    name: str
    key: str


@transaction.atomic
def build_demo_trackers() -> list[DemoTracker]:
    """Gives the demo trackers after creating or updating them: ``PHONE-<street code>`` for
    every ``inspector-<street code>``, and the `VEHICLES` of the city's management unit."""
    made = []
    phones = []
    inspectors = Person.objects.filter(demo=True, user__username__startswith="inspector-")
    for person in inspectors.select_related("user"):
        code = person.user.username.removeprefix("inspector-")
        device = f"PHONE-{code}"
        phone, _ = Tracker.objects.update_or_create(
            device_id=device,
            defaults={"kind": Tracker.Kind.PERSON, "person": person, "name": person.name},
        )
        phones.append(phone.pk)
        made.append(DemoTracker(device, Tracker.Kind.PERSON, person.name, ""))
    unit = Department.objects.filter(code="H-chengguan").first()
    for device, plate, vehicle_type in VEHICLES:
        key = demo_key(device)
        Tracker.objects.update_or_create(
            device_id=device,
            defaults={
                "kind": Tracker.Kind.VEHICLE,
                "name": plate,
                "plate": plate,
                "vehicle_type": vehicle_type,
                "unit": unit,
                "key_hash": hash_key(key),
            },
        )
        made.append(DemoTracker(device, Tracker.Kind.VEHICLE, plate, key))
    build_demo_roster(phones)
    return made


def build_demo_roster(trackers: list[int]) -> int:
    """Gives the number of entries made putting `trackers` on the day shift on the weekdays
    of the current month (kept when already there)."""
    shift, _ = Shift.objects.get_or_create(
        name="白班", defaults={"start": dt.time(8, 30), "end": dt.time(17, 30)}
    )
    today = timezone.localdate()
    return roster.generate_month(trackers, today.year, today.month, "weekdays", shift)
