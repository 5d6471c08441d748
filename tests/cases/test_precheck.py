"""The report's precheck and the rules behind it (spec 5.1.1.7, 5.1.2.19-5.1.2.21, 5.2.2, 5.2.3):
cross-grid, controlled areas with holes (gcj02 input too), road segments, class hours across
midnight, validity edges, similar cases at 9.9 m and 10.1 m and the window's edge, and the
refusals a report meets with their reasons."""

from __future__ import annotations

import datetime as dt
import json
import threading

import numpy as np
import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from accounts.models import Person
from accounts.scoping import scope_for_user
from cases import actions, precheck, report_rules, similar
from core.errors import Conflict
from cases.models import Case, ReportHours, RoadReportRule, SimilarRule
from data.models import Category
from spatial.crs import wgs84_to_gcj02_array
from spatial.models import ControlledArea, RoadSegment
from tests.cases.conftest import inside

pytestmark = pytest.mark.django_db
GEOD = Geod(ellps="WGS84")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def moved(lon: float, lat: float, metres: float, azimuth: float = 90.0) -> tuple[float, float]:
    """The point `metres` from (lon, lat) along `azimuth` degrees (geodesic, WGS84)."""
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return lon2, lat2


def body(lon, lat, category="0102", **extra):
    return {
        "source": "inspector",
        "kind": "event",
        "category": category,
        "description": "人行道上有一堆暴露垃圾",
        "lon": lon,
        "lat": lat,
        **extra,
    }


def post(client, path, data):
    return client.post(path, data, content_type="application/json")


