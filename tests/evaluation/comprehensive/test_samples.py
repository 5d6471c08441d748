"""The sample library (样本库): GeoJSON import with its refusals, upsert by source, the street
(stratum) of each sample, listing within the caller's areas, import from a registry layer, and
the demo city's library built by `manage.py demo_samples`."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts import permissions as perms
from evaluation.comprehensive.models import EvaluationObject, SamplePoint, SampleType
from spatial.models import AdminArea, Component
from tests.factories import make_layer, make_person

from .conftest import client_of, send

pytestmark = pytest.mark.django_db


def point(lon, lat, name, fid=None, **props):
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": name, **props}}  # fmt: skip


@pytest.fixture
def city_object(mini):
    return EvaluationObject.objects.create(
        code="C", name="评价市", kind="city", area=mini.district, geom=mini.district.geom
    )


@pytest.fixture
def toilets():
    return SampleType.objects.create(code="toilet", name="公共厕所", shape="point")


def test_geojson_import_keeps_good_features_lists_the_rest_and_updates_by_id(
    mini, manage, city_object, toilets
):
    # Streets: 甲 100.00-100.01, 乙 100.01-100.02, 丙 100.02-100.03 (lat 30.00-30.01).
    features = [
        point(100.005, 30.005, "甲厕所", "t1", 编码="A1"),
        point(100.015, 30.005, "乙厕所一", "t2"),
        point(100.016, 30.006, "乙厕所二"),  # no id: added every time
        point(100.025, 30.002, "丙厕所", "t3"),
        point(100.5, 30.005, "区外厕所", "t4"),  # outside the district
        point(100.005, 30.005, "", "t5"),  # no name
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[100.0, 30.0], [100.01, 30.0]]},
            "properties": {"name": "一条线"},
        },  # fmt: skip
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [500, 30]},
            "properties": {"name": "坐标错"},
        },  # fmt: skip
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0]]]},
            "properties": {"name": "坏面"},
        },  # fmt: skip
        "not a feature",
    ]
    body = {"object": city_object.pk, "sample_type": toilets.pk, "features": features}
    response = send(manage, "post", "/api/v1/evaluation/samples/import", body)
    assert response.status_code == 200, response.content
    done = response.json()
    assert (done["added"], done["updated"], done["skipped"]) == (4, 0, 6)
    reasons = {s["index"]: s["reason"] for s in done["skipped_features"]}
    assert reasons[4] == "outside the object's area"
    assert reasons[5] == "no name"
    assert "not a point" in reasons[6]
    assert "lon/lat" in reasons[7]
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9]

    stored = {s.name: s for s in SamplePoint.objects.filter(object=city_object)}
    assert len(stored) == 4
    assert stored["甲厕所"].street == mini.streets[0]
    assert stored["乙厕所一"].street == mini.streets[1]
    assert stored["丙厕所"].street == mini.streets[2]
    assert stored["甲厕所"].attributes == {"编码": "A1"}

    # Again, with t1 moved and renamed: updated in place; the id-less one added again.
    features[0] = point(100.006, 30.004, "甲厕所（新）", "t1")
    again = send(manage, "post", "/api/v1/evaluation/samples/import", body).json()
    assert (again["added"], again["updated"]) == (1, 3)
    moved = SamplePoint.objects.get(object=city_object, source="t1")
    assert (moved.name, moved.geom.x, moved.geom.y) == ("甲厕所（新）", 100.006, 30.004)
    assert SamplePoint.objects.filter(object=city_object).count() == 5

    # Bad bodies.
    wrong = send(manage, "post", "/api/v1/evaluation/samples/import",
                 {**body, "features": {"a": 1}})  # fmt: skip
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "features"
    missing_type = send(manage, "post", "/api/v1/evaluation/samples/import",
                        {**body, "sample_type": 999999})  # fmt: skip
    assert missing_type.status_code == 404

    # A scorer of street 乙 lists 乙's samples only; a scorer may not import.
    scorer = make_person("eval-scorer", permissions=[perms.EVALUATION_SCORE],
                         areas=[mini.streets[1]])  # fmt: skip
    listed = send(client_of(scorer), "get", "/api/v1/evaluation/samples").json()
    assert sorted(f["properties"]["name"] for f in listed["features"]) == [
        "乙厕所一", "乙厕所二", "乙厕所二"]  # fmt: skip
    assert listed["features"][0]["geometry"]["type"] == "Point"
    assert send(client_of(scorer), "post", "/api/v1/evaluation/samples/import",
                body).status_code == 403  # fmt: skip
    everything = send(manage, "get", "/api/v1/evaluation/samples?bbox=100,30,100.01,30.01").json()
    assert [f["properties"]["name"] for f in everything["features"]] == ["甲厕所（新）"]
    assert send(manage, "get", "/api/v1/evaluation/samples?bbox=1,2,3").status_code == 400


def test_demo_library_from_the_demo_city(city):
    district = AdminArea.objects.get(code="110108")
    communities = AdminArea.objects.filter(level="community", parent__parent=district).count()
    toilets_there = (
        Component.objects.filter(code__regex=r"^\d{6}0301", geom__intersects=district.geom)
        .exclude(status="removed")
        .count()
    )
    assert communities > 0 and toilets_there > 0

    call_command("demo_samples", verbosity=0)
    city_object = EvaluationObject.objects.get(code="demo-110108")
    streets = EvaluationObject.objects.filter(parent=city_object, kind="street")
    assert streets.count() == AdminArea.objects.filter(parent=district, level="street").count()
    by_type = {
        t.code: SamplePoint.objects.filter(object=city_object, sample_type=t)
        for t in SampleType.objects.all()
    }
    assert len(by_type) == 12
    assert by_type["community"].count() == communities
    assert by_type["toilet"].count() == toilets_there
    for code, shape in [("main_road", "MultiLineString"), ("park", "MultiPolygon"),
                        ("crossing", "Point")]:  # fmt: skip
        assert by_type[code].exists(), code
        assert {s.geom.geom_type for s in by_type[code]} == {shape}
    assert all("交叉口" in s.name for s in by_type["crossing"])
    assert not by_type["market"].exists()  # the demo city has no markets
    total = SamplePoint.objects.count()
    call_command("demo_samples", verbosity=0)  # again: updated, not duplicated
    assert SamplePoint.objects.count() == total
    call_command("demo_samples", if_empty=True, verbosity=0)
    assert SamplePoint.objects.count() == total


def test_import_from_a_registry_layer(city):
    manage = client_of(make_person("eval-demo-manager", permissions=[perms.EVALUATION_MANAGE],
                                   areas=[AdminArea.objects.get(code="110108")],
                                   all_layers=True))  # fmt: skip
    call_command("demo_samples", verbosity=0)
    city_object = EvaluationObject.objects.get(code="demo-110108")
    stations = SampleType.objects.get(code="station")
    SamplePoint.objects.filter(sample_type=stations).delete()
    layer = make_layer("eval-bus-stops", filter_sql="substr(code, 7, 4) = '0202'",
                       geometry_type="Point")  # fmt: skip
    expected = Component.objects.filter(code__regex=r"^\d{6}0202",
                                        geom__intersects=city_object.geom).count()  # fmt: skip
    assert expected > 0
    body = {"object": city_object.pk, "sample_type": stations.pk, "layer": layer.key,
            "name_field": "code"}  # fmt: skip
    done = send(manage, "post", "/api/v1/evaluation/samples/import-layer", body).json()
    assert done["added"] == expected
    assert SamplePoint.objects.filter(sample_type=stations, source__startswith="layer:").count() \
        == expected  # fmt: skip
    no_field = send(manage, "post", "/api/v1/evaluation/samples/import-layer",
                    {**body, "name_field": "nope"})  # fmt: skip
    assert no_field.status_code == 400 and no_field.json()["error"]["field"] == "name_field"
    assert send(manage, "post", "/api/v1/evaluation/samples/import-layer",
                {**body, "layer": "nope"}).status_code == 404  # fmt: skip


def test_demo_round_on_the_demo_city(city, settings, tmp_path):
    """`manage.py demo_evaluation`: the library, the demo evaluator's inspections of every
    drawn sample, fillings for the city and its streets, results; run again, nothing new."""
    from accounts.demo import build_demo_organization
    from evaluation.comprehensive.models import (
        EvaluationResult,
        FieldInspectionTask,
        FieldSamplingRule,
        FillingTask,
    )

    settings.MEDIA_ROOT = tmp_path
    build_demo_organization()
    call_command("demo_evaluation", verbosity=0)
    city_object = EvaluationObject.objects.get(code="demo-110108")
    streets = EvaluationObject.objects.filter(parent=city_object).count()
    rules = FieldSamplingRule.objects.filter(object=city_object)
    assert rules.count() == 6
    tasks = FieldInspectionTask.objects.all()
    assert tasks.exists() and set(tasks.values_list("state", flat=True)) == {"approved"}
    assert tasks.count() <= sum(r.count for r in rules)
    assert FillingTask.objects.filter(state="approved").count() == 3 * (streets + 1)
    assert EvaluationResult.objects.filter(object=city_object, indicator__code="A").exists()
    before = (tasks.count(), EvaluationResult.objects.count())
    call_command("demo_evaluation", verbosity=0)
    assert (FieldInspectionTask.objects.count(), EvaluationResult.objects.count()) == before
