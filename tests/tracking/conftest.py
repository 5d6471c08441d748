"""Tracking fixtures: a hand-made grid with an inspector and their phone, a vehicle with a
device key, and helpers that post fixes through the API as the device would."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone
from pyproj import Geod

from tests import factories
from tracking import grids
from tracking.models import Tracker, hash_key

GEOD = Geod(ellps="WGS84")
# The inspector's grid: the first street of a mini city far from the demo city.
ORIGIN = (117.5, 39.0)
GRID = (117.5, 39.0, 117.51, 39.01)  # minx, miny, maxx, maxy of the first street's grid
EAST_EDGE_MID = (117.51, 39.005)
INSIDE = (117.505, 39.005)
VEHICLE_KEY = "k3y-for-the-test-vehicle"


def shifted(point: tuple[float, float], east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    """Gives `point` moved `east_m` metres east and `north_m` north (pyproj, on WGS84)."""
    lon, lat, _ = GEOD.fwd(point[0], point[1], 90.0, east_m)
    if north_m:
        lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north_m)
    return lon, lat


def iso(t: dt.datetime) -> str:
    return t.isoformat()


def fixes(points, start: dt.datetime, step_s: float = 10.0, **extra) -> list[dict]:
    """Gives one fix per point, `step_s` apart from `start`."""
    return [
        {"t": iso(start + dt.timedelta(seconds=n * step_s)), "lon": p[0], "lat": p[1], **extra}
        for n, p in enumerate(points)
    ]


@dataclass
class Setup:
    person: object
    tracker: Tracker
    client: Client
    vehicle: Tracker
    start: dt.datetime

    def post(self, batch: list[dict], client: Client | None = None, **headers):
        return (client or self.client).post(
            "/api/v1/tracking/fixes",
            json.dumps({"fixes": batch}),
            content_type="application/json",
            **headers,
        )

    def post_vehicle(self, batch: list[dict]):
        return Client().post(
            "/api/v1/tracking/fixes",
            json.dumps({"fixes": batch}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Device {self.vehicle.device_id}:{VEHICLE_KEY}",
        )


@pytest.fixture
def setup(db) -> Setup:
    grids.clear()
    city = factories.make_city(
        "990700", origin=ORIGIN, size=(0.02, 0.01), cells=(4, 2), responsibility_grids=True
    )
    grid = next(iter(city.responsibility_grids.values()))
    person = factories.make_person("tracked-inspector", grids=[grid])
    tracker = Tracker.objects.create(device_id="PHONE-T1", kind="person", person=person)
    vehicle = Tracker.objects.create(
        device_id="VEH-T1", kind="vehicle", plate="京A·T0001", key_hash=hash_key(VEHICLE_KEY)
    )
    client = Client()
    client.force_login(person.user)
    start = (timezone.now() - dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    return Setup(person, tracker, client, vehicle, start)
