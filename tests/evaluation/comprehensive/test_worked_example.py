"""A worked example of comprehensive evaluation, end to end over HTTP, every number counted by
hand below: the configuration, a stratified draw of road samples, field inspections scored on
the phone (with a return and a second submission), platform data, survey results imported
from a spreadsheet and self-evaluations through fill → submit → review, then results,
rankings (with a tie, and without advanced indicators), the trend and the export.

Three street objects 甲, 乙, 丙 (x 100.00-100.01, 100.01-100.02, 100.02-100.03) of the city
评价市. The indicator tree (full scores in brackets):

    A 干净      A1 道路保洁  A1.1 机扫率 (10, platform: swept_area / road_area * 100;
                                 interval [0, 90): 0.5 per point below 90; better than
                                 last year, else -2)
                             A1.2 路面清洁 (20, field: 垃圾 2 per place, at most 10;
                                 积水 3 once)
    B 有序      B1 市容秩序  B1.1 市容自评 (10, self)
    C 群众满意  C1 满意度    C1.1 群众满意度 (20, survey: shares weighted 100/80/60/30/0)
    D 创新 (advanced)  D1 创新举措  D1.1 创新自评 (5, self)

By hand:

    A1.1  甲 950/1000 = 95 % (2025: 90 %, better)             → 10
          乙 1700/2000 = 85 %: 5 points below → -2.5; 2025 90 % → -2  → 5.5
          丙 446/500 = 89.2 %: 0.8 below → 1 step → -0.5; no 2025 data → 9.5
    A1.2  甲 two roads: 3 垃圾 → 20-6 = 14; 1 积水 → 20-3 = 17; mean 15.5
          乙 6 垃圾 → 12, capped 10, 1 积水 → 3 → 20-13 = 7
          丙 nothing found (after a return) → 20
    B1.1  甲 8, 乙 9, 丙 8
    C1.1  甲 (.5 .3 .1 .1 0) → 50+24+6+3 = 83 → 16.6
          乙 (.2 .3 .3 .1 .1) → 20+24+18+3 = 65 → 13
          丙 (.6 .2 .2 0 0) → 60+16+12 = 88 → 17.6
    D1.1  甲 1, 乙 5, 丙 2

    A: 甲 25.5, 乙 12.5, 丙 29.5     B: 甲 8, 乙 9, 丙 8 (甲 and 丙 tie: rank 2, 2)
    C: 甲 16.6, 乙 13, 丙 17.6       D: 甲 1, 乙 5, 丙 2
    overall: 丙 57.1 (1), 甲 51.1 (2), 乙 39.5 (3); without D: 丙 55.1, 甲 50.1, 乙 34.5

    2025 (last year's data only): 甲 10, 乙 10, 丙 0 — the trend.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.gis.geos import LineString
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from PIL import Image

from accounts import permissions as perms
from evaluation.comprehensive.models import (
    EvaluationTaskEvent,
    FieldInspectionTask,
    SamplePoint,
)
from tests.factories import make_person

from .conftest import client_of, send

pytestmark = pytest.mark.django_db
BASE = "/api/v1/evaluation"
CFG = f"{BASE}/config"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def jpeg(name="p.jpg"):
    data = io.BytesIO()
    Image.new("RGB", (4, 4)).save(data, "JPEG")
    return SimpleUploadedFile(name, data.getvalue(), "image/jpeg")


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def create(client, resource, body):
    return ok(send(client, "post", f"{CFG}/{resource}", body), 201)


def configure(manage, mini) -> dict:
    """The objects, the cycles, the indicator tree and its rules, through the config API."""
    ids: dict = {}
    city = create(manage, "objects", {"code": "C", "name": "评价市", "kind": "city",
                                       "area": mini.district.pk, "participating": False})  # fmt: skip
    for code, street in zip("甲乙丙", mini.streets):
        ids[code] = create(manage, "objects", {"code": f"S-{code}", "name": street.name,
                                                "kind": "street", "parent": city["id"],
                                                "area": street.pk, "size": "medium"})["id"]  # fmt: skip
    ids["city"] = city["id"]
    ids["cycle"] = create(manage, "cycles", {"name": "2026年度", "year": 2026,
                                             "starts_on": "2026-01-01",
                                             "ends_on": "2026-12-31"})["id"]  # fmt: skip
    for code, name in [("road_area", "道路面积"), ("swept_area", "机扫面积")]:
        ids[code] = create(manage, "data-items", {"code": code, "name": name, "unit": "m²"})["id"]

    def indicator(code, name, parent=None, **extra):
        body = {"code": code, "short_name": name, "parent": ids.get(parent), **extra}
        ids[code] = create(manage, "indicators", body)["id"]

    indicator("A", "干净", sort_order=1)
    indicator("A1", "道路保洁", "A")
    indicator("A1.1", "机扫率", "A1", method="platform", full_score=10, reference_value=90)
    indicator("A1.2", "路面清洁", "A1", method="field", full_score=20)
    indicator("B", "有序", sort_order=2)
    indicator("B1", "市容秩序", "B")
    indicator("B1.1", "市容自评", "B1", method="self", full_score=10)
    indicator("C", "群众满意", sort_order=3)
    indicator("C1", "满意度", "C")
    indicator("C1.1", "群众满意度", "C1", method="survey", full_score=20)
    indicator("D", "创新", sort_order=4, advanced=True)
    indicator("D1", "创新举措", "D")
    indicator("D1.1", "创新自评", "D1", method="self", full_score=5)
    create(manage, "calculation-rules", {"indicator": ids["A1.1"],
                                         "formula": "swept_area / road_area * 100"})  # fmt: skip
    create(manage, "interval-rules", {"indicator": ids["A1.1"], "lower": 0, "upper": 90,
                                      "upper_closed": False, "step": 1, "start": "upper",
                                      "deduction": 0.5})  # fmt: skip
    create(manage, "logical-rules", {"indicator": ids["A1.1"], "kind": "better_than_last_year",
                                     "deduction": 2})  # fmt: skip
    ids["road"] = create(manage, "sample-types", {"code": "road", "name": "主次干道",
                                                  "shape": "line"})["id"]  # fmt: skip
    ids["litter"] = create(manage, "check-items", {"indicator": ids["A1.2"],
                                                   "sample_type": ids["road"], "name": "垃圾",
                                                   "mode": "per_occurrence", "deduction": 2,
                                                   "max_deduction": 10})["id"]  # fmt: skip
    ids["water"] = create(manage, "check-items", {"indicator": ids["A1.2"],
                                                  "sample_type": ids["road"], "name": "积水",
                                                  "mode": "once", "deduction": 3,
                                                  "sort_order": 1})["id"]  # fmt: skip
    # Last year's data of 甲 (90 %) and 乙 (90 %); 丙 has none.
    for street, road, swept in [("甲", 1000, 900), ("乙", 2000, 1800)]:
        for item, value in [("road_area", road), ("swept_area", swept)]:
            create(manage, "data-values", {"item": ids[item], "object": ids[street],
                                           "year": 2025, "value": value})  # fmt: skip
    return ids


def road_samples(manage, ids) -> None:
    """Roads: 甲 two (西一路, 西二路), 乙 one, 丙 one, all in the city object."""
    features = []
    for name, x in [("西一路", 100.003), ("西二路", 100.007), ("中路", 100.015), ("东路", 100.025)]:
        line = LineString((x, 30.001), (x, 30.005), (x, 30.009), srid=4326)
        features.append({"type": "Feature", "id": name, "geometry": eval_geojson(line),
                         "properties": {"name": name}})  # fmt: skip
    done = ok(send(manage, "post", f"{BASE}/samples/import",
                   {"object": ids["city"], "sample_type": ids["road"], "features": features}))  # fmt: skip
    assert done["added"] == 4


def eval_geojson(geom) -> dict:
    import json

    return json.loads(geom.geojson)


def score(client, task_id, item, occurrences, lon, lat, photo=True):
    form = {"check_item": str(item), "occurrences": str(occurrences), "lon": str(lon),
            "lat": str(lat), "note": "现场检查"}  # fmt: skip
    if photo:
        form["photo"] = jpeg()
    return client.post(f"{BASE}/field/tasks/{task_id}/scores", form)


def test_worked_example(mini, manage, manager):
    ids = configure(manage, mini)
    road_samples(manage, ids)

    # Evaluators: two people bound to the city and its streets.
    people = [make_person(f"evaluator-{k}", permissions=[perms.EVALUATION_SCORE],
                          areas=[mini.district], name=f"评价员{k}") for k in (1, 2)]  # fmt: skip
    evaluators = [
        create(
            manage,
            "evaluators",
            {
                "person": p.pk,
                "unit": "第三方评估公司",
                "objects_bound": [ids["city"], ids["甲"], ids["乙"], ids["丙"]],
            },
        )["id"]  # fmt: skip
        for p in people
    ]
    phones = [client_of(p) for p in people]

    # Field sampling: 4 roads stratified → 甲 2, 乙 1, 丙 1; preview, then tasks in batch.
    rule = create(manage, "sampling-rules", {"name": "道路抽样", "sample_type": ids["road"],
                                             "object": ids["city"], "year": 2026, "count": 4,
                                             "seed": 42, "min_distance_m": 100})  # fmt: skip
    preview = ok(send(manage, "post", f"{BASE}/sampling/preview", {"rule": rule["id"]}))
    assert sorted(f["properties"]["name"] for f in preview["features"]) == [
        "东路", "中路", "西一路", "西二路"]  # fmt: skip
    assert FieldInspectionTask.objects.count() == 0  # a preview creates nothing
    created = ok(send(manage, "post", f"{BASE}/inspections",
                      {"cycle": ids["cycle"], "rule": rule["id"], "evaluators": evaluators}), 201)  # fmt: skip
    tasks = {t["sample"]["properties"]["name"]: t for t in created["tasks"]}
    assert [t["sample"]["properties"]["name"] for t in created["tasks"]] == [
        f["properties"]["name"] for f in preview["features"]]  # fmt: skip
    assert [t["evaluator"] for t in created["tasks"]] == [*evaluators, *evaluators]
    again = send(manage, "post", f"{BASE}/inspections",
                 {"cycle": ids["cycle"], "rule": rule["id"], "evaluators": evaluators})  # fmt: skip
    assert again.status_code == 409

    # Each evaluator sees their own two tasks, with the road's check items.
    owner = {}
    for phone, evaluator in zip(phones, evaluators):
        mine = ok(send(phone, "get", f"{BASE}/field/tasks"))["tasks"]
        assert len(mine) == 2 and {t["evaluator"] for t in mine} == {evaluator}
        assert [i["name"] for i in mine[0]["check_items"]] == ["垃圾", "积水"]
        for t in mine:
            owner[t["sample"]["properties"]["name"]] = phone
    where = ok(send(phones[0], "get", f"{BASE}/field/objects?lon=100.015&lat=30.005"))
    assert [o["code"] for o in where["objects"]] == ["S-乙", "C"]

    findings = {  # road: [(item, occurrences)]
        "西一路": [("litter", 3), ("water", 0)],
        "西二路": [("litter", 0), ("water", 1)],
        "中路": [("litter", 6), ("water", 1)],
        "东路": [("litter", 2)],  # returned below, then scored again
    }
    for road, found in findings.items():
        phone, task = owner[road], tasks[road]
        x = task["sample"]["geometry"]["coordinates"][0][0]
        for item, occurrences in found:
            ok(score(phone, task["id"], ids[item], occurrences, x, 30.005))
        # The other evaluator cannot touch it.
        other = phones[1] if phone is phones[0] else phones[0]
        assert score(other, task["id"], ids["litter"], 0, x, 30.005).status_code == 404
        submitted = ok(send(phone, "post", f"{BASE}/field/tasks/{task['id']}/submit"))
        assert submitted["state"] == "submitted"
    # A finding without a photo, a score after submission: refused.
    t = tasks["中路"]["id"]
    assert score(owner["中路"], t, ids["litter"], 1, 100.015, 30.005, photo=False).status_code in (
        400, 409)  # fmt: skip
    assert ok(send(owner["中路"], "get", f"{BASE}/field/tasks?finished=true"))["tasks"]

    # Review: 东路 is returned (2 litter were in fact outside the road), the rest approved.
    dong = tasks["东路"]["id"]
    no_reason = send(manage, "post", f"{BASE}/inspections/{dong}/review", {"approve": False})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["field"] == "reason"
    returned = ok(send(manage, "post", f"{BASE}/inspections/{dong}/review",
                       {"approve": False, "reason": "垃圾不在道路范围内，请复核"}))  # fmt: skip
    assert returned["state"] == "returned"
    back = ok(send(owner["东路"], "get", f"{BASE}/field/tasks"))["tasks"]
    assert [t["return_reason"] for t in back if t["id"] == dong] == ["垃圾不在道路范围内，请复核"]
    ok(score(owner["东路"], dong, ids["litter"], 0, 100.025, 30.005, photo=False))
    ok(send(owner["东路"], "post", f"{BASE}/field/tasks/{dong}/submit"))
    for road in findings:
        approved = ok(send(manage, "post", f"{BASE}/inspections/{tasks[road]['id']}/review",
                           {"approve": True}))  # fmt: skip
        assert approved["state"] == "approved"
    assert [e.action for e in EvaluationTaskEvent.objects.filter(inspection_id=dong)] == [
        "create", "score", "submit", "return", "score", "submit", "approve"]  # fmt: skip
    listed = ok(send(manage, "get", f"{BASE}/inspections?state=approved"))["tasks"]
    assert len(listed) == 4

    fill_sources(manage, manager, ids)

    # Results.
    assert ok(send(manage, "post", f"{BASE}/results/compute", {"cycle": ids["cycle"]})) == {
        "objects": 3}  # fmt: skip
    jia = {r["indicator"]: r for r in ok(send(
        manage, "get", f"{BASE}/results/objects/{ids['甲']}?cycle={ids['cycle']}"))["results"]}  # fmt: skip
    assert jia["A1.1"]["value"] == pytest.approx(95.0) and jia["A1.1"]["score"] == 10
    assert jia["A1.2"]["value"] == pytest.approx(15.5) and jia["A1.2"]["source"] == "field"
    assert jia["C1.1"]["value"] == pytest.approx(83.0)
    assert jia["A"]["score"] == pytest.approx(25.5)

    found = ok(send(manage, "get", f"{BASE}/rankings?cycle={ids['cycle']}&kind=street"))
    overall = [(r["name"], r["score"], r["rank"]) for r in found["overall"]]
    assert overall == [("丙街道", pytest.approx(57.1), 1), ("甲街道", pytest.approx(51.1), 2),
                       ("乙街道", pytest.approx(39.5), 3)]  # fmt: skip
    expected = {
        "A": [("丙街道", 29.5, 1), ("甲街道", 25.5, 2), ("乙街道", 12.5, 3)],
        "B": [("乙街道", 9.0, 1), ("丙街道", 8.0, 2), ("甲街道", 8.0, 2)],
        "C": [("丙街道", 17.6, 1), ("甲街道", 16.6, 2), ("乙街道", 13.0, 3)],
        "D": [("乙街道", 5.0, 1), ("丙街道", 2.0, 2), ("甲街道", 1.0, 3)],
    }
    for code, rows in expected.items():
        got = [(r["name"], r["score"], r["rank"]) for r in found["by_indicator"][code]]
        assert got == [(n, pytest.approx(s), k) for n, s, k in rows], code
    assert ok(send(manage, "get", f"{BASE}/rankings?year=2026&kind=street")) == found
    assert send(manage, "get", f"{BASE}/rankings?year=2019").status_code == 404
    assert send(manage, "get", f"{BASE}/rankings").status_code == 400
    plain = ok(send(manage, "get",
                    f"{BASE}/rankings?cycle={ids['cycle']}&kind=street&advanced=false"))  # fmt: skip
    assert [(r["name"], r["score"]) for r in plain["overall"]] == [
        ("丙街道", pytest.approx(55.1)), ("甲街道", pytest.approx(50.1)),
        ("乙街道", pytest.approx(34.5))]  # fmt: skip
    assert [r["score"] for r in plain["by_indicator"]["D"]] == [0, 0, 0]
    assert (
        ok(send(manage, "get", f"{BASE}/rankings?cycle={ids['cycle']}&kind=city"))["overall"] == []
    )  # fmt: skip  (the city does not take part)

    # Last year's cycle has only last year's data: A1.1 of 甲 and 乙 at 90 % (the interval
    # [0, 90) leaves 90 out; no 2024 data for the logical rule) → 10 each; 丙 has nothing → 0.
    last = create(manage, "cycles", {"name": "2025年度", "year": 2025, "starts_on": "2025-01-01",
                                     "ends_on": "2025-12-31"})  # fmt: skip
    ok(send(manage, "post", f"{BASE}/results/compute", {"cycle": last["id"]}))
    for street, then, now in [("丙", 0, 57.1), ("甲", 10, 51.1), ("乙", 10, 39.5)]:
        trend = ok(send(manage, "get", f"{BASE}/results/objects/{ids[street]}/trend"))["trend"]
        assert [(t["year"], t["score"]) for t in trend] == [
            (2025, pytest.approx(then)), (2026, pytest.approx(now))], street  # fmt: skip
    clean = ok(send(manage, "get", f"{BASE}/results/objects/{ids['甲']}/trend?indicator=A"))
    assert [t["score"] for t in clean["trend"]] == [pytest.approx(10), pytest.approx(25.5)]

    sheet = send(manage, "get", f"{BASE}/rankings/export?cycle={ids['cycle']}&kind=street")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("排名", "编码", "评价对象", "干净", "有序", "群众满意", "创新", "总分")
    assert [(r[0], r[2]) for r in rows[1:]] == [(1, "丙街道"), (2, "甲街道"), (3, "乙街道")]
    assert rows[1][3:] == pytest.approx((29.5, 8, 17.6, 2, 57.1))

    # A scorer of street 乙 ranks 乙 alone.
    scorer = make_person("eval-scorer", permissions=[perms.EVALUATION_SCORE],
                         areas=[mini.streets[1]])  # fmt: skip
    theirs = ok(send(client_of(scorer), "get", f"{BASE}/rankings?cycle={ids['cycle']}"))
    assert [r["name"] for r in theirs["overall"]] == ["乙街道"]
    assert SamplePoint.objects.count() == 4


def fill_sources(manage, manager, ids) -> None:
    """Platform data, surveys (a spreadsheet import) and self-evaluations through filling
    tasks for the three streets, one returned once and one overdue."""
    streets = [ids["甲"], ids["乙"], ids["丙"]]
    bureau = make_person("statistics", permissions=[], name="统计局")
    office = client_of(bureau)
    soon = (timezone.now() + dt.timedelta(days=7)).isoformat()
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    kinds = {}
    for kind, deadline in [("platform", soon), ("survey", soon), ("self", past)]:
        made = ok(send(manage, "post", f"{BASE}/fillings",
                       {"kind": kind, "cycle": ids["cycle"], "objects": streets,
                        "assignee": bureau.pk, "reviewer": manager.pk,
                        "deadline": deadline}), 201)["tasks"]  # fmt: skip
        kinds[kind] = {t["object"]: t["id"] for t in made}
    overdue = ok(send(office, "get", f"{BASE}/fillings?overdue=true"))["tasks"]
    assert sorted(t["id"] for t in overdue) == sorted(kinds["self"].values())

    # Platform data: drafts, then submitted and approved; 乙 returned once.
    data = {"甲": (1000, 950), "乙": (2000, 1700), "丙": (500, 446)}
    for street, (road, swept) in data.items():
        task = kinds["platform"][ids[street]]
        ok(send(office, "post", f"{BASE}/fillings/{task}/draft",
                {"values": {"road_area": road, "swept_area": swept}}))  # fmt: skip
        ok(send(office, "post", f"{BASE}/fillings/{task}/submit"))
    bad = send(office, "post", f"{BASE}/fillings/{kinds['platform'][ids['甲']]}/draft",
               {"values": {"road_area": 1}})  # fmt: skip
    assert bad.status_code == 409  # submitted: no more drafts
    yi = kinds["platform"][ids["乙"]]
    ok(send(manage, "post", f"{BASE}/fillings/{yi}/review",
            {"approve": False, "reason": "机扫面积请附统计表"}))  # fmt: skip
    pdf = SimpleUploadedFile("表.pdf", b"%PDF-1.4 table", "application/pdf")
    assert office.post(f"{BASE}/fillings/{yi}/attachments", {"file": pdf}).status_code == 201
    fake = SimpleUploadedFile("x.pdf", b"MZ not a pdf", "application/pdf")
    assert office.post(f"{BASE}/fillings/{yi}/attachments", {"file": fake}).status_code == 400
    ok(send(office, "post", f"{BASE}/fillings/{yi}/draft",
            {"values": {"road_area": 2000, "swept_area": 1700}}))  # fmt: skip
    ok(send(office, "post", f"{BASE}/fillings/{yi}/submit"))
    for task in kinds["platform"].values():
        assert ok(send(manage, "post", f"{BASE}/fillings/{task}/review",
                       {"approve": True}))["state"] == "approved"  # fmt: skip

    # Surveys from a spreadsheet, one row per street.
    book = Workbook()
    sheet = book.active
    levels = ["very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"]
    sheet.append(["object", *[f"C1.1.{level}" for level in levels]])
    sheet.append(["S-甲", 0.5, 0.3, 0.1, 0.1, 0])
    sheet.append(["S-乙", 0.2, 0.3, 0.3, 0.1, 0.1])
    sheet.append(["S-丙", 0.6, 0.2, 0.2, 0, 0])
    data = io.BytesIO()
    book.save(data)
    upload = SimpleUploadedFile("survey.xlsx", data.getvalue())
    imported = office.post(f"{BASE}/fillings/import",
                           {"kind": "survey", "cycle": str(ids["cycle"]), "file": upload})  # fmt: skip
    assert imported.status_code == 200, imported.content
    assert len(imported.json()["tasks"]) == 3
    for task in kinds["survey"].values():
        ok(send(office, "post", f"{BASE}/fillings/{task}/submit"))
        ok(send(manage, "post", f"{BASE}/fillings/{task}/review", {"approve": True}))
    wrong_sum = send(office, "post", f"{BASE}/fillings/{kinds['survey'][ids['甲']]}/draft",
                     {"values": {"C1.1": dict(zip(levels, [0.5, 0.5, 0.5, 0, 0]))}})  # fmt: skip
    assert wrong_sum.status_code == 409  # approved already

    # Self-evaluations, past their deadline (submitted late).
    selves = {"甲": (8, 1), "乙": (9, 5), "丙": (8, 2)}
    for street, (b, d) in selves.items():
        task = kinds["self"][ids[street]]
        too_high = send(office, "post", f"{BASE}/fillings/{task}/draft",
                        {"values": {"B1.1": {"score": 11}}})  # fmt: skip
        assert too_high.status_code == 400
        ok(send(office, "post", f"{BASE}/fillings/{task}/draft",
                {"values": {"B1.1": {"score": b, "text": "自评报告"}, "D1.1": {"score": d}}}))  # fmt: skip
        ok(send(office, "post", f"{BASE}/fillings/{task}/submit"))
        ok(send(manage, "post", f"{BASE}/fillings/{task}/review", {"approve": True}))
    late = EvaluationTaskEvent.objects.filter(report_id=kinds["self"][ids["甲"]], action="submit")
    assert [e.note for e in late] == ["逾期提交"]
    assert ok(send(office, "get", f"{BASE}/fillings?overdue=true"))["tasks"] == []
