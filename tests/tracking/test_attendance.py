"""Attendance (考勤): clock-in and out with position, grid and photo over HTTP, anomalies against
the roster (late, left early, missing clock-in/out, off-grid) including night shifts across
midnight, explanations accepted or rejected by a supervisor, and the scoping of the reads."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
import prcoords
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pyproj import Geod

from accounts.models import OperationLog
from accounts.scoping import scope_for_user
from spatial.models import AdminArea, ResponsibilityGrid
from tests import factories
from tracking import attendance
from tracking.models import AttendanceExplanation, ClockRecord, RosterEntry, Shift, Tracker

from .conftest import EAST_EDGE_MID, INSIDE, shifted

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
GEOD = Geod(ellps="WGS84")
MINUTE = dt.timedelta(minutes=1)


def jpeg() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(data, "JPEG")
    return data.getvalue()


def photo(content: bytes | None = None, name="clock.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, jpeg() if content is None else content, content_type)


def clock(client: Client, kind: str, point, crs: str | None = None, **extra):
    body = {"kind": kind, "lon": point[0], "lat": point[1], "photo": photo(), **extra}
    if crs:
        body["crs"] = crs
    return client.post("/api/v1/tracking/clock", body)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Clock photos go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def supervisor(setup):
    district = AdminArea.objects.get(code="990700")
    person = factories.make_person(
        "attend-supervisor", permissions=["tracking.monitor"], areas=[district]
    )
    client = Client()
    client.force_login(person.user)
    return client


# --- clock-in / out over HTTP -----------------------------------------------------------------


def test_a_clock_in_inside_the_grid_records_the_grid_and_the_photo(setup):
    response = clock(setup.client, "in", INSIDE, accuracy="8")
    assert response.status_code == 201, response.content
    body = response.json()
    own = setup.person.grids.get()
    assert body["kind"] == "in" and body["tracker"] == setup.tracker.pk
    assert body["grid"]["code"] == own.code
    assert body["off_grid"] is False and body["off_grid_m"] == 0
    assert body["accuracy"] == 8
    assert body["position"]["coordinates"] == [pytest.approx(INSIDE[0]), pytest.approx(INSIDE[1])]
    picture = setup.client.get(body["photo"]["url"])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"
    assert b"".join(picture.streaming_content) == jpeg()
    assert OperationLog.objects.filter(action="tracking.clock", username="tracked-inspector")


def test_a_clock_made_offline_keeps_the_phones_time_and_is_flagged(setup):
    """离线打卡: the phone's time within 12 hours is the record's, the server's time kept
    beside it; sent again it answers the first; too old, ahead of the server or not a time: 400;
    a little ahead (the skew) it takes the server's time; without taken_at a clock is online."""
    import datetime as dt

    from django.utils import timezone

    from tracking.models import ClockRecord

    now = timezone.now().replace(microsecond=0)
    taken = now - dt.timedelta(minutes=47)
    first = clock(setup.client, "in", INSIDE, taken_at=taken.isoformat())
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["offline"] is True
    assert dt.datetime.fromisoformat(body["at"]) == taken
    received = dt.datetime.fromisoformat(body["received_at"])
    assert abs((received - now).total_seconds()) < 60
    again = clock(setup.client, "in", INSIDE, taken_at=taken.isoformat())
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert ClockRecord.objects.filter(tracker=setup.tracker).count() == 1

    for value in [
        (now - dt.timedelta(hours=12, minutes=5)).isoformat(),
        (now + dt.timedelta(minutes=10)).isoformat(),
        "yesterday",
    ]:
        refused = clock(setup.client, "out", INSIDE, taken_at=value)
        assert refused.status_code == 400, (value, refused.content)
        assert refused.json()["error"]["field"] == "taken_at"
    assert ClockRecord.objects.filter(tracker=setup.tracker).count() == 1

    ahead = clock(
        setup.client, "out", INSIDE, taken_at=(now + dt.timedelta(seconds=30)).isoformat()
    )
    assert ahead.status_code == 201, ahead.content  # a phone a little ahead: the server's now
    assert dt.datetime.fromisoformat(ahead.json()["at"]) <= timezone.now()
    online = clock(setup.client, "out", INSIDE)
    assert online.json()["offline"] is False and online.json()["received_at"] is None


def test_a_clock_out_off_the_grid_is_allowed_and_flagged(setup):
    away = shifted(EAST_EDGE_MID, 200)  # in the next street's grid, 200 m outside one's own
    response = clock(setup.client, "out", away)
    assert response.status_code == 201, response.content
    body = response.json()
    other = ResponsibilityGrid.objects.exclude(pk=setup.person.grids.get().pk).get(
        geom__intersects=f"POINT({away[0]} {away[1]})"
    )
    assert body["off_grid"] is True
    assert body["grid"]["code"] == other.code
    assert body["off_grid_m"] == pytest.approx(200, abs=2)


