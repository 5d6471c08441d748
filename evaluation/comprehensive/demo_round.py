"""A demo round of comprehensive evaluation on the demo city: an indicator system (干净, 整洁,
有序, 群众满意 and an advanced 特色创新), its rules and check items, sampling rules, this year's
cycle, and one round played through the actions — draws, inspections scored by the demo
evaluator with seeded findings and reviewed, platform data, surveys and self-evaluations
filled and approved for every street — then results. Same seed, same round.

Needs `demo_samples` (the library and the objects) and `demo_accounts` (the person
``evaluator`` who inspects; without it the round has no inspections).
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import Person
from accounts.scoping import Scope, scope_for_user

from . import fillings, inspections, results
from .models import (
    BaseDataItem,
    BaseDataValue,
    CalculationRule,
    CheckItem,
    EvaluationCycle,
    EvaluationIndicator,
    EvaluationObject,
    Evaluator,
    FieldInspectionTask,
    FieldSamplingRule,
    FillingTask,
    IntervalRule,
    LogicalRule,
    SampleType,
)

DATA_ITEMS = [
    ("road_area", "城市道路面积", "万m²"),
    ("swept_area", "机械化清扫面积", "万m²"),
    ("built_area", "建成区面积", "km²"),
    ("toilet_count", "公共厕所数量", "座"),
]
# code, name, parent, method, full score, advanced
INDICATORS = [
    ("A", "干净", None, "", 0, False),
    ("A1", "道路清扫保洁", "A", "", 0, False),
    ("A1.1", "道路机扫率", "A1", "platform", 8, False),
    ("A1.2", "主次干道清洁", "A1", "field", 12, False),
    ("A2", "公共厕所", "A", "", 0, False),
    ("A2.1", "公厕保洁", "A2", "field", 10, False),
    ("A2.2", "公厕设置密度", "A2", "platform", 10, False),
    ("B", "整洁", None, "", 0, False),
    ("B1", "市容环境", "B", "", 0, False),
    ("B1.1", "背街小巷整洁", "B1", "field", 10, False),
    ("B1.2", "公园广场整洁", "B1", "field", 10, False),
    ("C", "有序", None, "", 0, False),
    ("C1", "交通秩序", "C", "", 0, False),
    ("C1.1", "路口秩序", "C1", "field", 10, False),
    ("C1.2", "车站秩序", "C1", "field", 10, False),
    ("D", "群众满意", None, "", 0, False),
    ("D1", "满意度调查", "D", "", 0, False),
    ("D1.1", "市容环境满意度", "D1", "survey", 20, False),
    ("E", "特色创新", None, "", 0, True),
    ("E1", "创新举措", "E", "", 0, False),
    ("E1.1", "创新工作自评", "E1", "self", 5, False),
]
# indicator, sample type, name, mode, deduction, most
CHECK_ITEMS = [
    ("A1.2", "main_road", "暴露垃圾", "per_occurrence", 1, 6),
    ("A1.2", "main_road", "积存渣土", "per_occurrence", 2, 6),
    ("A1.2", "main_road", "道路积水", "once", 2, None),
    ("A2.1", "toilet", "异味明显", "once", 3, None),
    ("A2.1", "toilet", "地面不洁", "once", 2, None),
    ("A2.1", "toilet", "设施损坏", "per_occurrence", 1, 5),
    ("B1.1", "back_alley", "乱堆乱放", "per_occurrence", 1, 5),
    ("B1.1", "back_alley", "乱贴乱画", "per_occurrence", 1, 5),
    ("B1.2", "park", "绿地脏乱", "once", 3, None),
    ("B1.2", "park", "设施破损", "per_occurrence", 1, 5),
    ("C1.1", "crossing", "占道经营", "per_occurrence", 2, 6),
    ("C1.1", "crossing", "机动车乱停放", "per_occurrence", 1, 5),
    ("C1.2", "station", "站台脏乱", "once", 3, None),
    ("C1.2", "station", "非机动车乱停放", "per_occurrence", 1, 5),
]
# sample type, count, minimum distance (m)
SAMPLING = [
    ("main_road", 12, 300),
    ("back_alley", 8, 200),
    ("park", 6, 0),
    ("toilet", 10, 300),
    ("crossing", 6, 300),
    ("station", 8, 200),
]


def build_indicators() -> None:
    """The demo indicator system with its rules and check items (kept when already there)."""
    if EvaluationIndicator.objects.filter(code="A").exists():
        return
    for code, name, unit in DATA_ITEMS:
        BaseDataItem.objects.get_or_create(code=code, defaults={"name": name, "unit": unit})
    made: dict[str, EvaluationIndicator] = {}
    for order, (code, name, parent, method, full, advanced) in enumerate(INDICATORS):
        made[code] = EvaluationIndicator.objects.create(
            code=code,
            short_name=name,
            parent=made.get(parent) if parent else None,
            level=1 if parent is None else made[parent].level + 1,
            method=method,
            full_score=full,
            advanced=advanced,
            sort_order=order,
        )
    CalculationRule.objects.create(
        indicator=made["A1.1"],
        formula="swept_area / road_area * 100",
        items=["road_area", "swept_area"],
    )
    IntervalRule.objects.create(
        indicator=made["A1.1"], lower=0, upper=90, step=1, start="upper", deduction=0.5
    )
    LogicalRule.objects.create(
        indicator=made["A1.1"], kind=LogicalRule.Kind.NOT_WORSE_THAN_LAST_YEAR, deduction=1
    )
    CalculationRule.objects.create(
        indicator=made["A2.2"],
        formula="toilet_count / built_area",
        items=["built_area", "toilet_count"],
    )
    made["A2.2"].reference_value = 3
    made["A2.2"].save(update_fields=["reference_value"])
    IntervalRule.objects.create(
        indicator=made["A2.2"], lower=0, upper=3, step=0.5, start="upper", deduction=1
    )
    types = {t.code: t for t in SampleType.objects.all()}
    for order, (code, sample_type, name, mode, deduction, most) in enumerate(CHECK_ITEMS):
        CheckItem.objects.create(
            indicator=made[code],
            sample_type=types[sample_type],
            name=name,
            mode=mode,
            deduction=deduction,
            max_deduction=most,
            sort_order=order,
        )


def _photo(k: int) -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (32, 24), (120 + k % 100, 110, 100)).save(data, "JPEG")
    return SimpleUploadedFile(f"demo-{k}.jpg", data.getvalue(), "image/jpeg")


def _inspect(scope: Scope, evaluator: Evaluator, cycle, rng) -> int:
    """Scores, submits and approves the evaluator's open tasks with seeded findings."""
    phone = scope_for_user(evaluator.person.user)
    done = 0
    tasks = FieldInspectionTask.objects.filter(evaluator=evaluator, cycle=cycle, state="pending")
    for task in tasks.select_related("sample").order_by("id"):
        anchor = task.sample.anchor
        for item in CheckItem.objects.filter(sample_type_id=task.sample.sample_type_id):
            found = int(rng.poisson(0.6))
            inspections.do_score_inspection(
                phone,
                task.pk,
                check_item_id=item.pk,
                occurrences=found,
                lon=anchor.x,
                lat=anchor.y,
                note="现场发现问题" if found else "",
                photo=_photo(task.pk * 100 + item.pk) if found else None,
            )
        inspections.do_submit_inspection(phone, task.pk)
        inspections.do_review_inspection(scope, task.pk, approve=True)
        done += 1
    return done


