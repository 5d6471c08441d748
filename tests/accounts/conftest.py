"""Accounts fixtures: two streets side by side (A west, B east) in their own corner of the map,
people placed in them, and signed-in clients."""

from __future__ import annotations

import time

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.test import Client

from accounts import throttle
from accounts.models import LoginPolicy
from spatial.models import AdminArea
from tests import factories
from tests.factories import PASSWORD

# A corner far from the demo city (which sits near 116.35, 40.0).
X0, Y0, SIDE = 100.0, 30.0, 0.01


def square(x: float, y: float, side: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x, y, x + side, y + side)), srid=4326)


@pytest.fixture
def policy(db) -> LoginPolicy:
    policy = LoginPolicy.current()
    policy.max_failures, policy.max_failures_per_ip, policy.max_failures_per_username = 3, 10, 6
    policy.failure_window_minutes = 15
    policy.throttle_base_seconds, policy.throttle_max_seconds = 1, 60
    policy.save()
    return policy


@pytest.fixture(autouse=True)
def _fresh_sign_in_throttle():
    """Every test starts with no failed sign-ins counted (the counters live in Redis)."""
    throttle.clear_all()
    yield
    throttle.clear_all()


class Clock:
    """The sign-in throttle's clock, moved by hand: ``clock.pass_seconds(4)``."""

    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def pass_seconds(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Gives the throttle's clock, stopped until the test moves it."""
    stopped = Clock(float(int(time.time())))  # whole seconds: Redis keeps 14 digits
    monkeypatch.setattr(throttle, "now", stopped)
    return stopped


@pytest.fixture
def streets(db) -> dict[str, AdminArea]:
    """Gives district 990100 and its streets A (west) and B (east), each a SIDE square."""
    city = factories.make_city(
        "990100", origin=(X0, Y0), size=(2 * SIDE, SIDE), communities=[[], []]
    )
    a, b = city.streets
    return {"district": city.district, "A": a, "B": b}


@pytest.fixture
def make_person(db):
    """Gives make(username, permissions, areas, all_layers=True, layers, **person_fields)."""

    def make(username: str, permissions=(), areas=(), all_layers=True, layers=(), **kw):
        return factories.make_person(
            username,
            permissions=permissions,
            areas=areas,
            all_layers=all_layers,
            layers=layers,
            **kw,
        )

    return make


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


@pytest.fixture
def inspector_a(make_person, streets):
    return make_person("inspector-a", ["cases.report", "cases.read"], [streets["A"]])


@pytest.fixture
def inspector_b(make_person, streets):
    return make_person("inspector-b", ["cases.report", "cases.read"], [streets["B"]])


@pytest.fixture
def manager(make_person, streets):
    return make_person("manager", ["people.manage", "logs.read"], [streets["district"]])


@pytest.fixture
def sysadmin(make_person, streets):
    return make_person("root", [], [], is_superuser=True)


def token_for(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        **extra,
    )
