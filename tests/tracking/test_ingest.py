"""Ingest: idempotent batches, late and out-of-order ones, flags, devices, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client

from tests import reference
from tracking.models import Fix, LatestPosition, Tracker

from .conftest import INSIDE, fixes, shifted

pytestmark = pytest.mark.django_db


def stored(tracker) -> list[tuple]:
    return list(Fix.objects.filter(tracker=tracker).order_by("t").values_list("t", "flag"))


def test_a_batch_sent_twice_counts_duplicates_the_second_time(setup):
    batch = fixes([shifted(INSIDE, 5 * n) for n in range(100)], setup.start)
    first = setup.post(batch)
    assert first.status_code == 200, first.content
    assert first.json() == {"accepted": 100, "duplicates": 0, "flagged": 0}
    again = setup.post(batch)
    assert again.json() == {"accepted": 0, "duplicates": 100, "flagged": 0}
    assert len(stored(setup.tracker)) == 100


def test_a_half_new_batch_accepts_only_the_new_half(setup):
    points = [shifted(INSIDE, 5 * n) for n in range(20)]
    setup.post(fixes(points[:10], setup.start))
    body = setup.post(fixes(points, setup.start)).json()
    assert body == {"accepted": 10, "duplicates": 10, "flagged": 0}


def test_late_and_out_of_order_batches_are_stored_and_latest_keeps_the_newest(setup):
    points = [shifted(INSIDE, 5 * n) for n in range(30)]
    batch = fixes(points, setup.start)
    newest = batch[20:]
    late = list(reversed(batch[:20]))  # out of order inside the batch too
    assert setup.post(newest).json()["accepted"] == 10
    latest = LatestPosition.objects.get(tracker=setup.tracker)
    assert latest.t == dt.datetime.fromisoformat(batch[-1]["t"])
    assert setup.post(late).json() == {"accepted": 20, "duplicates": 0, "flagged": 0}
    latest.refresh_from_db()
    assert latest.t == dt.datetime.fromisoformat(batch[-1]["t"]), "a late batch moved it back"
    times = [t for t, _ in stored(setup.tracker)]
    assert times == sorted(times) and len(times) == 30


def test_implausible_fixes_are_stored_flagged(setup):
    from django.utils import timezone

    good = fixes([shifted(INSIDE, 5 * n) for n in range(5)], setup.start)
    future = fixes([INSIDE], timezone.now() + dt.timedelta(minutes=10))
    vague = fixes([INSIDE], setup.start + dt.timedelta(minutes=2), accuracy=500)
    # 5 km in 10 s after the last good fix: 1,800 km/h
    jump = fixes([shifted(INSIDE, 5000)], setup.start + dt.timedelta(seconds=50))
    back = fixes([shifted(INSIDE, 25)], setup.start + dt.timedelta(seconds=60))
    body = setup.post(good + future + vague + jump + back).json()
    assert body == {"accepted": 9, "duplicates": 0, "flagged": 3}
    flags = sorted(f for _, f in stored(setup.tracker) if f)
    assert flags == ["accuracy", "future", "jump"]
    latest = LatestPosition.objects.get(tracker=setup.tracker)
    assert latest.t == dt.datetime.fromisoformat(back[0]["t"]), (
        "a flagged fix moved the live position"
    )


def test_gcj02_fixes_are_stored_in_wgs84(setup):
    lon, lat = reference.from_wgs84(INSIDE[0], INSIDE[1], "gcj02")
    assert abs(lon - INSIDE[0]) > 1e-4, "the reference offset is real here"
    setup.post(fixes([(lon, lat)], setup.start, crs="gcj02"))
    fix = Fix.objects.get(tracker=setup.tracker)
    assert reference.metres(fix.geom.x, fix.geom.y, *INSIDE) < 0.5


def test_a_vehicle_terminal_posts_with_its_device_key(setup):
    batch = fixes([shifted(INSIDE, 10 * n) for n in range(3)], setup.start)
    assert setup.post_vehicle(batch).json()["accepted"] == 3
    wrong = Client().post(
        "/api/v1/tracking/fixes",
        {"fixes": batch},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {setup.vehicle.device_id}:not-the-key",
    )
    assert wrong.status_code == 401, wrong.content


def test_nobody_posts_for_someone_elses_device(setup):
    body = {"device": setup.vehicle.device_id, "fixes": fixes([INSIDE], setup.start)}
    response = setup.client.post("/api/v1/tracking/fixes", body, content_type="application/json")
    assert response.status_code == 403
    anonymous = Client().post(
        "/api/v1/tracking/fixes", {"fixes": fixes([INSIDE], setup.start)}, "application/json"
    )
    assert anonymous.status_code == 401
    assert not Fix.objects.filter(tracker=setup.tracker).exists()


@pytest.mark.parametrize(
    "fix, field",
    [
        ({"lon": 117.5, "lat": 39.0}, "fixes[1].t"),
        ({"t": "yesterday", "lon": 117.5, "lat": 39.0}, "fixes[1].t"),
        ({"t": "2026-01-01T08:00:00+08:00", "lat": 39.0}, "fixes[1].lon"),
        ({"t": "2026-01-01T08:00:00+08:00", "lon": "117.5", "lat": 39.0}, "fixes[1].lon"),
        ({"t": "2026-01-01T08:00:00+08:00", "lon": 117.5, "lat": 391.0}, "fixes[1].lon"),
        (
            {"t": "2026-01-01T08:00:00+08:00", "lon": 117.5, "lat": 39, "crs": "EPSG:2"},
            "fixes[1].crs",
        ),
        (
            {"t": "2026-01-01T08:00:00+08:00", "lon": 117.5, "lat": 39, "battery": 101},
            "fixes[1].battery",
        ),
        (
            {"t": "2026-01-01T08:00:00+08:00", "lon": 117.5, "lat": 39, "speed": True},
            "fixes[1].speed",
        ),
        ({"t": "2026-01-01T08:00:00+08:00", "lon": 117.5, "lat": 39, "alt": 3}, "fixes[1].alt"),
    ],
)
def test_a_bad_fix_refuses_the_whole_batch_naming_its_field(setup, fix, field):
    batch = fixes([INSIDE], setup.start) + [fix]
    response = setup.post(batch)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field
    assert not Fix.objects.filter(tracker=setup.tracker).exists()
    assert not LatestPosition.objects.filter(tracker=setup.tracker).exists()


def test_fixes_land_in_their_day_partition(setup):
    setup.post(fixes([INSIDE], setup.start))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM tracking_fix WHERE tracker_id = %s",
            [setup.tracker.pk],
        )
        (table,) = cursor.fetchone()
    day = setup.start.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert table == f"tracking_fix_p{day:%Y%m%d}"


def test_an_inactive_tracker_is_refused(setup):
    Tracker.objects.filter(pk=setup.tracker.pk).update(active=False)
    response = setup.post(fixes([INSIDE], setup.start))
    assert response.status_code in (403, 404)
