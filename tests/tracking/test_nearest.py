"""Search around a point (周边查询) over HTTP on the demo city's roads: road distances never
shorter than straight ones and equal to the length of the way drawn, the answer ordered by
road distance, scoped to the caller, and the straight-line fallback without a road graph."""

from __future__ import annotations

import datetime as dt
import json

import hypothesis
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import strategies as st
from pyproj import Geod

from accounts.demo import build_demo_organization
from accounts.models import Person
from spatial import routing
from spatial.models import AdminArea, RoadEdge, RoadSegment
from tracking.demo import build_demo_trackers, demo_key
from tracking.models import LatestPosition, Tracker

pytestmark = pytest.mark.django_db
GEOD = Geod(ellps="WGS84")


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(Person.objects.get(user__username=username).user)
    return client


def on_road(area: AdminArea, fraction: float = 0.5) -> tuple[float, float]:
    """A point on the longest road segment inside `area`."""
    road = max(RoadSegment.objects.filter(geom__within=area.geom), key=lambda r: r.geom.length)
    point = road.geom.interpolate_normalized(fraction)
    return point.x, point.y


def metres(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def path_length(geometry: dict) -> float:
    lines = (
        geometry["coordinates"]
        if geometry["type"] == "MultiLineString"
        else [geometry["coordinates"]]
    )
    return sum(metres(p, q) for line in lines for p, q in zip(line, line[1:]))


@pytest.fixture
def placed(city, db):
    """The demo inspectors of the test city's streets, each with a fresh fix on a road of their
    street, and the demo vehicles on roads of the first; the road graph built by its command."""
    build_demo_organization()
    build_demo_trackers()
    call_command("build_road_graph", verbosity=0)
    assert RoadEdge.objects.exists()
    streets = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code"))
    now = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=30)
    where = {}
    for street in streets:
        here = on_road(street)
        body = {"fixes": [{"t": now.isoformat(), "lon": here[0], "lat": here[1]}]}
        response = client_of(f"inspector-{street.code}").post(
            "/api/v1/tracking/fixes", json.dumps(body), "application/json"
        )
        assert response.json()["accepted"] == 1, response.content
        where[Tracker.objects.get(device_id=f"PHONE-{street.code}").pk] = here
    # The three demo vehicles on other roads of the first street, spread along them.
    roads = sorted(
        RoadSegment.objects.filter(geom__within=streets[0].geom), key=lambda r: -r.geom.length
    )[1:4]
    assert len(roads) == 3
    for n, road in enumerate(roads, start=1):
        device = f"VEH-00{n}"
        here = road.geom.interpolate_normalized(0.3 * n)
        body = {"fixes": [{"t": now.isoformat(), "lon": here.x, "lat": here.y}]}
        response = Client().post(
            "/api/v1/tracking/fixes",
            json.dumps(body),
            "application/json",
            HTTP_AUTHORIZATION=f"Device {device}:{demo_key(device)}",
        )
        assert response.json()["accepted"] == 1, response.content
        where[Tracker.objects.get(device_id=device).pk] = (here.x, here.y)
    return {"streets": streets, "where": where}


def ask(client: Client, point, **extra):
    query = {"lon": point[0], "lat": point[1], **extra}
    return client.get("/api/v1/tracking/nearest", query)


def test_the_nearest_by_road_with_the_way_drawn(placed):
    origin = on_road(placed["streets"][0], 0.2)
    response = ask(client_of("shiftleader"), origin, limit=10)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["method"] == "road"
    found = body["nearest"]
    assert {f["tracker"] for f in found} == set(placed["where"])
    for item in found:
        here = placed["where"][item["tracker"]]
        assert item["straight_m"] == pytest.approx(metres(origin, here), abs=0.5)
        assert item["road_m"] >= item["straight_m"] - 0.5
    roads = [f["road_m"] for f in found]
    assert roads == sorted(roads)
    # The way drawn to the nearest is as long as its road distance, from the origin to it.
    path = body["path"]
    assert path["type"] == "MultiLineString"
    assert path_length(path) == pytest.approx(found[0]["road_m"], rel=0.01, abs=1)
    assert path["coordinates"][0][0] == pytest.approx(list(origin), abs=1e-6)
    assert path["coordinates"][-1][-1] == pytest.approx(
        found[0]["position"]["coordinates"], abs=1e-6
    )


def test_along_one_road_the_road_distance_is_the_straight_one(placed):
    """Street a's inspector stands mid-way along a straight-ish segment; asking from a point
    of the same segment, the way runs along it."""
    tracker, here = next(iter(placed["where"].items()))
    street = placed["streets"][0]
    road = max(RoadSegment.objects.filter(geom__within=street.geom), key=lambda r: r.geom.length)
    origin = road.geom.interpolate_normalized(0.45)
    body = ask(client_of("shiftleader"), (origin.x, origin.y), limit=1).json()
    assert body["nearest"][0]["tracker"] == tracker
    along = path_length({"type": "LineString", "coordinates": road.geom.coords})
    assert body["nearest"][0]["road_m"] == pytest.approx(0.05 * along, rel=0.05, abs=1)


