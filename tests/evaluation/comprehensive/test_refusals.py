"""What comprehensive evaluation refuses: configuration outside the caller's areas, other
people's tasks, wrong states, bad uploads and values; and where a bound evaluator's samples go."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import permissions as perms
from evaluation.comprehensive.models import (
    CheckItem,
    EvaluationCycle,
    EvaluationIndicator,
    EvaluationObject,
    Evaluator,
    FieldInspectionTask,
    SamplePoint,
    SampleType,
)
from tests.factories import make_person

from .conftest import client_of, send

pytestmark = pytest.mark.django_db
BASE = "/api/v1/evaluation"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(mini):
    """The city and its three streets as objects, a cycle, a field indicator with one check
    item, and one toilet per street."""
    city = EvaluationObject.objects.create(code="C", name="评价市", kind="city",
                                           area=mini.district, geom=mini.district.geom)  # fmt: skip
    streets = [
        EvaluationObject.objects.create(
            code=f"S{k}", name=s.name, kind="street", parent=city, area=s, geom=s.geom
        )  # fmt: skip
        for k, s in enumerate(mini.streets)
    ]
    cycle = EvaluationCycle.objects.create(name="2026", year=2026, starts_on=dt.date(2026, 1, 1),
                                           ends_on=dt.date(2026, 12, 31))  # fmt: skip
    toilets = SampleType.objects.create(code="toilet", name="公共厕所", shape="point")
    clean = EvaluationIndicator.objects.create(code="T", short_name="厕所保洁", level=1,
                                               method="field", full_score=10)  # fmt: skip
    item = CheckItem.objects.create(indicator=clean, sample_type=toilets, name="异味",
                                    mode="once", deduction=4)  # fmt: skip
    samples = []
    for k, street in enumerate(mini.streets):
        here = Point(100.005 + k * 0.01, 30.005, srid=4326)
        samples.append(SamplePoint.objects.create(sample_type=toilets, object=city, street=street,
                                                  name=f"厕所{k}", geom=here, anchor=here))  # fmt: skip
    return {"city": city, "streets": streets, "cycle": cycle, "type": toilets, "item": item,
            "samples": samples}  # fmt: skip


def evaluator(name, mini, **extra):
    person = make_person(name, permissions=[perms.EVALUATION_SCORE], areas=[mini.district])
    return person, Evaluator.objects.create(person=person, **extra)


def test_a_street_manager_configures_their_street_only(mini, world):
    yi = make_person("yi-manager", permissions=[perms.EVALUATION_MANAGE], areas=[mini.streets[1]])
    client = client_of(yi)
    rule = {"name": "r", "sample_type": world["type"].pk, "year": 2026, "count": 1}
    own = send(client, "post", f"{BASE}/config/sampling-rules",
               {**rule, "object": world["streets"][1].pk})  # fmt: skip
    assert own.status_code == 201
    other = send(client, "post", f"{BASE}/config/sampling-rules",
                 {**rule, "object": world["streets"][0].pk})  # fmt: skip
    assert other.status_code == 404 and other.json()["error"]["field"] == "object"
    area = send(client, "post", f"{BASE}/config/objects",
                {"code": "X", "name": "x", "kind": "street", "parent": world["city"].pk,
                 "area": mini.streets[2].pk})  # fmt: skip
    assert area.status_code == 404 and area.json()["error"]["field"] == "area"
    # Another street's tasks cannot be made from here either.
    _, someone = evaluator("e-x", mini)
    made = send(client, "post", f"{BASE}/inspections",
                {"cycle": world["cycle"].pk, "evaluators": [someone.pk],
                 "samples": [world["samples"][0].pk]})  # fmt: skip
    assert made.status_code == 404 and made.json()["error"]["field"] == "samples"
    assert FieldInspectionTask.objects.count() == 0


def test_bound_evaluators_get_their_samples_and_nobody_else_touches_a_task(mini, world, manage):
    one, first = evaluator("e-1", mini)
    two, second = evaluator("e-2", mini)
    second.sample_points.set([world["samples"][0]])  # 厕所0 is e-2's
    made = send(manage, "post", f"{BASE}/inspections",
                {"cycle": world["cycle"].pk, "evaluators": [first.pk, second.pk],
                 "samples": [s.pk for s in world["samples"]]})  # fmt: skip
    assert made.status_code == 201, made.content
    got = [(t["sample"]["properties"]["name"], t["evaluator"]) for t in made.json()["tasks"]]
    assert got == [("厕所0", second.pk), ("厕所1", first.pk), ("厕所2", second.pk)]

    task = made.json()["tasks"][1]["id"]  # e-1's
    outsider = make_person("not-evaluator", permissions=[perms.EVALUATION_SCORE],
                           areas=[mini.district])  # fmt: skip
    form = {"check_item": str(world["item"].pk), "occurrences": "0", "lon": "100.015",
            "lat": "30.005"}  # fmt: skip
    assert client_of(outsider).post(f"{BASE}/field/tasks/{task}/scores", form).status_code == 403
    assert client_of(two).post(f"{BASE}/field/tasks/{task}/scores", form).status_code == 404
    phone = client_of(one)
    assert send(phone, "post", f"{BASE}/field/tasks/{task}/submit").status_code == 409  # pending
    for bad, field in [({**form, "occurrences": "-1"}, "occurrences"),
                       ({**form, "lon": "181"}, "lon"), ({**form, "lat": "abc"}, "lat"),
                       ({**form, "check_item": "999999"}, "check_item"),
                       ({**form, "occurrences": "1"}, "photo"),
                       ({**form, "occurrences": "1",
                         "photo": SimpleUploadedFile("a.jpg", b"GIF89a", "image/jpeg")}, "photo")]:  # fmt: skip
        refused = phone.post(f"{BASE}/field/tasks/{task}/scores", bad)
        assert refused.status_code in (400, 404), (field, refused.content)
        assert refused.json()["error"]["field"] == field
    # The phone 0.001° east of the toilet (at 30.005°N): 96.5 m by hand on GRS80
    # (0.001 · π/180 · N(30.005°) · cos 30.005°, N = 6,383,480 m).
    away = phone.post(f"{BASE}/field/tasks/{task}/scores", {**form, "lon": "100.016"}).json()
    assert away["check_items"][0]["score"]["distance_m"] == pytest.approx(96.5, abs=0.2)
    there = phone.post(f"{BASE}/field/tasks/{task}/scores", form)
    assert there.status_code == 200
    assert there.json()["check_items"][0]["score"]["distance_m"] == 0
    # A manager cannot approve a draft; an evaluator cannot review at all.
    review = f"{BASE}/inspections/{task}/review"
    assert send(manage, "post", review, {"approve": True}).status_code == 409
    assert send(phone, "post", review, {"approve": True}).status_code == 403
    assert send(phone, "post", f"{BASE}/field/tasks/{task}/submit").status_code == 200
    approved = send(manage, "post", review, {"approve": True})
    assert approved.json()["indicator_scores"] == {str(world["item"].indicator_id): 10.0}
    # Results: 乙's toilet was inspected; 甲 has no approved inspection and takes the city's.
    assert send(manage, "post", f"{BASE}/results/compute", {"cycle": world["cycle"].pk}).json() \
        == {"objects": 4}  # fmt: skip
    for street, source in [(0, "field_parent"), (1, "field")]:
        found = send(manage, "get", f"{BASE}/results/objects/{world['streets'][street].pk}"
                     f"?cycle={world['cycle'].pk}").json()["results"]  # fmt: skip
        assert [(r["indicator"], r["source"], r["score"]) for r in found] == [("T", source, 10)]
    # Samples already tasked in the cycle: 409, nothing added.
    again = send(manage, "post", f"{BASE}/inspections",
                 {"cycle": world["cycle"].pk, "evaluators": [first.pk],
                  "samples": [world["samples"][1].pk]})  # fmt: skip
    assert again.status_code == 409 and FieldInspectionTask.objects.count() == 3
    huge = send(manage, "post", f"{BASE}/inspections",
                {"cycle": world["cycle"].pk, "evaluators": [2**70], "samples": [1]})  # fmt: skip
    assert huge.status_code == 400


def test_filling_refusals(mini, world, manage, manager):
    clerk = make_person("clerk", permissions=[])
    stranger = make_person("stranger", permissions=[perms.EVALUATION_SCORE], areas=[mini.district])
    soon = (timezone.now() + dt.timedelta(days=3)).isoformat()
    body = {"kind": "self", "cycle": world["cycle"].pk, "objects": [world["streets"][0].pk],
            "assignee": clerk.pk, "deadline": soon}  # fmt: skip
    assert send(client_of(clerk), "post", f"{BASE}/fillings", body).status_code == 403
    for bad, field in [({**body, "kind": "poll"}, "kind"), ({**body, "objects": []}, "objects"),
                       ({**body, "assignee": 10**9}, "assignee"),
                       ({**body, "objects": [10**9]}, "objects")]:  # fmt: skip
        refused = send(manage, "post", f"{BASE}/fillings", bad)
        assert refused.status_code in (400, 404) and refused.json()["error"]["field"] == field
    task = send(manage, "post", f"{BASE}/fillings", body).json()["tasks"][0]["id"]
    assert send(manage, "post", f"{BASE}/fillings", body).status_code == 409
    EvaluationIndicator.objects.create(code="S1", short_name="自评", level=1, method="self",
                                       full_score=5)  # fmt: skip
    office = client_of(clerk)
    draft = f"{BASE}/fillings/{task}/draft"
    for values in [{"S1": {"score": 6}}, {"S1": {"score": "5"}}, {"T": {"score": 1}},
                   {"S1": 5}, {"S1": {"score": float("nan")}}]:  # fmt: skip
        response = office.post(draft, json.dumps({"values": values}),
                               content_type="application/json")  # fmt: skip
        assert response.status_code == 400, values
    assert send(office, "post", f"{BASE}/fillings/{task}/submit").status_code == 409  # pending
    # Not the assignee: as if there were no such task.
    assert send(client_of(stranger), "post", draft, {"values": {"S1": {"score": 1}}}).status_code \
        == 404  # fmt: skip
    assert send(office, "post", draft, {"values": {"S1": {"score": 4.5}}}).status_code == 200
    assert send(office, "post", f"{BASE}/fillings/{task}/submit").status_code == 200
    # No reviewer named: a person without evaluation.manage may not review.
    assert send(office, "post", f"{BASE}/fillings/{task}/review",
                {"approve": True}).status_code == 403  # fmt: skip
    listed = send(client_of(stranger), "get", f"{BASE}/fillings").json()["tasks"]
    assert listed == []
    not_a_sheet = SimpleUploadedFile("a.xlsx", b"PK\x03\x04 broken")
    imported = office.post(f"{BASE}/fillings/import",
                           {"kind": "self", "cycle": str(world["cycle"].pk), "file": not_a_sheet})  # fmt: skip
    assert imported.status_code == 400 and imported.json()["error"]["field"] == "file"