def test_jitter_within_the_tolerance_is_not_off_grid(setup):
    response = clock(setup.client, "in", shifted(EAST_EDGE_MID, 20))
    assert response.status_code == 201
    assert response.json()["off_grid"] is False


def test_a_gcj02_position_is_stored_in_wgs84(setup):
    lat_lon = prcoords.wgs_gcj((INSIDE[1], INSIDE[0]))  # reference, not spatial.crs
    gcj = (lat_lon[1], lat_lon[0])
    response = clock(setup.client, "in", gcj, crs="gcj02")
    assert response.status_code == 201, response.content
    lon, lat = response.json()["position"]["coordinates"]
    _, _, metres = GEOD.inv(lon, lat, *INSIDE)
    assert metres < 1.0
    assert abs(gcj[0] - INSIDE[0]) > 1e-4  # the two differ by hundreds of metres


@pytest.mark.parametrize(
    "upload, field",
    [
        (lambda: photo(b"%PDF-1.4 not a picture"), "photo"),  # claims JPEG, is not
        (lambda: photo(b"just text", name="a.txt", content_type="text/plain"), "photo"),
        (lambda: photo(b"\x89PNG\r\n\x1a\n...", content_type="image/jpeg"), "photo"),
    ],
)
def test_a_photo_is_what_its_first_bytes_say(setup, upload, field):
    body = {"kind": "in", "lon": INSIDE[0], "lat": INSIDE[1], "photo": upload()}
    response = setup.client.post("/api/v1/tracking/clock", body)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not ClockRecord.objects.exists()


def test_a_png_photo_is_accepted_and_no_photo_is_refused(setup):
    data = io.BytesIO()
    Image.new("RGB", (4, 4)).save(data, "PNG")
    png = photo(data.getvalue(), name="c.png", content_type="image/png")
    body = {"kind": "in", "lon": INSIDE[0], "lat": INSIDE[1], "photo": png}
    assert setup.client.post("/api/v1/tracking/clock", body).json()["photo"]["content_type"] == (
        "image/png"
    )
    body.pop("photo")
    response = setup.client.post("/api/v1/tracking/clock", body)
    assert response.status_code == 400 and response.json()["error"]["field"] == "photo"


def test_bad_positions_and_kinds_name_their_field(setup):
    assert clock(setup.client, "lunch", INSIDE).json()["error"]["field"] == "kind"
    assert clock(setup.client, "in", (INSIDE[0], 95)).json()["error"]["field"] == "lat"
    assert clock(setup.client, "in", ("east", INSIDE[1])).json()["error"]["field"] == "lon"
    assert not ClockRecord.objects.exists()


def test_only_an_inspector_with_a_tracker_clocks(setup, supervisor):
    assert Client().post("/api/v1/tracking/clock", {}).status_code == 401
    response = clock(supervisor, "in", INSIDE)
    assert response.status_code == 403


# --- anomalies (the rules, by hand) -----------------------------------------------------------

GRACE = dt.timedelta(minutes=5)
WINDOW = dt.timedelta(minutes=120)


def kinds(found) -> list[str]:
    return [k for k, _ in found[2]]


def test_the_rules_on_a_day_shift():
    start = dt.datetime(2026, 3, 2, 8, 30, tzinfo=SHANGHAI)
    end = dt.datetime(2026, 3, 2, 17, 30, tzinfo=SHANGHAI)
    after = end + dt.timedelta(hours=3)
    c = attendance.Clock

    def run(*clocks, now=after):
        return attendance.shift_anomalies(start, end, clocks, now, GRACE, WINDOW)

    assert kinds(run(c("in", start - 10 * MINUTE), c("out", end + MINUTE))) == []
    assert kinds(run(c("in", start + 5 * MINUTE), c("out", end - 5 * MINUTE))) == []  # in grace
    late = run(c("in", start + 17 * MINUTE), c("out", end))
    assert kinds(late) == ["late"] and late[2][0][1] == {"minutes": 17}
    early = run(c("in", start), c("out", end - 40 * MINUTE))
    assert kinds(early) == ["left_early"] and early[2][0][1] == {"minutes": 40}
    assert kinds(run()) == ["missing_in", "missing_out"]
    # A clock-in from before the window belongs to no shift; the first clock-in and the last
    # clock-out count.
    assert kinds(run(c("in", start - 3 * 60 * MINUTE), c("out", end))) == ["missing_in"]
    found = run(c("in", start + 30 * MINUTE), c("in", start), c("out", end - 60 * MINUTE),
                c("out", end))  # fmt: skip
    assert kinds(found) == [] and found[0].at == start and found[1].at == end
    assert kinds(run(c("in", start, off_grid=True), c("out", end))) == ["off_grid"]
    # During the shift: no clock-in past the grace is missing, the clock-out not yet.
    assert kinds(run(now=start + 10 * MINUTE)) == ["missing_in"]
    assert kinds(run(now=start + 2 * MINUTE)) == []


