"""One layer source: the same property filter gives the same rows through OGC API items,
identify, export (GeoJSON) and decoded vector tiles, for a system admin and for a street
inspector (whose rows are those of the street)."""

from __future__ import annotations

import json
import shutil

import pytest
from django.db import connection

from accounts.scoping import scope_for_user
from spatial.layers import export as export_service
from spatial.layers import identify as identify_service
from spatial.layers.source import Filters
from spatial.models import Component, Layer
from tests.tiles.conftest import LAT0, LON0, TOWN_CENTRE, decode, make_user, tile_of

DAMAGED = {"status": "damaged"}


@pytest.fixture
def people(town):
    """Gives {"admin": user, "inspector": user of street A} and lets the component tiles carry
    features (not clusters) at every zoom, so one z12 tile holds the whole town."""
    from tiles.models import LayerTiling

    components = Layer.objects.get(key="components")
    LayerTiling.objects.filter(layer=components).update(cluster_below_zoom=0)
    street_a = town["streets"][0]
    return {
        "admin": make_user("one-source-admin", superuser=True),
        "inspector": make_user("one-source-inspector", layers=[components], areas=[street_a]),
    }


def ogc_ids(client) -> set[int]:
    response = client.get("/ogc/collections/components/items", {**DAMAGED, "limit": 10000})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["numberMatched"] == body["numberReturned"]
    assert {f["properties"]["status"] for f in body["features"]} <= {"damaged"}
    return {f["id"] for f in body["features"]}


def tile_ids(client) -> set[int]:
    z, x, y = tile_of(LON0, LAT0, 12)
    assert tile_of(LON0 + 0.04, LAT0 + 0.02, 12) == (z, x, y)  # the whole town in one tile
    response = client.get(f"/tiles/components/{z}/{x}/{y}.mvt", DAMAGED)
    assert response.status_code == 200, response.content
    features = decode(response.content)["components"]
    assert {f["properties"]["status"] for f in features} == {"damaged"}
    return {f["id"] for f in features}


def export_ids(scope) -> set[int]:
    layer = Layer.objects.get(key="components")
    path, _, _ = export_service.export_layer(
        layer, scope, "geojson", None, Filters(properties=DAMAGED)
    )
    try:
        body = json.loads(path.read_text())
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    return {f["properties"]["fid"] for f in body["features"]}


def identify_ids(scope, lon: float, lat: float) -> tuple[set[int], float]:
    found = identify_service.identify(
        scope, lon, lat, ["components"], 60, 14, filters=Filters(properties=DAMAGED)
    )
    assert {f["properties"]["status"] for f in found["features"]} <= {"damaged"}
    return {f["id"] for f in found["features"]}, found["tolerance_m"]


def within(ids: set[int], lon: float, lat: float, metres: float) -> set[int]:
    """Gives the ids among `ids` within `metres` of lon/lat, by direct SQL on the spheroid."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id FROM spatial_component WHERE id = ANY(%s) AND ST_DWithin(geom::geography,"
            " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)",
            [sorted(ids), lon, lat, metres],
        )
        return {row[0] for row in cur.fetchall()}


@pytest.mark.parametrize("who", ["admin", "inspector"])
def test_a_property_filter_gives_the_same_rows_everywhere(client, town, people, who):
    user = people[who]
    client.force_login(user)
    scope = scope_for_user(user)

    rows = ogc_ids(client)
    assert export_ids(scope) == rows
    # The tile holds the town and whatever else of the test database falls in it (a demo city
    # other tests leave behind); compared on the town's components.
    in_town = set(Component.objects.filter(code__startswith="110199").values_list("id", flat=True))
    assert rows & in_town, "the town has damaged components"
    assert tile_ids(client) & in_town == rows & in_town
    # Identify answers a click: the damaged components near it, at most 20 per layer.
    street_a = town["streets"][0].geom
    lon, lat = street_a.centroid.x, street_a.centroid.y
    near, metres = identify_ids(scope, lon, lat)
    assert near and len(near) < identify_service.PER_LAYER
    assert near == within(rows, lon, lat, metres)


def test_the_inspector_sees_the_street_and_the_admin_the_town(client, town, people):
    seen = {}
    for who, user in people.items():
        client.force_login(user)
        seen[who] = ogc_ids(client)
    assert 0 < len(seen["inspector"]) < len(seen["admin"])
    assert seen["inspector"] < seen["admin"]
    # A click in street B finds nothing for the street A inspector, damaged components for admin.
    lon, lat = TOWN_CENTRE[0] + 0.015, TOWN_CENTRE[1]
    mine, _ = identify_ids(scope_for_user(people["inspector"]), lon, lat)
    theirs, _ = identify_ids(scope_for_user(people["admin"]), lon, lat)
    assert not mine and theirs
