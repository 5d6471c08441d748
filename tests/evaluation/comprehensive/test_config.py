"""Configuration of comprehensive evaluation (评价配置) over HTTP: objects linked to areas, the
three-level indicator tree, calculation / interval / logical rules and check items, with the
refusals (permissions, bad values, formulas that are not arithmetic, cycles in the tree)."""

from __future__ import annotations

import pytest

from accounts import permissions as perms
from tests.factories import make_person

from .conftest import client_of, send

pytestmark = pytest.mark.django_db
BASE = "/api/v1/evaluation/config"


def create(client, resource, body, status=201):
    response = send(client, "post", f"{BASE}/{resource}", body)
    assert response.status_code == status, response.content
    return response.json()


def test_objects_take_their_area_and_are_listed_within_the_callers_areas(mini, manage):
    city = create(manage, "objects", {"code": "C1", "name": "评价市", "kind": "city",
                                       "area": mini.district.pk})  # fmt: skip
    streets = [
        create(
            manage,
            "objects",
            {"code": f"S{i}", "name": s.name, "kind": "street", "parent": city["id"], "area": s.pk},
        )  # fmt: skip
        for i, s in enumerate(mini.streets)
    ]
    assert [s["name"] for s in streets] == ["甲街道", "乙街道", "丙街道"]
    # A street object takes a street, not the district.
    bad = send(manage, "post", f"{BASE}/objects",
               {"code": "S9", "name": "x", "kind": "street", "parent": city["id"],
                "area": mini.district.pk})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "area"
    orphan = send(manage, "post", f"{BASE}/objects", {"code": "S8", "name": "x", "kind": "street"})
    assert orphan.status_code == 400 and orphan.json()["error"]["field"] == "parent"
    duplicate = send(manage, "post", f"{BASE}/objects", {"code": "C1", "name": "y", "kind": "city"})
    assert duplicate.status_code == 409

    # A scorer working in street 乙 sees the city (its district holds 乙) and 乙 only.
    scorer = make_person("eval-scorer", permissions=[perms.EVALUATION_SCORE],
                         areas=[mini.streets[1]])  # fmt: skip
    seen = send(client_of(scorer), "get", f"{BASE}/objects").json()
    assert sorted(o["code"] for o in seen["items"]) == ["C1", "S1"]
    assert send(client_of(scorer), "get", f"{BASE}/objects/{streets[0]['id']}").status_code == 404
    # ... and may not write.
    refused = send(client_of(scorer), "post", f"{BASE}/objects", {"code": "Z", "name": "z",
                                                                  "kind": "city"})  # fmt: skip
    assert refused.status_code == 403
    assert send(client_of(scorer), "delete", f"{BASE}/objects/{city['id']}").status_code == 403
    # Anonymous callers and people without evaluation permissions read nothing.
    from django.test import Client

    assert send(Client(), "get", f"{BASE}/objects").status_code == 401
    nobody = make_person("eval-nobody", permissions=[perms.CASES_READ], areas=[mini.district])
    assert send(client_of(nobody), "get", f"{BASE}/indicators").status_code == 403
    # Deleting the city while its streets refer to it is a conflict.
    assert send(manage, "delete", f"{BASE}/objects/{city['id']}").status_code == 409


def test_the_indicator_tree_and_its_rules(manage):
    clean = create(manage, "indicators", {"code": "A", "short_name": "干净", "full_score": 40})
    roads = create(manage, "indicators", {"code": "A1", "short_name": "道路保洁",
                                           "parent": clean["id"]})  # fmt: skip
    rate = create(manage, "indicators", {"code": "A1.1", "short_name": "机扫率",
                                          "parent": roads["id"], "method": "platform",
                                          "full_score": 10, "reference_value": 90})  # fmt: skip
    assert (clean["level"], roads["level"], rate["level"]) == (1, 2, 3)
    too_deep = send(manage, "post", f"{BASE}/indicators",
                    {"code": "A1.1.1", "short_name": "x", "parent": rate["id"]})  # fmt: skip
    assert too_deep.status_code == 400 and too_deep.json()["error"]["field"] == "parent"
    loop = send(manage, "patch", f"{BASE}/indicators/{clean['id']}", {"parent": roads["id"]})
    assert loop.status_code == 400

    create(manage, "data-items", {"code": "road_area", "name": "道路面积", "unit": "m²"})
    create(manage, "data-items", {"code": "swept_area", "name": "机扫面积", "unit": "m²"})
    bad_code = send(manage, "post", f"{BASE}/data-items", {"code": "Road Area", "name": "x"})
    assert bad_code.status_code == 400 and bad_code.json()["error"]["field"] == "code"
    function_name = send(manage, "post", f"{BASE}/data-items", {"code": "max", "name": "x"})
    assert function_name.status_code == 400

    rule = create(manage, "calculation-rules", {"indicator": rate["id"],
                                                "formula": "swept_area / road_area * 100"})  # fmt: skip
    assert rule["items"] == ["road_area", "swept_area"]
    for formula, says in [
        ("road_area.__class__", "attribute access"),
        ("__import__('os')", "calling __import__"),
        ("population / road_area", "unknown data item 'population'"),
        ("[x for x in road_area]", "comprehension"),
        ("road_area ** 1000", "exponent"),
    ]:
        refused = send(manage, "patch", f"{BASE}/calculation-rules/{rule['id']}",
                       {"formula": formula})  # fmt: skip
        assert refused.status_code == 400, formula
        assert refused.json()["error"]["field"] == "formula"
        assert says in refused.json()["error"]["message"]

    create(manage, "interval-rules", {"indicator": rate["id"], "lower": 0, "upper": 90,
                                      "step": 1, "deduction": 0.5, "start": "upper"})  # fmt: skip
    inverted = send(manage, "post", f"{BASE}/interval-rules",
                    {"indicator": rate["id"], "lower": 5, "upper": 1, "deduction": 1})  # fmt: skip
    assert inverted.status_code == 400 and inverted.json()["error"]["field"] == "upper"
    unbounded = send(manage, "post", f"{BASE}/interval-rules",
                     {"indicator": rate["id"], "deduction": 1})  # fmt: skip
    assert unbounded.status_code == 400
    wrong_type = send(manage, "post", f"{BASE}/interval-rules",
                      {"indicator": rate["id"], "lower": "5", "deduction": 1})  # fmt: skip
    assert wrong_type.status_code == 400 and wrong_type.json()["error"]["field"] == "lower"
    create(manage, "logical-rules", {"indicator": rate["id"], "kind": "better_than_last_year",
                                     "deduction": 2})  # fmt: skip

    create(manage, "sample-types", {"code": "road", "name": "主次干道", "shape": "line",
                                    "attributes": ["等级"]})  # fmt: skip
    types = send(manage, "get", f"{BASE}/sample-types").json()["items"]
    # A check item belongs to a field-inspected indicator.
    not_field = send(manage, "post", f"{BASE}/check-items",
                     {"indicator": rate["id"], "sample_type": types[0]["id"], "name": "x",
                      "mode": "once", "deduction": 1})  # fmt: skip
    assert not_field.status_code == 400 and not_field.json()["error"]["field"] == "indicator"

    tree = send(manage, "get", "/api/v1/evaluation/indicators/tree").json()["tree"]
    assert [n["code"] for n in tree] == ["A"]
    assert tree[0]["children"][0]["children"][0]["short_name"] == "机扫率"
    assert send(manage, "get", f"{BASE}/nonsense").status_code == 404
