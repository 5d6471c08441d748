"""Alarms with a start and an end, from device time: out of grid (with jitter at the edge that
must raise nothing), long stay, speeding on a synthetic drive, signal lost; late batches."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from tracking import tasks
from tracking.models import Alarm

from .conftest import EAST_EDGE_MID, INSIDE, fixes, shifted

pytestmark = pytest.mark.django_db


def at(setup, seconds: float) -> dt.datetime:
    return setup.start + dt.timedelta(seconds=seconds)


def walk(start_point, east_m_per_fix: float, n: int):
    return [shifted(start_point, east_m_per_fix * k) for k in range(n)]


def jitter(n: int, outside_m: float):
    """`n` positions alternating just inside and `outside_m` outside the east edge."""
    return [shifted(EAST_EDGE_MID, outside_m if k % 2 else -5, 3 * k) for k in range(n)]


def test_jitter_at_the_grid_edge_within_the_tolerance_raises_nothing(setup):
    batch = fixes(jitter(60, 20), setup.start)  # 10 minutes, every other fix 20 m outside
    assert setup.post(batch).json()["accepted"] == 60
    assert not Alarm.objects.exists()


def test_a_short_trip_out_of_the_grid_raises_nothing(setup):
    out = [shifted(EAST_EDGE_MID, 100, 3 * k) for k in range(12)]  # 110 s outside
    setup.post(fixes([INSIDE] + out + [INSIDE], setup.start))
    assert not Alarm.objects.exists()


def near_edge(n: int):
    """`n` positions 40 m inside the east edge (a walk from them out is plausible)."""
    return [shifted(EAST_EDGE_MID, -40, 3 * k) for k in range(n)]


def test_a_real_exit_raises_one_alarm_from_the_first_fix_out_to_the_first_fix_back(setup):
    inside = near_edge(6)
    out = [shifted(EAST_EDGE_MID, 120, 3 * k) for k in range(30)]  # 5 minutes 120 m out
    batch = fixes(inside + out + inside, setup.start)
    setup.post(batch[:20])  # the run begins in one batch …
    assert not Alarm.objects.exists(), "raised before the minimum duration"
    setup.post(batch[20:30])  # … lasts 3 minutes in the next …
    alarm = Alarm.objects.get()
    assert alarm.kind == "out_of_grid" and alarm.ended_at is None
    assert alarm.started_at == dt.datetime.fromisoformat(batch[6]["t"])
    setup.post(batch[30:])  # … and ends at the first fix back inside
    alarm.refresh_from_db()
    assert alarm.ended_at == dt.datetime.fromisoformat(batch[36]["t"])
    assert alarm.details["max_off_m"] == pytest.approx(120, abs=3)
    assert Alarm.objects.count() == 1


def test_flagged_fixes_never_raise_alarms(setup):
    out = [shifted(EAST_EDGE_MID, 500, 3 * k) for k in range(60)]
    body = setup.post(fixes(out, setup.start, accuracy=400)).json()
    assert body["flagged"] == 60
    assert not Alarm.objects.exists()


def test_a_late_batch_raises_the_alarm_it_should_have(setup):
    batch = fixes(near_edge(60), setup.start)
    out = fixes([shifted(EAST_EDGE_MID, 150, 3 * k) for k in range(24)], at(setup, 200))
    early, later = batch[:20], batch[44:]  # 0-190 s and 440-590 s inside …
    setup.post(early)
    setup.post(later)
    assert not Alarm.objects.exists()
    setup.post(out)  # … arrives after them: 200-430 s outside
    alarm = Alarm.objects.get()
    assert alarm.kind == "out_of_grid"
    assert alarm.started_at == at(setup, 200)
    assert alarm.ended_at == at(setup, 440)


def test_a_late_batch_sent_again_changes_nothing(setup):
    setup.post(fixes(near_edge(1), at(setup, 1000)))
    out = fixes([shifted(EAST_EDGE_MID, 150, 3 * k) for k in range(24)], at(setup, 200))
    setup.post(out)
    first = list(Alarm.objects.values_list("started_at", "ended_at"))
    assert setup.post(out).json()["duplicates"] == 24
    assert list(Alarm.objects.values_list("started_at", "ended_at")) == first


@override_settings(TRACKING_STAY_MIN_S=600)
def test_long_stay_starts_after_the_time_and_ends_when_they_move_on(setup):
    here = [shifted(INSIDE, 3 * (k % 3), 2 * (k % 2)) for k in range(70)]  # 11.5 min within 10 m
    moving = walk(shifted(INSIDE, 200), 15, 5)
    batch = fixes(here + moving, setup.start)
    setup.post(batch[:55])
    assert not Alarm.objects.exists()
    setup.post(batch[55:70])
    alarm = Alarm.objects.get(kind="long_stay")
    assert alarm.started_at == setup.start and alarm.ended_at is None
    setup.post(batch[70:])
    alarm.refresh_from_db()
    assert alarm.ended_at == dt.datetime.fromisoformat(batch[70]["t"])


def drive(setup, kmh: float, seconds: int, step_s: int = 5) -> list[dict]:
    """A vehicle going east at `kmh` for `seconds`, then stopped for a minute."""
    metres_per_step = kmh / 3.6 * step_s
    moving = walk(INSIDE, metres_per_step, seconds // step_s + 1)
    stopped = [moving[-1]] * 12
    batch = fixes(moving + stopped, setup.start, step_s)
    for n, fix in enumerate(batch):
        fix["speed"] = kmh / 3.6 if n < len(moving) else 0.0
    return batch


def test_speeding_for_thirty_seconds_raises_one_alarm_that_ends_when_slower(setup):
    batch = drive(setup, 80, 60)
    assert setup.post_vehicle(batch).json()["flagged"] == 0
    alarm = Alarm.objects.get()
    assert alarm.kind == "speeding" and alarm.tracker == setup.vehicle
    assert alarm.started_at == setup.start
    assert alarm.ended_at == dt.datetime.fromisoformat(batch[13]["t"])
    assert alarm.details["max_kmh"] == pytest.approx(80, abs=0.5)


def test_a_short_burst_of_speed_raises_nothing(setup):
    setup.post_vehicle(drive(setup, 80, 20))
    assert not Alarm.objects.filter(kind="speeding").exists()


def test_inspectors_are_never_speeding(setup):
    setup.post(drive(setup, 80, 60))
    assert not Alarm.objects.filter(kind="speeding").exists()


def test_signal_lost_opens_from_beat_and_ends_at_the_next_fix(setup):
    setup.post(fixes([INSIDE], setup.start))
    assert tasks.signal_lost() == {"raised": 1, "absent": 0}
    assert tasks.signal_lost() == {"raised": 0, "absent": 0}, "raised twice for one silence"
    alarm = Alarm.objects.get(kind="signal_lost")
    assert alarm.started_at == setup.start and alarm.ended_at is None
    back = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=30)
    setup.post(fixes([INSIDE], back))
    alarm.refresh_from_db()
    assert alarm.ended_at == back