def square(lon, lat, half, hole=None) -> dict:
    rings = [[[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
              [lon - half, lat + half], [lon - half, lat - half]]]  # fmt: skip
    if hole:
        rings.append(
            [
                [lon - hole, lat - hole],
                [lon - hole, lat + hole],
                [lon + hole, lat + hole],
                [lon + hole, lat - hole],
                [lon - hole, lat - hole],
            ]  # fmt: skip
        )
    return {"type": "Polygon", "coordinates": rings}


@pytest.fixture
def place(as_user, two_streets):
    street, other = two_streets
    lon, lat = inside(street)
    return {
        "street": street,
        "other": other,
        "lon": lon,
        "lat": lat,
        "inspector": as_user(f"inspector-{street.code}"),
        "user": Person.objects.get(user__username=f"inspector-{street.code}").user,
    }


def category(code: str = "0102") -> Category:
    found = Category.objects.select_related("parent").get(kind="event", code=code)
    return found


def report_at(user, lon, lat, at, code="0102") -> Case:
    """A case reported at `at` (the server's own work may date a report)."""
    return actions.do_report_case(
        scope_for_user(user),
        actions.NewCase(
            source="inspector", category=category(code), description="暴露垃圾", lon=lon, lat=lat
        ),
        at=at,
    )


def test_precheck_gives_the_placement_and_cross_grid_and_saves_nothing(place):
    before = Case.objects.count()
    answer = post(place["inspector"], "/api/v1/cases/precheck", body(place["lon"], place["lat"]))
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["placement"]["street"]["code"] == place["street"].code
    assert data["cross_grid"]["outside"] is False
    assert data["allowed"] is True and data["rules"] == []
    assert data["similar_count"] == 0 and data["similar"] == []
    assert data["similar_rule"] == {"metres": 10.0, "hours": 24.0}
    assert isinstance(data["recommended_categories"], list)  # the classifier's, when trained
    assert Case.objects.count() == before

    # 跨网格: the same inspector at a point of another street.
    lon, lat = inside(place["other"])
    away = post(place["inspector"], "/api/v1/cases/precheck", body(lon, lat)).json()
    assert away["cross_grid"]["outside"] is True
    made = post(place["inspector"], "/api/v1/cases", body(lon, lat))
    assert made.status_code == 201, made.content
    event = Case.objects.get(pk=made.json()["id"]).events.get(action="report")
    assert event.details["cross_grid"] is True


def test_similar_cases_at_9_9_and_10_1_metres_and_the_report_keeps_them(place, as_user):
    lon, lat = place["lon"], place["lat"]
    first = post(place["inspector"], "/api/v1/cases", body(lon, lat))
    assert first.status_code == 201, first.content
    first_id = first.json()["id"]
    assert first.json()["similar_count"] == 0

    near, far = moved(lon, lat, 9.9), moved(lon, lat, 10.1)
    at_near = post(place["inspector"], "/api/v1/cases/precheck", body(*near)).json()
    assert at_near["similar_count"] == 1
    assert [c["id"] for c in at_near["similar"]] == [first_id]
    assert at_near["similar"][0]["distance_m"] == pytest.approx(9.9, abs=0.02)
    at_far = post(place["inspector"], "/api/v1/cases/precheck", body(*far)).json()
    assert at_far["similar_count"] == 0
    # Another class at the same point is not similar.
    other = post(place["inspector"], "/api/v1/cases/precheck", body(*near, category="0101"))
    assert other.status_code == 200, other.content
    assert other.json()["similar_count"] == 0

    second = post(place["inspector"], "/api/v1/cases", body(*near))
    assert second.status_code == 201, second.content
    assert second.json()["similar_count"] == 1
    listed = as_user("acceptor").get(f"/api/v1/cases/{second.json()['id']}/similar")
    assert listed.status_code == 200, listed.content
    assert [c["id"] for c in listed.json()["similar"]] == [first_id]
    event = Case.objects.get(pk=second.json()["id"]).events.get(action="report")
    assert event.details["similar"] == [first_id]


def test_similar_window_edge_and_states(place):
    lon, lat = place["lon"], place["lat"]
    t0 = timezone.now() - dt.timedelta(days=3)
    old = report_at(place["user"], lon, lat, t0)
    rule = similar.parameters(category())
    assert rule.hours == 24
    day = dt.timedelta(hours=24)
    assert [cid for cid, _ in similar.find_similar(lon, lat, t0 + day, rule)] == [old.pk]
    edge = t0 + day + dt.timedelta(microseconds=1)
    assert similar.find_similar(lon, lat, edge, rule) == []
    # A case reported after the report is not similar to it.
    assert similar.find_similar(lon, lat, t0 - dt.timedelta(seconds=1), rule) == []

    # Voided cases count; closed ones do not.
    Case.objects.filter(pk=old.pk).update(state="void")
    assert [cid for cid, _ in similar.find_similar(lon, lat, t0 + day, rule)] == [old.pk]
    Case.objects.filter(pk=old.pk).update(state="closed")
    assert similar.find_similar(lon, lat, t0 + day, rule) == []


def test_a_class_rule_widens_relates_and_refuses(place):
    lon, lat = place["lon"], place["lat"]
    earlier = report_at(place["user"], lon, lat, timezone.now() - dt.timedelta(hours=30), "0101")
    assert earlier.category.code == "0101"
    SimilarRule.objects.create(
        category=category("0102"), metres=25, hours=48, related=["0101"], refuse=True
    )
    before = Case.objects.count()
    point = moved(lon, lat, 20, azimuth=0)
    checked = post(place["inspector"], "/api/v1/cases/precheck", body(*point)).json()
    assert checked["similar_rule"] == {"metres": 25.0, "hours": 48.0}
    assert [c["id"] for c in checked["similar"]] == [earlier.pk]
    assert checked["similar_refused"] is True and checked["allowed"] is False

    refused = post(place["inspector"], "/api/v1/cases", body(*point))
    assert refused.status_code == 409, refused.content
    error = refused.json()["error"]
    assert error["code"] == "similar_refused" and earlier.number in error["message"]
    assert refused.json()["current"]["similar"] == [earlier.pk]
    assert Case.objects.count() == before


def test_a_controlled_area_with_a_hole_forbids_around_it_not_in_it(place, as_user):
    lon, lat = place["lon"], place["lat"]
    leader = as_user("shiftleader")
    made = post(
        leader,
        "/api/v1/controlled-areas",
        {
            "name": "地铁施工围挡区",
            "geometry": square(lon, lat, 0.002, hole=0.0005),
            "action": "forbid",
            "reason": "施工期间围挡内问题由施工单位负责",
            "requirement": "围挡外问题照常上报",
            "categories": ["01"],
        },
    )
    assert made.status_code == 201, made.content
    area = made.json()
    assert area["geometry"]["type"] == "MultiPolygon"
    assert len(area["geometry"]["coordinates"][0]) == 2  # the shell and the hole

    in_hole = post(place["inspector"], "/api/v1/cases/precheck", body(lon, lat)).json()
    assert in_hole["rules"] == [] and in_hole["allowed"] is True
    ring = (lon + 0.001, lat)
    hit = post(place["inspector"], "/api/v1/cases/precheck", body(*ring)).json()
    assert hit["allowed"] is False
    assert [(r["kind"], r["id"], r["action"]) for r in hit["rules"]] == [
        ("area", area["id"], "forbid")
    ]
    assert hit["rules"][0]["reason"] == "施工期间围挡内问题由施工单位负责"
    assert hit["rules"][0]["requirement"] == "围挡外问题照常上报"

    # The same points from a phone's map (gcj02): the offset is hundreds of metres, so a
    # point sent unconverted would land elsewhere.
    glon, glat = (
        float(v[0]) for v in wgs84_to_gcj02_array(np.array([ring[0]]), np.array([ring[1]]))
    )
    assert abs(glon - ring[0]) > 0.001
    gcj = post(place["inspector"], "/api/v1/cases/precheck", body(glon, glat, crs="gcj02"))
    assert [r["id"] for r in gcj.json()["rules"]] == [area["id"]]
    hlon, hlat = (float(v[0]) for v in wgs84_to_gcj02_array(np.array([lon]), np.array([lat])))
    hole_gcj = post(place["inspector"], "/api/v1/cases/precheck", body(hlon, hlat, crs="gcj02"))
    assert hole_gcj.json()["rules"] == []

    before = Case.objects.count()
    refused = post(place["inspector"], "/api/v1/cases", body(*ring))
    assert refused.status_code == 409, refused.content
    error = refused.json()["error"]
    assert error["code"] == "report_forbidden" and error["field"] == "point"
    assert "地铁施工围挡区" in error["message"] and "由施工单位负责" in error["message"]
    assert Case.objects.count() == before
    # Another major class is not concerned.
    other = Category.objects.filter(kind="event", parent__isnull=False).exclude(
        code__startswith="01"
    )[0]
    elsewhere = post(place["inspector"], "/api/v1/cases/precheck", body(*ring, category=other.code))
    assert elsewhere.json()["rules"] == []

    # Turned into a warning, the report goes through and says so.
    edited = leader.patch(
        f"/api/v1/controlled-areas/{area['id']}",
        {"action": "warn"},
        content_type="application/json",
    )
    assert edited.status_code == 200, edited.content
    warned = post(place["inspector"], "/api/v1/cases", body(*ring))
    assert warned.status_code == 201, warned.content
    assert [w["id"] for w in warned.json()["warnings"]] == [area["id"]]

    # Inspectors do not draw areas; the centre lists them.
    assert post(place["inspector"], "/api/v1/controlled-areas", {}).status_code == 403
    listed = leader.get("/api/v1/controlled-areas").json()["areas"]
    assert area["id"] in [a["id"] for a in listed]


def test_validity_and_daily_windows_across_midnight_at_their_edges(place):
    lon, lat = place["lon"], place["lat"]
    start = dt.datetime(2026, 6, 1, 21, 0, tzinfo=SHANGHAI)
    area = ControlledArea.objects.create(
        name="夜间管控",
        geom=MultiPolygon(GEOSGeometry(json.dumps(square(lon, lat, 0.001)), srid=4326)),
        action="forbid",
        valid_from=start,
        valid_to=start + dt.timedelta(days=2),
        daily_windows=[["22:00", "06:00"]],
    )
    assert ControlledArea.objects.filter(pk=area.pk).exists()
    scope = scope_for_user(place["user"])

    def hit(at):
        judged = precheck.judge(scope, category(), lon, lat, at, "inspector")
        return [h.id for h in judged.hits if h.kind == "area"]

    night = dt.datetime(2026, 6, 1, 22, 0, tzinfo=SHANGHAI)
    assert hit(night) == [area.pk]
    assert hit(night - dt.timedelta(microseconds=1)) == []
    assert hit(dt.datetime(2026, 6, 2, 5, 59, 59, tzinfo=SHANGHAI)) == [area.pk]
    assert hit(dt.datetime(2026, 6, 2, 6, 0, tzinfo=SHANGHAI)) == []
    # Validity: from its start (inclusive) to its end (exclusive).
    area.daily_windows = []
    area.save()
    assert hit(start) == [area.pk]
    assert hit(start - dt.timedelta(microseconds=1)) == []
    assert hit(start + dt.timedelta(days=2) - dt.timedelta(microseconds=1)) == [area.pk]
    assert hit(start + dt.timedelta(days=2)) == []


def test_class_hours_across_midnight(place):
    rule = ReportHours.objects.create(
        category=category("0102"), daily_windows=[["22:00", "06:00"]], reason="夜间保洁时段外不受理"
    )
    assert ReportHours.objects.filter(pk=rule.pk).exists()

    def hours(hh, mm, ss=0):
        at = dt.datetime(2026, 6, 1, hh, mm, ss, tzinfo=SHANGHAI)
        return [h.id for h in report_rules.hours_hits(at, category("0102"))]

    assert hours(22, 0) == []
    assert hours(21, 59, 59) == [rule.pk]
    assert hours(0, 0) == [] and hours(5, 59, 59) == []
    assert hours(6, 0) == [rule.pk]
    assert hours(12, 0) == [rule.pk]
    # Other classes have no hours.
    assert (
        report_rules.hours_hits(dt.datetime(2026, 6, 1, 12, 0, tzinfo=SHANGHAI), category("0101"))
        == []
    )

    # Over HTTP: a window that excludes now refuses the report, naming the class's hours.
    now = timezone.localtime()
    closed_from = (now + dt.timedelta(hours=1)).strftime("%H:%M")
    closed_to = (now + dt.timedelta(hours=2)).strftime("%H:%M")
    rule.daily_windows = [[closed_from, closed_to]]
    rule.save()
    refused = post(place["inspector"], "/api/v1/cases", body(place["lon"], place["lat"]))
    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["field"] == "category"
    assert "夜间保洁时段外不受理" in refused.json()["error"]["message"]


def test_a_road_rule_hits_within_its_buffer(place):
    lon, lat = place["lon"], place["lat"]
    road = RoadSegment.objects.create(
        name="测试施工路",
        road_class="branch",
        geom=f"SRID=4326;LINESTRING({lon - 0.002} {lat}, {lon + 0.002} {lat})",
    )
    rule = RoadReportRule.objects.create(
        name="测试施工路禁止上报", road_name=road.name, buffer_m=20, reason="道路封闭施工"
    )
    assert RoadReportRule.objects.filter(pk=rule.pk).exists()
    inside_buffer = post(
        place["inspector"], "/api/v1/cases/precheck", body(*moved(lon, lat, 19.5, 0))
    )
    assert [(r["kind"], r["id"]) for r in inside_buffer.json()["rules"]] == [("road", rule.pk)]
    outside = post(place["inspector"], "/api/v1/cases/precheck", body(*moved(lon, lat, 20.5, 0)))
    assert outside.json()["rules"] == []
    # By id, for another class only: this class passes.
    rule.road_name, rule.road, rule.categories = "", road, ["0201"]
    rule.save()
    assert post(place["inspector"], "/api/v1/cases/precheck", body(lon, lat)).json()["rules"] == []


def test_a_department_applies_to_suspend_collection_and_the_centre_approves(place, as_user):
    lon, lat = place["lon"], place["lat"]
    handler = Person.objects.filter(user__username__startswith="dept-").order_by("pk").first()
    assert handler is not None
    department = as_user(handler.user.get_username())
    now = timezone.now()
    application = {
        "name": "管线改造施工",
        "geometry": square(lon, lat, 0.001),
        "reason": "燃气管线改造，已取得施工许可",
        "requirement": "施工围挡内暂停采集",
        "valid_from": (now - dt.timedelta(hours=1)).isoformat(),
        "valid_to": (now + dt.timedelta(days=3)).isoformat(),
    }
    assert (
        post(place["inspector"], "/api/v1/controlled-areas/applications", application).status_code
        == 403
    )
    fake = department.post(
        "/api/v1/controlled-areas/applications",
        {**application, "geometry": json.dumps(application["geometry"]),
         "permit": _upload("permit.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 20)},
    )  # fmt: skip
    assert fake.status_code == 400, fake.content
    assert fake.json()["error"]["field"] == "permit"
    applied = department.post(
        "/api/v1/controlled-areas/applications",
        {**application, "geometry": json.dumps(application["geometry"]),
         "permit": _upload("permit.pdf", b"%PDF-1.4\n%test\n")},
    )  # fmt: skip
    assert applied.status_code == 201, applied.content
    row = applied.json()
    assert row["state"] == "pending" and row["permit"] is True

    # Before approval nothing is forbidden.
    assert post(place["inspector"], "/api/v1/cases/precheck", body(lon, lat)).json()["rules"] == []
    leader = as_user("shiftleader")
    pending = leader.get("/api/v1/controlled-areas/applications?state=pending").json()
    assert row["id"] in [a["id"] for a in pending["applications"]]
    mine = department.get("/api/v1/controlled-areas/applications").json()["applications"]
    assert [a["id"] for a in mine] == [row["id"]]
    answer = f"/api/v1/controlled-areas/applications/{row['id']}/answer"
    assert post(department, answer, {"approve": True}).status_code == 403
    approved = post(leader, answer, {"approve": True, "opinion": "同意"})
    assert approved.status_code == 200, approved.content
    area_id = approved.json()["area"]
    assert approved.json()["state"] == "approved" and area_id
    assert post(leader, answer, {"approve": False, "opinion": "重复"}).status_code == 409

    hit = post(place["inspector"], "/api/v1/cases/precheck", body(lon, lat)).json()
    assert [(r["id"], r["action"]) for r in hit["rules"]] == [(area_id, "forbid")]
    assert ControlledArea.objects.get(pk=area_id).attachment


def test_a_permit_is_checked_by_its_first_bytes(place, as_user):
    leader = as_user("shiftleader")
    made = post(
        leader,
        "/api/v1/controlled-areas",
        {"name": "许可测试", "geometry": square(place["lon"], place["lat"], 0.001)},
    )
    assert made.status_code == 201, made.content
    url = f"/api/v1/controlled-areas/{made.json()['id']}/permit"
    bad = leader.post(url, {"file": _upload("scan.png", b"GIF89a" + b"0" * 20)})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "file"
    good = leader.post(url, {"file": _upload("scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)})
    assert good.status_code == 200, good.content
    assert good.json()["permit"] is True
    ControlledArea.objects.get(pk=made.json()["id"]).attachment.delete()


def _upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    kind = "application/pdf" if name.endswith(".pdf") else "image/png"
    return SimpleUploadedFile(name, content, content_type=kind)


@given(
    start=st.integers(0, 1439),
    end=st.integers(0, 1439),
    minute=st.integers(0, 1439),
)
def test_a_daily_window_holds_a_minute_as_its_circular_span_says(start, end, minute):
    """Property: a window [start, end) on the 24-hour circle holds `minute` exactly when the
    minute's offset from the start is below the window's length (equal ends: all day)."""
    windows = [[f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"]]
    length = (end - start) % 1440 or 1440
    expected = (minute - start) % 1440 < length
    assert report_rules.in_windows(dt.time(minute // 60, minute % 60), windows) is expected


def test_the_rules_are_data_in_the_admin(as_user):
    admin = as_user("admin")
    for model in ("roadreportrule", "reporthours", "similarrule", "collectionsuspension"):
        page = admin.get(f"/admin/cases/{model}/")
        assert page.status_code == 200, (model, page.status_code)
    wrong = admin.post(
        "/admin/cases/reporthours/add/",
        {
            "category": category("0102").pk,
            "daily_windows": '[["25:00", "06:00"]]',
            "action": "forbid",
        },
    )
    assert wrong.status_code == 200 and "HH:MM" in wrong.content.decode()
    assert not ReportHours.objects.exists()
    right = admin.post(
        "/admin/cases/reporthours/add/",
        {
            "category": category("0102").pk,
            "daily_windows": '[["22:00", "06:00"]]',
            "action": "warn",
            "active": "on",
        },
    )
    assert right.status_code == 302, right.content[:500]
    assert ReportHours.objects.get().daily_windows == [["22:00", "06:00"]]


@pytest.fixture
def one_case(place):
    """A case just reported at the place's point, and the class's similar rule."""
    case = report_at(place["user"], place["lon"], place["lat"], timezone.now())
    assert Case.objects.filter(pk=case.pk).exists()
    return case, similar.parameters(category())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bearing=st.floats(0, 360), metres=st.floats(0, 25))
def test_a_case_is_similar_exactly_within_the_distance_in_any_direction(one_case, bearing, metres):
    """Property: a report `metres` away (geodesic, WGS84) in any direction finds the case
    exactly when `metres` is at most the rule's 10 m (1 cm either side left out)."""
    assume(abs(metres - 10.0) > 0.01)
    case, rule = one_case
    lon, lat = moved(case.geom.x, case.geom.y, metres, bearing)
    found = [cid for cid, _ in similar.find_similar(lon, lat, timezone.now(), rule)]
    assert (case.pk in found) is (metres <= 10.0)


def test_bad_input_is_refused_naming_the_field(place, as_user):
    inspector, leader = place["inspector"], as_user("shiftleader")
    outside = post(inspector, "/api/v1/cases/precheck", body(100.0, 20.0))
    assert outside.status_code == 400 and outside.json()["error"]["field"] == "point"
    no_crs = post(inspector, "/api/v1/cases/precheck", body(place["lon"], place["lat"], crs="x"))
    assert no_crs.status_code == 400 and no_crs.json()["error"]["field"] == "crs"
    anonymous = Client().post("/api/v1/cases/precheck", {}, content_type="application/json")
    assert anonymous.status_code == 401
    area = {"name": "错区", "geometry": square(place["lon"], place["lat"], 0.001)}
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
    }
    cases = {
        "geometry": {**area, "geometry": bow_tie},
        "daily_windows": {**area, "daily_windows": [["8:00", "10:00"]]},
        "categories": {**area, "categories": ["9999"]},
        "valid_to": {
            **area,
            "valid_from": "2026-06-02T00:00:00+08:00",
            "valid_to": "2026-06-01T00:00:00+08:00",
        },
        "action": {**area, "action": "block"},
    }
    beyond = {"name": "市外", "geometry": square(100.0, 20.0, 0.001)}  # far from the city
    straddling = {"name": "跨界", "geometry": square(place["lon"], place["lat"], 5.0)}
    before = ControlledArea.objects.count()
    for data in (beyond, straddling):
        refused = post(leader, "/api/v1/controlled-areas", data)
        assert refused.status_code == 400, refused.content
        error = refused.json()["error"]
        assert error["field"] == "geometry" and "outside the city" in error["message"], error
    for field, data in cases.items():
        refused = post(leader, "/api/v1/controlled-areas", data)
        assert refused.status_code == 400, (field, refused.content)
        assert refused.json()["error"]["field"] == field, (field, refused.json())
    assert ControlledArea.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_two_reports_at_once_of_a_class_refusing_similar_let_one_through(place):
    """The first report holds its class's lock until it commits; the second, sent meanwhile,
    waits and is then refused as similar (without the lock both would pass, neither seeing
    the other's uncommitted case)."""
    SimilarRule.objects.create(category=category("0102"), refuse=True)
    lon, lat = place["lon"], place["lat"]
    outcome: dict = {}

    def second_reporter():
        try:
            outcome["case"] = report_at(place["user"], *moved(lon, lat, 3.0), timezone.now()).pk
        except Conflict as exc:
            outcome["error"] = exc.code
        finally:
            connection.close()

    with transaction.atomic():
        first = report_at(place["user"], lon, lat, timezone.now())
        thread = threading.Thread(target=second_reporter)
        thread.start()
        thread.join(1.5)
        assert thread.is_alive(), outcome  # waiting for the class's lock
    thread.join(30)
    assert not thread.is_alive()
    assert outcome == {"error": "similar_refused"}
    assert list(Case.objects.filter(category__code="0102").values_list("pk", flat=True)) == [
        first.pk
    ]
