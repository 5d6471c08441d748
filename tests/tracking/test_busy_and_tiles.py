"""Busy (忙碌) from open case tasks in the live list, and live positions as vector tiles
(/tiles/tracking/{z}/{x}/{y}.mvt) scoped like the live list: an inspector of one street never
gets another street's trackers."""

from __future__ import annotations

import datetime as dt
import json

import mapbox_vector_tile
import mercantile
import pytest
from django.test import Client
from django.utils import timezone

from cases.models import CaseTask
from tests import factories
from tests.cases import conftest as case_fixtures
from tests.cases.conftest import inside
from tests.cases.test_main_path import act, report
from tracking.demo import build_demo_trackers
from tracking.models import Tracker

from .conftest import fixes, shifted

pytestmark = pytest.mark.django_db
# The case tests' fixtures: the demo organization and manual, signed-in clients, two streets.
org, as_user, two_streets = case_fixtures.org, case_fixtures.as_user, case_fixtures.two_streets


def post_fix(client: Client, point, at: dt.datetime | None = None) -> None:
    at = at or timezone.now() - dt.timedelta(seconds=5)
    batch = fixes([point], at)
    answer = client.post("/api/v1/tracking/fixes", json.dumps({"fixes": batch}), "application/json")
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.content


def live_of(client: Client, tracker: Tracker) -> dict:
    features = client.get("/api/v1/tracking/live").json()["features"]
    return next(f["properties"] for f in features if f["id"] == tracker.pk)


def test_an_open_verify_task_makes_the_inspector_busy_until_it_is_done(as_user, two_streets):
    build_demo_trackers()
    street = two_streets[0]
    username = f"inspector-{street.code}"
    inspector, acceptor, leader = as_user(username), as_user("acceptor"), as_user("shiftleader")
    tracker = Tracker.objects.get(device_id=f"PHONE-{street.code}")
    post_fix(inspector, inside(street))
    assert live_of(leader, tracker)["status"] == "online"
    assert live_of(leader, tracker)["open_tasks"] == 0

    reporter = {"name": "王女士", "phone": "13800001111"}
    cid = report(acceptor, *inside(street), source="hotline", reporter=reporter).json()["id"]
    assert act(acceptor, cid, "accept", 1).status_code == 200
    assert act(acceptor, cid, "request_verify", 2).status_code == 200
    task = CaseTask.objects.get(case_id=cid, done_at__isnull=True)
    assert task.assignee.username == username
    busy = live_of(leader, tracker)
    assert busy["status"] == "busy" and busy["open_tasks"] == 1
    assert live_of(inspector, tracker)["status"] == "busy"

    assert act(inspector, cid, "verify", 3, valid=True).status_code == 200
    assert live_of(leader, tracker)["status"] == "online"


def test_a_silent_inspector_with_an_open_task_is_offline(as_user, two_streets):
    build_demo_trackers()
    street = two_streets[0]
    inspector, acceptor = as_user(f"inspector-{street.code}"), as_user("acceptor")
    tracker = Tracker.objects.get(device_id=f"PHONE-{street.code}")
    post_fix(inspector, inside(street), timezone.now() - dt.timedelta(hours=1))
    reporter = {"name": "王女士", "phone": "13800001111"}
    cid = report(acceptor, *inside(street), source="hotline", reporter=reporter).json()["id"]
    assert act(acceptor, cid, "accept", 1).status_code == 200
    assert act(acceptor, cid, "request_verify", 2).status_code == 200
    found = live_of(as_user("shiftleader"), tracker)
    assert found["open_tasks"] == 1 and found["status"] == "offline"


# --- tiles ---------------------------------------------------------------------------------------


def tile_features(client: Client, lon: float, lat: float, z: int = 15) -> dict[int, dict]:
    """Gives {tracker id: properties} of the live tile at z over (lon, lat)."""
    tile = mercantile.tile(lon, lat, z)
    response = client.get(f"/tiles/tracking/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert response.status_code in (200, 204), response.content
    if response.status_code == 204:
        return {}
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert "private" in response["Cache-Control"]
    layers = mapbox_vector_tile.decode(response.content)
    assert set(layers) == {"tracking"}
    return {f["id"]: f["properties"] for f in layers["tracking"]["features"]}


@pytest.fixture
def two_positions(as_user, two_streets):
    """The inspectors of two streets, each posting a fix inside their street."""
    build_demo_trackers()
    a, b = two_streets
    here = inside(a)
    there = inside(b)
    post_fix(as_user(f"inspector-{a.code}"), here)
    post_fix(as_user(f"inspector-{b.code}"), there)
    return {
        "a": Tracker.objects.get(device_id=f"PHONE-{a.code}"),
        "b": Tracker.objects.get(device_id=f"PHONE-{b.code}"),
        "here": here,
        "there": there,
        "streets": (a, b),
    }


def everywhere(client: Client, points, z: int = 15) -> dict[int, dict]:
    found = {}
    for lon, lat in points:
        found.update(tile_features(client, lon, lat, z))
    return found


def test_a_tile_holds_exactly_the_trackers_the_caller_sees(as_user, two_positions):
    a, b = two_positions["a"], two_positions["b"]
    points = [two_positions["here"], two_positions["there"]]
    leader = everywhere(as_user("shiftleader"), points)
    assert {a.pk, b.pk} <= set(leader)
    assert leader[a.pk]["status"] == "online" and leader[a.pk]["kind"] == "person"
    assert leader[a.pk]["alarm"] is False

    street_a, street_b = two_positions["streets"]
    own = everywhere(as_user(f"inspector-{street_a.code}"), points)
    assert set(own) == {a.pk}
    other = everywhere(as_user(f"inspector-{street_b.code}"), points)
    assert set(other) == {b.pk}

    person = factories.make_person(
        "tile-monitor", permissions=["tracking.monitor"], areas=[street_a]
    )
    monitor = Client()
    monitor.force_login(person.user)
    assert set(everywhere(monitor, points)) == {a.pk}
    # the same trackers as the monitor's live list
    live = {f["id"] for f in monitor.get("/api/v1/tracking/live").json()["features"]}
    assert live == {a.pk}


def test_a_tile_at_low_zoom_and_a_tile_elsewhere(as_user, two_positions):
    a = two_positions["a"]
    leader = as_user("shiftleader")
    assert a.pk in everywhere(leader, [two_positions["here"]], z=10)
    far = shifted(two_positions["here"], 0, 30_000)
    assert tile_features(leader, *far, z=15) == {}


def test_anonymous_callers_get_no_tile_and_bad_addresses_are_refused(two_positions):
    lon, lat = two_positions["here"]
    tile = mercantile.tile(lon, lat, 15)
    anonymous = Client().get(f"/tiles/tracking/{tile.z}/{tile.x}/{tile.y}.mvt")
    assert anonymous.status_code == 401
    leader = Client()
    leader.force_login(factories.make_person("tile-admin", is_superuser=True).user)
    bad = leader.get("/tiles/tracking/3/9/0.mvt")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "x"