def test_from_a_crossing_every_tracker_has_a_road_distance(placed):
    """A point exactly at a vertex of the graph (an edge's end: pgRouting's fraction 0 or 1)
    still reaches every tracker."""
    edge = RoadEdge.objects.order_by("id").first()
    for corner in (edge.geom.coords[0], edge.geom.coords[-1]):
        body = ask(client_of("shiftleader"), corner, limit=10).json()
        assert len(body["nearest"]) == len(placed["where"])
        assert all(f["road_m"] is not None for f in body["nearest"]), body["nearest"]
        assert all(f["road_m"] >= f["straight_m"] - 0.5 for f in body["nearest"])


def test_an_inspector_finds_only_themselves(placed):
    first = placed["streets"][0]
    mine = Tracker.objects.get(device_id=f"PHONE-{first.code}").pk
    origin = on_road(placed["streets"][1])
    body = ask(client_of(f"inspector-{first.code}"), origin).json()
    assert [f["tracker"] for f in body["nearest"]] == [mine]
    assert Client().get("/api/v1/tracking/nearest?lon=1&lat=1").status_code == 401


def test_kind_limit_and_online(placed):
    leader = client_of("shiftleader")
    origin = on_road(placed["streets"][0], 0.2)
    assert len(ask(leader, origin, limit=2).json()["nearest"]) == 2
    people = ask(leader, origin, kind="person", limit=10).json()["nearest"]
    assert {f["kind"] for f in people} == {"person"} and len(people) == len(placed["streets"])
    # A silent tracker is offline: left out unless online=false.
    LatestPosition.objects.filter(tracker_id=list(placed["where"])[0]).update(
        t=timezone.now() - dt.timedelta(hours=2)
    )
    online = {f["tracker"] for f in ask(leader, origin, limit=10).json()["nearest"]}
    everyone = ask(leader, origin, limit=10, online="false").json()["nearest"]
    assert online == set(placed["where"]) - {list(placed["where"])[0]}
    assert {f["tracker"] for f in everyone} == set(placed["where"])
    assert {f["status"] for f in everyone} == {"online", "offline"}


def test_without_a_road_graph_the_answer_is_by_straight_line(placed):
    RoadEdge.objects.all().delete()
    origin = on_road(placed["streets"][0], 0.2)
    body = ask(client_of("shiftleader"), origin, limit=10).json()
    assert body["method"] == "straight"
    straight = [f["straight_m"] for f in body["nearest"]]
    assert straight == sorted(straight) and len(straight) == len(placed["where"])
    assert all(f["road_m"] is None for f in body["nearest"])
    assert body["path"]["type"] == "LineString"


def test_bad_points_name_their_field(placed):
    leader = client_of("shiftleader")
    response = leader.get("/api/v1/tracking/nearest?lat=39.9")
    assert response.status_code == 400 and response.json()["error"]["field"] == "lon"
    response = ask(leader, (116.3, 39.9), limit=0)
    assert response.status_code == 400 and response.json()["error"]["field"] == "limit"
    response = ask(leader, (116.3, 39.9), kind="bike")
    assert response.status_code == 400 and response.json()["error"]["field"] == "kind"


@pytest.fixture
def graph(city, db):
    call_command("build_road_graph", verbosity=0)
    district = AdminArea.objects.filter(level=AdminArea.Level.DISTRICT).first()
    return district.geom.extent


@hypothesis.settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    fractions=st.lists(
        st.tuples(st.floats(0.02, 0.98), st.floats(0.02, 0.98)), min_size=2, max_size=4
    )
)
def test_road_distances_are_symmetric_and_never_shorter_than_straight(graph, fractions):
    """Between points anywhere in the district (on a road or not), by spatial.routing itself:
    the way from A to B is as long as from B to A, and never shorter than the straight line."""
    minx, miny, maxx, maxy = graph
    places = [
        routing.Place(n, minx + fx * (maxx - minx), miny + fy * (maxy - miny))
        for n, (fx, fy) in enumerate(fractions)
    ]
    origin, others = places[0], places[1:]
    there = routing.road_distances(origin, others)
    assert set(there) == {p.key for p in others}
    for place in others:
        back = routing.road_distances(place, [origin])[origin.key]
        assert back == pytest.approx(there[place.key], abs=0.05)
        straight = metres((origin.lon, origin.lat), (place.lon, place.lat))
        assert there[place.key] >= straight - 0.05
