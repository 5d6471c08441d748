"""Tile caching: ETag/304, the server cache keyed by layer version and scope, seeding."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.tiles.conftest import TOWN_CENTRE, decode, make_user, tile_of
from tiles import cache as tile_cache


def cached_keys() -> set[str]:
    from django.core.cache import cache

    client = cache._cache.get_client()
    return {k.decode() for k in client.scan_iter(cache.make_key("tile:*"))}


def layer_version(key: str) -> int:
    from spatial.models import Layer

    return Layer.objects.get(key=key).version


def test_conditional_request_is_answered_304_and_edit_changes_the_etag(client, town):
    z, x, y = tile_of(*TOWN_CENTRE, 16)
    url = f"/tiles/unit_grids/{z}/{x}/{y}.mvt"
    first = client.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and "max-age" in first["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    from spatial.models import UnitGrid

    UnitGrid.objects.filter(pk=UnitGrid.objects.first().pk).update(area_m2=1.5)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_an_edited_component_shows_on_the_next_request_and_only_its_layer_rebuilds(client, town):
    from spatial.models import Component

    client.force_login(make_user("cache-admin", superuser=True))
    z, x, y = tile_of(*TOWN_CENTRE, 17)
    comp_url = f"/tiles/components/{z}/{x}/{y}.mvt"
    grid_url = f"/tiles/unit_grids/{z}/{x}/{y}.mvt"
    before = decode(client.get(comp_url).content)["components"]
    grid_etag = client.get(grid_url)["ETag"]
    keys_before = cached_keys()
    assert len(keys_before) == 2
    versions = {k: layer_version(k) for k in ("unit_grids", "roads", "districts")}

    target = Component.objects.get(pk=before[0]["id"])
    target.status = "damaged"
    target.save()

    assert {k: layer_version(k) for k in versions} == versions  # other layers untouched
    after = decode(client.get(comp_url).content)["components"]
    assert next(f for f in after if f["id"] == target.pk)["properties"]["status"] == "damaged"
    # The grid tile is still the cached one: same ETag, no new cache entry for it.
    assert client.get(grid_url, HTTP_IF_NONE_MATCH=grid_etag).status_code == 304
    grid_again = client.get(grid_url)
    assert grid_again["ETag"] == grid_etag
    assert len(cached_keys() - keys_before) == 1  # only the rebuilt component tile


def test_cached_tiles_are_not_served_across_scopes(client, town):
    from spatial.models import Layer

    street_a, street_b = town["streets"]
    components = Layer.objects.get(key="components")
    a = make_user("scope-a", layers=[components], areas=[street_a])
    b = make_user("scope-b", layers=[components], areas=[street_b])
    z, x, y = tile_of(*TOWN_CENTRE, 14)
    url = f"/tiles/components/{z}/{x}/{y}.mvt"
    client.force_login(a)
    tile_a = client.get(url)
    client.force_login(b)
    tile_b = client.get(url, HTTP_IF_NONE_MATCH=tile_a["ETag"])
    assert tile_b.status_code == 200 and tile_b["ETag"] != tile_a["ETag"]
    assert tile_b.content != tile_a.content
    assert tile_b["Cache-Control"].startswith("private")
    client.logout()
    assert client.get(url).status_code == 404  # private: not there for anonymous callers


def test_the_cache_can_be_switched_off(client, town):
    z, x, y = tile_of(*TOWN_CENTRE, 16)
    with override_settings(TILES_CACHE_ENABLED=False):
        client.get(f"/tiles/unit_grids/{z}/{x}/{y}.mvt")
        assert not cached_keys()
        assert tile_cache.get("anything") is None
    client.get(f"/tiles/unit_grids/{z}/{x}/{y}.mvt")
    assert len(cached_keys()) == 1


def test_cached_tile_is_served_without_a_query(client, town, django_assert_max_num_queries):
    z, x, y = tile_of(*TOWN_CENTRE, 16)
    url = f"/tiles/unit_grids,roads/{z}/{x}/{y}.mvt"
    body = client.get(url).content
    with django_assert_max_num_queries(1):  # the registry lookup only
        assert client.get(url).content == body


@pytest.mark.django_db(transaction=True)
def test_seed_job_fills_the_cache_with_progress(celery_worker, client):
    import time

    from accounts.models import OperationLog
    from accounts.scoping import system_scope
    from tiles.actions import do_seed_tiles

    bbox = [116.30, 39.95, 116.34, 39.97]
    # Every tile from z8 to z12 touching the box, counted here from its corner tiles.
    expected = 0
    for z in range(8, 13):
        _, west, north = tile_of(bbox[0], bbox[3], z)
        _, east, south = tile_of(bbox[2], bbox[1], z)
        expected += (east - west + 1) * (south - north + 1)
    job = do_seed_tiles(system_scope("test"), "districts,streets", 8, 12, bbox)
    for _ in range(100):
        job.refresh_from_db()
        if job.state in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert job.state == "succeeded", job.errors
    assert job.rows_done == job.rows_total == expected > 0
    assert job.report["built"] == job.rows_total
    assert len(cached_keys()) == job.rows_total
    # The same through the command line, and its refusals.
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command(
        "seed_tiles",
        "roads",
        zmin=10,
        zmax=11,
        bbox=",".join(map(str, bbox)),
        wait=True,
        stdout=out,
    )
    assert "succeeded" in out.getvalue()
    logged = OperationLog.objects.get(action="tiles.seed", target="roads")
    assert (logged.username, logged.via) == ("system:command:seed_tiles", "command")
    for bad in ({"zmin": 12, "zmax": 10}, {"zmin": 0, "zmax": 30}):
        with pytest.raises(CommandError):
            call_command("seed_tiles", "roads", stdout=StringIO(), **bad)
    with pytest.raises(CommandError, match="no such layer"):
        call_command("seed_tiles", "nope", zmin=1, zmax=2, stdout=StringIO())
