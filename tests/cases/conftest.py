"""Case fixtures: the demo city, its organization and manual, and signed-in demo people."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.demo import build_demo_organization
from accounts.models import Person
from spatial.models import AdminArea


@pytest.fixture
def org(city, db):
    """The demo organization and responsibility manual over the test city."""
    from cases.categories import load_demo_manual

    people = build_demo_organization()
    load_demo_manual()
    return {p.user.get_username(): p for p in people}


@pytest.fixture
def as_user(org):
    """Gives a client signed in as the named demo person."""

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(Person.objects.get(user__username=username).user)
        return client

    return client_for


@pytest.fixture
def two_streets(city, db) -> list[AdminArea]:
    """Two streets of the test city that hold a point inside them."""
    streets = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code")[:2])
    assert len(streets) == 2
    return streets


def inside(area: AdminArea) -> tuple[float, float]:
    """A point well inside `area` (its point on surface)."""
    point = area.geom.point_on_surface
    return point.x, point.y
