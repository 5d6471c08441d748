"""Search around (周边查询) and sending the nearest inspector (派最近监督员) over HTTP on the demo
city: nearest first in geodesic metres, the radius's edge, each kind scoped by its own app (an
inspector of one street sees neither another street's cases nor its people), bad input naming
the field, and the verification task going to the inspector nearest by road (409 when nobody is
online)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from django.contrib.gis.geos import Polygon
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from cases.models import Case, CaseTask
from spatial.crs import wgs84_to_gcj02_array
from spatial.models import AdminArea, Component, Layer, RoadEdge, RoadSegment
from tracking.demo import build_demo_trackers, demo_key
from tracking.models import Tracker

pytestmark = pytest.mark.django_db
GEOD = Geod(ellps="WGS84")


def metres(a, b) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.fixture
def around(org, as_user):
    """Street a's longest road, the base point at its middle, trackers and the road graph."""
    build_demo_trackers()
    call_command("build_road_graph", verbosity=0)
    assert RoadEdge.objects.exists()
    streets = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code")[:2])
    assert len(streets) == 2
    road = max(
        RoadSegment.objects.filter(geom__within=streets[0].geom), key=lambda r: r.geom.length
    )

    def along(fraction: float) -> tuple[float, float]:
        point = road.geom.interpolate_normalized(fraction)
        return point.x, point.y

    return {"a": streets[0], "b": streets[1], "along": along, "base": along(0.5)}


def fix(username_or_device: str, where, ago_s: float = 30) -> None:
    t = (timezone.now() - dt.timedelta(seconds=ago_s)).replace(microsecond=0)
    body = json.dumps({"fixes": [{"t": t.isoformat(), "lon": where[0], "lat": where[1]}]})
    if username_or_device.startswith("VEH-"):
        device = username_or_device
        response = Client().post(
            "/api/v1/tracking/fixes",
            body,
            "application/json",
            HTTP_AUTHORIZATION=f"Device {device}:{demo_key(device)}",
        )
    else:
        from accounts.models import Person

        client = Client()
        client.force_login(Person.objects.get(user__username=username_or_device).user)
        response = client.post("/api/v1/tracking/fixes", body, "application/json")
    assert response.json()["accepted"] == 1, response.content


def hotline(client, where, **extra) -> dict:
    body = {
        "source": "hotline",
        "kind": "event",
        "category": "0102",
        "description": "路边有一堆暴露垃圾",
        "lon": where[0],
        "lat": where[1],
        **extra,
    }
    made = client.post("/api/v1/cases", body, content_type="application/json")
    assert made.status_code == 201, made.content
    return made.json()


def test_cases_and_trackers_nearest_first_within_the_radius(around, as_user):
    along, base, a, b = around["along"], around["base"], around["a"], around["b"]
    acceptor, leader = as_user("acceptor"), as_user("shiftleader")
    spots = [along(f) for f in (0.62, 0.53, 0.75)]
    made = [hotline(acceptor, spot)["id"] for spot in spots]
    assert set(Case.objects.filter(pk__in=made).values_list("street_code", flat=True)) == {a.code}
    fix(f"inspector-{a.code}", along(0.56))
    fix(f"inspector-{b.code}", along(0.58))  # street b's inspector, passing through street a
    fix("VEH-001", along(0.45))

    far = metres(base, spots[0])
    body = leader.get("/api/v1/nearby", {"lon": base[0], "lat": base[1], "radius": far + 0.5})
    assert body.status_code == 200, body.content
    body = body.json()
    mine = [c for c in body["cases"] if c["id"] in made]
    # The case at 0.75 lies beyond the radius; the others nearest first, in geodesic metres.
    assert [c["id"] for c in mine] == [made[1], made[0]]
    for item, spot in zip(mine, [spots[1], spots[0]]):
        assert item["metres"] == pytest.approx(metres(base, spot), abs=0.2)
    every = [c["metres"] for c in body["cases"]]
    assert every == sorted(every) and max(every) <= far + 0.5
    inspectors = [i["name"] for i in body["inspectors"]]
    assert inspectors[:2] == [f"{a.name}监督员", f"{b.name}监督员"]
    assert [v["name"] for v in body["vehicles"]] == [Tracker.objects.get(device_id="VEH-001").name]
    assert body["vehicles"][0]["metres"] == pytest.approx(metres(base, along(0.45)), abs=0.2)

    # The radius's edge: half a metre short of the farther case leaves it out.
    short = leader.get(
        "/api/v1/nearby",
        {"lon": base[0], "lat": base[1], "radius": far - 0.5, "kinds": "cases"},
    ).json()
    assert set(short) == {"origin", "radius", "cases"}
    assert [c["id"] for c in short["cases"] if c["id"] in made] == [made[1]]


