"""Shared set-up of the comprehensive evaluation tests: a mini city of three streets (district
code 990400), a manager, clients and a JSON helper."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts import permissions as perms
from tests.factories import make_city, make_person


def client_of(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def send(client: Client, method: str, path: str, body=None):
    """Sends `body` as JSON with `method`; gives the response."""
    call = getattr(client, method.lower())
    if body is None:
        return call(path)
    return call(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def mini(db):
    """District 990400 (0.03° × 0.01° at 100.0, 30.0) with streets 甲, 乙, 丙 west to east."""
    return make_city(
        "990400",
        name="评价区",
        origin=(100.0, 30.0),
        size=(0.03, 0.01),
        streets=("甲街道", "乙街道", "丙街道"),
    )


@pytest.fixture
def manager(mini):
    return make_person(
        "eval-manager",
        permissions=[perms.EVALUATION_MANAGE, perms.EVALUATION_SCORE],
        areas=[mini.district],
    )


@pytest.fixture
def manage(manager) -> Client:
    return client_of(manager)
