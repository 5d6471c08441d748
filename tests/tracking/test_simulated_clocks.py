"""The demo simulator's clock-ins and outs (tracking/simulated_clocks.py): the plans are
repeatable and mostly on time, the decision follows the plan and the shift, and a simulated
phone clocks in over HTTP once its duty has begun."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tracking.simulated_clocks import Plan, clocks_due, plan_for

SH = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 3, 2, 22, 0, tzinfo=SH)
END = dt.datetime(2026, 3, 3, 6, 0, tzinfo=SH)  # a night shift


def duty(clock_in=None, clock_out=None) -> dict:
    return {
        "date": "2026-03-02",
        "shift": {"id": 1},
        "start": START.isoformat(),
        "end": END.isoformat(),
        "clock_in": clock_in,
        "clock_out": clock_out,
    }


def test_plans_are_repeatable_and_mostly_on_time():
    assert plan_for(1, "inspector-a", "2026-03-02", 1) == plan_for(
        1, "inspector-a", "2026-03-02", 1
    )
    plans = [plan_for(1, f"inspector-{n}", "2026-03-02", 1) for n in range(3000)]
    late = sum(p.in_after_s > 300 for p in plans) / len(plans)
    early = sum(p.out_after_s is not None and p.out_after_s < 0 for p in plans) / len(plans)
    forgot = sum(p.out_after_s is None for p in plans) / len(plans)
    assert 0.12 < late < 0.18 and 0.07 < early < 0.13 and 0.03 < forgot < 0.07
    assert all(0 <= p.in_after_s <= 1500 for p in plans)


def test_the_clock_owed_follows_the_plan_and_the_shift():
    plan = Plan(in_after_s=600, out_after_s=120)
    minute = dt.timedelta(minutes=1)
    assert clocks_due(duty(), plan, START + 9 * minute) is None
    assert clocks_due(duty(), plan, START + 10 * minute) == "in"
    assert clocks_due(duty(), plan, END) is None  # the shift is over: no clock-in any more
    clocked = {"at": START.isoformat()}
    assert clocks_due(duty(clocked), plan, END + minute) is None
    assert clocks_due(duty(clocked), plan, END + 2 * minute) == "out"
    assert clocks_due(duty(clocked), plan, END + 121 * minute) is None  # past the window
    assert clocks_due(duty(clocked, clocked), plan, END + 2 * minute) is None
    assert clocks_due(duty(clocked), Plan(0, None), END + 10 * minute) is None  # forgotten
    early = Plan(0, -1200)
    assert clocks_due(duty(clocked), early, END - 21 * minute) is None
    assert clocks_due(duty(clocked), early, END - 20 * minute) == "out"


@pytest.mark.django_db(transaction=True)
def test_a_simulated_phone_clocks_in_over_http(city, live_server, settings, tmp_path):
    from accounts.demo import build_demo_organization
    from spatial.models import AdminArea
    from tracking.demo import build_demo_trackers
    from tracking.models import ClockRecord, RosterEntry, Shift, Tracker
    from tracking.simulated_clocks import PhoneClocks
    from tracking.simulator import Poster

    settings.MEDIA_ROOT = tmp_path  # the photo, for the live server's thread too
    build_demo_organization()
    build_demo_trackers()
    street = AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code").first()
    tracker = Tracker.objects.get(device_id=f"PHONE-{street.code}")
    RosterEntry.objects.filter(tracker=tracker).delete()
    begin = timezone.localtime() - dt.timedelta(minutes=30)  # past any plan's clock-in
    shift = Shift.objects.create(
        name="模拟班", start=begin.time(), end=(begin + dt.timedelta(hours=3)).time()
    )
    RosterEntry.objects.create(tracker=tracker, date=begin.date(), shift=shift)
    here = street.geom.point_on_surface
    fix = {"lon": here.x, "lat": here.y, "accuracy": 6.0}
    clocks = PhoneClocks(Poster(live_server.url), seed=1)
    username = f"inspector-{street.code}"
    now = timezone.now()
    assert clocks.tick(username, fix, now) == ["in"]
    record = ClockRecord.objects.get(tracker=tracker)
    assert record.kind == "in" and not record.off_grid and record.photo_type == "image/jpeg"
    assert clocks.tick(username, fix, now + dt.timedelta(seconds=30)) == []  # once a minute
    assert clocks.tick(username, fix, now + dt.timedelta(minutes=2)) == []  # in already
    assert ClockRecord.objects.count() == 1
