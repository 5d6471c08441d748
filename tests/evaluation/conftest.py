"""Evaluation fixtures: the hand-counted week of cases (tests/evaluation/scenario.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.demo import build_demo_organization
from accounts.models import Person
from cases.categories import load_demo_manual
from spatial.models import AdminArea
from tests.evaluation.scenario import Week, build_week
from tracking.demo import build_demo_trackers

PERIOD = "from=2025-03-03&to=2025-03-09"  # a date "to" includes that day: [03-03, 03-10)


@pytest.fixture
def week(city, db) -> Week:
    build_demo_organization()
    load_demo_manual()
    build_demo_trackers()
    a, b = list(AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code")[:2])
    return build_week(a, b)


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(Person.objects.get(user__username=username).user)
    return client


def table(username: str, query: str) -> dict:
    got = client_of(username).get(f"/api/v1/evaluation/indicators?{query}&{PERIOD}")
    assert got.status_code == 200, got.content
    return got.json()


def rows(body: dict) -> dict:
    return {r["key"]: r for r in body["rows"]}
