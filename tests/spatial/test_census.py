"""Census (普查成果) numbers equal direct counts under the documented rules."""

import pytest
from pyproj import Geod
from shapely import wkb

from spatial.census import census, resolve_area
from spatial.models import AdminArea, Component, ResponsibilityGrid, UnitGrid
from core.errors import BadInput, NotFound


def geodesic_km2(geom):
    """Area on the WGS84 ellipsoid, computed by pyproj (independent of PostGIS)."""
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(wkb.loads(bytes(geom.wkb)))
    return abs(area) / 1e6


def subtree_ids(area):
    ids, frontier = {area.pk}, [area.pk]
    while frontier:
        frontier = list(
            AdminArea.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        ids.update(frontier)
    return ids


def direct_census(area):
    """The same numbers, counted independently with the ORM and GEOS."""
    grids = list(UnitGrid.objects.filter(community_id__in=subtree_ids(area)))
    resp = [
        g
        for g in ResponsibilityGrid.objects.exclude(geom=None)
        if area.geom.intersects(g.geom.point_on_surface)
    ]
    comps = list(Component.objects.filter(geom__intersects=area.geom).select_related("category"))
    by_minor = {}
    for c in comps:
        by_minor[c.category.code] = by_minor.get(c.category.code, 0) + 1
    return grids, resp, comps, by_minor


@pytest.mark.parametrize(
    "code", ["310104", "310104001", "310104002", "310104001001", "310104002001"]
)
def test_area_census_equals_direct_counts(small_city, code):
    area = AdminArea.objects.get(code=code)
    grids, resp, comps, by_minor = direct_census(area)
    result = census(area)
    area_km2 = geodesic_km2(area.geom)
    assert result["area"] == {"code": code, "name": area.name, "level": area.level}
    assert result["area_km2"] == pytest.approx(area_km2, rel=1e-6)
    assert result["bbox"] == pytest.approx(list(area.geom.extent))
    assert result["unit_grids"]["count"] == len(grids)
    assert result["unit_grids"]["mean_area_m2"] == pytest.approx(
        sum(g.area_m2 for g in grids) / len(grids), abs=0.01
    )
    assert result["responsibility_grids"]["count"] == len(resp)
    assert result["components"]["count"] == len(comps)
    assert {c["code"]: c["count"] for c in result["components"]["by_minor"]} == by_minor
    assert by_minor  # every area of the small district holds components
    for row in result["components"]["by_minor"]:
        assert row["density_per_km2"] == pytest.approx(row["count"] / area_km2, rel=1e-3)
        assert row["major_code"] == row["code"][:2]
    majors = {}
    for minor, n in by_minor.items():
        majors[minor[:2]] = majors.get(minor[:2], 0) + n
    assert {c["code"]: c["count"] for c in result["components"]["by_major"]} == majors


def test_known_numbers_of_the_small_district(small_city):
    # 16 cells, 8 per street; 3 responsibility grids, one per community; 10 components inside
    # the district, 6 in the west street (5 + one straddler), 4 in the east one.
    assert census(small_city.district)["unit_grids"]["count"] == 16
    assert census(small_city.district)["responsibility_grids"]["count"] == 3
    assert census(small_city.district)["components"]["count"] == 10
    west = census(small_city.streets["S1"])
    assert (west["unit_grids"]["count"], west["responsibility_grids"]["count"]) == (8, 2)
    assert west["components"]["count"] == 6
    assert census(small_city.streets["S2"])["components"]["count"] == 4
    district = census(small_city.district)
    assert district["components"]["density_per_km2"] == pytest.approx(
        10 / district["area_km2"], rel=1e-3
    )


def test_city_census_counts_everything(small_city):
    result = census(None)
    assert result["area"] is None
    assert result["unit_grids"]["count"] == UnitGrid.objects.count()
    assert (
        result["responsibility_grids"]["count"]
        == ResponsibilityGrid.objects.exclude(geom=None).count()
    )
    assert result["components"]["count"] == Component.objects.count()
    top = AdminArea.objects.filter(parent=None)
    assert result["area_km2"] == pytest.approx(sum(geodesic_km2(a.geom) for a in top), rel=1e-6)
    minx, miny, maxx, maxy = result["bbox"]
    assert minx <= 121.40 and maxx >= 121.44 and miny <= 31.20 and maxy >= 31.24


@pytest.mark.parametrize(
    "code", ["12", "31010x", "3101040011", "1" * 13, " ", "", "310104\n", "٣١٠١٠٤"]
)
def test_malformed_area_code_is_bad_input(db, code):
    assert resolve_area(None) is None  # no code: the whole city
    with pytest.raises(BadInput):
        resolve_area(code)


def test_unknown_area_is_not_found(db):
    with pytest.raises(NotFound):
        resolve_area("999999")
