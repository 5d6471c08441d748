"""Work statistics of inspectors (网格员工作情况) over HTTP: reports, verifications, alarms,
time online and in the grid, attendance — each expectation counted by hand from the fixture —
and the scoping of the numbers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.gis.geos import LineString
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.demo import build_demo_organization
from accounts.models import Person
from accounts.scoping import scope_for_user
from cases.categories import load_demo_manual
from spatial.models import AdminArea
from tests.tracking.conftest import shifted
from tracking import attendance
from tracking.demo import build_demo_trackers
from tracking.models import Alarm, Checkpoint, PatrolRoute, RosterEntry, Shift, Tracker

pytestmark = pytest.mark.django_db
SECOND = dt.timedelta(seconds=1)


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(Person.objects.get(user__username=username).user)
    return client


def post(client: Client, path: str, body: dict):
    return client.post(path, json.dumps(body), "application/json")


def fix(t: dt.datetime, point, **extra) -> dict:
    return {"t": t.isoformat(), "lon": point[0], "lat": point[1], **extra}


def jpeg():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    data = io.BytesIO()
    Image.new("RGB", (4, 4)).save(data, "JPEG")
    return SimpleUploadedFile("c.jpg", data.getvalue(), "image/jpeg")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Clock photos go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def day(city, db):
    """Street a's demo inspector over the period [now - 3 h, now + 1 h): two reports, one
    verification, two walks of fixes, alarms in and out of the period, a rostered shift
    clocked in late and never out."""
    build_demo_organization()
    load_demo_manual()
    build_demo_trackers()
    a, b = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code")[:2])
    tracker = Tracker.objects.get(device_id=f"PHONE-{a.code}")
    RosterEntry.objects.filter(tracker=tracker).delete()  # the demo's weekday shifts
    inspector = client_of(f"inspector-{a.code}")
    here = a.geom.point_on_surface
    inside = (here.x, here.y)
    now = timezone.now().replace(microsecond=0)
    start = now - dt.timedelta(hours=3)

    # Two reports and one finished verification (the acceptor's hotline case).
    for text in ("人行道上有一堆暴露垃圾", "路边有暴露垃圾"):
        body = {"source": "inspector", "kind": "event", "category": "0102",
                "description": text, "lon": inside[0], "lat": inside[1]}  # fmt: skip
        assert post(inspector, "/api/v1/cases", body).status_code == 201
    acceptor = client_of("acceptor")
    body = {"source": "hotline", "kind": "event", "category": "0102", "description": "暴露垃圾",
            "lon": inside[0], "lat": inside[1]}  # fmt: skip
    made = post(acceptor, "/api/v1/cases", body).json()
    act = f"/api/v1/cases/{made['id']}/actions/"
    assert post(acceptor, act + "accept", {"version": 1}).json()["state"] == "to_verify"
    assert post(acceptor, act + "request_verify", {"version": 2}).status_code == 200
    verified = post(inspector, act + "verify", {"version": 3, "valid": True})
    assert verified.status_code == 200, verified.content

    # A patrol route with one checkpoint 20 m east of the spot, radius 30 m: walk one starts
    # within it (a visit), leaves it at 52 m; walk two comes back to the spot (a second visit).
    checkpoint_at = shifted(inside, 20)
    route = PatrolRoute.objects.create(
        name="统计测试路线", geom=LineString(inside, shifted(inside, 200), srid=4326)
    )
    Checkpoint.objects.create(route=route, name="甲点", geom=_point(checkpoint_at), radius_m=30)
    Tracker.objects.filter(pk=tracker.pk).update(route=route)

    # Walk one: 30 fixes 10 s apart inside the street (29 intervals, 290 s, all in the grid),
    # with a flagged fix (accuracy 500 m) among them that counts for nothing.
    t0 = start + dt.timedelta(minutes=10)
    walk = [fix(t0 + 10 * k * SECOND, shifted(inside, 2 * k)) for k in range(30)]
    walk.append(fix(t0 + 5 * SECOND, inside, accuracy=500))
    # 700 s of silence (more than the 600 s of signal lost): not online.
    # Walk two: 10 fixes 60 s apart, the first five 1.5 km outside the street then five back
    # inside: 9 intervals, 540 s online, of which the 4 starting inside, 240 s, in the grid;
    # the five outside span 240 s (over the 180 s minimum): one out-of-grid alarm.
    t1 = t0 + 290 * SECOND + 700 * SECOND
    outside = shifted(inside, 0, -1500)
    assert not a.geom.intersects(_point(outside))
    walk += [fix(t1 + 60 * k * SECOND, outside if k < 5 else inside) for k in range(10)]
    posted = post(inspector, "/api/v1/tracking/fixes", {"fixes": walk})
    assert posted.json() == {"accepted": 41, "duplicates": 0, "flagged": 1}, posted.content

    # Alarms: two long stays in the period (one to be judged justified), a signal lost before it.
    for kind, at in [("long_stay", t0), ("long_stay", t1), ("signal_lost", start - 3600 * SECOND)]:
        Alarm.objects.create(tracker=tracker, kind=kind, started_at=at, ended_at=at + 60 * SECOND)

    # A shift from start + 30 min to start + 2 h, clocked in 12 minutes late, never out.
    tz = timezone.get_default_timezone()
    begin = (start + dt.timedelta(minutes=30)).astimezone(tz).replace(second=0)
    end = begin + dt.timedelta(minutes=90)
    shift = Shift.objects.create(name="测试班", start=begin.time(), end=end.time())
    RosterEntry.objects.create(tracker=tracker, date=begin.date(), shift=shift)
    person = Person.objects.get(user__username=f"inspector-{a.code}")
    attendance.do_clock(
        scope_for_user(person.user), "in", *inside, jpeg(), "image/jpeg",
        at=begin + dt.timedelta(minutes=12),
    )  # fmt: skip
    return {
        "person": person,
        "tracker": tracker,
        "inspector": inspector,
        "other": client_of(f"inspector-{b.code}"),
        "leader": client_of("shiftleader"),
        "query": f"from={_q(start)}&to={_q(now + dt.timedelta(hours=1))}",
        "shift": shift,
        "date": begin.date(),
    }


def _q(t: dt.datetime) -> str:
    return t.isoformat().replace("+", "%2B")


def _point(p):
    from django.contrib.gis.geos import Point

    return Point(*p, srid=4326)


def test_an_inspectors_numbers_counted_by_hand(day):
    url = f"/api/v1/evaluation/inspectors/{day['person'].pk}/work?{day['query']}"
    response = day["leader"].get(url)
    assert response.status_code == 200, response.content
    numbers = response.json()
    assert numbers["trackers"] == [day["tracker"].pk]
    assert numbers["reports"] == 2
    assert numbers["verifications"] == 1
    assert numbers["checks"] == 0
    assert numbers["online_s"] == 290 + 540
    assert numbers["in_grid_s"] == 290 + 240
    assert numbers["out_of_grid"] == 1
    assert numbers["stays"] == 2
    assert numbers["signal_lost"] == 0  # it started before the period
    assert numbers["checkpoints"] == 2 and numbers["checkpoints_missed"] == 0
    assert numbers["attendance"] == {"duties": 1, "clocked_in": 1, "anomalies": 2, "excused": 0}


def test_justified_alarms_and_accepted_explanations_leave_the_counts(day):
    stay = Alarm.objects.filter(tracker=day["tracker"], kind="long_stay").first()
    acknowledged = post(
        day["leader"],
        f"/api/v1/tracking/alarms/{stay.pk}/acknowledge",
        {"note": "现场处置", "justified": True},
    )
    assert acknowledged.status_code == 200
    explain = {
        "date": str(day["date"]),
        "shift": day["shift"].pk,
        "anomaly": "late",
        "text": "堵车",
    }
    item = post(day["inspector"], "/api/v1/tracking/attendance/explanations", explain)
    assert item.status_code == 201, item.content
    decided = post(
        day["leader"],
        f"/api/v1/tracking/attendance/explanations/{item.json()['id']}/decide",
        {"accepted": True},
    )
    assert decided.status_code == 200
    url = f"/api/v1/evaluation/inspectors/{day['person'].pk}/work?{day['query']}"
    numbers = day["leader"].get(url).json()
    assert numbers["stays"] == 1
    assert numbers["attendance"] == {"duties": 1, "clocked_in": 1, "anomalies": 1, "excused": 1}


def test_a_shorter_period_counts_only_its_part(day):
    """The 20 minutes from the second walk's first fix: its 540 s online, none of the first
    walk's; no reports or verifications (they count by their time, now, after the period);
    the shift began in it."""
    walk_two = Alarm.objects.get(tracker=day["tracker"], kind="out_of_grid").started_at
    query = f"from={_q(walk_two)}&to={_q(walk_two + dt.timedelta(minutes=20))}"
    numbers = (
        day["leader"].get(f"/api/v1/evaluation/inspectors/{day['person'].pk}/work?{query}").json()
    )
    assert numbers["online_s"] == 540 and numbers["in_grid_s"] == 240
    assert numbers["stays"] == 1 and numbers["out_of_grid"] == 1
    assert numbers["checkpoints"] == 1  # walk two's return
    assert numbers["reports"] == 0 and numbers["verifications"] == 0
    assert numbers["attendance"]["duties"] == 1


def test_the_numbers_are_scoped(day):
    url = f"/api/v1/evaluation/inspectors/{day['person'].pk}/work?{day['query']}"
    assert day["other"].get(url).status_code == 404
    assert day["inspector"].get(url).status_code == 200
    mine = day["inspector"].get(f"/api/v1/evaluation/inspectors/work?{day['query']}").json()
    assert [w["person"] for w in mine["inspectors"]] == [day["person"].pk]
    everyone = day["leader"].get(f"/api/v1/evaluation/inspectors/work?{day['query']}").json()
    people = {w["person"]: w for w in everyone["inspectors"]}
    assert len(people) == Tracker.objects.filter(kind="person").count() > 1
    assert people[day["person"].pk]["online_s"] == 830
    by_tracker = (
        day["leader"]
        .get(f"/api/v1/evaluation/inspectors/work?tracker={day['tracker'].pk}&{day['query']}")
        .json()["inspectors"]
    )
    assert [w["person"] for w in by_tracker] == [day["person"].pk]
    assert Client().get(url).status_code == 401


def test_a_period_must_run_forward(day):
    url = "/api/v1/evaluation/inspectors/work?from=2026-05-02&to=2026-05-01"
    response = day["leader"].get(url)
    assert response.status_code == 400 and response.json()["error"]["field"] == "from"


def test_self_handled_reports_and_supplements_count_for_the_inspector(city, db, settings, tmp_path):
    """Two self-handled reports (自行处置: one archived, one sent to registration), one plain
    report with a supplementary collection (补采) answered: the numbers count them so."""
    settings.MEDIA_ROOT = tmp_path
    build_demo_organization()
    load_demo_manual()
    build_demo_trackers()
    a = AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code").first()
    person = Person.objects.get(user__username=f"inspector-{a.code}")
    inspector, acceptor = client_of(f"inspector-{a.code}"), client_of("acceptor")
    here = a.geom.point_on_surface
    report = {
        "kind": "event",
        "category": "0102",
        "description": "垃圾",
        "lon": here.x,
        "lat": here.y,
    }
    made = []
    for _ in range(2):
        answer = inspector.post(
            "/api/v1/cases/self-handled", {**report, "before": jpeg(), "after": jpeg()}
        )
        assert answer.status_code == 201, answer.content
        made.append(answer.json()["id"])
    act = "/api/v1/cases/{}/actions/{}"
    assert post(acceptor, act.format(made[0], "archive"), {"version": 1}).status_code == 200
    sent = post(
        acceptor, act.format(made[1], "send_to_register"), {"version": 1, "opinion": "未处理"}
    )
    assert sent.status_code == 200
    plain = post(inspector, "/api/v1/cases", {**report, "source": "inspector"}).json()["id"]
    body = {"version": 1, "opinion": "请补拍"}
    assert post(acceptor, act.format(plain, "request_supplement"), body).status_code == 200
    assert inspector.post(f"/api/v1/cases/{plain}/media", {"file": jpeg()}).status_code == 201
    answered = post(inspector, act.format(plain, "supplement"), {"version": 2, "opinion": "已补拍"})
    assert answered.status_code == 200, answered.content

    now = timezone.now()
    period = f"from={_q(now - dt.timedelta(hours=1))}&to={_q(now + dt.timedelta(hours=1))}"
    url = f"/api/v1/evaluation/inspectors/{person.pk}/work?{period}"
    numbers = client_of("shiftleader").get(url).json()
    assert (numbers["reports"], numbers["self_handled"], numbers["self_handled_archived"]) == (
        3,
        2,
        1,
    )
    assert (numbers["supplements"], numbers["verifications"], numbers["checks"]) == (1, 0, 0)
