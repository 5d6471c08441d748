"""locate() and census against the generated demo city (the `city` fixture): the generator's
own grids are the known answers."""

import datetime as dt

import pytest
from django.db import connection

from spatial.census import census
from spatial.locate import locate
from spatial.models import AdminArea, ResponsibilityGrid, UnitGrid

from .test_census import direct_census

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def rows(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def test_random_points_strictly_inside_generated_grids_return_those_grids(city):
    # Up to 300 grids, one seeded random point each, inside the grid shrunk by ~1 cm.
    sample = rows(
        """
        SELECT u.code, c.code, ST_X(p.geom), ST_Y(p.geom)
        FROM (SELECT * FROM spatial_unitgrid ORDER BY md5(id::text) LIMIT 300) u
        JOIN spatial_adminarea c ON c.id = u.community_id,
        LATERAL ST_Dump(ST_GeneratePoints(ST_Buffer(u.geom, -1e-7), 1, 42)) p
        """
    )
    assert len(sample) >= 50
    for grid_code, community_code, lon, lat in sample:
        placement = locate(lon, lat, at=NOON)
        assert placement.unit_grid == grid_code
        assert placement.district is not None and placement.street is not None


def test_point_on_surface_of_every_grid_returns_that_grid(city):
    grids = rows(
        "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
        " FROM spatial_unitgrid ORDER BY id"
    )
    assert len(grids) == UnitGrid.objects.count() > 0
    for grid_code, lon, lat in grids:
        assert locate(lon, lat, at=NOON).unit_grid == grid_code


def test_placement_chain_is_consistent(city):
    points = rows(
        "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
        " FROM spatial_unitgrid ORDER BY md5(id::text) LIMIT 100"
    )
    assert len(points) == min(100, UnitGrid.objects.count()) > 0
    with_community = with_responsibility_grid = 0
    for lon, lat in points:
        placement = locate(lon, lat, at=NOON)
        if placement.community is not None:
            with_community += 1
            assert placement.community.code.startswith(placement.street.code)
        assert placement.street.code.startswith(placement.district.code)
        if placement.responsibility_grid is not None:
            with_responsibility_grid += 1
            grid = ResponsibilityGrid.objects.get(code=placement.responsibility_grid.code)
            assert grid.geom.intersects(UnitGrid.objects.get(code=placement.unit_grid).geom)
    # The conditional checks above ran, not just the unconditional one.
    assert with_community > 0 and with_responsibility_grid > 0


def test_shared_vertices_between_generated_grids_give_one_stable_answer(city):
    # Vertices that lie on the boundary of two or more grids (exactly shared coordinates).
    shared = rows(
        """
        SELECT ST_X(v.geom), ST_Y(v.geom)
        FROM (SELECT * FROM spatial_unitgrid ORDER BY id LIMIT 80) u,
        LATERAL ST_DumpPoints(u.geom) v
        WHERE (SELECT count(*) FROM spatial_unitgrid o WHERE ST_Intersects(o.geom, v.geom)) >= 2
        LIMIT 60
        """
    )
    assert len(shared) >= 10, "the generator's grids share no vertices"
    for lon, lat in shared:
        first = locate(lon, lat, at=NOON)
        assert all(locate(lon, lat, at=NOON) == first for _ in range(3))
        candidates = rows(
            """
            SELECT u.id, u.code, c.code
            FROM spatial_unitgrid u JOIN spatial_adminarea c ON c.id = u.community_id
            WHERE ST_Intersects(u.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
            """,
            {"lon": lon, "lat": lat},
        )
        assert len(candidates) >= 2
        chosen_community = first.community.code if first.community else None
        expected = min(candidates, key=lambda c: (c[2] != chosen_community, c[0]))
        assert first.unit_grid == expected[1]


def test_points_outside_the_generated_city_are_empty(city):
    ((minx, miny, maxx, maxy),) = rows(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
        " FROM (SELECT ST_Extent(geom) e FROM spatial_unitgrid) s"
    )
    for lon, lat in [(minx - 0.05, miny), (maxx + 0.05, maxy), (minx, miny - 0.05)]:
        placement = locate(lon, lat, at=NOON)
        assert placement.unit_grid is None and placement.community is None
        assert placement.road is None


def test_generated_roads_are_found_next_to_them(city):
    midpoints = rows(
        "SELECT name, ST_X(ST_LineInterpolatePoint(geom, 0.5)), ST_Y(ST_LineInterpolatePoint(geom, 0.5))"
        " FROM spatial_roadsegment ORDER BY id LIMIT 30"
    )
    assert midpoints
    for name, lon, lat in midpoints:
        road = locate(lon, lat, at=NOON).road
        assert road is not None and road.distance_m < 0.01


def test_census_of_the_city_and_its_streets_equals_direct_counts(city):
    whole = census(None)
    assert whole["unit_grids"]["count"] == UnitGrid.objects.count() > 0
    streets = list(AdminArea.objects.filter(level="street").order_by("code")[:3])
    assert len(streets) >= 2
    for street in streets:
        grids, resp, comps, by_minor = direct_census(street)
        result = census(street)
        assert result["unit_grids"]["count"] == len(grids) > 0
        assert result["responsibility_grids"]["count"] == len(resp)
        assert result["components"]["count"] == len(comps)
        assert {c["code"]: c["count"] for c in result["components"]["by_minor"]} == by_minor
