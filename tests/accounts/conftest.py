"""Accounts fixtures: two streets side by side (A west, B east) in their own corner of the map,
people placed in them, and signed-in clients."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.test import Client

from spatial.models import AdminArea
from accounts.models import LoginPolicy, Position
from accounts.services import create_person

PASSWORD = "Correct-horse-42"
# A corner far from the demo city (which sits near 116.35, 40.0).
X0, Y0, SIDE = 100.0, 30.0, 0.01


def square(x: float, y: float, side: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x, y, x + side, y + side)), srid=4326)


@pytest.fixture
def policy(db) -> LoginPolicy:
    policy = LoginPolicy.current()
    policy.max_failures, policy.max_failures_per_ip, policy.lockout_minutes = 3, 10, 15
    policy.save()
    return policy


@pytest.fixture
def streets(db) -> dict[str, AdminArea]:
    district = AdminArea.objects.create(
        code="990100", name="测试区", level="district", geom=square(X0, Y0, 2 * SIDE)
    )
    a = AdminArea.objects.create(
        code="990100001", name="甲街道", level="street", parent=district, geom=square(X0, Y0, SIDE)
    )
    b = AdminArea.objects.create(
        code="990100002",
        name="乙街道",
        level="street",
        parent=district,
        geom=square(X0 + SIDE, Y0, SIDE),
    )
    return {"district": district, "A": a, "B": b}


def position(key: str, permissions: list[str], all_layers: bool = False, layers=()) -> Position:
    pos, _ = Position.objects.update_or_create(
        key=key, defaults={"name": key, "permissions": permissions, "all_layers": all_layers}
    )
    pos.layers.set(list(layers))
    return pos


@pytest.fixture
def make_person(db):
    def make(username: str, permissions=(), areas=(), all_layers=True, layers=(), **kw):
        pos = position(f"pos-{username}", list(permissions), all_layers, layers)
        return create_person(
            username, PASSWORD, positions=[pos], admin_areas=areas, validate=False, **kw
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
