"""The test factories build what their docstrings promise: nested codes, grids that tile the
district, a person whose area and grants are what was asked, a layer in the registry."""

import pytest
from django.db import connection

from accounts.scoping import scope_for_user
from tests import factories

pytestmark = pytest.mark.django_db


def one(query: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


def test_a_city_nests_its_codes_and_its_grids_tile_the_district():
    city = factories.make_city(
        "990199",
        communities=[["南社区", "北社区"], []],
        cells=(4, 2),
        responsibility_grids=True,
    )
    assert [s.code for s in city.streets] == ["990199001", "990199002"]
    assert [c.code for c in city.communities] == ["990199001001", "990199001002"]
    # Street 002 has no community, so only the west half is cut into grids: 2 x 2 cells.
    assert sorted(g.code for g in city.cells.values()) == [
        "99019900100101",
        "99019900100102",
        "99019900100201",
        "99019900100202",
    ]
    assert city.cells[(0, 0)].code == "99019900100101" and (2, 0) not in city.cells
    grids, west = one(
        "SELECT (SELECT ST_Area(ST_Union(geom)) FROM spatial_unitgrid WHERE code LIKE '990199%%'),"
        " (SELECT ST_Area(geom) FROM spatial_adminarea WHERE code = '990199001')"
    )
    assert grids == pytest.approx(west, rel=1e-9)
    south = city.community("南社区")
    resp = city.responsibility_grids[south.code]
    assert resp.code == "RG-990199-1" and resp.geom.equals(south.geom)
    assert sum(g.area_m2 for g in city.grids_of(south)) == pytest.approx(
        factories.ellipsoid_area_m2(south.geom), rel=1e-9
    )


def test_a_person_gets_the_permissions_layers_and_area_asked_for():
    city = factories.make_city("990199", cells=(2, 1), responsibility_grids=True)
    layer = factories.make_layer("test-lamps", filter_sql="status = 'normal'", title="路灯")
    east_grid = city.responsibility_grids[city.communities[1].code]
    person = factories.make_person(
        "factory-inspector",
        permissions=["cases.report"],
        areas=[city.streets[0]],
        grids=[east_grid],
        layers=[layer],
    )
    scope = scope_for_user(person.user)
    assert scope.has_perm("cases.report") and not scope.has_perm("people.manage")
    assert scope.can_read_layer(layer) and not scope.all_layers
    assert person.area_geom.equals(city.district.geom)  # west street + east responsibility grid
    assert person.user.check_password(factories.PASSWORD)
