"""Patrol routes (巡查路线) and checkpoints (巡查点): checkpoints hit and missed by the beat at the
end of their window (ended by a late visit, or by an in-window visit uploaded late), off-route
alarms on a synthetic drive with start and end (jitter near the route raising nothing, a late
batch replayed), and the routes API (create within one's area, list, assign, bad input)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.contrib.gis.geos import LineString, Point
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from tests import factories
from tracking import patrol, roster, routes, tasks
from tracking.models import Alarm, Checkpoint, CheckpointVisit, PatrolRoute, RosterEntry, Shift

from .conftest import INSIDE, fixes, shifted

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MISSED = "checkpoint_missed"


@pytest.fixture(autouse=True)
def fresh_routes():
    routes.clear()
    yield
    routes.clear()


def local(t: dt.datetime) -> dt.datetime:
    return t.astimezone(SHANGHAI)


def on_shift(tracker, begin: dt.datetime, end: dt.datetime, name: str = "测试班") -> None:
    """Puts `tracker` on duty from `begin` to `end` (whole minutes, under a day)."""
    shift = Shift.objects.create(name=name, start=local(begin).time(), end=local(end).time())
    RosterEntry.objects.create(tracker=tracker, date=local(begin).date(), shift=shift)


def route_with_checkpoint(tracker, point, **checkpoint) -> Checkpoint:
    line = LineString([shifted(point, -300), shifted(point, 300)], srid=4326)
    route = PatrolRoute.objects.create(name=f"route of {tracker.device_id}", geom=line)
    tracker.route = route
    tracker.save(update_fields=["route"])
    return Checkpoint.objects.create(
        route=route, name="巡查点A", geom=Point(*point, srid=4326), radius_m=30, **checkpoint
    )


def window_of(begin: dt.datetime, end: dt.datetime) -> dict:
    return {"window_start": local(begin).time(), "window_end": local(end).time()}


def minute(t: dt.datetime) -> dt.datetime:
    return t.replace(second=0, microsecond=0)


@pytest.fixture
def patrol_day(setup):
    """The inspector on duty from three hours ago to five hours on; a checkpoint 200 m east of
    the grid's middle with a window from 2h50m to 1h ago."""
    now = minute(timezone.now())
    on_shift(setup.tracker, now - dt.timedelta(hours=3), now + dt.timedelta(hours=5))
    window = (now - dt.timedelta(minutes=170), now - dt.timedelta(hours=1))
    point = shifted(INSIDE, 200)
    checkpoint = route_with_checkpoint(setup.tracker, point, **window_of(*window))
    return {"now": now, "window": window, "point": point, "checkpoint": checkpoint}


def walk(start_point, metres_each: float, n: int):
    return [shifted(start_point, metres_each * k) for k in range(n)]


def missed_alarms(tracker) -> list[Alarm]:
    return list(Alarm.objects.filter(tracker=tracker, kind=MISSED).order_by("started_at"))


def test_a_checkpoint_reached_in_its_window_raises_nothing(setup, patrol_day):
    start = patrol_day["window"][0] + dt.timedelta(minutes=10)
    # 30 fixes 10 s apart walking 12 m a fix east from the grid's middle: passes 200 m east
    assert setup.post(fixes(walk(INSIDE, 12, 30), start)).json()["accepted"] == 30
    visits = list(CheckpointVisit.objects.filter(tracker=setup.tracker))
    assert len(visits) == 1 and visits[0].checkpoint == patrol_day["checkpoint"]
    # the first fix within 30 m of the point 200 m east is the one 180 m east (the 16th; the
    # 15th, 168 m east, is 32 m away)
    assert visits[0].t == start + dt.timedelta(seconds=15 * 10)
    assert tasks.checkpoints() == {"changed": 0}
    assert missed_alarms(setup.tracker) == []


