"""Live positions, alarms, acknowledgement and playback over HTTP, scoped to the caller: the
demo organization's inspectors, shift leader and an anonymous caller."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from accounts.demo import build_demo_organization
from accounts.models import OperationLog, Person
from spatial.models import AdminArea
from tracking.demo import build_demo_trackers, demo_key
from tracking.models import Alarm, Tracker

from .conftest import fixes, shifted

pytestmark = pytest.mark.django_db


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(Person.objects.get(user__username=username).user)
    return client


def post(client: Client, batch: list[dict], **headers):
    return client.post(
        "/api/v1/tracking/fixes", json.dumps({"fixes": batch}), "application/json", **headers
    )


@pytest.fixture
def demo(city, db):
    build_demo_organization()
    build_demo_trackers()
    streets = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code")[:2])
    assert len(streets) == 2
    a, b = streets
    here = a.geom.point_on_surface
    start = (timezone.now() - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    batch = fixes([shifted((here.x, here.y), 2 * k) for k in range(5)], start)
    inspector_a = client_of(f"inspector-{a.code}")
    assert post(inspector_a, batch).json()["accepted"] == 5
    tracker = Tracker.objects.get(device_id=f"PHONE-{a.code}")
    alarm = Alarm.objects.create(
        tracker=tracker, kind="out_of_grid", started_at=start, start_geom=tracker.latest.geom
    )
    return {
        "a": a,
        "b": b,
        "tracker": tracker,
        "alarm": alarm,
        "start": start,
        "inspector_a": inspector_a,
    }


def live_trackers(client: Client) -> set[int]:
    response = client.get("/api/v1/tracking/live")
    assert response.status_code == 200, response.content
    return {f["id"] for f in response.json()["features"]}


def test_an_inspector_sees_their_own_tracker_and_nothing_of_another_street(demo):
    assert live_trackers(demo["inspector_a"]) == {demo["tracker"].pk}
    other = client_of(f"inspector-{demo['b'].code}")
    assert live_trackers(other) == set()
    assert other.get("/api/v1/tracking/alarms").json() == {"alarms": []}
    track = other.get(f"/api/v1/tracking/trackers/{demo['tracker'].pk}/track")
    assert track.status_code == 404


def test_the_shift_leader_sees_the_street_live_with_status_and_alarms(demo):
    leader = client_of("shiftleader")
    features = leader.get("/api/v1/tracking/live").json()["features"]
    mine = next(f for f in features if f["id"] == demo["tracker"].pk)
    assert mine["properties"]["status"] == "offline"  # its newest fix is ~1 h old
    assert mine["properties"]["open_alarms"] == ["out_of_grid"]
    alarms = leader.get(f"/api/v1/tracking/alarms?tracker={demo['tracker'].pk}&open=true")
    assert [a["id"] for a in alarms.json()["alarms"]] == [demo["alarm"].pk]
    closed = leader.get("/api/v1/tracking/alarms?open=false").json()["alarms"]
    assert demo["alarm"].pk not in [a["id"] for a in closed]


def test_a_recent_fix_is_online(demo):
    now = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=20)
    here = demo["a"].geom.point_on_surface
    post(demo["inspector_a"], fixes([(here.x, here.y)], now))
    feature = demo["inspector_a"].get("/api/v1/tracking/live").json()["features"][0]
    assert feature["properties"]["status"] == "online"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tracking/live",
        "/api/v1/tracking/alarms",
        "/api/v1/tracking/trackers/1/track",
    ],
)
def test_anonymous_callers_get_401(demo, path):
    assert Client().get(path).status_code == 401


def test_the_shift_leader_acknowledges_an_alarm_and_it_is_logged(demo):
    leader = client_of("shiftleader")
    url = f"/api/v1/tracking/alarms/{demo['alarm'].pk}/acknowledge"
    body = {"note": "请假，已报备", "justified": True}
    response = leader.post(url, body, "application/json")
    assert response.status_code == 200, response.content
    assert response.json()["acknowledged_by"] == "shiftleader"
    assert response.json()["justified"] is True
    row = OperationLog.objects.get(action="tracking.acknowledge")
    assert row.target == str(demo["alarm"].pk) and row.username == "shiftleader"


def test_an_inspector_may_not_acknowledge(demo):
    url = f"/api/v1/tracking/alarms/{demo['alarm'].pk}/acknowledge"
    response = demo["inspector_a"].post(url, {"note": "x"}, "application/json")
    assert response.status_code == 403
    assert Alarm.objects.get(pk=demo["alarm"].pk).acknowledged_at is None


def test_a_demo_vehicle_signs_in_with_its_demo_key(demo):
    here = demo["b"].geom.point_on_surface
    response = post(
        Client(),
        fixes([(here.x, here.y)], demo["start"]),
        HTTP_AUTHORIZATION=f"Device VEH-001:{demo_key('VEH-001')}",
    )
    assert response.json()["accepted"] == 1
    # The vehicle is in street b: street b's inspector is no monitor and sees nothing of it.
    assert live_trackers(client_of(f"inspector-{demo['b'].code}")) == set()
    assert Tracker.objects.get(device_id="VEH-001").pk in live_trackers(client_of("leader"))


def test_playback_keeps_stops_and_marks_gaps(demo):
    here = demo["a"].geom.point_on_surface
    origin = (here.x, here.y)
    start = demo["start"] - dt.timedelta(hours=1)
    walk = [shifted(origin, 20 * k) for k in range(30)]  # 300 s walking east, straight
    stop = [shifted(walk[-1], 2 * (k % 2)) for k in range(30)]  # 300 s standing
    back = [shifted(walk[-1], -20 * k, 5 * k) for k in range(1, 10)]
    batch = fixes(walk + stop, start) + fixes(back, start + dt.timedelta(seconds=1200))
    assert post(demo["inspector_a"], batch).json()["accepted"] == len(batch)
    url = f"/api/v1/tracking/trackers/{demo['tracker'].pk}/track"
    q = {"from": start.isoformat(), "to": (start + dt.timedelta(hours=1)).isoformat(), "zoom": 17}
    body = demo["inspector_a"].get(url, q).json()
    line = next(f for f in body["features"] if f["properties"]["kind"] == "track")
    stops = [f for f in body["features"] if f["properties"]["kind"] == "stop"]
    gaps = [f for f in body["features"] if f["properties"]["kind"] == "gap"]
    assert line["properties"]["fixes"] == len(batch)
    times = line["properties"]["times"]
    assert len(times) == len(line["geometry"]["coordinates"]) < len(batch)
    assert dt.datetime.fromisoformat(times[0]) == dt.datetime.fromisoformat(batch[0]["t"])
    assert dt.datetime.fromisoformat(times[-1]) == dt.datetime.fromisoformat(batch[-1]["t"])
    # 300 s standing, plus the last walking fixes within the 50 m radius of where it began
    assert len(stops) == 1 and 300 <= stops[0]["properties"]["duration_s"] <= 340
    stop_start = dt.datetime.fromisoformat(stops[0]["properties"]["start"])
    assert stop_start in [dt.datetime.fromisoformat(t) for t in times], (
        "the stop was simplified away"
    )
    assert len(gaps) == 1 and gaps[0]["properties"]["duration_s"] == 1200 - 590
