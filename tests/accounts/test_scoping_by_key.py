"""`Scope.layer_condition_by_key` (the layer's flags read by the query itself, for locate and the
geocoder) keeps exactly the rows `Scope.layer_condition` keeps, for every kind of caller."""

from __future__ import annotations

import pytest
from django.db import connection
from psycopg2 import sql

from accounts.scoping import ANONYMOUS, scope_for_user
from spatial.models import Layer
from tests.accounts.test_scoping import components, private_layer  # noqa: F401 (fixtures)


def codes(condition, everything: list[str]) -> list[str]:
    query = sql.SQL("SELECT c.code FROM spatial_component c WHERE c.code = ANY(%s) AND {}").format(
        condition.sql
    )
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection), [everything, *condition.params])
        return sorted(row[0] for row in cursor.fetchall())


def by_key_codes(scope, key: str, everything: list[str], srid: int = 4326) -> list[str]:
    column = "geom" if srid == 4326 else "geom_mercator"
    return codes(scope.layer_condition_by_key(key, sql.Identifier("c", column), srid), everything)


@pytest.fixture
def callers(inspector_a, inspector_b, sysadmin, make_person, streets, private_layer):  # noqa: F811
    other = Layer.objects.exclude(key="components").first()
    return {
        "anonymous": ANONYMOUS,
        "inspector A": scope_for_user(inspector_a.user),
        "inspector B": scope_for_user(inspector_b.user),
        "system admin": scope_for_user(sysadmin.user),
        "granted components in A": scope_for_user(
            make_person(
                "grant-a", [], [streets["A"]], all_layers=False, layers=[private_layer]
            ).user
        ),
        "granted another layer in A": scope_for_user(
            make_person("grant-other", [], [streets["A"]], all_layers=False, layers=[other]).user
        ),
        "no area": scope_for_user(make_person("nowhere", []).user),
    }


@pytest.mark.parametrize("srid", [4326, 3857])
def test_by_key_keeps_the_rows_layer_condition_keeps(callers, components, private_layer, srid):  # noqa: F811
    everything = components["A"] + components["B"]
    column = "geom" if srid == 4326 else "geom_mercator"
    for name, scope in callers.items():
        expected = codes(
            scope.layer_condition(private_layer, sql.Identifier("c", column), srid), everything
        )
        assert by_key_codes(scope, "components", everything, srid) == expected, name
    assert by_key_codes(callers["inspector A"], "components", everything) == sorted(components["A"])
    assert by_key_codes(callers["granted another layer in A"], "components", everything) == []


def test_by_key_reads_the_public_flag_when_the_query_runs(callers, components, private_layer):  # noqa: F811
    everything = components["A"] + components["B"]
    condition = ANONYMOUS.layer_condition_by_key("components", sql.Identifier("c", "geom"))
    assert codes(condition, everything) == []
    Layer.objects.filter(pk=private_layer.pk).update(public=True)
    assert codes(condition, everything) == sorted(everything)  # the same condition, now TRUE
    assert by_key_codes(callers["inspector B"], "components", everything) == sorted(everything)


def test_an_unknown_key_reads_as_a_layer_no_single_grant_names(callers, components):  # noqa: F811
    everything = components["A"] + components["B"]
    wanted = {
        "system admin": sorted(everything),
        "inspector A": sorted(components["A"]),  # positions granting every layer
        "inspector B": sorted(components["B"]),
    }
    for name, scope in callers.items():
        assert by_key_codes(scope, "no-such-layer", everything) == wanted.get(name, []), name


def test_named_gives_the_same_condition_with_named_placeholders(callers, components):  # noqa: F811
    everything = components["A"] + components["B"]
    scope = callers["granted components in A"]
    condition = scope.layer_condition_by_key("components", sql.Identifier("c", "geom"))
    with connection.cursor() as cursor:
        text, values = condition.named("scope", cursor.connection)
        assert "%s" not in text and set(values) == {f"scope_{n}" for n in range(len(values))}
        cursor.execute(
            f"SELECT c.code FROM spatial_component c WHERE c.code = ANY(%(codes)s) AND {text}",
            {"codes": everything, **values},
        )
        assert sorted(row[0] for row in cursor.fetchall()) == sorted(components["A"])
