"""Evaluation results (评价结果, spec 4.5): each object's value and score per indicator in a
cycle from the four sources, computed and stored (`do_compute_results`; reading them, rankings
and trends: `rankings`).

A scored leaf indicator's score, by its method:

- **platform** (平台上报): the value of its calculation rule's formula over the object's base
  data of the cycle's year (approved platform fillings write those); the full score less the
  deduction of the first interval rule (by priority) holding the value — ``deduction``, or
  ``deduction`` × ⌈distance from the rule's start bound / step⌉ — less the deduction of each
  logical rule not met (better than / not worse than last year's value from last year's data,
  reaching the reference value);
- **field** (实地考察): the mean, over the cycle's approved inspections of samples whose anchor
  lies in the object's area, of the inspection's score on the indicator (full score less the
  deductions of its check items, not below zero); with no such inspection in the object, the
  mean over its parent object's area (a street with no sampled park: the city's parks);
- **survey** (问卷调查): the full score × the satisfaction index / 100, the index being the
  approved survey's shares weighted 100, 80, 60, 30 and 0 (非常满意 … 非常不满意);
- **self** (自评价): the approved self-evaluation's score.

Scores stay within 0 and the full score; a leaf without data scores 0 (``value`` null). A
parent's score is the sum of its children's; the overall score the sum of the first level's.
Without advanced indicators (提高指标), advanced indicators and their subtrees count for nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import NotFound

from . import config, formulas, inspections
from .fillings import LEVELS
from .models import (
    BaseDataValue,
    EvaluationCycle,
    EvaluationIndicator,
    EvaluationObject,
    EvaluationResult,
    FieldInspectionTask,
    FillingTask,
    IntervalRule,
    LogicalRule,
    TaskState,
)

LEVEL_POINTS = dict(zip(LEVELS, (100, 80, 60, 30, 0)))
STEP_EPSILON = 1e-9


@dataclass
class Leaf:
    value: float | None
    score: float
    source: str


def _data(object_id: int, year: int) -> dict[str, float]:
    return dict(
        BaseDataValue.objects.filter(object_id=object_id, year=year).values_list(
            "item__code", "value"
        )
    )


def formula_value(indicator: EvaluationIndicator, data: dict[str, float]) -> float | None:
    """The indicator's calculation rule over `data`, or None without a rule or its items."""
    rule = getattr(indicator, "calculation", None)
    if rule is None:
        return None
    try:
        return formulas.evaluate(rule.formula, {item: data.get(item) for item in rule.items})
    except formulas.FormulaError:
        return None


def _inside(rule: IntervalRule, value: float) -> bool:
    if rule.lower is not None:
        if value < rule.lower or (value == rule.lower and not rule.lower_closed):
            return False
    if rule.upper is not None:
        if value > rule.upper or (value == rule.upper and not rule.upper_closed):
            return False
    return True


def interval_deduction(rules: list[IntervalRule], value: float) -> float:
    """The deduction of the first rule (by priority, then id) whose interval holds `value`."""
    for rule in sorted(rules, key=lambda r: (r.priority, r.pk)):
        if not _inside(rule, value):
            continue
        if rule.step is None:
            return rule.deduction
        start = rule.upper if rule.start == IntervalRule.Start.UPPER else rule.lower
        distance = abs(value - start)
        return rule.deduction * max(0, math.ceil(distance / rule.step - STEP_EPSILON))
    return 0.0


def logical_deduction(
    rules: list[LogicalRule], indicator: EvaluationIndicator, value: float, last: float | None
) -> float:
    """The deductions of the logical rules `value` does not meet (a rule on last year's value
    does not apply without one; a rule on the reference value, without a reference)."""
    lost = 0.0
    for rule in rules:
        up = rule.higher_is_better
        if rule.kind == LogicalRule.Kind.REACHES_REFERENCE:
            target = indicator.reference_value
            if target is not None and not (value >= target if up else value <= target):
                lost += rule.deduction
            continue
        if last is None:
            continue
        if rule.kind == LogicalRule.Kind.BETTER_THAN_LAST_YEAR:
            met = value > last if up else value < last
        else:
            met = value >= last if up else value <= last
        if not met:
            lost += rule.deduction
    return lost


def _clamp(score: float, full: float) -> float:
    return round(min(max(score, 0.0), full), 6)


def platform_leaf(indicator, obj, year, data_now, data_last) -> Leaf:
    value = formula_value(indicator, data_now)
    if value is None:
        return Leaf(None, 0.0, "platform")
    last = formula_value(indicator, data_last)
    lost = interval_deduction(list(indicator.intervals.all()), value)
    lost += logical_deduction(list(indicator.logic.all()), indicator, value, last)
    return Leaf(value, _clamp(indicator.full_score - lost, indicator.full_score), "platform")


def _field_scores(indicator, tasks: list[FieldInspectionTask]) -> list[float]:
    scores = []
    for task in tasks:
        per_indicator = inspections.inspection_scores(task)
        if indicator.pk in per_indicator:
            scores.append(per_indicator[indicator.pk])
    return scores


def field_leaf(indicator, tasks, parent_tasks=None) -> Leaf:
    """The mean inspection score in the object; with none there, in its parent object's area
    (a street without a sampled park is judged by the city's parks: source ``field_parent``)."""
    scores, source = _field_scores(indicator, tasks), "field"
    if not scores and parent_tasks:
        scores, source = _field_scores(indicator, parent_tasks()), "field_parent"
    if not scores:
        return Leaf(None, 0.0, "field")
    value = sum(scores) / len(scores)
    return Leaf(round(value, 6), _clamp(value, indicator.full_score), source)


