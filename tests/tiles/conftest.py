"""Tile test fixtures: a small hand-made town (two streets, grids, roads, components), users
with different scopes, a tile decoder and direct-SQL counters over a tile's envelope."""

from __future__ import annotations

import random

import mapbox_vector_tile
import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon
from django.core.cache import cache
from django.db import connection

from tiles.sql import tile_bounds

# The town spans 0.04° x 0.02° east of the city centre's meridian: street A west, street B east.
LON0, LAT0 = 116.30, 39.95
WIDTH, HEIGHT = 0.04, 0.02


def box(minx: float, miny: float, maxx: float, maxy: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((minx, miny, maxx, maxy)), srid=4326)


@pytest.fixture(autouse=True)
def _fresh_tile_cache():
    """Drops this test database's tile keys: rolled-back tests reuse layer version numbers."""
    client = cache._cache.get_client()  # django's RedisCache
    assert settings.CACHES["default"]["KEY_PREFIX"] in cache.make_key("tile:*")
    for pattern in ("tile:*", "tiles:*"):
        for key in client.scan_iter(cache.make_key(pattern)):
            client.delete(key)
    yield


@pytest.fixture
def town(db):
    """Gives a small town: 1 district, streets A (west) and B (east), 8x4 unit grids per street,
    a road grid, and 1,500 components (points) scattered with a fixed seed."""
    from data.models import Category
    from spatial.models import AdminArea, Component, RoadSegment, UnitGrid

    district = AdminArea.objects.create(
        code="110199",
        name="测试区",
        level="district",
        geom=box(LON0, LAT0, LON0 + WIDTH, LAT0 + HEIGHT),
    )
    half = WIDTH / 2
    streets = [
        AdminArea.objects.create(
            code=f"110199{i + 1:03d}",
            name=name,
            level="street",
            parent=district,
            geom=box(LON0 + i * half, LAT0, LON0 + (i + 1) * half, LAT0 + HEIGHT),
        )
        for i, name in enumerate(["甲街道", "乙街道"])
    ]
    communities = [
        AdminArea.objects.create(
            code=f"{s.code}001", name=f"{s.name}社区", level="community", parent=s, geom=s.geom
        )
        for s in streets
    ]
    grids = []
    for ci, community in enumerate(communities):
        for gx in range(8):
            for gy in range(4):
                minx = LON0 + ci * half + gx * half / 8
                miny = LAT0 + gy * HEIGHT / 4
                grids.append(
                    UnitGrid(
                        code=f"{community.code}{gx * 4 + gy:02d}",
                        community=community,
                        area_m2=1e4,
                        geom=box(minx, miny, minx + half / 8, miny + HEIGHT / 4),
                    )
                )
    UnitGrid.objects.bulk_create(grids)
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
    return {"district": district, "streets": streets, "communities": communities}


def make_user(username: str, *, superuser: bool = False, layers=(), areas=()):
    """Gives a signed-in-able user; with `layers`, a Person whose position grants them in
    `areas` (admin areas)."""
    from django.contrib.auth import get_user_model

    from accounts.areas import set_person_areas
    from accounts.models import Person, Position

    User = get_user_model()
    user = User.objects.create_user(
        username, password="x-Tiles-2026!", is_superuser=superuser, is_staff=superuser
    )
    if layers or areas:
        position = Position.objects.create(key=f"pos-{username}", name=f"岗位{username}")
        position.layers.set(layers)
        person = Person.objects.create(user=user, name=username)
        person.positions.add(position)
        set_person_areas(person, admin_areas=areas)
    return user


def decode(data: bytes) -> dict:
    """Gives {layer name: [features]} of an MVT (y axis down, as in the tile)."""
    if not data:
        return {}
    tile = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    return {name: layer["features"] for name, layer in tile.items()}


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
    """Gives the z/x/y of the tile holding lon/lat."""
    from tiles.tasks import _tile_x, _tile_y

    return z, _tile_x(lon, z), _tile_y(lat, z)


TOWN_CENTRE = (LON0 + WIDTH / 2, LAT0 + HEIGHT / 2)
