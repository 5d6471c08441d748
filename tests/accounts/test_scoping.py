"""Scoping: a street inspector sees only its street's rows of a non-public layer, in SQL."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import RequestFactory
from psycopg2 import sql

from data.models import Category
from spatial.models import Component, Layer
from tests.accounts.conftest import SIDE, X0, Y0
from accounts.areas import set_person_areas
from accounts.scoping import ANONYMOUS, scope_for, scope_for_user, system_scope
from core.errors import Forbidden, Unauthorized


@pytest.fixture
def components(streets) -> dict[str, list[str]]:
    """Three components inside street A and two inside street B (codes by street)."""
    category = Category.objects.get(kind="component", code="0101")
    placed = {"A": [], "B": []}
    spots = {"A": [(0.2, 0.2), (0.5, 0.5), (0.8, 0.3)], "B": [(1.3, 0.4), (1.7, 0.7)]}
    serial = 0
    for street, offsets in spots.items():
        for dx, dy in offsets:
            serial += 1
            code = f"9901000101{serial:06d}"
            Component.objects.create(
                code=code,
                category=category,
                geom=Point(X0 + dx * SIDE, Y0 + dy * SIDE, srid=4326),
            )
            placed[street].append(code)
    return placed


@pytest.fixture
def private_layer(db) -> Layer:
    layer = Layer.objects.get(key="components")
    assert not layer.public
    return layer


def visible_codes(scope, layer, codes, srid=4326, bbox=None) -> list[str]:
    """Runs the scope's filter in a raw query over the component table, as query builders do
    (bounded by `bbox` in EPSG:4326 when given)."""
    column = "geom" if srid == 4326 else "geom_mercator"
    condition, params = scope.layer_condition(
        layer, sql.Identifier("c", column), srid=srid, bbox=bbox
    )
    box = sql.SQL("")
    box_params = []
    if bbox is not None:
        box = sql.SQL(" AND c.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
        box_params = list(bbox)
    query = sql.SQL(
        "SELECT c.code FROM spatial_component c WHERE c.code = ANY(%s){} AND {}"
    ).format(box, condition)
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection), [codes, *box_params, *params])
        return sorted(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("srid", [4326, 3857])
def test_street_inspector_sees_only_its_street(
    inspector_a, inspector_b, components, private_layer, srid
):
    everything = components["A"] + components["B"]
    scope_a = scope_for_user(inspector_a.user)
    scope_b = scope_for_user(inspector_b.user)
    assert scope_a.can_read_layer(private_layer)
    assert visible_codes(scope_a, private_layer, everything, srid) == sorted(components["A"])
    assert visible_codes(scope_b, private_layer, everything, srid) == sorted(components["B"])
    assert not set(visible_codes(scope_b, private_layer, components["A"], srid))


def test_bbox_shortcut_keeps_the_same_answers(inspector_a, components, private_layer):
    scope = scope_for_user(inspector_a.user)
    everything = components["A"] + components["B"]
    inside_a = (X0 + 0.1 * SIDE, Y0 + 0.1 * SIDE, X0 + 0.9 * SIDE, Y0 + 0.9 * SIDE)
    across = (X0, Y0, X0 + 2 * SIDE, Y0 + SIDE)
    inside_b = (X0 + 1.1 * SIDE, Y0 + 0.1 * SIDE, X0 + 1.9 * SIDE, Y0 + 0.9 * SIDE)
    assert visible_codes(scope, private_layer, everything, bbox=inside_a) == sorted(components["A"])
    assert visible_codes(scope, private_layer, everything, bbox=across) == sorted(components["A"])
    assert visible_codes(scope, private_layer, everything, bbox=inside_b) == []


def test_anonymous_gets_false_and_sysadmin_true(sysadmin, components, private_layer):
    condition, params = ANONYMOUS.layer_condition(private_layer, sql.Identifier("geom"))
    assert condition.as_string(None) == "FALSE" and params == []
    everything = components["A"] + components["B"]
    assert visible_codes(ANONYMOUS, private_layer, everything) == []
    admin_scope = scope_for_user(sysadmin.user)
    assert admin_scope.sees_everything and admin_scope.key == "all"
    condition, params = admin_scope.layer_condition(private_layer, sql.Identifier("geom"))
    assert condition.as_string(None) == "TRUE" and params == []
    assert visible_codes(admin_scope, private_layer, everything) == sorted(everything)


def test_public_layer_is_true_for_everyone(inspector_a):
    public = Layer.objects.get(key="streets")
    for scope in (ANONYMOUS, scope_for_user(inspector_a.user)):
        assert scope.can_read_layer(public)
        assert scope.layer_condition(public, sql.Identifier("geom")).unrestricted


def test_layer_grants_decide_non_public_layers(make_person, streets, components, private_layer):
    other = Layer.objects.get(key="timing_zones")
    granted = make_person("granted", [], [streets["A"]], all_layers=False, layers=[private_layer])
    ungranted = make_person("ungranted", [], [streets["A"]], all_layers=False, layers=[other])
    scope_yes, scope_no = scope_for_user(granted.user), scope_for_user(ungranted.user)
    assert scope_yes.can_read_layer(private_layer) and not scope_no.can_read_layer(private_layer)
    assert visible_codes(scope_yes, private_layer, components["A"]) == sorted(components["A"])
    assert visible_codes(scope_no, private_layer, components["A"]) == []
    assert scope_yes.key != scope_no.key


def test_person_without_areas_sees_nothing_private(make_person, components, private_layer):
    nobody = make_person("no-area", [], [])
    assert visible_codes(scope_for_user(nobody.user), private_layer, components["A"]) == []


def test_area_change_moves_the_scope(inspector_a, streets, components, private_layer):
    before = scope_for_user(inspector_a.user)
    set_person_areas(inspector_a, [streets["B"]])
    after = scope_for_user(inspector_a.user)
    assert before.key != after.key
    everything = components["A"] + components["B"]
    assert visible_codes(after, private_layer, everything) == sorted(components["B"])
    # The m2m signal refreshes the union too, without the service.
    inspector_a.admin_areas.add(streets["A"])
    both = scope_for_user(inspector_a.user)
    assert visible_codes(both, private_layer, everything) == sorted(everything)


def test_same_areas_and_grants_share_a_cache_key(make_person, streets):
    one = make_person("twin-1", ["cases.read"], [streets["A"]])
    two = make_person("twin-2", ["cases.report"], [streets["A"]])
    assert scope_for_user(one.user).key == scope_for_user(two.user).key
    assert ANONYMOUS.key == "anon"


def test_layer_keys_share_what_can_be_shared(inspector_a, inspector_b, sysadmin, private_layer):
    public = Layer.objects.get(key="streets")
    scope_a, scope_b = scope_for_user(inspector_a.user), scope_for_user(inspector_b.user)
    admin = scope_for_user(sysadmin.user)
    assert {s.layer_key(public) for s in (ANONYMOUS, scope_a, scope_b, admin)} == {"public"}
    assert ANONYMOUS.layer_key(private_layer) == "none"
    assert admin.layer_key(private_layer) == "all"
    assert scope_a.layer_key(private_layer) != scope_b.layer_key(private_layer)
    assert scope_a.layer_key(private_layer) == scope_a.key


def test_require_raises_401_then_403(inspector_a):
    with pytest.raises(Unauthorized):
        ANONYMOUS.require("layers.import")
    scope = scope_for_user(inspector_a.user)
    assert scope.has_perm("cases.report") and not scope.has_perm("layers.import")
    with pytest.raises(Forbidden):
        scope.require("layers.import")


def test_scope_for_plain_django_request_reads_bearer_token(client, inspector_a):
    from tests.accounts.conftest import token_for

    token = token_for(client, "inspector-a").json()["token"]
    request = RequestFactory().get("/tiles/x", HTTP_AUTHORIZATION=f"Bearer {token}")
    scope = scope_for(request)
    assert not scope.is_anonymous and scope.user == inspector_a.user
    bad = RequestFactory().get("/tiles/x", HTTP_AUTHORIZATION="Bearer nonsense")
    with pytest.raises(Unauthorized):
        scope_for(bad)
    assert scope_for(RequestFactory().get("/tiles/x")).is_anonymous


def test_filter_uses_the_spatial_index(inspector_a, private_layer):
    """The area is an InitPlan by person id, so the GiST index on geom_mercator serves it."""
    condition, params = scope_for_user(inspector_a.user).layer_condition(
        private_layer, sql.Identifier("geom_mercator"), srid=3857
    )
    query = sql.SQL("EXPLAIN SELECT id FROM spatial_component WHERE {}").format(condition)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(query.as_string(cursor.connection), params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "component_merc_gist" in plan, plan


# A trigger's change is seen by the cached scope rows after CITYGRID_AUTH_CACHE_SECONDS
# (tests/tiles/test_tile_queries.py); here without that lifetime.
@override_settings(CITYGRID_AUTH_CACHE_SECONDS=0)
def test_reshaped_area_moves_the_scope_even_through_raw_sql(inspector_a, streets):
    """Regenerating a city rewrites area shapes in bulk SQL; the trigger keeps people current."""
    before = scope_for_user(inspector_a.user).key
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE spatial_adminarea SET geom = ST_Multi(ST_Translate(geom, 0.5, 0)) WHERE id = %s",
            [streets["A"].pk],
        )
    inspector_a.refresh_from_db()
    moved = Point(X0 + 0.5 + SIDE / 2, Y0 + SIDE / 2, srid=4326)
    assert inspector_a.area_geom.covers(moved)
    assert scope_for_user(inspector_a.user).key != before
    streets["B"].name = "乙街道（改名）"
    streets["B"].save()  # a save without a shape change is harmless


def test_visible_to_keeps_the_same_rows_as_the_sql_condition(
    inspector_a, components, private_layer
):
    """The ORM twin of the raw-SQL condition: street A's inspector gets street A's components."""
    codes = components["A"] + components["B"]
    assert Component.objects.filter(code__in=codes).count() == 5
    scope = scope_for_user(inspector_a.user)
    orm = Component.objects.filter(code__in=codes).visible_to(scope, private_layer)
    assert sorted(orm.values_list("code", flat=True)) == sorted(components["A"])
    assert sorted(visible_codes(scope, private_layer, codes)) == sorted(components["A"])
    assert not Component.objects.filter(code__in=codes).visible_to(ANONYMOUS).exists()
    assert Component.objects.filter(code__in=codes).visible_to(system_scope("test")).count() == 5


def test_area_condition_is_unrestricted_or_empty_without_sql_to_read(inspector_a):
    assert system_scope("beat").area_condition(sql.Identifier("geom")).unrestricted
    assert ANONYMOUS.area_condition(sql.Identifier("geom")).empty
    inspector = scope_for_user(inspector_a.user).area_condition(sql.Identifier("geom"))
    assert not inspector.unrestricted and not inspector.empty
    assert inspector.params == (inspector_a.pk, inspector_a.pk)
    assert system_scope("beat").actor_name == "system:beat"


def test_a_feature_that_only_touches_the_area_is_outside_it(inspector_a, private_layer):
    """Street A's inspector once saw the grids of neighbouring streets that share its border.
    Touching is not being inside; crossing the border is."""
    from django.contrib.gis.geos import Polygon

    category = Category.objects.get(kind="component", code="0101")
    border_x = X0 + SIDE  # street A is [X0, X0+SIDE], street B [X0+SIDE, X0+2*SIDE]

    def shape(minx, maxx):
        return Polygon.from_bbox((minx, Y0 + 0.2 * SIDE, maxx, Y0 + 0.4 * SIDE))

    made = {
        "9901000101900001": shape(border_x, border_x + 0.3 * SIDE),  # in B, touching A
        "9901000101900002": shape(border_x - 0.1 * SIDE, border_x + 0.1 * SIDE),  # across
        "9901000101900003": shape(border_x - 0.3 * SIDE, border_x - 0.1 * SIDE),  # in A
    }
    for code, geom in made.items():
        geom.srid = 4326
        Component.objects.create(code=code, category=category, geom=geom)
    codes = list(made)
    assert Component.objects.filter(code__in=codes).count() == 3
    scope = scope_for_user(inspector_a.user)
    expected = ["9901000101900002", "9901000101900003"]
    assert sorted(visible_codes(scope, private_layer, codes)) == expected
    orm = Component.objects.filter(code__in=codes).visible_to(scope, private_layer)
    assert sorted(orm.values_list("code", flat=True)) == expected