def survey_leaf(indicator, fillings: dict) -> Leaf:
    shares = fillings.get(FillingTask.Kind.SURVEY, {}).get(indicator.code)
    if not shares:
        return Leaf(None, 0.0, "survey")
    index = sum(shares[level] * LEVEL_POINTS[level] for level in LEVELS)
    return Leaf(
        round(index, 6),
        _clamp(indicator.full_score * index / 100, indicator.full_score),
        "survey",
    )


def self_leaf(indicator, fillings: dict) -> Leaf:
    entry = fillings.get(FillingTask.Kind.SELF, {}).get(indicator.code)
    if not entry:
        return Leaf(None, 0.0, "self")
    return Leaf(entry["score"], _clamp(entry["score"], indicator.full_score), "self")


def _tasks_in(cycle: EvaluationCycle, obj: EvaluationObject) -> list[FieldInspectionTask]:
    found = FieldInspectionTask.objects.filter(cycle=cycle, state=TaskState.APPROVED)
    if obj.geom is not None:
        found = found.filter(sample__anchor__coveredby=obj.geom)
    else:
        found = found.filter(sample__object=obj)
    return list(found.prefetch_related("scores__check_item__indicator"))


def leaf_scores(cycle: EvaluationCycle, obj: EvaluationObject, indicators) -> dict[int, Leaf]:
    """The object's value and score on each scored leaf indicator in the cycle."""
    data_now, data_last = _data(obj.pk, cycle.year), _data(obj.pk, cycle.year - 1)
    tasks = _tasks_in(cycle, obj)
    parent: list = []

    def parent_tasks() -> list[FieldInspectionTask]:
        if not parent and obj.parent is not None:
            parent.append(_tasks_in(cycle, obj.parent))
        return parent[0] if parent else []

    approved = FillingTask.objects.filter(cycle=cycle, object=obj, state=TaskState.APPROVED)
    fillings = {t.kind: t.values for t in approved}
    parents = {i.parent_id for i in indicators}
    found = {}
    for indicator in indicators:
        if indicator.pk in parents or not indicator.scored:
            continue
        method = indicator.method
        if method == EvaluationIndicator.Method.PLATFORM:
            found[indicator.pk] = platform_leaf(indicator, obj, cycle.year, data_now, data_last)
        elif method == EvaluationIndicator.Method.FIELD:
            found[indicator.pk] = field_leaf(indicator, tasks, parent_tasks)
        elif method == EvaluationIndicator.Method.SURVEY:
            found[indicator.pk] = survey_leaf(indicator, fillings)
        elif method == EvaluationIndicator.Method.SELF:
            found[indicator.pk] = self_leaf(indicator, fillings)
    return found


def tree_scores(
    indicators: list[EvaluationIndicator], leaves: dict[int, float], advanced: bool = True
) -> dict[int, float]:
    """Every indicator's score: a leaf's from `leaves`, a parent's its children's sum; without
    `advanced`, advanced indicators and their subtrees score nothing."""
    children: dict[int | None, list[EvaluationIndicator]] = {}
    for indicator in indicators:
        children.setdefault(indicator.parent_id, []).append(indicator)
    scores: dict[int, float] = {}

    def score(node: EvaluationIndicator, dropped: bool) -> float:
        dropped = dropped or (node.advanced and not advanced)
        if node.pk in children:
            total = sum(score(child, dropped) for child in children[node.pk])
        else:
            total = leaves.get(node.pk, 0.0)
        if dropped:
            total = 0.0
        scores[node.pk] = round(total, 6)
        return total

    for root in children.get(None, []):
        score(root, False)
    return scores


def all_indicators() -> list[EvaluationIndicator]:
    return list(
        EvaluationIndicator.objects.select_related("calculation").prefetch_related(
            "intervals", "logic"
        )
    )


def cycle_of(pk) -> EvaluationCycle:
    try:
        return EvaluationCycle.objects.get(pk=int(pk))
    except (TypeError, ValueError, EvaluationCycle.DoesNotExist):
        raise NotFound(f"no cycle {pk}", field="cycle") from None


@action(
    "evaluation.compute_results",
    permission=perms.EVALUATION_MANAGE,
    target=lambda *a, **k: f"cycle:{k.get('cycle_id')}",
)
def do_compute_results(scope: Scope, *, cycle_id, at=None) -> int:
    """Computes and stores every indicator's value and score for each participating object
    the caller sees in the cycle (replacing earlier results); gives how many objects."""
    at = at or timezone.now()
    cycle = cycle_of(cycle_id)
    indicators = all_indicators()
    objects = list(config.visible_objects(scope).filter(participating=True))
    with transaction.atomic():
        EvaluationResult.objects.filter(cycle=cycle, object__in=objects).delete()
        rows = []
        for obj in objects:
            leaves = leaf_scores(cycle, obj, indicators)
            tree = tree_scores(indicators, {pk: leaf.score for pk, leaf in leaves.items()})
            for indicator in indicators:
                leaf = leaves.get(indicator.pk)
                rows.append(
                    EvaluationResult(
                        cycle=cycle,
                        object=obj,
                        indicator=indicator,
                        source=leaf.source if leaf else "",
                        value=leaf.value if leaf else None,
                        score=tree.get(indicator.pk, 0.0),
                        computed_at=at,
                    )
                )
        EvaluationResult.objects.bulk_create(rows)
    return len(objects)
