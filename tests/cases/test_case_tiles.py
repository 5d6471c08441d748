"""Cases on the map: /tiles/cases/{z}/{x}/{y}.mvt holds the caller's cases only, filtered as
the case list is, clustered at low zoom with counts that add up, single cases above."""

from __future__ import annotations

import mapbox_vector_tile
import mercantile
import pytest

from cases.models import Case
from tests.cases.scattered import scatter_cases

pytestmark = pytest.mark.django_db

SINGLE_PROPERTIES = {
    "number",
    "state",
    "category_code",
    "category_name",
    "kind",
    "deadline_state",
    "urgent",
}
CLUSTER_PROPERTIES = {"point_count", "state", "deadline_state", "overdue", "warning", "urgent"}


@pytest.fixture
def scattered(org, two_streets):
    return scatter_cases(org, two_streets)


def tiles_over(case_ids, z: int) -> list[mercantile.Tile]:
    """Gives the tiles at zoom z that cover the cases (with a margin of one tile)."""
    points = [c.geom for c in Case.objects.filter(pk__in=case_ids)]
    west, east = min(p.x for p in points), max(p.x for p in points)
    south, north = min(p.y for p in points), max(p.y for p in points)
    found = list(mercantile.tiles(west, south, east, north, z))
    return found


def features(client, tile: mercantile.Tile, **query) -> list[dict]:
    response = client.get(f"/tiles/cases/{tile.z}/{tile.x}/{tile.y}.mvt", query)
    assert response.status_code in (200, 204), response.content
    if response.status_code == 204:
        return []
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert "private" in response["Cache-Control"]
    layers = mapbox_vector_tile.decode(response.content)
    assert set(layers) == {"cases"}
    return layers["cases"]["features"]


def singles(client, case_ids, z: int = 15, **query) -> dict[int, dict]:
    """Gives {case id: properties} of every single case in the tiles over `case_ids`."""
    found = {}
    for tile in tiles_over(case_ids, z):
        for feature in features(client, tile, **query):
            assert set(feature["properties"]) == SINGLE_PROPERTIES, feature
            found[feature["id"]] = feature["properties"]
    return found


def clustered(client, case_ids, z: int = 12, **query) -> list[dict]:
    found = []
    for tile in tiles_over(case_ids, z):
        for feature in features(client, tile, **query):
            assert set(feature["properties"]) == CLUSTER_PROPERTIES, feature
            found.append(feature["properties"])
    return found


def matched(client, **query) -> int:
    response = client.get("/api/v1/cases", {"limit": 1, **query})
    assert response.status_code == 200, response.content
    return response.json()["numberMatched"]


def test_anonymous_callers_get_401_and_no_tile(client, scattered):
    response = client.get("/tiles/cases/12/3372/1550.mvt")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_inspector_sees_only_the_cases_of_their_street(as_user, two_streets, scattered):
    street_a, street_b = two_streets
    everything = scattered.in_a + scattered.in_b
    inspector = as_user(f"inspector-{street_a.code}")
    seen = singles(inspector, everything)
    assert set(seen) == set(scattered.in_a)
    assert set(seen) == {f["id"] for f in inspector.get("/api/v1/cases").json()["features"]}
    other = as_user(f"inspector-{street_b.code}")
    assert set(singles(other, everything)) == set(scattered.in_b)


def test_a_handling_department_sees_only_its_cases(as_user, scattered):
    everything = scattered.in_a + scattered.in_b
    assert set(singles(as_user("dept-huanwei"), everything)) == set(scattered.huanwei)
    assert singles(as_user("dept-shizheng"), everything) == {}


def test_single_cases_carry_their_class_and_state_but_no_reporter(as_user, scattered):
    seen = singles(as_user("acceptor"), scattered.in_a + scattered.in_b)
    assert set(seen) == set(scattered.in_a + scattered.in_b)
    hotline = seen[scattered.hotline]
    case = Case.objects.get(pk=scattered.hotline)
    assert hotline["number"] == case.number
    assert hotline["state"] == "reported" and hotline["kind"] == "event"
    assert hotline["category_code"] == "0102" and hotline["category_name"] == "暴露垃圾"
    assert hotline["urgent"] is False and hotline["deadline_state"] == case.deadline_state
    for handled in scattered.huanwei:
        assert seen[handled]["state"] == "handling"


def test_the_list_filters_apply_to_tiles(as_user, two_streets, scattered):
    everything = scattered.in_a + scattered.in_b
    acceptor = as_user("acceptor")
    assert set(singles(acceptor, everything, category="0103")) == set(scattered.components)
    assert set(singles(acceptor, everything, state="handling")) == set(scattered.huanwei)
    assert set(singles(acceptor, everything, area=two_streets[1].code)) == set(scattered.in_b)
    assert set(singles(acceptor, everything, kind="component", state="handling")) == set()
    assert set(singles(acceptor, everything, q="街道乙")) == set(scattered.in_b)
    bad = acceptor.get("/tiles/cases/16/0/0.mvt", {"state": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "state"


def test_cluster_counts_add_up_to_the_cases_of_the_list(as_user, two_streets, scattered):
    everything = scattered.in_a + scattered.in_b
    acceptor = as_user("acceptor")
    clusters = clustered(acceptor, everything)
    assert sum(c["point_count"] for c in clusters) == matched(acceptor) == len(everything)
    assert (
        sum(c["overdue"] + c["warning"] for c in clusters)
        == Case.objects.filter(deadline_state__in=["overdue", "warning"]).count()
    )
    inspector = as_user(f"inspector-{two_streets[0].code}")
    mine = clustered(inspector, everything)
    assert sum(c["point_count"] for c in mine) == matched(inspector) == len(scattered.in_a)
    handling = clustered(acceptor, everything, state="handling")
    assert sum(c["point_count"] for c in handling) == 3
    assert {c["state"] for c in handling} == {"handling"}


def test_a_tile_without_cases_is_204_and_bad_addresses_are_400(as_user, scattered):
    acceptor = as_user("acceptor")
    assert acceptor.get("/tiles/cases/14/0/0.mvt").status_code == 204
    assert acceptor.get("/tiles/cases/3/9/0.mvt").status_code == 400
    assert acceptor.get("/tiles/cases/99/0/0.mvt").status_code == 400


def test_a_tile_is_revalidated_by_its_etag(as_user, scattered):
    acceptor = as_user("acceptor")
    tile = tiles_over(scattered.in_a, 12)[0]
    url = f"/tiles/cases/{tile.z}/{tile.x}/{tile.y}.mvt"
    first = acceptor.get(url)
    assert first.status_code == 200 and first["Cache-Control"] == "private, no-cache"
    again = acceptor.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    Case.objects.filter(pk=scattered.in_a[0]).update(urgent=True)
    changed = acceptor.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
