"""Field sampling (抽样): hypothesis properties of the draw — reproducible, counts honoured,
strata in proportion, minimum distance (checked with geodesic distances from pyproj, not the
draw's own projection), no needless shortfall — and the preview over HTTP with its filters."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from accounts import permissions as perms
from evaluation.comprehensive.models import EvaluationObject, SamplePoint, SampleType
from evaluation.comprehensive.sampling import draw
from tests.factories import make_person

from .conftest import client_of, send

GEOD = Geod(ellps="GRS80")
# Candidates within about 10 km of (116.35, 39.99): (lon, lat, street or None), ids distinct.
candidate = st.tuples(
    st.floats(min_value=116.30, max_value=116.40),
    st.floats(min_value=39.95, max_value=40.03),
    st.sampled_from([None, 1, 2, 3, 4]),
)
candidate_sets = st.lists(candidate, min_size=0, max_size=120)


def arrays(found):
    ids = np.arange(1, len(found) + 1, dtype=np.int64) * 7
    return (
        ids,
        [c[2] for c in found],
        np.array([c[0] for c in found], dtype=float),
        np.array([c[1] for c in found], dtype=float),
    )


def geodesic(found, ids, a, b) -> float:
    index = {int(pk): k for k, pk in enumerate(ids)}
    (lon1, lat1, _), (lon2, lat2, _) = found[index[a]], found[index[b]]
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@settings(max_examples=150, deadline=None)
@given(candidate_sets, st.integers(1, 60), st.integers(0, 2**32), st.booleans(),
       st.sampled_from([0.0, 150.0, 800.0]), st.randoms(use_true_random=False))  # fmt: skip
def test_the_same_rule_and_seed_give_the_same_draw_in_any_input_order(
    found, count, seed, stratify, distance, shuffler
):
    ids, streets, lons, lats = arrays(found)
    first = draw(ids, streets, lons, lats, count=count, seed=seed, stratify=stratify,
                 min_distance_m=distance)  # fmt: skip
    order = list(range(len(found)))
    shuffler.shuffle(order)
    again = draw(ids[order], [streets[i] for i in order], lons[order], lats[order], count=count,
                 seed=seed, stratify=stratify, min_distance_m=distance)  # fmt: skip
    assert again.chosen == first.chosen
    assert len(set(first.chosen)) == len(first.chosen) <= count
    assert set(first.chosen) <= {int(i) for i in ids}


@settings(max_examples=150, deadline=None)
@given(candidate_sets, st.integers(1, 150), st.integers(0, 2**32))
def test_without_a_distance_the_count_is_honoured_and_strata_are_proportional(found, count, seed):
    ids, streets, lons, lats = arrays(found)
    result = draw(ids, streets, lons, lats, count=count, seed=seed, stratify=True)
    assert len(result.chosen) == min(count, len(found))
    total, drawn = len(found), min(count, len(found))
    street_of = {int(pk): s for pk, s in zip(ids, streets)}
    for street in set(streets):
        size = streets.count(street)
        got = sum(1 for pk in result.chosen if street_of[pk] == street)
        assert math.floor(drawn * size / total) <= got <= math.ceil(drawn * size / total)


@settings(max_examples=120, deadline=None)
@given(candidate_sets, st.integers(1, 60), st.integers(0, 2**32), st.booleans(),
       st.floats(min_value=1, max_value=3000))  # fmt: skip
def test_drawn_samples_keep_the_minimum_distance_and_a_shortfall_is_forced(
    found, count, seed, stratify, distance
):
    ids, streets, lons, lats = arrays(found)
    result = draw(ids, streets, lons, lats, count=count, seed=seed, stratify=stratify,
                  min_distance_m=distance)  # fmt: skip
    for a, b in itertools.combinations(result.chosen, 2):
        assert geodesic(found, ids, a, b) >= distance
    if len(result.chosen) < min(count, len(found)):
        # Short only when every candidate left lies within the distance of a drawn one
        # (a 0.01% margin for the projection the draw measures in).
        for pk in set(int(i) for i in ids) - set(result.chosen):
            assert any(geodesic(found, ids, pk, c) < distance * 1.0001 for c in result.chosen)


def test_different_seeds_give_different_draws():
    found = [(116.30 + k * 0.001, 39.99, k % 3) for k in range(100)]
    ids, streets, lons, lats = arrays(found)
    draws = {tuple(draw(ids, streets, lons, lats, count=10, seed=s).chosen) for s in range(5)}
    assert len(draws) == 5


# --- over HTTP -------------------------------------------------------------------------------


@pytest.fixture
def library(mini):
    """30 toilets: 10 per street (甲 x 100.00-100.01, 乙, 丙), in a row 0.0009° (~87 m) apart;
    the even ones 'kind': 'A', the odd ones 'B'."""
    city = EvaluationObject.objects.create(code="C", name="评价市", kind="city",
                                           area=mini.district, geom=mini.district.geom)  # fmt: skip
    toilets = SampleType.objects.create(code="toilet", name="公共厕所", shape="point")
    from django.contrib.gis.geos import Point

    for s, street in enumerate(mini.streets):
        for k in range(10):
            here = Point(100.0005 + s * 0.01 + k * 0.0009, 30.005, srid=4326)
            SamplePoint.objects.create(sample_type=toilets, object=city, street=street,
                                       name=f"{street.name}厕所{k}", geom=here, anchor=here,
                                       attributes={"kind": "A" if k % 2 == 0 else "B"})  # fmt: skip
    return city, toilets


@pytest.mark.django_db
def test_preview_over_http_with_filters_strata_and_scope(mini, manage, library):
    city, toilets = library
    assert SamplePoint.objects.filter(object=city).count() == 30
    base = {"object": city.pk, "sample_type": toilets.pk, "seed": 7}
    preview = "/api/v1/evaluation/sampling/preview"

    six = send(manage, "post", preview, {**base, "count": 6}).json()
    assert six["type"] == "FeatureCollection" and (six["available"], six["drawn"]) == (30, 6)
    streets = [f["properties"]["street"] for f in six["features"]]
    assert sorted(streets) == sorted([s.pk for s in mini.streets] * 2)
    assert [f["properties"]["rank"] for f in six["features"]] == [1, 2, 3, 4, 5, 6]
    assert send(manage, "post", preview, {**base, "count": 6}).json() == six  # reproducible
    other = send(manage, "post", preview, {**base, "count": 6, "seed": 8}).json()
    assert other["features"] != six["features"]

    in_yi = send(manage, "post", preview, {**base, "count": 4, "area": mini.streets[1].pk}).json()
    assert in_yi["available"] == 10
    assert {f["properties"]["street"] for f in in_yi["features"]} == {mini.streets[1].pk}
    only_a = send(manage, "post", preview, {**base, "count": 30, "attributes": {"kind": "A"}})
    assert only_a.json()["drawn"] == 15
    assert {f["properties"]["attributes"]["kind"] for f in only_a.json()["features"]} == {"A"}

    # 200 m apart in a row of points 87 m apart: at most every third point, 4 per street.
    apart = send(manage, "post", preview, {**base, "count": 30, "min_distance_m": 200}).json()
    assert apart["drawn"] <= 12 and apart["drawn"] >= 8

    # A scorer of street 丙 draws from 丙's samples only.
    scorer = make_person("eval-scorer", permissions=[perms.EVALUATION_SCORE],
                         areas=[mini.streets[2]])  # fmt: skip
    theirs = send(client_of(scorer), "post", preview, {**base, "count": 30}).json()
    assert theirs["available"] == 10
    assert {f["properties"]["street"] for f in theirs["features"]} == {mini.streets[2].pk}

    for body, field in [({**base}, "count"), ({**base, "count": 0}, "count"),
                        ({**base, "count": "3"}, "count"),
                        ({**base, "count": 3, "min_distance_m": -1}, "min_distance_m")]:  # fmt: skip
        refused = send(manage, "post", preview, body)
        assert refused.status_code == 400 and refused.json()["error"]["field"] == field
    assert send(manage, "post", preview, {**base, "count": 3, "object": 10**9}).status_code == 404
    assert send(manage, "post", preview, {"rule": 10**9}).status_code == 404


@pytest.fixture
def scattered(mini):
    """60 toilets over the three streets at seeded places, each with a `kind` (A, B, C) and a
    `grade` (1, 2); gives the object, the type and the samples as (id, street, kind, grade)."""
    import random

    city = EvaluationObject.objects.create(code="C", name="评价市", kind="city",
                                           area=mini.district, geom=mini.district.geom)  # fmt: skip
    toilets = SampleType.objects.create(code="toilet", name="公共厕所", shape="point")
    from django.contrib.gis.geos import Point

    rng = random.Random(3)
    rows = []
    for k in range(60):
        s = rng.randrange(3)
        here = Point(100.0 + s * 0.01 + rng.uniform(0.0005, 0.0095),
                     30.0 + rng.uniform(0.0005, 0.0095), srid=4326)  # fmt: skip
        kind, grade = rng.choice("ABC"), rng.choice("12")
        sample = SamplePoint.objects.create(sample_type=toilets, object=city,
                                            street=mini.streets[s], name=f"厕所{k}", geom=here,
                                            anchor=here, attributes={"kind": kind, "grade": grade})  # fmt: skip
        rows.append((sample.pk, mini.streets[s].pk, kind, grade))
    return city, toilets, rows


@pytest.mark.django_db
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    street=st.sampled_from([None, 0, 1, 2]),
    kind=st.sampled_from([None, "A", "B", "C"]),
    grade=st.sampled_from([None, "1", "2"]),
    count=st.integers(1, 70),
    seed=st.integers(0, 2**31),
)
def test_the_preview_honours_area_and_attribute_filters(
    mini, manage, scattered, street, kind, grade, count, seed
):
    city, toilets, rows = scattered
    body = {"object": city.pk, "sample_type": toilets.pk, "count": count, "seed": seed,
            "attributes": {k: v for k, v in (("kind", kind), ("grade", grade)) if v}}  # fmt: skip
    if street is not None:
        body["area"] = mini.streets[street].pk
    # The candidates counted by hand from the rows the fixture wrote.
    wanted = {pk for pk, s, k, g in rows
              if (street is None or s == mini.streets[street].pk)
              and kind in (None, k) and grade in (None, g)}  # fmt: skip
    drawn = send(manage, "post", "/api/v1/evaluation/sampling/preview", body).json()
    ids = [f["id"] for f in drawn["features"]]
    assert drawn["available"] == len(wanted)
    assert len(ids) == min(count, len(wanted)) and set(ids) <= wanted
    assert send(manage, "post", "/api/v1/evaluation/sampling/preview", body).json() == drawn
