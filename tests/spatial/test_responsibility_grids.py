"""Responsibility grids (责任网格) made from unit grids through /api/v1/responsibility-grids:
the union as the shape, the code by the rule, one street, unit grids moved only when asked and
never emptying a grid, nothing half-saved, and every grid changed readable as it was on a date.

The small city (tests/spatial/conftest.py): 0.01° cells, community C1 = the four south-west
cells (i < 2, j < 2) held by one responsibility grid, C2 the four north-west, C3 the east half.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import permissions as perms
from spatial.models import ResponsibilityGrid, ResponsibilityGridVersion
from tests import factories

URL = "/api/v1/responsibility-grids"


@pytest.fixture
def gis(small_city) -> Client:
    person = factories.make_person(
        "grid-admin", permissions=[perms.LAYERS_EDIT], areas=[small_city.district], all_layers=True
    )
    client = Client()
    client.force_login(person.user)
    return client


def post(client: Client, body: dict):
    return client.post(URL, json.dumps(body), content_type="application/json")


def codes(city, cells) -> list[str]:
    return [city.cells[c].code for c in cells]


def locate(client: Client, lon: float, lat: float) -> dict:
    answer = client.get(f"/api/v1/locate?lon={lon}&lat={lat}")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_a_grid_from_unit_grids_is_their_union_coded_by_the_rule_and_located(small_city, gis):
    c1_grid = small_city.resp["C1"]
    assert c1_grid.unit_grids.count() == 4
    taken = codes(small_city, [(0, 0), (1, 0)])  # the two southern cells of C1
    body = {"name": "南一责任网格", "unit_grids": taken}

    grids_before = ResponsibilityGrid.objects.count()
    refused = post(gis, body)
    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["field"] == "unit_grids"
    assert c1_grid.code in refused.json()["error"]["message"]
    assert ResponsibilityGrid.objects.count() == grids_before  # nothing half-saved

    before = dt.datetime.now(dt.timezone.utc)
    made = post(gis, {**body, "move": True})
    assert made.status_code == 201, made.content
    grid = made.json()
    community = small_city.communities["C1"].code
    assert grid["code"] == f"{community}R01"
    assert grid["street"] == small_city.streets["S1"].code
    assert sorted(grid["unit_grids"]) == sorted(taken)
    assert grid["parts"] == 1
    # Two 0.01° cells at 31.2°N: 2 x 1,113 m x 952 m ≈ 2.12 km² (hand-worked, ± 1%).
    assert grid["area_m2"] == pytest.approx(2.12e6, rel=0.01)
    assert grid["geometry"]["type"] == "MultiPolygon"

    placed = locate(gis, 121.405, 31.205)
    assert placed["placement"]["responsibility_grid"]["code"] == grid["code"]
    assert locate(gis, 121.405, 31.215)["placement"]["responsibility_grid"]["code"] == c1_grid.code
    c1_grid.refresh_from_db()
    assert sorted(c1_grid.unit_grids.values_list("code", flat=True)) == sorted(
        codes(small_city, [(0, 1), (1, 1)])
    )

    # C1's grid as it was before the move, and now; its history says what happened.
    then = gis.get(f"{URL}/{c1_grid.code}", {"on": before.isoformat()}).json()
    assert sorted(then["unit_grids"]) == sorted(codes(small_city, [(0, 0), (1, 0), (0, 1), (1, 1)]))
    now = gis.get(f"{URL}/{c1_grid.code}").json()
    assert len(now["unit_grids"]) == 2
    versions = gis.get(f"{URL}/{c1_grid.code}/history").json()["versions"]
    assert [v["change"] for v in versions] == ["before", "lost"]
    assert versions[1]["changed_by"] == "grid-admin"
    # The new grid did not exist before it was made.
    early = gis.get(f"{URL}/{grid['code']}", {"on": before.isoformat()})
    assert early.status_code == 404 and early.json()["error"]["field"] == "on"

    second = post(
        gis, {"name": "北一责任网格", "unit_grids": codes(small_city, [(0, 1)]), "move": True}
    )
    assert second.status_code == 201 and second.json()["code"] == f"{community}R02"


def test_an_edit_renames_and_regroups_and_keeps_the_old_version(small_city, gis):
    made = post(
        gis, {"name": "甲", "unit_grids": codes(small_city, [(2, 0), (3, 0)]), "move": True}
    ).json()
    edited = gis.patch(
        f"{URL}/{made['code']}",
        json.dumps(
            {"name": "乙", "unit_grids": codes(small_city, [(2, 0), (3, 0), (2, 1)]), "move": True}
        ),
        content_type="application/json",
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["name"] == "乙" and len(edited.json()["unit_grids"]) == 3
    versions = ResponsibilityGridVersion.objects.filter(code=made["code"]).order_by("pk")
    assert [(v.name, len(v.unit_grid_codes), v.valid_to is None) for v in versions] == [
        ("甲", 2, False),
        ("乙", 3, True),
    ]


@pytest.mark.parametrize(
    "cells, extra, status, says",
    [
        ([], {}, 400, "at least one"),
        ([(1, 0), (2, 0)], {"move": True}, 400, "streets"),  # S1 and S2
        ([(0, 0), (1, 0), (0, 1), (1, 1)], {"move": True}, 409, "no unit grid"),  # empties C1's
        ([(0, 0), (0, 0)], {"move": True}, 400, "twice"),
    ],
)
def test_bad_sets_are_refused_next_to_the_field_and_change_nothing(
    small_city, gis, cells, extra, status, says
):
    before = sorted(
        ResponsibilityGrid.objects.values_list("code", "unit_grids__code").order_by("code")
    )
    versions = ResponsibilityGridVersion.objects.count()
    answer = post(gis, {"name": "坏", "unit_grids": codes(small_city, cells), **extra})
    assert answer.status_code == status, answer.content
    error = answer.json()["error"]
    assert error["field"] == "unit_grids" and says in error["message"], error
    after = sorted(
        ResponsibilityGrid.objects.values_list("code", "unit_grids__code").order_by("code")
    )
    assert after == before
    assert ResponsibilityGridVersion.objects.count() == versions


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "unit_grids": ["31010400100199"]}, "unit_grids"),  # no such grid
        ({"name": "x", "unit_grids": "31010400100101"}, "unit_grids"),
        ({"name": "", "unit_grids": []}, "name"),
        ({"name": 5, "unit_grids": []}, "name"),
        ({"unit_grids": []}, "name"),
        ({"name": "x", "unit_grids": [1]}, "unit_grids"),
        ({"name": "x", "unit_grids": [None]}, "unit_grids"),
        ({"name": "x", "unit_grids": [f"3101040010{n:04d}" for n in range(501)]}, "unit_grids"),
        ({"name": "x" * 65, "unit_grids": ["31010400100101"]}, "name"),
        ({"name": "x", "unit_grids": ["31010400100101"], "move": "yes"}, "move"),
    ],
)
def test_malformed_bodies_name_their_field(small_city, gis, body, field):
    answer = post(gis, body)
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["field"] == field


def test_only_gis_editors_inside_their_area_write(small_city):
    reader = factories.make_person("grid-reader", areas=[small_city.district], all_layers=True)
    client = Client()
    client.force_login(reader.user)
    body = {"name": "x", "unit_grids": codes(small_city, [(2, 0)]), "move": True}
    assert post(client, body).status_code == 403
    elsewhere = factories.make_person(
        "grid-admin-s2",
        permissions=[perms.LAYERS_EDIT],
        areas=[small_city.streets["S2"]],
        all_layers=True,
    )
    client.force_login(elsewhere.user)
    answer = post(client, {**body, "unit_grids": codes(small_city, [(0, 0)])})  # in S1
    assert answer.status_code == 400 and "in your area" in answer.json()["error"]["message"]
    anonymous = Client().get(f"{URL}?street={small_city.streets['S1'].code}")
    assert anonymous.status_code == 401


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    picked=st.sets(
        st.sampled_from([(2, j) for j in range(4)] + [(3, j) for j in range(4)]),
        min_size=1,
        max_size=7,
    )
)
def test_moving_any_part_of_a_grid_keeps_the_whole(small_city, gis, picked):
    """Whatever unit grids of C3 move to a new grid, the two grids split C3's area exactly."""
    from django.db import transaction

    c3 = ResponsibilityGrid.objects.get(pk=small_city.resp["C3"].pk)  # as stored, each example
    assert c3.unit_grids.count() == 8
    whole = c3.geom.transform(3857, clone=True).area
    try:
        with transaction.atomic():
            made = post(
                gis, {"name": "新", "unit_grids": codes(small_city, sorted(picked)), "move": True}
            )
            assert made.status_code == 201, made.content
            new = ResponsibilityGrid.objects.get(code=made.json()["code"])
            c3.refresh_from_db()
            moved = new.geom.transform(3857, clone=True).area
            left = c3.geom.transform(3857, clone=True).area
            cells = sum(small_city.cells[c].geom.transform(3857, clone=True).area for c in picked)
            assert moved == pytest.approx(cells, rel=1e-9)
            assert moved + left == pytest.approx(whole, rel=1e-9)
            assert not new.geom.intersection(c3.geom).area > 1e-12
            raise _Undo
    except _Undo:
        pass


class _Undo(Exception):
    """Rolls one hypothesis example back."""


def test_reading_a_grid_names_bad_dates_and_unknown_codes(small_city, gis):
    code = small_city.resp["C1"].code
    bad = gis.get(f"{URL}/{code}", {"on": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "on"
    assert gis.get(f"{URL}/no-such-grid").status_code == 404
    assert gis.get(f"{URL}/no-such-grid/history").status_code == 404
    missing = gis.patch(f"{URL}/no-such-grid", "{}", content_type="application/json")
    assert missing.status_code == 404
    assert gis.get(URL).status_code == 400  # neither street nor unit_grid
    listed = gis.get(URL, {"street": small_city.streets["S1"].code}).json()["grids"]
    assert sorted(g["code"] for g in listed) == sorted(
        small_city.resp[k].code for k in ("C1", "C2")
    )
