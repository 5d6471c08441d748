"""locate(): known answers in a hand-made district, shared edges, time rules, roads."""

import datetime as dt
import random

import pytest

from spatial.crs import to_wgs84
from spatial.locate import PREPARED_NAME, locate

from tests.factories import ellipsoid_area_m2
from tests.reference import from_wgs84

from .conftest import LAT0, LON0, SHANGHAI, STEP

NOON = dt.datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)


def random_point_in_cell(rng, i, j, margin=1e-6):
    return (
        LON0 + i * STEP + rng.uniform(margin, STEP - margin),
        LAT0 + j * STEP + rng.uniform(margin, STEP - margin),
    )


def test_random_points_inside_cells_return_their_grid_and_areas(small_city):
    rng = random.Random(5)
    assert len(small_city.cells) == 16
    for (i, j), grid in small_city.cells.items():
        for _ in range(3):
            placement = locate(*random_point_in_cell(rng, i, j), at=NOON)
            key = small_city.community_key(i, j)
            community = small_city.communities[key]
            assert placement.unit_grid == grid.code
            assert placement.community.code == community.code
            assert placement.street.code == community.parent.code
            assert placement.district.code == "310104"
            assert placement.responsibility_grid.code == small_city.resp[key].code
            assert placement.timing_zone.kind in ("core", "outer")


def test_core_timing_zone_wins_over_the_outer_zone_it_lies_in(small_city):
    assert locate(121.415, 31.215, at=NOON).timing_zone.name == "核心"
    assert locate(121.405, 31.205, at=NOON).timing_zone.name == "外围"


def test_point_on_a_vertex_shared_by_four_grids_gives_one_stable_answer(small_city):
    # (121.41, 31.21) is a corner of cells (0,0), (1,0), (0,1), (1,1), all in community C1.
    answers = {locate(121.41, 31.21, at=NOON).unit_grid for _ in range(5)}
    candidates = sorted(
        (small_city.cells[c] for c in [(0, 0), (1, 0), (0, 1), (1, 1)]), key=lambda g: g.pk
    )
    assert answers == {candidates[0].code}


def test_point_on_a_street_border_takes_one_chain_of_areas(small_city):
    # (121.42, 31.21) lies on the border of C1 (street S1) and C3 (street S2): the community
    # with the lower id (C1) wins, and the street, unit grid and responsibility grid follow it.
    placement = locate(121.42, 31.21, at=NOON)
    c1 = small_city.communities["C1"]
    assert placement.community.code == c1.code
    assert placement.street.code == c1.parent.code
    assert placement.unit_grid in {small_city.cells[(1, 0)].code, small_city.cells[(1, 1)].code}
    assert placement.unit_grid.startswith(c1.code)
    assert placement.responsibility_grid.code == small_city.resp["C1"].code
    assert locate(121.42, 31.21, at=NOON) == placement


def test_point_outside_the_city_has_empty_placement(small_city):
    placement = locate(121.60, 31.40, at=NOON)
    assert placement.district is None and placement.street is None
    assert placement.community is None and placement.unit_grid is None
    assert placement.responsibility_grid is None and placement.timing_zone is None
    assert placement.controlled_areas == [] and placement.road is None


def names(placement):
    return sorted(a.name for a in placement.controlled_areas)


@pytest.mark.parametrize(
    "local_time,expected",
    [
        ((12, 0), ["学校周边"]),
        ((22, 0), ["夜市", "学校周边"]),
        ((23, 59), ["夜市", "学校周边"]),
        ((0, 0), ["夜市", "学校周边"]),
        ((5, 59), ["夜市", "学校周边"]),
        ((6, 0), ["学校周边"]),
        ((21, 59), ["学校周边"]),
    ],
)
def test_daily_windows_run_in_local_time_and_across_midnight(small_city, local_time, expected):
    at = dt.datetime(2026, 3, 2, *local_time, tzinfo=SHANGHAI)
    assert names(locate(121.405, 31.205, at=at)) == sorted(expected)
    # The same instant written in UTC gives the same answer.
    assert names(locate(121.405, 31.205, at=at.astimezone(dt.timezone.utc))) == sorted(expected)


