"""Duty rosters (排班): shift intervals across midnight, on duty with leave and substitutes, month
generation, the beat's signal-lost and absent alarms by the roster, on_duty in the live list,
and the roster API's scoping."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.demo import build_demo_organization
from accounts.models import OperationLog, Person
from spatial.models import AdminArea
from tracking import roster, tasks
from tracking.demo import build_demo_trackers
from tracking.models import Alarm, RosterEntry, Shift, Tracker

from .conftest import INSIDE, fixes

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
days = st.dates(min_value=dt.date(2000, 1, 2), max_value=dt.date(2099, 12, 30))


# --- the interval arithmetic (pure) -------------------------------------------------------------


@given(day=days, start=times, end=times)
def test_a_shift_lasts_its_clock_difference_and_at_most_a_day(day, start, end):
    begin, finish = roster.shift_interval(day, start, end, SHANGHAI)
    minutes = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % 1440 or 1440
    assert finish - begin == dt.timedelta(minutes=minutes)
    assert begin.date() == day
    assert finish.date() == (day if end > start else day + dt.timedelta(days=1))


@given(day=days, start=times, end=times, offset=st.integers(min_value=0, max_value=2 * 1440 - 1))
def test_an_instant_is_covered_by_at_most_one_days_shift_and_only_one_it_may_be(
    day, start, end, offset
):
    """Of the shifts of consecutive days, at most one covers an instant, and it is one of the
    two `covering_days` name (so looking at today and yesterday misses none)."""
    at = dt.datetime.combine(day, dt.time(), SHANGHAI) + dt.timedelta(minutes=offset)
    covering = [
        d
        for d in (day + dt.timedelta(days=k) for k in range(-2, 3))
        if roster.shift_interval(d, start, end, SHANGHAI)[0]
        <= at
        < roster.shift_interval(d, start, end, SHANGHAI)[1]
    ]
    assert len(covering) <= 1
    assert set(covering) <= set(roster.covering_days(at, SHANGHAI))
    clock = at.astimezone(SHANGHAI).time()
    if end > start:
        expected = start <= clock < end
    else:  # past midnight (or a full day)
        expected = clock >= start or clock < end
    assert bool(covering) == expected


def test_a_night_shift_covers_the_small_hours_of_the_next_day():
    night = Shift(name="夜班", start=dt.time(22), end=dt.time(6))
    entry = RosterEntry(tracker_id=1, date=dt.date(2026, 3, 1), shift=night, kind="on_duty")
    at = dt.datetime(2026, 3, 2, 5, 59, tzinfo=SHANGHAI)
    assert roster.duties([entry], at, SHANGHAI)[1].start == dt.datetime(
        2026, 3, 1, 22, tzinfo=SHANGHAI
    )
    assert roster.duties([entry], at + dt.timedelta(minutes=1), SHANGHAI) == {}


# --- with the database ------------------------------------------------------------------------


def day_shift() -> Shift:
    return Shift.objects.create(name="白班", start=dt.time(8, 30), end=dt.time(17, 30))


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), timezone.get_default_timezone())


@pytest.mark.django_db
def test_on_duty_with_leave_and_a_substitute(setup):
    shift = day_shift()
    other = Tracker.objects.create(device_id="VEH-T2", kind="vehicle", plate="京A·T0002")
    day = dt.date(2026, 3, 2)
    RosterEntry.objects.create(tracker=setup.tracker, date=day, shift=shift)
    assert roster.on_duty(setup.tracker, local(day, 9))
    assert not roster.on_duty(setup.tracker, local(day, 17, 30))
    assert not roster.on_duty(setup.tracker, local(day + dt.timedelta(days=1), 9))
    RosterEntry.objects.filter(tracker=setup.tracker).update(kind="leave", substitute=other)
    assert not roster.on_duty(setup.tracker, local(day, 9))
    assert roster.on_duty(other, local(day, 9))
    assert roster.duty_at(local(day, 9))[other.pk].in_place_of == setup.tracker.pk


@pytest.mark.django_db
def test_month_generation_counts_and_keeps_what_is_there(setup):
    shift = day_shift()
    trackers = [setup.tracker.pk, setup.vehicle.pk]
    assert roster.generate_month(trackers, 2026, 3, "weekdays", shift) == 2 * 22  # March 2026
    assert roster.generate_month(trackers, 2026, 3, "weekdays", shift) == 0
    assert roster.generate_month([setup.tracker.pk], 2026, 2, "daily", shift) == 28
    RosterEntry.objects.all().delete()
    made = roster.generate_month([setup.tracker.pk], 2026, 3, "5 on / 2 off", shift)
    dates = sorted(RosterEntry.objects.values_list("date", flat=True))
    assert made == len(dates) and 21 <= made <= 23
    for first in dates:  # every 7 consecutive days hold exactly 5 working ones
        week = {first + dt.timedelta(days=k) for k in range(7)}
        if max(week).month == 3:
            assert len(week & set(dates)) == 5
    with pytest.raises(Exception, match="pattern"):
        roster.generate_month([setup.tracker.pk], 2026, 3, "sometimes", shift)


def on_shift_now(tracker: Tracker, started_ago: dt.timedelta) -> Shift:
    """Puts `tracker` on a shift of today that began `started_ago` and runs two hours on."""
    now = timezone.localtime()
    begin = (now - started_ago).replace(second=0, microsecond=0)
    finish = (now + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
    shift = Shift.objects.create(name="当班", start=begin.time(), end=finish)
    RosterEntry.objects.create(tracker=tracker, date=begin.date(), shift=shift)
    return shift


def off_shift_now(tracker: Tracker) -> None:
    """Puts `tracker` on a shift of today that ended an hour ago (rostered, off duty now)."""
    now = timezone.localtime()
    start = (now - dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    end = (now - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    shift = Shift.objects.create(name="早班", start=start.time(), end=end)
    RosterEntry.objects.create(tracker=tracker, date=start.date(), shift=shift)


@pytest.mark.django_db
def test_signal_lost_is_not_raised_off_duty(setup):
    setup.post(fixes([INSIDE], setup.start))  # three hours ago
    off_shift_now(setup.tracker)
    assert tasks.signal_lost() == {"raised": 0, "absent": 0}
    assert not Alarm.objects.exists()


@pytest.mark.django_db
def test_signal_lost_is_raised_on_duty_for_a_silence_within_the_shift(setup):
    on_shift_now(setup.tracker, dt.timedelta(hours=4))
    setup.post(fixes([INSIDE], setup.start))  # three hours ago, within the shift
    assert tasks.signal_lost() == {"raised": 1, "absent": 0}
    assert Alarm.objects.get().kind == "signal_lost"


@pytest.mark.django_db
def test_absent_is_raised_after_the_minutes_and_ended_by_the_first_fix(setup, settings):
    settings.TRACKING_ABSENT_S = 15 * 60
    setup.post(fixes([INSIDE], setup.start))  # three hours ago, before the shift
    shift = on_shift_now(setup.tracker, dt.timedelta(minutes=10))
    assert tasks.signal_lost() == {"raised": 0, "absent": 0}, "absent before 15 minutes"
    RosterEntry.objects.all().delete()
    shift.delete()
    on_shift_now(setup.tracker, dt.timedelta(minutes=20))
    assert tasks.signal_lost() == {"raised": 0, "absent": 1}
    assert tasks.signal_lost() == {"raised": 0, "absent": 0}, "raised twice for one shift"
    alarm = Alarm.objects.get()
    started = timezone.localtime() - dt.timedelta(minutes=20)
    assert alarm.kind == "absent" and alarm.ended_at is None
    assert abs(alarm.started_at - started) < dt.timedelta(minutes=1)
    assert OperationLog.objects.filter(action="tracking.absent").exists()
    back = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=30)
    setup.post(fixes([INSIDE], back))
    alarm.refresh_from_db()
    assert alarm.ended_at == back


# --- the API ----------------------------------------------------------------------------------


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(Person.objects.get(user__username=username).user)
    return client


def post(client: Client, path: str, body: dict):
    return client.post(path, json.dumps(body), "application/json")


@pytest.fixture
def demo(city, db):
    build_demo_organization()
    build_demo_trackers()
    a, b = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code")[:2])
    return {
        "a": Tracker.objects.get(device_id=f"PHONE-{a.code}"),
        "b": Tracker.objects.get(device_id=f"PHONE-{b.code}"),
        "inspector_a": client_of(f"inspector-{a.code}"),
        "inspector_b": client_of(f"inspector-{b.code}"),
        "leader": client_of("shiftleader"),
    }


def test_the_demo_gives_the_inspectors_the_day_shift_on_weekdays(demo):
    today = timezone.localdate()
    entries = RosterEntry.objects.filter(tracker=demo["a"])
    weekdays = [d for d in roster.month_days(today.year, today.month) if d.weekday() < 5]
    assert sorted(entries.values_list("date", flat=True)) == weekdays
    assert {e.shift.name for e in entries} == {"白班"}
    assert not RosterEntry.objects.filter(tracker__kind="vehicle").exists()


def test_live_shows_on_duty(demo):
    here = AdminArea.objects.get(code=demo["a"].device_id.removeprefix("PHONE-"))
    point = here.geom.point_on_surface
    at = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=20)
    demo["inspector_a"].post(
        "/api/v1/tracking/fixes",
        json.dumps({"fixes": fixes([(point.x, point.y)], at)}),
        "application/json",
    )
    RosterEntry.objects.filter(tracker=demo["a"]).delete()
    props = demo["inspector_a"].get("/api/v1/tracking/live").json()["features"][0]["properties"]
    assert props["on_duty"] is False and props["shift"] is None
    on_shift_now(demo["a"], dt.timedelta(minutes=5))
    props = demo["inspector_a"].get("/api/v1/tracking/live").json()["features"][0]["properties"]
    assert props["on_duty"] is True and props["shift"] == "当班"


def test_the_shift_leader_generates_and_reads_the_roster_scoped(demo):
    leader = demo["leader"]
    shift = post(
        leader, "/api/v1/tracking/shifts", {"name": "夜班", "start": "22:00", "end": "06:00"}
    )
    assert shift.status_code == 201, shift.content
    assert shift.json()["overnight"] is True
    assert (
        post(
            leader, "/api/v1/tracking/shifts", {"name": "夜班", "start": "22:00", "end": "06:00"}
        ).status_code
        == 409
    )
    body = {"year": 2026, "month": 2, "pattern": "daily", "shift": shift.json()["id"]}
    made = post(leader, "/api/v1/tracking/roster/generate", body)
    assert made.status_code == 200, made.content
    people = Tracker.objects.filter(kind="person").count()
    assert 0 < made.json()["created"] <= 28 * people
    assert OperationLog.objects.filter(action="tracking.roster_generate").exists()
    day = leader.get("/api/v1/tracking/roster?date=2026-02-03").json()
    assert {e["shift"]["name"] for e in day["entries"]} == {"夜班"}
    mine = demo["inspector_a"].get("/api/v1/tracking/roster?date=2026-02-03").json()["entries"]
    assert {e["tracker"] for e in mine} == {demo["a"].pk}
    bad = post(leader, "/api/v1/tracking/roster/generate", {**body, "pattern": "often"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "pattern"


def test_leave_with_a_substitute_through_the_api(demo):
    leader = demo["leader"]
    shift = Shift.objects.get(name="白班")
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())
    body = {"tracker": demo["a"].pk, "date": monday.isoformat(), "shift": shift.pk}
    answer = post(leader, "/api/v1/tracking/roster/leave", {**body, "substitute": demo["b"].pk})
    if answer.status_code == 404:  # the shift leader does not see street b: leave it out
        answer = post(leader, "/api/v1/tracking/roster/leave", body)
    assert answer.status_code == 200, answer.content
    assert answer.json()["kind"] == "leave"
    assert not roster.on_duty(demo["a"], local(monday, 9))
    refused = post(demo["inspector_a"], "/api/v1/tracking/roster/leave", body)
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/tracking/shifts"),
        ("post", "/api/v1/tracking/shifts"),
        ("get", "/api/v1/tracking/roster"),
        ("post", "/api/v1/tracking/roster/generate"),
        ("post", "/api/v1/tracking/roster/leave"),
    ],
)
def test_anonymous_callers_get_401(demo, method, path):
    assert getattr(Client(), method)(path).status_code == 401


def test_an_inspector_may_not_generate_nor_add_shifts(demo):
    body = {"year": 2026, "month": 2, "pattern": "daily", "shift": 1}
    assert post(demo["inspector_a"], "/api/v1/tracking/roster/generate", body).status_code == 403
    shift = {"name": "x", "start": "01:00", "end": "02:00"}
    assert post(demo["inspector_a"], "/api/v1/tracking/shifts", shift).status_code == 403