def test_each_kind_is_scoped_by_its_own_app(around, as_user):
    along, base, a, b = around["along"], around["base"], around["a"], around["b"]
    made = hotline(as_user("acceptor"), along(0.52))["id"]
    fix(f"inspector-{a.code}", along(0.56))
    fix(f"inspector-{b.code}", along(0.58))
    query = {"lon": base[0], "lat": base[1], "radius": 800}

    # Street a's inspector: the street's case, their own phone only, the street's components.
    seen = as_user(f"inspector-{a.code}").get("/api/v1/nearby", query).json()
    assert made in [c["id"] for c in seen["cases"]]
    assert [i["name"] for i in seen["inspectors"]] == [f"{a.name}监督员"]
    assert seen["vehicles"] == []
    # Street b's inspector standing there: no case of street a, nobody but themselves.
    other = as_user(f"inspector-{b.code}").get("/api/v1/nearby", query).json()
    assert Case.objects.filter(pk=made, street_code=a.code).exists()
    assert other["cases"] == []
    assert [i["name"] for i in other["inspectors"]] == [f"{b.name}监督员"]
    # Components by the layer scope: a non-public components layer is read inside one's areas;
    # the shift leader (the whole city) sees every one within the radius, nearest first.
    Layer.objects.filter(key="components").update(public=False)
    lon, lat = base
    box = Polygon.from_bbox((lon - 0.02, lat - 0.02, lon + 0.02, lat + 0.02))
    near = sorted(
        (metres(base, (c.geom.x, c.geom.y)), c.code, c.geom)
        for c in Component.objects.filter(geom__intersects=box)
        if c.geom.geom_type == "Point"  # parks and squares are polygons: the points suffice
    )
    near = [(code, geom) for d, code, geom in near if d <= 800]
    assert len(near) > 20, "the demo city has components around the point"
    points = {code for code, geom in near}
    for client, area in [
        ("shiftleader", None),
        (f"inspector-{b.code}", b),
        (f"inspector-{a.code}", a),
    ]:
        expected = [code for code, geom in near if area is None or area.geom.intersects(geom)]
        found = as_user(client).get(
            "/api/v1/nearby", {**query, "kinds": "components", "limit": 100}
        )
        listed = [c["code"] for c in found.json()["components"]]
        listed_points = [code for code in listed if code in points]
        if len(listed) < 100:  # all of them
            assert listed_points == expected, client
        else:
            assert listed_points == expected[: len(listed_points)], client
    assert any(not b.geom.intersects(geom) for code, geom in near)
    # Street b's inspector does not see street a's case's surroundings either.
    assert as_user(f"inspector-{b.code}").get(f"/api/v1/cases/{made}/nearby").status_code == 404


def test_around_a_case_leaves_the_case_out(around, as_user):
    along = around["along"]
    acceptor = as_user("acceptor")
    first = hotline(acceptor, along(0.5))["id"]
    second = hotline(acceptor, along(0.54))["id"]
    body = acceptor.get(f"/api/v1/cases/{first}/nearby", {"kinds": "cases", "radius": 1000})
    assert body.status_code == 200, body.content
    ids = [c["id"] for c in body.json()["cases"]]
    assert second in ids and first not in ids
    assert body.json()["origin"]["coordinates"] == pytest.approx(list(along(0.5)), abs=1e-6)


def test_bad_input_names_the_field(around, as_user):
    lon, lat = around["base"]
    leader = as_user("shiftleader")
    for query, field in [
        ({"lat": lat}, "lon"),
        ({"lon": lon, "lat": lat, "radius": 0}, "radius"),
        ({"lon": lon, "lat": lat, "radius": 5001}, "radius"),
        ({"lon": lon, "lat": lat, "radius": "far"}, "radius"),
        ({"lon": lon, "lat": lat, "kinds": "cases,trees"}, "kinds"),
        ({"lon": lon, "lat": lat, "limit": 101}, "limit"),
        ({"lon": lon, "lat": lat, "crs": "EPSG:99999"}, "crs"),
    ]:
        response = leader.get("/api/v1/nearby", query)
        assert response.status_code == 400, (query, response.content)
        assert response.json()["error"]["field"] == field, query
    assert Client().get("/api/v1/nearby", {"lon": lon, "lat": lat}).status_code == 401
    assert leader.get("/api/v1/cases/999999999/nearby").status_code == 404


