"""The geocoder on the demo city: every kind of address the generator wrote comes back."""

import random

import pytest
from django.db import connection

from geocoder.match import geocode
from geocoder.reverse import reverse
from tests.reference import metres

pytestmark = pytest.mark.django_db


def sample(sql, k=25):
    with connection.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    return random.Random(3).sample(rows, min(k, len(rows)))


def test_doors_come_back_from_their_address_and_their_point(city):
    rows = sample(
        "SELECT r.name, d.number, ST_X(d.geom), ST_Y(d.geom) FROM geocoder_dooraddress d"
        " JOIN geocoder_road r ON r.id = d.road_id WHERE d.suffix = ''"
    )
    assert rows
    for road, number, lon, lat in rows:
        _, cands = geocode(f"{road}{number}号")
        assert cands and cands[0].match_level == "door"
        assert metres(cands[0].lon, cands[0].lat, lon, lat) < 1
        back = reverse(lon + 0.000005, lat)
        assert back.address is not None


def test_organizations_and_compound_buildings_come_back(city):
    organizations = sample(
        "SELECT name, ST_X(geom), ST_Y(geom) FROM geocoder_organization WHERE kind = 'organization'"
    )
    assert organizations
    for name, lon, lat in organizations:
        _, cands = geocode(name)
        assert metres(cands[0].lon, cands[0].lat, lon, lat) < 30, name
    buildings = sample(
        "SELECT c.name, b.number, ST_X(b.geom), ST_Y(b.geom) FROM geocoder_building b"
        " JOIN geocoder_compound c ON c.id = b.compound_id"
    )
    assert buildings
    for name, number, lon, lat in buildings:
        _, cands = geocode(f"{name}{number}号楼")
        assert cands[0].match_level == "building"
        assert metres(cands[0].lon, cands[0].lat, lon, lat) < 1


def test_grid_and_component_codes_come_back(city):
    grids = sample("SELECT code FROM spatial_unitgrid", 5)
    assert len(grids) == 5
    for (code,) in grids:
        _, cands = geocode(code)
        assert cands[0].match_level == "grid" and cands[0].parts["code"] == code
    components = sample("SELECT code FROM spatial_component", 5)
    assert len(components) == 5
    for (code,) in components:
        _, cands = geocode(code)
        assert cands[0].match_level == "component" and cands[0].parts["code"] == code