def test_a_night_shift_takes_the_next_mornings_clock_out():
    tz = SHANGHAI
    start, end = attendance.roster.shift_interval(dt.date(2026, 3, 2), dt.time(22), dt.time(6), tz)
    assert end == dt.datetime(2026, 3, 3, 6, 0, tzinfo=tz)
    c = attendance.Clock
    clocks = [c("in", dt.datetime(2026, 3, 2, 21, 50, tzinfo=tz)),
              c("out", dt.datetime(2026, 3, 3, 5, 20, tzinfo=tz))]  # fmt: skip
    found = attendance.shift_anomalies(start, end, clocks, end + WINDOW, GRACE, WINDOW)
    assert found[2] == [("left_early", {"minutes": 40})]


@given(
    offset=st.integers(min_value=-120, max_value=600),
    length=st.integers(min_value=60, max_value=1440),
)
def test_late_exactly_when_the_first_clock_in_is_past_the_grace(offset, length):
    start = dt.datetime(2026, 3, 2, 22, 0, tzinfo=SHANGHAI)
    end = start + dt.timedelta(minutes=length)
    at = start + dt.timedelta(minutes=offset)
    found = attendance.shift_anomalies(
        start, end, [attendance.Clock("in", at)], end + WINDOW, GRACE, WINDOW
    )
    found_kinds = kinds(found)
    counts = at < end
    assert ("late" in found_kinds) == (counts and offset > 5)
    assert ("missing_in" in found_kinds) == (not counts)
    assert "missing_out" in found_kinds


# --- anomalies and explanations over HTTP -----------------------------------------------------


def at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI)


@pytest.fixture
def nights(setup):
    """Two night shifts (22:00–06:00) three and two days ago, clocked through the action at
    chosen times: night one on time in, out 05:30 (left early 30 min); night two in 22:20 (late
    20 min), out off the grid at 06:10."""
    night = Shift.objects.create(name="夜班", start=dt.time(22), end=dt.time(6))
    today = timezone.localdate()
    one, two = today - dt.timedelta(days=3), today - dt.timedelta(days=2)
    for day in (one, two):
        RosterEntry.objects.create(tracker=setup.tracker, date=day, shift=night)
    scope = scope_for_user(setup.person.user)
    away = shifted(EAST_EDGE_MID, 300)
    for kind, where, at in [
        ("in", INSIDE, at_local(one, 21, 55)),
        ("out", INSIDE, at_local(two, 5, 30)),
        ("in", INSIDE, at_local(two, 22, 20)),
        ("out", away, at_local(two + dt.timedelta(days=1), 6, 10)),
    ]:
        attendance.do_clock(scope, kind, *where, photo(), "image/jpeg", at=at)
    return night, one, two


def anomalies_of(body) -> list[tuple[str, str]]:
    return [(d["date"], a["anomaly"]) for d in body["duties"] for a in d["anomalies"]]