def test_a_missed_checkpoint_raises_at_the_end_of_its_window_and_a_late_visit_ends_it(
    setup, patrol_day
):
    start = patrol_day["window"][0] + dt.timedelta(minutes=10)
    # walking west, away from the checkpoint east of the middle
    assert setup.post(fixes(walk(INSIDE, -5, 30), start)).json()["accepted"] == 30
    assert tasks.checkpoints() == {"changed": 1}
    [alarm] = missed_alarms(setup.tracker)
    assert alarm.started_at == patrol_day["window"][1] and alarm.ended_at is None
    assert alarm.details["checkpoint"] == patrol_day["checkpoint"].pk
    assert alarm.details["visits"] == 0 and alarm.details["required"] == 1
    assert tasks.checkpoints() == {"changed": 0}  # once per window

    late = patrol_day["now"] - dt.timedelta(minutes=30)
    assert setup.post(fixes([INSIDE, patrol_day["point"]], late)).json()["accepted"] == 2
    alarm.refresh_from_db()
    assert alarm.ended_at == late + dt.timedelta(seconds=10)
    assert alarm.details["visited_late"] is True
    assert tasks.checkpoints() == {"changed": 0}


def test_a_visit_in_the_window_uploaded_after_the_alarm_ends_it_at_its_start(setup, patrol_day):
    window = patrol_day["window"]
    before = window[0] - dt.timedelta(minutes=20)
    after = window[1] + dt.timedelta(minutes=20)
    assert setup.post(fixes(walk(INSIDE, -2, 5), before)).json()["accepted"] == 5
    assert setup.post(fixes(walk(INSIDE, -2, 5), after)).json()["accepted"] == 5
    assert tasks.checkpoints() == {"changed": 1}
    [alarm] = missed_alarms(setup.tracker)
    assert alarm.ended_at is None
    # the phone's buffer from inside the window, older than its newest fix: replayed
    visit_at = window[0] + dt.timedelta(minutes=30)
    batch = fixes([INSIDE, patrol_day["point"], patrol_day["point"], INSIDE], visit_at)
    assert setup.post(batch).json()["accepted"] == 4
    alarm.refresh_from_db()
    assert alarm.ended_at == alarm.started_at
    assert alarm.details["visited_late"] is False
    assert alarm.details["visited_at"].startswith(
        (visit_at + dt.timedelta(seconds=10)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    )
    assert CheckpointVisit.objects.filter(tracker=setup.tracker).count() == 1


def test_a_count_per_shift_short_by_one_raises_at_the_shift_end_and_closes_with_it(setup):
    now = minute(timezone.now())
    begin, end = now - dt.timedelta(hours=6), now - dt.timedelta(hours=1)
    on_shift(setup.tracker, begin, end)
    point = shifted(INSIDE, 200)
    route_with_checkpoint(setup.tracker, point, required=2)
    visit = begin + dt.timedelta(hours=1)
    # one pass by the point: one visit, the shift wants two
    assert setup.post(fixes([INSIDE, point, point, INSIDE], visit)).json()["accepted"] == 4
    assert CheckpointVisit.objects.filter(tracker=setup.tracker).count() == 1
    assert tasks.checkpoints() == {"changed": 2}  # raised, and closed: the shift is over
    [alarm] = missed_alarms(setup.tracker)
    assert alarm.started_at == end and alarm.ended_at == end
    assert alarm.details["visits"] == 1 and alarm.details["required"] == 2


def test_no_checkpoint_alarm_off_duty_or_on_leave(setup):
    now = minute(timezone.now())
    begin, end = now - dt.timedelta(hours=6), now - dt.timedelta(hours=1)
    on_shift(setup.tracker, begin, end)
    RosterEntry.objects.filter(tracker=setup.tracker).update(kind=RosterEntry.Kind.LEAVE)
    route_with_checkpoint(setup.tracker, shifted(INSIDE, 200))
    assert patrol.due_windows(now) == []
    assert tasks.checkpoints() == {"changed": 0}


@hsettings(max_examples=60, deadline=None)
@given(
    day=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31)),
    shift_start=st.integers(0, 1439),
    shift_len=st.integers(1, 1440),
    window_start=st.integers(0, 1439),
    window_len=st.integers(1, 1439),
)
def test_a_checkpoint_window_lies_within_its_shift_and_is_a_daily_window_clipped(
    day, shift_start, shift_len, window_start, window_len
):
    def clock(m: int) -> dt.time:
        return dt.time((m % 1440) // 60, m % 60)

    begin, finish = roster.shift_interval(
        day, clock(shift_start), clock(shift_start + shift_len), SHANGHAI
    )
    checkpoint = Checkpoint(
        window_start=clock(window_start), window_end=clock(window_start + window_len)
    )
    found = patrol.checkpoint_window(checkpoint, day, begin, finish, SHANGHAI)
    # the daily windows that may meet the shift, by minutes from the day's local midnight
    midnight = dt.datetime.combine(day, dt.time(), SHANGHAI)
    occurrences = [
        (midnight + dt.timedelta(days=d, minutes=window_start),
         midnight + dt.timedelta(days=d, minutes=window_start + window_len))
        for d in (0, 1)
    ]  # fmt: skip
    overlaps = [(max(a, begin), min(b, finish)) for a, b in occurrences]
    overlaps = [(a, b) for a, b in overlaps if a < b]
    if not overlaps:
        assert found is None
    else:
        assert found == overlaps[0]
        assert begin <= found[0] < found[1] <= finish


# --- off route (vehicles) ------------------------------------------------------------------------

ROAD_START = (117.6, 39.05)


@pytest.fixture
def routed(setup):
    """The vehicle on a 5 km route due east from ROAD_START."""
    line = LineString([ROAD_START, shifted(ROAD_START, 5000)], srid=4326)
    route = PatrolRoute.objects.create(name="东西主路", geom=line)
    setup.vehicle.route = route
    setup.vehicle.save(update_fields=["route"])
    return route


def drive(offsets_m: list[float], step_m: float = 50.0) -> list[tuple[float, float]]:
    """Points every `step_m` east along the route, each `offsets_m` north of it."""
    return [shifted(ROAD_START, step_m * k, north) for k, north in enumerate(offsets_m)]


def off_route_alarms(setup) -> list[Alarm]:
    return list(Alarm.objects.filter(tracker=setup.vehicle, kind="off_route").order_by("id"))


def test_jitter_near_the_route_raises_nothing(setup, routed):
    # 60 fixes 10 s apart (18 km/h), zig-zagging up to 40 m either side of the 50 m tolerance
    offsets = [(40 if k % 2 else -40) * (k % 3) / 2 for k in range(60)]
    assert max(abs(o) for o in offsets) == 40
    answer = setup.post_vehicle(fixes(drive(offsets), setup.start))
    assert answer.json()["accepted"] == 60
    assert off_route_alarms(setup) == []


def test_a_detour_off_the_route_starts_and_ends_an_alarm(setup, routed):
    # on the route 10 fixes, 150 m north for 20 fixes (190 s), back for 10
    offsets = [0.0] * 10 + [150.0] * 20 + [0.0] * 10
    assert setup.post_vehicle(fixes(drive(offsets), setup.start)).json()["accepted"] == 40
    [alarm] = off_route_alarms(setup)
    assert alarm.started_at == setup.start + dt.timedelta(seconds=100)
    assert alarm.ended_at == setup.start + dt.timedelta(seconds=300)
    assert 145 <= alarm.details["max_off_m"] <= 155
    assert alarm.details["tolerance_m"] == 50


def test_a_short_detour_raises_nothing(setup, routed):
    offsets = [0.0] * 10 + [150.0] * 10 + [0.0] * 10  # 90 s out, the rule wants 120
    assert setup.post_vehicle(fixes(drive(offsets), setup.start)).json()["accepted"] == 30
    assert off_route_alarms(setup) == []


def test_a_detour_uploaded_late_is_replayed_into_its_alarm(setup, routed):
    offsets = [0.0] * 10 + [150.0] * 20 + [0.0] * 10
    batch = fixes(drive(offsets), setup.start)
    # the terminal sends the start and the end first, the detour after
    first = setup.post_vehicle(batch[:10] + batch[30:]).json()
    assert first["accepted"] == 20 and off_route_alarms(setup) == []
    assert setup.post_vehicle(batch[10:30]).json()["accepted"] == 20
    [alarm] = off_route_alarms(setup)
    assert alarm.started_at == setup.start + dt.timedelta(seconds=100)
    assert alarm.ended_at == setup.start + dt.timedelta(seconds=300)


def test_a_routes_own_tolerance_and_a_changed_route_are_followed(setup, routed):
    routed.tolerance_m = 200
    routed.version += 1
    routed.save(update_fields=["tolerance_m", "version"])
    offsets = [0.0] * 5 + [150.0] * 20 + [0.0] * 5
    assert setup.post_vehicle(fixes(drive(offsets), setup.start)).json()["accepted"] == 30
    assert off_route_alarms(setup) == []


def test_inspectors_are_never_off_route(setup):
    line = LineString([shifted(INSIDE, -100), shifted(INSIDE, 100)], srid=4326)
    setup.tracker.route = PatrolRoute.objects.create(name="步行", geom=line)
    setup.tracker.save(update_fields=["route"])
    away = [shifted(INSIDE, 0, 300)] * 30
    assert setup.post(fixes(away, setup.start)).json()["accepted"] == 30
    assert not Alarm.objects.filter(tracker=setup.tracker, kind="off_route").exists()


# --- the routes API ------------------------------------------------------------------------------


def monitor_of(setup) -> Client:
    street = setup.person.grids.first().street
    assert street is not None
    person = factories.make_person(
        "route-monitor", permissions=["tracking.monitor"], areas=[street]
    )
    client = Client()
    client.force_login(person.user)
    return client


def route_body(**extra) -> dict:
    return {
        "name": "甲街道巡查路线",
        "line": [list(shifted(INSIDE, -200)), list(shifted(INSIDE, 200))],
        "checkpoints": [
            {"name": "西口", "lon": shifted(INSIDE, -200)[0], "lat": INSIDE[1], "radius_m": 25},
            {
                "name": "东口",
                "lon": shifted(INSIDE, 200)[0],
                "lat": INSIDE[1],
                "window_start": "09:00",
                "window_end": "10:30",
                "required": 2,
            },
        ],
        **extra,
    }


def test_a_monitor_creates_a_route_in_their_area_and_assigns_it(setup):
    monitor = monitor_of(setup)
    made = monitor.post("/api/v1/tracking/routes", route_body(), content_type="application/json")
    assert made.status_code == 201, made.content
    features = made.json()["features"]
    [route] = [f for f in features if f["properties"]["kind"] == "route"]
    points = [f["properties"] for f in features if f["properties"]["kind"] == "checkpoint"]
    assert [p["name"] for p in points] == ["西口", "东口"]
    assert points[1]["window_start"] == "09:00" and points[1]["required"] == 2
    assert points[0]["window_start"] is None and points[0]["radius_m"] == 25
    route_id = route["properties"]["route"]

    assigned = monitor.post(
        f"/api/v1/tracking/trackers/{setup.tracker.pk}/route",
        {"route": route_id},
        content_type="application/json",
    )
    assert assigned.status_code == 200, assigned.content
    setup.tracker.refresh_from_db()
    assert setup.tracker.route_id == route_id
    # the inspector sees their own route; its tracker list shows them
    mine = setup.client.get("/api/v1/tracking/routes").json()["features"]
    assert [f["properties"]["trackers"] for f in mine if f["properties"]["kind"] == "route"] == [
        [setup.tracker.pk]
    ]


def test_a_route_outside_ones_area_is_refused_and_bad_input_names_its_field(setup):
    monitor = monitor_of(setup)
    far = route_body(line=[[100.0, 30.0], [100.01, 30.0]])
    refused = monitor.post("/api/v1/tracking/routes", far, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "line"
    one_vertex = route_body(line=[[117.5, 39.0]])
    bad = monitor.post("/api/v1/tracking/routes", one_vertex, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "line"
    half = route_body()
    half["checkpoints"][0]["window_start"] = "09:00"
    bad = monitor.post("/api/v1/tracking/routes", half, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "checkpoints"
    assert "window_end" in bad.json()["error"]["message"]
    # an inspector without tracking.monitor may not add routes
    denied = setup.client.post("/api/v1/tracking/routes", route_body(), "application/json")
    assert denied.status_code == 403
    assert not PatrolRoute.objects.exists()


def test_a_monitor_of_another_street_sees_no_route_and_cannot_assign_one(setup):
    made = monitor_of(setup).post("/api/v1/tracking/routes", route_body(), "application/json")
    assert made.status_code == 201
    route_id = made.json()["features"][0]["properties"]["route"]
    elsewhere = factories.make_city("990800", origin=(118.5, 39.0))
    stranger = factories.make_person(
        "other-monitor", permissions=["tracking.monitor"], areas=[elsewhere.streets[0]]
    )
    client = Client()
    client.force_login(stranger.user)
    assert client.get("/api/v1/tracking/routes").json()["features"] == []
    answer = client.post(
        f"/api/v1/tracking/trackers/{setup.tracker.pk}/route",
        {"route": route_id},
        content_type="application/json",
    )
    assert answer.status_code == 404


# --- the demo ------------------------------------------------------------------------------------


def test_the_demo_gives_vehicles_routes_on_the_roads_and_inspectors_checkpoints(city):
    import shapely
    from pyproj import Geod

    from accounts.demo import build_demo_organization
    from tracking.demo import build_demo_trackers, demo_key
    from tracking.models import Tracker

    build_demo_organization()
    build_demo_trackers()
    vehicles = Tracker.objects.filter(kind="vehicle", device_id__startswith="VEH-")
    assert vehicles.count() == 3 and all(v.route_id for v in vehicles)
    walkers = Tracker.objects.filter(kind="person", route__isnull=False)
    phones = Tracker.objects.filter(kind="person", device_id__startswith="PHONE-").count()
    assert walkers.count() == min(3, phones) > 0
    for tracker in walkers:
        points = list(tracker.route.checkpoints.all())
        assert len(points) == 4
        assert all(tracker.person.area_geom.contains(c.geom) for c in points)
    # VEH-003 three minutes 600 m from its route: an off-route alarm through the API
    route = Tracker.objects.get(device_id="VEH-003").route
    line = shapely.from_wkb(bytes(route.geom.wkb))
    x0, y0 = route.geom.coords[0]
    geod = Geod(ellps="WGS84")
    candidates = [geod.fwd(x0, y0, bearing, 600)[:2] for bearing in range(0, 360, 30)]
    point = max(candidates, key=lambda p: line.distance(shapely.Point(p)))
    start = minute(timezone.now()) - dt.timedelta(minutes=5)
    answer = Client().post(
        "/api/v1/tracking/fixes",
        {"device": "VEH-003", "fixes": fixes([point] * 19, start)},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device VEH-003:{demo_key('VEH-003')}",
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == 19
    assert Alarm.objects.filter(tracker__device_id="VEH-003", kind="off_route").count() == 1


# --- the in-process route index (geometry, no database) ------------------------------------------


def index_of(line_points, checkpoints=()):
    import shapely
    from shapely import wkb

    line = shapely.LineString(line_points)
    ids = list(range(1, len(checkpoints) + 1))
    row = (
        1,
        None,
        True,
        wkb.dumps(line),
        ids,
        [c[0] for c in checkpoints],
        [c[1] for c in checkpoints],
        [c[2] for c in checkpoints],
    )
    return routes._build(1, row)


@hsettings(max_examples=80, deadline=None)
@given(
    lon=st.floats(73, 135),
    lat=st.floats(18, 53),
    bearing=st.floats(0, 360),
    length=st.floats(200, 5000),
    along=st.floats(0, 1),
    off=st.floats(-800, 800),
)
def test_the_distance_from_a_route_is_the_geodesic_offset(lon, lat, bearing, length, along, off):
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    end = geod.fwd(lon, lat, bearing, length)[:2]
    foot = geod.fwd(lon, lat, bearing, along * length)[:2]
    # perpendicular to the line at the foot (the line's own azimuth there)
    azimuth = geod.inv(*foot, *end)[0] if along < 1 else geod.inv(lon, lat, *end)[1] + 180
    point = geod.fwd(*foot, azimuth + 90, off)[:2]
    index = index_of([(lon, lat), end])
    found = float(index.off_metres([point[0]], [point[1]])[0])
    # the local plane takes a degree of latitude as a constant length (spatial.crs), off by up to
    # ~0.6% across China's latitudes: far below the 50 m tolerance at these distances
    assert found == pytest.approx(abs(off), rel=0.015, abs=0.5)


@hsettings(max_examples=80, deadline=None)
@given(
    lon=st.floats(73, 135),
    lat=st.floats(18, 53),
    bearing=st.floats(0, 360),
    radius=st.floats(10, 200),
    ratio=st.floats(0, 2).filter(lambda r: abs(r - 1) > 0.02),
)
def test_a_checkpoint_is_reached_within_its_radius_only(lon, lat, bearing, radius, ratio):
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    point = geod.fwd(lon, lat, bearing, ratio * radius)[:2]
    line = [geod.fwd(lon, lat, 0, -1000)[:2], geod.fwd(lon, lat, 0, 1000)[:2]]
    index = index_of(line, [(lon, lat, radius)])
    [found] = index.reached([point[0]], [point[1]])
    assert found == ((1,) if ratio < 1 else ())


def test_a_route_moved_by_patch_is_followed_by_the_next_batch(setup, routed):
    admin = Client()
    admin.force_login(factories.make_person("route-admin", is_superuser=True).user)
    on_route = [0.0] * 20
    assert setup.post_vehicle(fixes(drive(on_route), setup.start)).json()["accepted"] == 20
    assert off_route_alarms(setup) == []
    # the route moves 300 m north; the vehicle keeps to the old line
    moved = [list(shifted(ROAD_START, 0, 300)), list(shifted(ROAD_START, 5000, 300))]
    answer = admin.patch(
        f"/api/v1/tracking/routes/{routed.pk}", {"line": moved}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    routed.refresh_from_db()
    assert routed.version == 2
    later = setup.start + dt.timedelta(seconds=200)
    onward = drive([0.0] * 40)[20:]  # on along the old line
    assert setup.post_vehicle(fixes(onward, later)).json()["accepted"] == 20
    [alarm] = off_route_alarms(setup)
    assert alarm.started_at == later
    assert 295 <= alarm.details["max_off_m"] <= 305


def test_patching_a_route_replaces_its_checkpoints_and_refuses_what_it_must(setup):
    monitor = monitor_of(setup)
    made = monitor.post("/api/v1/tracking/routes", route_body(), "application/json").json()
    route_id = made["features"][0]["properties"]["route"]
    changed = monitor.patch(
        f"/api/v1/tracking/routes/{route_id}",
        {"name": "改名", "checkpoints": [{"name": "中点", "lon": INSIDE[0], "lat": INSIDE[1]}]},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    kinds = {f["properties"]["kind"]: f["properties"] for f in changed.json()["features"]}
    assert kinds["route"]["name"] == "改名" and kinds["route"]["version"] == 2
    assert [c.name for c in Checkpoint.objects.filter(route_id=route_id)] == ["中点"]
    far = monitor.patch(
        f"/api/v1/tracking/routes/{route_id}",
        {"line": [[100.0, 30.0], [100.01, 30.0]]},
        content_type="application/json",
    )
    assert far.status_code == 403 and far.json()["error"]["field"] == "line"
    assert PatrolRoute.objects.get(pk=route_id).version == 2  # nothing half-written
    empty = monitor.patch(f"/api/v1/tracking/routes/{route_id}", {}, "application/json")
    assert empty.status_code == 400
    denied = setup.client.patch(
        f"/api/v1/tracking/routes/{route_id}", {"name": "x"}, "application/json"
    )
    assert denied.status_code == 403
