"""The person's area union: a point is inside it exactly when it is inside one of its areas."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatial.models import AdminArea
from tests.accounts.conftest import square
from accounts.areas import set_person_areas
from accounts.services import create_person

cells = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(1, 3)), min_size=1, max_size=4
)
probes = st.lists(st.tuples(st.floats(0, 8), st.floats(0, 8)), min_size=1, max_size=20)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=cells, probes=probes)
def test_union_contains_exactly_the_areas(db, cells, probes):
    AdminArea.objects.filter(code__startswith="98").delete()
    areas = [
        AdminArea.objects.create(
            code=f"98{i:04d}",
            name=f"h{i}",
            level="district",
            geom=square(50 + x * 0.001, 20 + y * 0.001, size * 0.001),
        )
        for i, (x, y, size) in enumerate(cells)
    ]
    get_user_model().objects.filter(username="hypo").delete()
    person = create_person("hypo", None, validate=False)
    person = set_person_areas(person, areas)
    union = person.area_geom
    assert union.valid and union.srid == 4326
    for px, py in probes:
        point = Point(50 + px * 0.001, 20 + py * 0.001, srid=4326)
        inside_some = any(a.geom.covers(point) for a in areas)
        inside_interior = any(a.geom.contains(point) for a in areas)
        if inside_interior:
            assert union.covers(point)
        if not inside_some:
            assert not union.covers(point)