def test_night_shift_anomalies_over_the_api(setup, nights):
    night, one, two = nights
    response = setup.client.get(f"/api/v1/tracking/attendance?from={one}&to={two}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["duties"]) == 2
    first, second = body["duties"]
    assert first["clock_in"]["at"].startswith(f"{one}T21:55")
    assert first["clock_out"]["at"].startswith(f"{two}T05:30")
    assert second["clock_in"]["at"].startswith(f"{two}T22:20")
    assert anomalies_of(body) == [
        (str(one), "left_early"),
        (str(two), "late"),
        (str(two), "off_grid"),
    ]
    assert first["anomalies"][0]["details"] == {"minutes": 30}
    assert second["anomalies"][0]["details"] == {"minutes": 20}
    assert body["anomalies"] == 3


def test_an_explanation_is_accepted_by_the_supervisor(setup, nights, supervisor):
    night, one, two = nights
    explain = {"date": str(two), "shift": night.pk, "anomaly": "late", "text": "路上堵车"}
    response = setup.client.post(
        "/api/v1/tracking/attendance/explanations", explain, "application/json"
    )
    assert response.status_code == 201, response.content
    item = response.json()
    assert item["status"] == "pending" and item["anomaly_label"] == "迟到"
    # Nothing to explain where there is no anomaly.
    wrong = {**explain, "date": str(one)}
    response = setup.client.post(
        "/api/v1/tracking/attendance/explanations", wrong, "application/json"
    )
    assert response.status_code == 404 and response.json()["error"]["field"] == "anomaly"

    pending = supervisor.get(
        f"/api/v1/tracking/attendance/explanations?status=pending&from={one}&to={two}"
    ).json()["explanations"]
    assert [e["id"] for e in pending] == [item["id"]]
    url = f"/api/v1/tracking/attendance/explanations/{item['id']}/decide"
    assert setup.client.post(url, {"accepted": True}, "application/json").status_code == 403
    response = supervisor.post(url, {"accepted": True, "note": "属实"}, "application/json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.json()["decided_by"] == "attend-supervisor"
    again = supervisor.post(url, {"accepted": False}, "application/json")
    assert again.status_code == 409
    # The inspector may not rewrite an accepted one.
    assert (
        setup.client.post(
            "/api/v1/tracking/attendance/explanations", explain, "application/json"
        ).status_code
        == 409
    )
    body = setup.client.get(f"/api/v1/tracking/attendance?from={two}").json()
    late = next(a for a in body["duties"][0]["anomalies"] if a["anomaly"] == "late")
    assert late["explanation"]["status"] == "accepted"


def test_a_rejected_explanation_may_be_written_again(setup, nights, supervisor):
    night, one, two = nights
    explain = {"date": str(one), "shift": night.pk, "anomaly": "left_early", "text": "有事"}
    item = setup.client.post(
        "/api/v1/tracking/attendance/explanations", explain, "application/json"
    ).json()
    url = f"/api/v1/tracking/attendance/explanations/{item['id']}/decide"
    response = supervisor.post(url, {"accepted": False, "note": "理由不足"}, "application/json")
    assert response.json()["status"] == "rejected"
    again = setup.client.post(
        "/api/v1/tracking/attendance/explanations",
        {**explain, "text": "家中急事，已电话报告"},
        "application/json",
    )
    assert again.status_code == 201
    assert again.json()["id"] == item["id"] and again.json()["status"] == "pending"
    assert AttendanceExplanation.objects.count() == 1


def test_a_missing_clock_in_and_out_on_a_rostered_day(setup):
    day_shift = Shift.objects.create(name="白班", start=dt.time(8, 30), end=dt.time(17, 30))
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    RosterEntry.objects.create(tracker=setup.tracker, date=yesterday, shift=day_shift)
    body = setup.client.get(f"/api/v1/tracking/attendance?from={yesterday}").json()
    assert anomalies_of(body) == [(str(yesterday), "missing_in"), (str(yesterday), "missing_out")]


def test_a_substitute_answers_for_the_shift_not_the_one_on_leave(setup):
    day_shift = Shift.objects.create(name="白班", start=dt.time(8, 30), end=dt.time(17, 30))
    other = factories.make_person("attend-substitute", grids=list(setup.person.grids.all()))
    substitute = Tracker.objects.create(device_id="PHONE-SUB", kind="person", person=other)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    RosterEntry.objects.create(
        tracker=setup.tracker, date=yesterday, shift=day_shift, kind="leave", substitute=substitute
    )
    assert setup.client.get(f"/api/v1/tracking/attendance?from={yesterday}").json()["duties"] == []
    sub = Client()
    sub.force_login(other.user)
    body = sub.get(f"/api/v1/tracking/attendance?from={yesterday}").json()
    assert [(d["tracker"], d["in_place_of"]) for d in body["duties"]] == [
        (substitute.pk, setup.tracker.pk)
    ]


def test_reads_are_scoped(setup, nights, supervisor):
    night, one, two = nights
    stranger = factories.make_person("attend-stranger")
    client = Client()
    client.force_login(stranger.user)
    url = f"/api/v1/tracking/attendance?from={one}&to={two}"
    assert client.get(url).json()["duties"] == []
    assert client.get(url + f"&tracker={setup.tracker.pk}").status_code == 404
    assert client.get(f"/api/v1/tracking/clocks?from={one}&to={two}").json()["clocks"] == []
    clock_id = ClockRecord.objects.first().pk
    assert client.get(f"/api/v1/tracking/clocks/{clock_id}/photo").status_code == 404
    assert len(supervisor.get(url).json()["duties"]) == 2
    clocks = supervisor.get(f"/api/v1/tracking/clocks?from={one}&to={two}").json()["clocks"]
    assert len(clocks) == 3  # the fourth is on the day after `two`
    assert Client().get(url).status_code == 401
