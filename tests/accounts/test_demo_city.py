"""Scoping on the generated demo city: each street inspector sees exactly its street's
components of the non-public components layer."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from psycopg2 import sql

from spatial.models import AdminArea, Layer
from accounts.models import Person
from accounts.scoping import ANONYMOUS, scope_for_user

# What a street inspector should see, computed without the scoping module.
TRUTH_SQL = """
SELECT c.id FROM spatial_component c JOIN spatial_adminarea a ON ST_Intersects(c.geom, a.geom)
WHERE a.id = %s ORDER BY c.id
"""


def scoped_ids(scope, layer) -> list[int]:
    condition, params = scope.layer_condition(layer, sql.Identifier("geom_mercator"), srid=3857)
    query = sql.SQL("SELECT id FROM spatial_component WHERE {} ORDER BY id").format(condition)
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection), params)
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_each_street_inspector_sees_its_street(city):
    call_command("demo_accounts", verbosity=0)
    layer = Layer.objects.get(key="components")
    streets = list(AdminArea.objects.filter(level="street"))
    assert len(streets) >= 2
    seen: dict[int, set[int]] = {}
    for street in streets:
        person = Person.objects.get(user__username=f"inspector-{street.code}")
        with connection.cursor() as cursor:
            cursor.execute(TRUTH_SQL, [street.pk])
            truth = [row[0] for row in cursor.fetchall()]
        ids = scoped_ids(scope_for_user(person.user), layer)
        assert ids == truth
        seen[street.pk] = set(ids)
    assert any(seen.values())
    everything = scoped_ids(scope_for_user(Person.objects.get(user__username="admin").user), layer)
    assert set().union(*seen.values()) <= set(everything)
    assert scoped_ids(ANONYMOUS, layer) == []