def test_the_nearest_inspector_by_road_gets_the_verification(around, as_user):
    along, a, b = around["along"], around["a"], around["b"]
    acceptor = as_user("acceptor")
    case = hotline(acceptor, along(0.5))
    cid = case["id"]
    accepted = acceptor.post(
        f"/api/v1/cases/{cid}/actions/accept", {"version": 1}, content_type="application/json"
    )
    assert accepted.json()["state"] == "to_verify"
    # Street b's inspector is nearer along the road than street a's own (应急调动).
    fix(f"inspector-{a.code}", along(0.8))
    fix(f"inspector-{b.code}", along(0.56))
    sent = acceptor.post(
        f"/api/v1/cases/{cid}/send-nearest", {"version": 2}, content_type="application/json"
    )
    assert sent.status_code == 200, sent.content
    body = sent.json()
    assert body["case"]["state"] == "verifying"
    assert body["inspector"]["name"] == f"{b.name}监督员"
    assert body["inspector"]["method"] == "road"
    assert body["inspector"]["road_m"] >= metres(along(0.5), along(0.56)) - 0.5
    task = CaseTask.objects.get(case_id=cid, kind="verify")
    assert task.assignee.get_username() == f"inspector-{b.code}"
    assert task.requested_by.get_username() == "acceptor"
    events = acceptor.get(f"/api/v1/cases/{cid}/history").json()["events"]
    assert events[-1]["details"]["inspector"] == f"inspector-{b.code}"
    # The inspector sent sees the case and may verify it.
    assert "verify" in as_user(f"inspector-{b.code}").get(f"/api/v1/cases/{cid}").json()["actions"]
    # Sending again: the case no longer waits for a verification.
    again = acceptor.post(
        f"/api/v1/cases/{cid}/send-nearest", {"version": 3}, content_type="application/json"
    )
    assert again.status_code == 409 and again.json()["current"]["state"] == "verifying"


def test_nobody_online_is_409_and_writes_nothing(around, as_user):
    along, a = around["along"], around["a"]
    acceptor = as_user("acceptor")
    cid = hotline(acceptor, along(0.5))["id"]
    acceptor.post(
        f"/api/v1/cases/{cid}/actions/accept", {"version": 1}, content_type="application/json"
    )
    fix(f"inspector-{a.code}", along(0.55), ago_s=3600)  # seen an hour ago: offline
    sent = acceptor.post(
        f"/api/v1/cases/{cid}/send-nearest", {"version": 2}, content_type="application/json"
    )
    assert sent.status_code == 409, sent.content
    assert sent.json()["error"]["code"] == "no_inspector_online"
    assert Case.objects.get(pk=cid).state == "to_verify"
    assert not CaseTask.objects.filter(case_id=cid).exists()
    # Bad bodies name the field; a case that waits for nothing is refused.
    missing = acceptor.post(
        f"/api/v1/cases/{cid}/send-nearest", {}, content_type="application/json"
    )
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "version"
    # An inspector may not send tasks.
    fix(f"inspector-{a.code}", along(0.55))
    refused = as_user(f"inspector-{a.code}").post(
        f"/api/v1/cases/{cid}/send-nearest", {"version": 2}, content_type="application/json"
    )
    assert refused.status_code == 403, refused.content
    assert not CaseTask.objects.filter(case_id=cid).exists()


@pytest.fixture
def one_case(around, as_user):
    cid = hotline(as_user("acceptor"), around["along"](0.5))["id"]
    return Case.objects.get(pk=cid), as_user("shiftleader")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bearing=st.floats(0, 360), distance=st.floats(0, 300), radius=st.floats(1, 300))
def test_a_case_is_around_exactly_within_the_radius_in_any_direction(
    one_case, bearing, distance, radius
):
    """Property: asked from a point `distance` metres away (geodesic, WGS84) in any direction,
    the case is listed exactly when `distance` is at most `radius` (2 cm either side left out),
    at that distance; and asked in gcj02 (the same point shifted as Chinese maps draw it), the
    answer is the same."""
    assume(abs(distance - radius) > 0.02)
    case, leader = one_case
    lon, lat, _ = GEOD.fwd(case.geom.x, case.geom.y, bearing, distance)
    query = {"lon": lon, "lat": lat, "radius": radius, "kinds": "cases", "limit": 100}
    found = {c["id"]: c["metres"] for c in leader.get("/api/v1/nearby", query).json()["cases"]}
    assert (case.pk in found) is (distance <= radius)
    if case.pk in found:
        assert found[case.pk] == pytest.approx(distance, abs=0.06)
    glon, glat = wgs84_to_gcj02_array(np.array([lon]), np.array([lat]))
    shifted = {**query, "lon": float(glon[0]), "lat": float(glat[0]), "crs": "gcj02"}
    again = {c["id"]: c["metres"] for c in leader.get("/api/v1/nearby", shifted).json()["cases"]}
    assert set(again) == set(found)
    assert all(again[k] == pytest.approx(found[k], abs=0.15) for k in found)