def _fill(scope: Scope, cycle, streets, clerk: Person, rng) -> None:
    deadline = timezone.now() + dt.timedelta(days=30)
    as_clerk = scope_for_user(clerk.user)
    for kind in FillingTask.Kind.values:
        tasks = fillings.do_create_fillings(
            scope,
            kind=kind,
            cycle_id=cycle.pk,
            object_ids=[s.pk for s in streets],
            assignee_id=clerk.pk,
            deadline=deadline,
        )
        for task in tasks:
            fillings.do_save_filling(as_clerk, task.pk, values=_values(kind, task, cycle, rng))
            fillings.do_submit_filling(as_clerk, task.pk)
            fillings.do_review_filling(scope, task.pk, approve=True)


def _values(kind: str, task: FillingTask, cycle, rng) -> dict:
    area = task.object.geom.transform(3857, clone=True).area / 1e6 if task.object.geom else 3.0
    if kind == FillingTask.Kind.PLATFORM:
        road = round(float(rng.uniform(40, 90)), 1)
        last = {"road_area": road, "swept_area": round(road * float(rng.uniform(0.82, 0.97)), 1)}
        for code, value in last.items():  # last year's, for the logical rule
            BaseDataValue.objects.update_or_create(
                item=BaseDataItem.objects.get(code=code), object=task.object,
                year=cycle.year - 1, defaults={"value": value},
            )  # fmt: skip
        return {
            "road_area": road,
            "swept_area": round(road * float(rng.uniform(0.82, 0.99)), 1),
            "built_area": round(area, 2),
            "toilet_count": int(rng.integers(4, 16)),
        }
    if kind == FillingTask.Kind.SURVEY:
        shares = rng.dirichlet([6, 5, 3, 1.2, 0.6])
        shares = [round(float(v), 3) for v in shares]
        shares[0] = round(1 - sum(shares[1:]), 3)
        return {"D1.1": dict(zip(fillings.LEVELS, shares))}
    return {"E1.1": {"score": float(rng.integers(1, 6)), "text": "推行门前三包数字化管理"}}


