"""Tile test fixtures: a small hand-made town (two streets, grids, roads, components), users
with different scopes, a tile decoder and direct-SQL counters over a tile's envelope."""

from __future__ import annotations

import math
import random

import mapbox_vector_tile
import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString, Point
from django.core.cache import cache
from django.db import connection

from tests import factories

# The town spans 0.04° x 0.02° east of the city centre's meridian: street A west, street B east.
LON0, LAT0 = 116.30, 39.95
WIDTH, HEIGHT = 0.04, 0.02


@pytest.fixture(autouse=True)
def _fresh_tile_cache():
    """Drops this test database's tile keys and this process's tile registry: rolled-back tests
    reuse layer version numbers (and area cell versions)."""
    from tiles import service

    service._registry.clear()
    client = cache._cache.get_client()  # django's RedisCache
    assert settings.CACHES["default"]["KEY_PREFIX"] in cache.make_key("tile:*")
    for pattern in ("tile:*", "tiles:*"):
        for key in client.scan_iter(cache.make_key(pattern)):
            client.delete(key)
    yield


@pytest.fixture
def town(db):
    """Gives a small town: 1 district, streets A (west) and B (east) with one community each,
    8x4 unit grids per street, a road grid, and 1,500 components (points) scattered with a fixed
    seed."""
    from data.models import Category
    from spatial.models import Component, RoadSegment

    city = factories.make_city(
        "110199", origin=(LON0, LAT0), size=(WIDTH, HEIGHT), cells=(16, 4), grid_area_m2=1e4
    )
    roads = [
        RoadSegment(
            name=f"东西路{i}",
            road_class="main",
            geom=LineString(
                (LON0, LAT0 + i * HEIGHT / 5), (LON0 + WIDTH, LAT0 + i * HEIGHT / 5), srid=4326
            ),
        )
        for i in range(6)
    ] + [
        RoadSegment(
            name=f"南北路{i}",
            road_class="branch",
            geom=LineString(
                (LON0 + i * WIDTH / 8, LAT0), (LON0 + i * WIDTH / 8, LAT0 + HEIGHT), srid=4326
            ),
        )
        for i in range(9)
    ]
    RoadSegment.objects.bulk_create(roads)
    minors = list(Category.objects.filter(kind="component", parent__isnull=False)[:6])
    rng = random.Random(7)
    statuses = ["normal", "normal", "normal", "damaged", "missing"]
    components = []
    for n in range(1500):
        cat = minors[n % len(minors)]
        lon = LON0 + rng.random() * WIDTH
        lat = LAT0 + rng.random() * HEIGHT
        components.append(
            Component(
                code=f"110199{cat.code}{n:06d}",
                category=cat,
                name=f"部件{n}",
                geom=Point(lon, lat, srid=4326),
                status=statuses[n % len(statuses)],
                owner_department="城管委",
            )
        )
    Component.objects.bulk_create(components)
    return {"district": city.district, "streets": city.streets, "communities": city.communities}


def make_user(username: str, *, superuser: bool = False, layers=(), areas=()):
    """Gives a signed-in-able user whose position grants `layers` in `areas` (admin areas)."""
    person = factories.make_person(
        username,
        layers=layers,
        areas=areas,
        is_superuser=superuser,
        password="x-Tiles-2026!",
        name=username,
    )
    return person.user


def decode(data: bytes) -> dict:
    """Gives {layer name: [features]} of an MVT (y axis down, as in the tile)."""
    if not data:
        return {}
    tile = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    return {name: layer["features"] for name, layer in tile.items()}


# Web Mercator half-width (pi x the WGS84 equatorial radius), for the tile arithmetic below:
# written out here so the expectations do not come from the tile module under test.
WORLD = math.pi * 6378137.0


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Gives the Web Mercator bounds (minx, miny, maxx, maxy) of XYZ tile z/x/y."""
    size = 2 * WORLD / 2**z
    minx, maxy = -WORLD + x * size, WORLD - y * size
    return minx, maxy - size, minx + size, maxy


def count_in_tile(table: str, z: int, x: int, y: int, where: str = "true", params=()) -> int:
    """Gives the features of `table` in tile z/x/y by direct SQL, each counted at the centre of
    its bounding box as the clusters do (a point is its own centre): x in [minx, maxx), y in
    (miny, maxy], so a feature on an edge belongs to one tile."""
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM (SELECT *, (ST_XMin(geom_mercator) + ST_XMax(geom_mercator)) / 2"
            f" AS cx, (ST_YMin(geom_mercator) + ST_YMax(geom_mercator)) / 2 AS cy FROM {table}) t"
            f" WHERE cx >= %s AND cx < %s AND cy > %s AND cy <= %s AND ({where})",
            [minx, maxx, miny, maxy, *params],
        )
        return cur.fetchone()[0]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """Gives the z/x/y of the tile holding lon/lat (the slippy-map formula)."""
    n = 2**z
    x = math.floor((lon + 180.0) / 360.0 * n)
    y = math.floor((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


TOWN_CENTRE = (LON0 + WIDTH / 2, LAT0 + HEIGHT / 2)