def test_validity_period_and_several_windows(small_city):
    point = (121.435, 31.235)
    in_force = dt.datetime(2026, 5, 3, 9, 0, tzinfo=SHANGHAI)
    assert names(locate(*point, at=in_force)) == ["节日管控"]
    assert names(locate(*point, at=in_force.replace(hour=19))) == ["节日管控"]
    assert names(locate(*point, at=in_force.replace(hour=12))) == []
    assert names(locate(*point, at=in_force.replace(day=6))) == []  # valid_to is exclusive
    assert names(locate(*point, at=in_force.replace(month=4))) == []
    hit = locate(*point, at=in_force).controlled_areas[0]
    assert hit.action == "warn" and hit.daily_windows == [["08:00", "10:00"], ["18:00", "20:00"]]


def test_controlled_area_reports_action_and_categories(small_city):
    hit = next(a for a in locate(121.405, 31.205, at=NOON).controlled_areas if a.name == "学校周边")
    assert hit.action == "forbid" and hit.categories == ["0101"]


def metres_north(lat, m):
    return lat + m / 110_900.0


def test_nearest_road_within_50_metres_with_its_distance(small_city):
    placement = locate(121.405, metres_north(31.22, 30), at=NOON)
    assert placement.road.name == "中山路" and placement.road.road_class == "main"
    assert placement.road.distance_m == pytest.approx(30, abs=0.5)
    # Near the crossing the closer road wins.
    placement = locate(121.4201, metres_north(31.22, 40), at=NOON)
    assert placement.road.name == "淮海路" and placement.road.distance_m < 12


def test_no_road_beyond_50_metres(small_city):
    assert locate(121.405, metres_north(31.22, 55), at=NOON).road is None
    assert locate(121.405, 31.205, at=NOON).road is None


def test_offset_input_lands_in_the_same_grid(small_city):
    # Near the south-east corner of cell (2, 1): Shanghai's GCJ-02 offset (about +430 m east,
    # -200 m north) moves the raw GCJ-02 numbers into another cell.
    lon, lat = LON0 + 2 * STEP + 0.008, LAT0 + 1 * STEP + 0.001
    gx, gy = from_wgs84(lon, lat, "gcj02")
    assert locate(*to_wgs84(gx, gy, "gcj02"), at=NOON).unit_grid == small_city.cells[(2, 1)].code
    # Without converting, the ~500 m GCJ-02 offset would put it elsewhere.
    assert locate(gx, gy, at=NOON).unit_grid != small_city.cells[(2, 1)].code


def test_refresh_responsibility_grid_is_the_union_of_its_unit_grids(small_city):
    grid = small_city.resp["C3"]
    union_area = sum(g.area_m2 for (i, j), g in small_city.cells.items() if i >= 2)
    assert grid.geom.geom_type == "MultiPolygon"
    assert ellipsoid_area_m2(grid.geom) == pytest.approx(union_area, rel=1e-6)
    assert grid.geom.equals(small_city.communities["C3"].geom)


def test_prepared_query_is_reused_and_prepared_again_when_forgotten(small_city):
    from django.db import connection

    first = locate(121.405, 31.205, at=NOON)
    connection._citygrid_locate_prepared_on = None  # as if the connection were new to us
    assert locate(121.405, 31.205, at=NOON) == first
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = %s", [PREPARED_NAME]
        )
        assert cursor.fetchone()[0] == 1
        cursor.execute("SHOW plan_cache_mode")
        # SET LOCAL holds until this test's transaction ends (in autocommit, for one statement).
        assert cursor.fetchone()[0] == "force_generic_plan"
        cursor.execute(
            "SELECT generic_plans FROM pg_prepared_statements WHERE name = %s", [PREPARED_NAME]
        )
        assert cursor.fetchone()[0] >= 1
