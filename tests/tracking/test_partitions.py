"""Day partitions: created ahead, a fix of a day without one kept in the default partition and
moved into the day's partition when it is created, partitions past the retention dropped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from tracking import partitions
from tracking.models import Fix

from .conftest import INSIDE, fixes

pytestmark = pytest.mark.django_db


def where(t: dt.datetime) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM tracking_fix WHERE t = %s", [t])
        return cursor.fetchone()[0]


@override_settings(TRACKING_PARTITIONS_AHEAD_DAYS=3, TRACKING_RETENTION_DAYS=30)
def test_maintain_creates_ahead_moves_stray_rows_and_drops_old_days(setup):
    far = timezone.localdate() + dt.timedelta(days=40)
    t = timezone.make_aware(dt.datetime.combine(far, dt.time(9)))
    old = t - dt.timedelta(days=400)
    setup.post(fixes([INSIDE], old) + fixes([INSIDE], t))  # 40 days ahead: flagged, kept
    assert where(t) == "tracking_fix_default" and where(old) == "tracking_fix_default"
    assert Fix.objects.get(t=t).flag == "future"

    report = partitions.maintain(today=far)
    assert where(t) == f"tracking_fix_p{far:%Y%m%d}"
    assert far.isoformat() in report["created"]
    days = partitions.partition_days()
    assert far + dt.timedelta(days=3) in days
    assert min(days) >= far - dt.timedelta(days=30), "a day past the retention survived"
    assert not Fix.objects.filter(t=old).exists() and report["default_rows_deleted"] == 1
    assert Fix.objects.filter(t=t).exists()


@override_settings(TRACKING_RETENTION_DAYS=30)
def test_checkpoint_visits_past_the_retention_go_with_the_fixes(setup):
    from django.contrib.gis.geos import LineString, Point

    from tracking.models import Checkpoint, CheckpointVisit, PatrolRoute

    route = PatrolRoute.objects.create(
        name="r", geom=LineString([INSIDE, (INSIDE[0] + 0.01, INSIDE[1])])
    )
    checkpoint = Checkpoint.objects.create(route=route, name="c", geom=Point(*INSIDE))
    now = timezone.now()
    for age in (31, 29):
        CheckpointVisit.objects.create(
            tracker=setup.tracker,
            checkpoint=checkpoint,
            t=now - dt.timedelta(days=age),
            geom=Point(*INSIDE),
        )
    report = partitions.maintain()
    assert report["visits_deleted"] == 1
    [kept] = CheckpointVisit.objects.all()
    assert kept.t == now - dt.timedelta(days=29)
