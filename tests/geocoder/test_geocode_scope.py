"""Geocoding follows the caller's scope: a component code is found only by callers who may read
the components layer where the component lies; reverse names road segments only while the
roads layer shows; Nominatim place ids name their source row the same way in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.gis.geos import LineString
from django.test import Client

from accounts.models import Position
from accounts.services import create_person
from geocoder.match import Candidate
from geocoder.nominatim import place_id
from spatial.models import Layer, RoadSegment, UnitGrid

ROOT = Path(__file__).resolve().parents[2]
CODE = "1101990101000001"  # the fixture's component, in 榆树街道 (the west street)


def inspector(username: str, street) -> Client:
    position, _ = Position.objects.update_or_create(
        key=f"pos-{username}",
        defaults={"name": username, "permissions": ["cases.read"], "all_layers": True},
    )
    someone = create_person(username, None, positions=[position], admin_areas=[street])
    client = Client()
    client.force_login(someone.user)
    return client


def found(client: Client, q: str) -> list[dict]:
    response = client.get("/api/v1/geocode", {"q": q})
    assert response.status_code == 200
    return response.json()["results"]


def nominatim(client: Client, q: str) -> list[dict]:
    response = client.get("/nominatim/search", {"q": q, "format": "jsonv2"})
    assert response.status_code == 200
    return response.json()


def test_anonymous_callers_find_no_component_by_code(client, small_city):
    assert found(client, CODE) == []
    assert nominatim(client, CODE) == []


def test_street_inspector_finds_components_of_its_street_only(small_city):
    west = inspector("inspector-west", small_city.west)
    [hit] = found(west, CODE)
    assert hit["match_level"] == "component" and hit["parts"]["code"] == CODE
    assert hit["placement"]["street"]["name"] == "榆树街道"
    assert [p["type"] for p in nominatim(west, CODE)] == ["component"]
    east = inspector("inspector-east", small_city.east)
    assert found(east, CODE) == [] and nominatim(east, CODE) == []


def test_a_public_components_layer_shows_to_everyone(client, small_city):
    Layer.objects.filter(key="components").update(public=True)
    assert [c["match_level"] for c in found(client, CODE)] == ["component"]


def test_unit_grid_codes_follow_their_layer(client, small_city):
    code = UnitGrid.objects.get(community=small_city.south).code
    assert [c["match_level"] for c in found(client, code)] == ["grid"]
    Layer.objects.filter(key="unit_grids").update(public=False)
    assert found(client, code) == []


def test_admin_areas_follow_their_layers(client, small_city):
    assert [c["match_level"] for c in found(client, "榆树街道")][:1] == ["area"]
    Layer.objects.filter(key="streets").update(public=False)
    assert all(c["match_level"] != "area" for c in found(client, "榆树街道"))


def test_anonymous_address_placements_hold_no_hidden_parts(client, small_city):
    Layer.objects.filter(key="components").update(public=True)  # not a placement part
    [hit] = found(client, "枫杨路7号")[:1]
    placement = hit["placement"]
    assert placement["street"]["name"] == "榆树街道"
    assert placement["responsibility_grid"] is None and placement["timing_zone"] is None
    assert placement["controlled_areas"] == []


def test_reverse_names_a_segment_only_while_roads_show(client, small_city):
    RoadSegment.objects.create(
        name="无名支路",
        road_class="alley",
        geom=LineString((116.3005, 39.9850), (116.3015, 39.9850), srid=4326),
    )
    point = {"lon": 116.3010, "lat": 39.9851}
    assert client.get("/api/v1/reverse", point).json()["parts"].get("road") == "无名支路"
    Layer.objects.filter(key="roads").update(public=False)
    body = client.get("/api/v1/reverse", point).json()
    assert body["parts"].get("road") != "无名支路" and body["placement"]["road"] is None
    assert client.get("/nominatim/reverse", point).json().get("name") != "无名支路"


def test_search_and_reverse_give_one_place_the_same_id(client, small_city):
    door = small_city.doors[11]
    [hit] = nominatim(client, "枫杨路11号")[:1]
    back = client.get("/nominatim/reverse", {"lon": door.geom.x, "lat": door.geom.y}).json()
    assert hit["place_id"] == back["place_id"] == place_id("door", door.pk)
    assert hit["osm_id"] == hit["place_id"]


def test_place_ids_name_table_and_row_and_never_collide():
    assert place_id("door", 7) != place_id("building", 7) != place_id("component", 7)
    assert place_id("road", 5) == place_id("road", 5) and place_id("road", 5) % 16 == 3
    assert place_id("courtyard", 9) == place_id("door", 9)  # both are rows of the doors table
    derived = place_id("road", 5, "area:2")
    assert derived % 16 == 15 and derived != place_id("road", 5, "area:3")
    assert max(derived, place_id("component", 10**12)) < 2**53


PROBE = """
import json, os
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
django.setup()
from geocoder.match import Candidate
from geocoder.nominatim import _ident
cands = [
    Candidate("枫杨路7号", "door", 1, 1.0, 116.3, 39.97, ref=("door", 41)),
    Candidate("枫杨路", "road", 1, 0.9, 116.3, 39.97, ref=("road", 3), variant="area:12"),
    Candidate("枫杨路6号", "interpolated", 1, 0.9, 116.3, 39.97, ref=("road", 3),
              variant="number:6"),
]
print(json.dumps({"ids": [_ident(c) for c in cands], "hash": hash(("door", "x"))}))
"""


def _probe(seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("seeds", [("1", "2")])
def test_place_ids_are_the_same_in_every_process(seeds):
    first, second = (_probe(seed) for seed in seeds)
    assert first["hash"] != second["hash"]  # the processes really salt hash() differently
    assert first["ids"] == second["ids"]
    here = Candidate("枫杨路7号", "door", 1, 1.0, 116.3, 39.97, ref=("door", 41))
    assert first["ids"][0] == place_id("door", 41) == place_id(*here.ref)
