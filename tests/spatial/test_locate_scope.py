"""locate and census follow the caller's scope: anonymous callers see public layers only, a
street inspector sees the non-public parts where their street holds the point, still in one
query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Position
from accounts.scoping import ANONYMOUS, scope_for_user
from accounts.services import create_person
from spatial.locate import locate
from spatial.models import Layer

from .conftest import SHANGHAI

HIDDEN = ("responsibility_grids", "timing_zones", "controlled_areas")
WEST = (121.405, 31.205)  # cell (0, 0): street S1, community C1, two controlled areas
EAST = (121.435, 31.235)  # cell (3, 3): street S2, community C3, the season's controlled area
IN_SEASON = dt.datetime(2026, 5, 3, 9, 0, tzinfo=SHANGHAI)  # 节日管控 (EAST) is in force
NIGHT = dt.datetime(2026, 3, 2, 23, 0, tzinfo=SHANGHAI)  # 学校周边 and 夜市 (WEST) in force


def person(username: str, areas, all_layers: bool = True, layers=()):
    position, _ = Position.objects.update_or_create(
        key=f"pos-{username}",
        defaults={"name": username, "permissions": ["cases.read"], "all_layers": all_layers},
    )
    position.layers.set(list(layers))
    return create_person(username, None, positions=[position], admin_areas=areas)


def signed_in(someone) -> Client:
    client = Client()
    client.force_login(someone.user)
    return client


def placement(client: Client, point, at: dt.datetime = NIGHT) -> dict:
    lon, lat = point
    response = client.get("/api/v1/locate", {"lon": lon, "lat": lat, "at": at.isoformat()})
    assert response.status_code == 200
    return response.json()["placement"]


def hidden_parts(p: dict) -> dict:
    return {
        "responsibility_grid": p["responsibility_grid"],
        "timing_zone": p["timing_zone"],
        "controlled_areas": p["controlled_areas"],
    }


NOTHING_HIDDEN = {"responsibility_grid": None, "timing_zone": None, "controlled_areas": []}


@pytest.fixture
def inspector_s1(small_city):
    return person("inspector-s1", [small_city.streets["S1"]])


def test_anonymous_locate_answers_public_parts_only(client, small_city):
    p = placement(client, WEST)
    assert hidden_parts(p) == NOTHING_HIDDEN
    assert p["district"]["code"] == "310104" and p["community"]["name"] == "南社区"
    assert p["unit_grid"] == small_city.cells[(0, 0)].code
    assert set(p) >= {"responsibility_grid", "timing_zone", "controlled_areas", "road"}


def test_public_layers_show_to_anonymous_callers(client, small_city):
    Layer.objects.filter(key__in=HIDDEN).update(public=True)
    p = placement(client, WEST)
    assert p["responsibility_grid"]["code"] == small_city.resp["C1"].code
    assert p["timing_zone"]["name"] == "外围"
    assert sorted(a["name"] for a in p["controlled_areas"]) == ["夜市", "学校周边"]
    assert p["controlled_areas"][0]["reason"] is not None


def test_one_public_layer_shows_alone(client, small_city):
    Layer.objects.filter(key="timing_zones").update(public=True)
    p = placement(client, WEST)
    assert p["timing_zone"]["name"] == "外围"
    assert p["responsibility_grid"] is None and p["controlled_areas"] == []


def test_public_admin_layers_can_be_hidden_too(client, small_city):
    Layer.objects.filter(key__in=["communities", "unit_grids", "roads"]).update(public=False)
    p = placement(client, (121.405, 31.2203))
    assert p["community"] is None and p["unit_grid"] is None and p["road"] is None
    assert p["street"]["code"] == "310104001" and p["district"]["code"] == "310104"


def test_street_inspector_sees_hidden_parts_inside_the_street_only(small_city, inspector_s1):
    client = signed_in(inspector_s1)
    west = placement(client, WEST)
    assert west["responsibility_grid"]["code"] == small_city.resp["C1"].code
    assert west["timing_zone"]["name"] == "外围"
    assert sorted(a["name"] for a in west["controlled_areas"]) == ["夜市", "学校周边"]
    # The east street: its grid touches street S1 and the outer timing zone covers both, but the
    # point is not the inspector's.
    east = placement(client, EAST, IN_SEASON)
    assert hidden_parts(east) == NOTHING_HIDDEN
    assert east["street"]["code"] == "310104002"


def test_the_other_streets_inspector_sees_the_other_side(small_city):
    client = signed_in(person("inspector-s2", [small_city.streets["S2"]]))
    assert hidden_parts(placement(client, WEST)) == NOTHING_HIDDEN
    east = placement(client, EAST, IN_SEASON)
    assert east["responsibility_grid"]["code"] == small_city.resp["C3"].code
    assert [a["name"] for a in east["controlled_areas"]] == ["节日管控"]


def test_grants_of_single_layers_decide(small_city):
    grids = Layer.objects.get(key="responsibility_grids")
    someone = person("grid-only", [small_city.streets["S1"]], all_layers=False, layers=[grids])
    p = locate(*WEST, at=NIGHT, scope=scope_for_user(someone.user))
    assert p.responsibility_grid.code == small_city.resp["C1"].code
    assert p.timing_zone is None and p.controlled_areas == []


def test_system_admin_and_server_work_see_everything(small_city):
    root = create_person("root", None, is_superuser=True)
    for scope in (scope_for_user(root.user), None):
        p = locate(*EAST, at=IN_SEASON, scope=scope)
        assert p.responsibility_grid.code == small_city.resp["C3"].code
        assert p.timing_zone.name == "外围" and [a.name for a in p.controlled_areas] == ["节日管控"]


def test_scoped_locate_is_still_one_query(small_city, inspector_s1):
    for scope in (ANONYMOUS, scope_for_user(inspector_s1.user)):
        locate(*WEST, at=NIGHT, scope=scope)  # prepares this scope's statement on the session
        with CaptureQueriesContext(connection) as queries:
            p = locate(*WEST, at=NIGHT, scope=scope)
        assert len(queries) == 1, [q["sql"] for q in queries]
        assert p.unit_grid == small_city.cells[(0, 0)].code


def test_anonymous_census_leaves_out_non_public_counts(client, small_city):
    body = client.get("/api/v1/stats/census", {"area": "310104"}).json()
    assert body["unit_grids"]["count"] == 16
    assert body["responsibility_grids"] is None and body["components"] is None
    Layer.objects.filter(key="components").update(public=True)
    body = client.get("/api/v1/stats/census", {"area": "310104"}).json()
    assert body["components"]["count"] == 10 and body["responsibility_grids"] is None


def test_inspector_census_counts_what_lies_in_the_street(small_city, inspector_s1):
    body = signed_in(inspector_s1).get("/api/v1/stats/census", {"area": "310104"}).json()
    # Components of the district inside S1: five in cell (0, 0) and one west of the border.
    assert body["components"]["count"] == 6
    assert body["unit_grids"]["count"] == 16  # a public layer: every grid of the district
    assert body["responsibility_grids"]["count"] >= 2
