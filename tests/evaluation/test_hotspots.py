"""Hot spots (热点): our Getis-Ord Gi* against `esda.G_Local` on the same counts and weights,
the Mann-Kendall trend and the emerging categories on hand-made series, and over HTTP a
planted cluster of cases found at 99% with the z of every unit grid equal to esda's."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evaluation.hotspots import confidence, emerging, gi_star, mann_kendall
from tests.cases import conftest as case_fixtures

TZ = ZoneInfo("Asia/Shanghai")
org, as_user, two_streets = case_fixtures.org, case_fixtures.as_user, case_fixtures.two_streets


def star(w):
    """The binary weights of a libpysal W with each cell its own neighbour."""
    from scipy import sparse

    matrix = (w.sparse + sparse.identity(w.n, format="csr")).tocsr()
    matrix.data[:] = 1.0
    return matrix


def esda_z(y, w) -> np.ndarray:
    import esda

    return esda.G_Local(y.astype(float), w, transform="B", star=True, permutations=0).Zs


@settings(max_examples=60, deadline=None)
@given(
    st.integers(3, 9),
    st.integers(3, 9),
    st.data(),
)
def test_gi_star_equals_esda_on_a_lattice(rows, columns, data):
    from libpysal.weights import lat2W

    y = data.draw(arrays(np.int64, rows * columns, elements=st.integers(0, 40)))
    if y.std() == 0:
        y[0] += 1  # esda divides by the spread; so do we (zeros for a flat field)
    w = lat2W(rows, columns, rook=False)
    ours = gi_star(y, star(w))
    # A cell whose neighbourhood is the whole field has no variance: esda gives NaN, we 0.
    assert np.allclose(ours, np.nan_to_num(esda_z(y, w), nan=0.0), atol=1e-9)


def test_gi_star_of_many_slices_is_each_slice_alone():
    from libpysal.weights import lat2W

    w = lat2W(5, 5, rook=False)
    rng = np.random.default_rng(7)
    table = rng.poisson(3, size=(25, 6)).astype(float)
    together = gi_star(table, star(w))
    for t in range(6):
        assert np.allclose(together[:, t], esda_z(table[:, t], w))


def test_confidence_levels():
    assert [confidence(z) for z in (2.6, 2.0, 1.7, 1.6, -1.7, -2.0, -3.0)] == [
        99,
        95,
        90,
        0,
        -90,
        -95,
        -99,
    ]


def test_mann_kendall_by_hand():
    # 1..5 rising: S = 10, Var(S) = 5·4·15/18 = 50/3, z = (10 − 1)/√(50/3) = 2.2045.
    z, p = mann_kendall([1, 2, 3, 4, 5])
    assert math.isclose(z, 9 / math.sqrt(50 / 3), rel_tol=1e-12)
    assert math.isclose(p, 0.027486, abs_tol=1e-5)
    assert mann_kendall([5, 4, 3, 2, 1])[0] == -z
    assert mann_kendall([2, 2, 2, 2, 2]) == (0.0, 1.0)
    # One tie pair: S = 9 (9 pairs up, 1 tie), Var = (5·4·15 − 2·1·9)/18 = 282/18.
    z, _ = mann_kendall([1, 2, 2, 3, 4])
    assert math.isclose(z, 8 / math.sqrt(282 / 18), rel_tol=1e-12)


@pytest.mark.parametrize(
    "series, category",
    [
        ([0] * 9 + [3], "new"),
        ([0] * 7 + [3, 3, 3], "consecutive"),
        ([2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 3.2, 3.4, 3.6, 3.8], "intensifying"),
        ([3] * 10, "persistent"),
        ([3.8, 3.6, 3.4, 3.2, 3.0, 2.8, 2.6, 2.4, 2.2, 2.0], "diminishing"),
        ([3, 0, 3, 0, 0, 3, 0, 0, 0, 3], "sporadic"),
        ([-3, 0, 3, 0, 0, 3, 0, 0, 0, 3], "oscillating"),
        ([3] * 9 + [0], "historical"),
        ([-3] * 10, "cold_persistent"),
        ([0] * 9 + [-2], "cold_new"),
        ([0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "none"),
    ],
)
def test_emerging_categories(series, category):
    assert emerging(np.array([series], dtype=float)) == [category]


@pytest.mark.django_db
def test_a_planted_cluster_is_a_hot_spot_and_every_z_equals_esda(org, two_streets, as_user):
    import geopandas as gpd
    from libpysal.weights import fuzzy_contiguity
    from shapely import wkb

    from accounts.scoping import scope_for_user
    from cases import actions
    from data.models import Category
    from spatial.models import UnitGrid

    street_a, street_b = two_streets
    grids = list(UnitGrid.objects.order_by("code"))
    assert len(grids) > 20
    # The cluster: the unit grid of street A with the most neighbours, and those neighbours.
    in_a = [g for g in grids if street_a.geom.contains(g.geom.point_on_surface)]
    centre = max(in_a, key=lambda g: UnitGrid.objects.filter(geom__intersects=g.geom).count())
    ring = [g for g in UnitGrid.objects.filter(geom__touches=centre.geom).order_by("code")]
    assert len(ring) >= 3
    planted = {centre.code: 8, **{g.code: 4 for g in ring}}
    far = max(grids, key=lambda g: g.geom.centroid.distance(centre.geom.centroid))
    planted[far.code] = 1
    acceptor = scope_for_user(org["acceptor"].user)
    garbage = Category.objects.get(kind="event", code="0102")
    by_code = {g.code: g for g in grids}
    when = dt.datetime(2026, 4, 30, 10, 0, tzinfo=TZ)  # the last day of the period
    for code, n in planted.items():
        point = by_code[code].geom.point_on_surface
        for k in range(n):
            new = actions.NewCase("inspector", garbage, f"热点{code}-{k}", point.x, point.y)
            case = actions.do_report_case(acceptor, new, at=when + dt.timedelta(minutes=k))
            assert case.unit_grid_code == code

    period = "period=custom&from=2026-04-01&to=2026-04-30"
    answer = as_user("leader").get(f"/api/v1/screen/hotspots?{period}&all=true")
    assert answer.status_code == 200, answer.content
    found = answer.json()
    assert found["cells"] == len(grids)
    cells = {f["properties"]["code"]: f["properties"] for f in found["features"]}
    assert set(cells) == {g.code for g in grids}
    assert cells[centre.code]["confidence"] == 99 and cells[centre.code]["count"] == 8
    assert all(cells[g.code]["confidence"] >= 90 for g in ring)
    assert cells[far.code]["confidence"] <= 0
    # A month: 30 day slices; the cluster appears on the last one only: a new hot spot.
    assert found["trend"] is True and found["slices"] == 30
    assert cells[centre.code]["category"] == "new"
    assert cells[far.code]["category"] == "none"

    # esda on the same counts (hand-planted) and weights built another way (libpysal's
    # intersecting polygons), in code order.
    frame = gpd.GeoDataFrame(
        {"code": [g.code for g in grids]},
        geometry=[wkb.loads(bytes(g.geom.wkb)) for g in grids],
        crs=4326,
    ).set_index("code")
    w = fuzzy_contiguity(frame, buffering=False, predicate="intersects")
    y = np.array([planted.get(code, 0) for code in w.id_order], dtype=float)
    expected = esda_z(y, w)
    ours = np.array([cells[code]["z"] for code in w.id_order])
    assert np.allclose(ours, expected, atol=1e-4)

    # An inspector of street B sees street B's grids only: none of the planted cluster.
    mine = as_user(f"inspector-{street_b.code}").get(f"/api/v1/screen/hotspots?{period}&all=1")
    assert mine.status_code == 200
    codes = {f["properties"]["code"] for f in mine.json()["features"]}
    assert codes and centre.code not in codes and len(codes) < len(grids)


def naive_mann_kendall(x) -> float:
    """The textbook Mann-Kendall z, pair by pair (the test's own reference)."""
    n = len(x)
    s = sum(int(x[j] > x[i]) - int(x[j] < x[i]) for i in range(n - 1) for j in range(i + 1, n))
    groups: dict = {}
    for v in x:
        groups[v] = groups.get(v, 0) + 1
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in groups.values())) / 18
    if s == 0 or var <= 0:
        return 0.0
    return (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(1, 6), st.integers(3, 14)), elements=st.integers(0, 4))
)
def test_mann_kendall_of_many_rows_equals_the_textbook_one_by_one(table):
    from evaluation.hotspots import mann_kendall_rows

    z, p = mann_kendall_rows(table.astype(float))
    for row, found in zip(table, z):
        assert math.isclose(found, naive_mann_kendall(list(row)), abs_tol=1e-9)
    assert ((p >= 0) & (p <= 1)).all()


@pytest.mark.django_db
def test_the_weights_are_shared_by_workers_and_built_again_when_the_grids_change(org, two_streets):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evaluation import hotspots
    from evaluation.tasks import warm_hot_spot_weights
    from spatial.models import UnitGrid

    def warm() -> tuple[int, int]:
        """The cells warmed and how many neighbour joins it ran."""
        with CaptureQueriesContext(connection) as seen:
            cells = warm_hot_spot_weights()
        return cells, sum("ST_Intersects" in q["sql"] for q in seen.captured_queries)

    def edit_a_grid() -> None:  # any write to the grids: a new version, new weights
        first = UnitGrid.objects.order_by("code").first()
        UnitGrid.objects.filter(pk=first.pk).update(area_m2=first.area_m2 + 1)

    grids = UnitGrid.objects.count()
    assert grids > 20
    edit_a_grid()  # weights no run of this test database has built before
    assert warm() == (grids, 1)
    assert warm() == (grids, 0)  # kept in the process
    hotspots._weights_cache.clear()  # another worker, or the next start: the shared cache
    assert warm() == (grids, 0)
    edit_a_grid()
    assert warm() == (grids, 1)
