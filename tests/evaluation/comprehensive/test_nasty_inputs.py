"""Nasty inputs: every field of a valid body of each comprehensive evaluation write replaced by
a value of the wrong kind, out of range, huge, empty or holding NUL is answered with a 4xx JSON
error (or served), never a 5xx."""

from __future__ import annotations

import itertools
import json

import pytest
from django.test import Client

from accounts import permissions as perms
from tests.factories import make_person

from .test_refusals import evaluator, world  # noqa: F401

pytestmark = pytest.mark.django_db
WEIRD = [None, "", "x", -1, 0, 2**63, 2**64, 1.5, True, [], {}, [1], {"a": None}, "\u0000",
         "9" * 400, 1e308]  # fmt: skip


def post(client: Client, path: str, body: dict, method: str = "post"):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def test_no_body_field_makes_a_server_error(mini, world, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    person, first = evaluator("e-1", mini)
    admin = make_person("nasty-admin", permissions=[perms.SYSTEM_ADMIN], is_superuser=True)
    client = Client()
    client.force_login(admin.user)
    api = "/api/v1/evaluation/"
    task = post(client, api + "inspections", {"cycle": world["cycle"].pk, "evaluators": [first.pk],
                                              "samples": [world["samples"][0].pk]})  # fmt: skip
    assert task.status_code == 201
    task_id = task.json()["tasks"][0]["id"]
    filling = post(client, api + "fillings", {"kind": "survey", "cycle": world["cycle"].pk,
                                              "objects": [world["streets"][0].pk],
                                              "assignee": admin.pk,
                                              "deadline": "2030-01-01T00:00:00Z"})  # fmt: skip
    assert filling.status_code == 201
    filling_id = filling.json()["tasks"][0]["id"]
    rule = {"name": "r", "sample_type": world["type"].pk, "object": world["city"].pk,
            "year": 2026, "count": 2}  # fmt: skip
    rule_id = post(client, api + "config/sampling-rules", rule).json()["id"]
    indicator = world["item"].indicator_id
    shares = {"very_satisfied": 1, "satisfied": 0, "neutral": 0, "dissatisfied": 0,
              "very_dissatisfied": 0}  # fmt: skip
    bodies = {
        "config/objects": {
            "code": "Z",
            "name": "z",
            "kind": "street",
            "parent": world["city"].pk,
            "area": mini.streets[0].pk,
        },  # fmt: skip
        "config/indicators": {
            "code": "Q",
            "short_name": "q",
            "parent": indicator,
            "method": "field",
            "full_score": 3,
        },  # fmt: skip
        "config/interval-rules": {
            "indicator": indicator,
            "lower": 0,
            "upper": 5,
            "step": 1,
            "deduction": 1,
        },  # fmt: skip
        "config/sampling-rules": rule,
        "config/evaluators": {"person": person.pk, "objects_bound": [world["city"].pk]},
        "sampling/preview": {
            "object": world["city"].pk,
            "sample_type": world["type"].pk,
            "count": 2,
            "min_distance_m": 10,
        },  # fmt: skip
        f"fillings/{filling_id}/draft": {"values": {"T": shares}},
        f"inspections/{task_id}/review": {"approve": False, "reason": "x"},
        "results/compute": {"cycle": world["cycle"].pk},
        "inspections": {"cycle": world["cycle"].pk, "evaluators": [first.pk], "rule": rule_id},
        "samples/import": {
            "object": world["city"].pk,
            "sample_type": world["type"].pk,
            "features": [],
        },  # fmt: skip
    }
    failed = []
    for path, body in bodies.items():
        for (key, value), method in itertools.product(
            itertools.product(list(body), WEIRD), ("post", "patch")
        ):
            answer = post(client, api + path, {**body, key: value}, method)
            if answer.status_code >= 500 or not answer["Content-Type"].startswith("application/"):
                failed.append((method, path, key, repr(value)[:40], answer.status_code))
    assert failed == []