def build_round(scope: Scope, city: EvaluationObject, *, year: int, seed: int = 1) -> dict:
    """Plays this year's demo round for `city` and its streets (see the module doc); gives
    what it did. Does nothing when the cycle already has inspections."""
    build_indicators()
    cycle, _ = EvaluationCycle.objects.get_or_create(
        name=f"{year}年度综合评价",
        defaults={"year": year, "starts_on": dt.date(year, 1, 1), "ends_on": dt.date(year, 12, 31)},
    )
    if FieldInspectionTask.objects.filter(cycle=cycle).exists():
        return {"cycle": cycle.pk, "inspections": 0, "objects": 0}
    rng = np.random.Generator(np.random.PCG64(seed))
    types = {t.code: t for t in SampleType.objects.all()}
    person = Person.objects.filter(user__username="evaluator").first()
    evaluator = None
    if person is not None:
        evaluator, _ = Evaluator.objects.get_or_create(
            person=person, defaults={"unit": "第三方评估机构"}
        )
        streets = list(EvaluationObject.objects.filter(parent=city))
        evaluator.objects_bound.set([city, *streets])
    made = 0
    for code, count, distance in SAMPLING:
        rule, _ = FieldSamplingRule.objects.get_or_create(
            name=f"{types[code].name}抽样",
            sample_type=types[code],
            object=city,
            year=year,
            defaults={"count": count, "min_distance_m": distance, "seed": seed},
        )
        if evaluator is not None and rule.enabled:
            made += len(
                inspections.do_create_inspections(
                    scope, cycle_id=cycle.pk, evaluator_ids=[evaluator.pk], rule_id=rule.pk
                )
            )
    inspected = _inspect(scope, evaluator, cycle, rng) if evaluator is not None else 0
    streets = list(EvaluationObject.objects.filter(parent=city).order_by("code"))
    clerk = person or Person.objects.filter(user__is_superuser=True).first()
    if clerk is not None:
        _fill(scope, cycle, [city, *streets], clerk, rng)
    objects = results.do_compute_results(scope, cycle_id=cycle.pk)
    return {"cycle": cycle.pk, "inspections": made, "inspected": inspected, "objects": objects}
