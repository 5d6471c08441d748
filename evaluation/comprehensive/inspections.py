"""Field inspection tasks (实地考察任务, spec 4.2): created from a sampling rule's draw (in
batch) or for chosen samples (one by one), scored by the evaluator per check item with a photo,
the phone's position and the server's time, kept as a draft until submitted, and reviewed
(approved, or returned with a reason and scored again).

States: ``pending`` → (a score saved) ``draft`` → ``submitted`` → ``approved`` | ``returned``
→ (scored again) ``draft`` → … Deductions are computed, never typed: per occurrence
(``deduction`` × occurrences, at most ``max_deduction``), once (``deduction`` when found) or
all (the indicator's full score when found).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core import uploads
from core.errors import BadInput, Conflict, Forbidden, NotFound

from . import config, sampling
from .models import (
    CheckItem,
    EvaluationCycle,
    EvaluationObject,
    EvaluationTaskEvent,
    Evaluator,
    FieldInspectionScore,
    FieldInspectionTask,
    FieldSamplingRule,
    TaskState,
)

OPEN = (TaskState.PENDING, TaskState.DRAFT, TaskState.RETURNED)
FINISHED = (TaskState.SUBMITTED, TaskState.APPROVED)
MAX_OCCURRENCES = 1000
MAX_NOTE = 1000
POSITION_TOLERANCE_DEG = 0.0003  # about 30 m at the city's latitudes


def deduction(item: CheckItem, occurrences: int) -> float:
    """The points a finding of `occurrences` on `item` deducts (see the module doc)."""
    if occurrences <= 0:
        return 0.0
    if item.mode == CheckItem.Mode.PER_OCCURRENCE:
        found = item.deduction * occurrences
        return min(found, item.max_deduction) if item.max_deduction is not None else found
    if item.mode == CheckItem.Mode.ONCE:
        return item.deduction
    return item.indicator.full_score


def _event(task: FieldInspectionTask, scope: Scope, verb: str, at, note: str = "") -> None:
    EvaluationTaskEvent.objects.create(
        inspection=task, action=verb, actor=scope.user, at=at, note=note
    )


def _cycle(pk) -> EvaluationCycle:
    try:
        return EvaluationCycle.objects.get(pk=int(pk))
    except (TypeError, ValueError, EvaluationCycle.DoesNotExist):
        raise NotFound(f"no cycle {pk}", field="cycle") from None


def _evaluators(ids) -> list[Evaluator]:
    if not ids:
        raise BadInput("give at least one evaluator", field="evaluators")
    found = {e.pk: e for e in Evaluator.objects.filter(pk__in=ids, active=True)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"no active evaluator {missing[0]}", field="evaluators")
    return [found[i] for i in ids]


def _target(*args, **kwargs) -> str:
    return f"cycle:{kwargs.get('cycle_id')}"


@action("evaluation.create_inspections", permission=perms.EVALUATION_MANAGE, target=_target)
def do_create_inspections(
    scope: Scope,
    *,
    cycle_id,
    evaluator_ids: list[int],
    rule_id=None,
    sample_ids: list[int] | None = None,
    deadline: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> list[FieldInspectionTask]:
    """Creates one task per sample — the draw of a stored rule (batch), or the samples given
    (one by one): a sample bound to one of the evaluators goes to them, the others to the
    evaluators in turn, in drawing order. 409 when a sample is already tasked in the cycle."""
    at = at or timezone.now()
    cycle = _cycle(cycle_id)
    evaluators = _evaluators(evaluator_ids)
    if (rule_id is None) == (sample_ids is None):
        raise BadInput("give a sampling rule or samples", field="rule")
    rule = None
    if rule_id is not None:
        rule = config.row(scope, "sampling-rules", rule_id)
        if not rule.enabled:
            raise Conflict("that sampling rule is disabled", field="rule")
        if rule.year != cycle.year:
            raise BadInput(f"the rule is for {rule.year}, the cycle {cycle.year}", field="rule")
        found = sampling.draw_rule(scope, _rule_of(rule))
        ids = found.chosen
    else:
        ids = list(dict.fromkeys(sample_ids or []))
        if not ids:
            raise BadInput("give at least one sample", field="samples")
    chosen = {s.pk: s for s in config.visible_samples(scope).filter(pk__in=ids)}
    missing = [i for i in ids if i not in chosen]
    if missing:
        raise NotFound(f"no sample {missing[0]}", field="samples")
    bound = _bound_evaluators(ids, evaluators)
    tasks = []
    turn = 0
    try:
        with transaction.atomic():
            for pk in ids:
                sample = chosen[pk]
                evaluator = bound.get(pk)
                if evaluator is None:
                    evaluator, turn = evaluators[turn % len(evaluators)], turn + 1
                task = FieldInspectionTask.objects.create(
                    cycle=cycle,
                    object=sample.object,
                    sample=sample,
                    rule=rule,
                    evaluator=evaluator,
                    deadline=deadline,
                    created_at=at,
                )
                _event(task, scope, "create", at)
                tasks.append(task)
    except IntegrityError:
        raise Conflict("a sample is already tasked in this cycle", field="samples") from None
    return tasks


def _bound_evaluators(sample_ids: list[int], evaluators: list[Evaluator]) -> dict:
    """The evaluator bound to each sample (the first of `evaluators` bound to it), if any."""
    order = {e.pk: k for k, e in enumerate(evaluators)}
    found: dict[int, Evaluator] = {}
    through = Evaluator.sample_points.through.objects.filter(
        samplepoint_id__in=sample_ids, evaluator_id__in=list(order)
    )
    for sample_id, evaluator_id in sorted(
        through.values_list("samplepoint_id", "evaluator_id"), key=lambda r: order[r[1]]
    ):
        found.setdefault(sample_id, next(e for e in evaluators if e.pk == evaluator_id))
    return found


def _rule_of(rule: FieldSamplingRule) -> sampling.Rule:
    return sampling.Rule(
        object_id=rule.object_id,
        sample_type_id=rule.sample_type_id,
        count=rule.count,
        area_id=rule.area_id,
        attributes=rule.attributes or {},
        stratify=rule.stratify,
        min_distance_m=rule.min_distance_m,
        seed=rule.seed,
    )


def evaluator_of(scope: Scope) -> Evaluator:
    """The caller as an active evaluator (403 for anyone else)."""
    scope.require(perms.EVALUATION_SCORE)
    found = Evaluator.objects.filter(person_id=scope.person_id, active=True).first()
    if found is None:
        raise Forbidden("you are not an active evaluator (评价员)")
    return found


def my_tasks(scope: Scope, finished: bool) -> list[FieldInspectionTask]:
    """The caller's open (pending, draft, returned) or finished (submitted, approved) tasks."""
    evaluator = evaluator_of(scope)
    states = FINISHED if finished else OPEN
    return list(
        FieldInspectionTask.objects.filter(evaluator=evaluator, state__in=states)
        .select_related("sample__sample_type", "cycle", "object")
        .prefetch_related("scores")
        .order_by("deadline", "id")
    )


def objects_at(scope: Scope, lon: float, lat: float) -> list[EvaluationObject]:
    """The caller's bound evaluation objects at the position — covering it, or within
    `POSITION_TOLERANCE_DEG` (about 30 m: a phone's error, a road on a street's border) —
    nearest first, then most specific (street, district, city)."""
    evaluator = evaluator_of(scope)
    here = Point(lon, lat, srid=4326)
    order = {"street": 0, "district": 1, "city": 2}
    found = evaluator.objects_bound.filter(geom__dwithin=(here, POSITION_TOLERANCE_DEG))
    return sorted(found, key=lambda o: (round(o.geom.distance(here), 6), order[o.kind], o.code))


def _own_task(scope: Scope, task_id) -> FieldInspectionTask:
    evaluator = evaluator_of(scope)
    try:
        return (
            FieldInspectionTask.objects.select_for_update()
            .select_related("sample")
            .get(pk=int(task_id), evaluator=evaluator)
        )
    except (TypeError, ValueError, FieldInspectionTask.DoesNotExist):
        raise NotFound(f"no task {task_id} of yours") from None


def _task_target(*args, **kwargs) -> str:
    return f"inspection:{args[0] if args else kwargs.get('task_id')}"


@action("evaluation.score_inspection", permission=perms.EVALUATION_SCORE, target=_task_target)
def do_score_inspection(
    scope: Scope,
    task_id,
    *,
    check_item_id,
    occurrences: int,
    lon: float,
    lat: float,
    note: str = "",
    photo=None,
    at: dt.datetime | None = None,
) -> FieldInspectionScore:
    """Saves (or replaces) the finding on one check item of the caller's open task, as a
    draft: the deduction computed, the position the phone reported, the server's time."""
    at = at or timezone.now()
    task = _own_task(scope, task_id)
    if task.state not in OPEN:
        raise Conflict(f"the task is {task.get_state_display()}; it takes no scores", field="state")
    try:
        item = CheckItem.objects.select_related("indicator").get(
            pk=int(check_item_id), sample_type_id=task.sample.sample_type_id
        )
    except (TypeError, ValueError, CheckItem.DoesNotExist):
        raise NotFound(
            f"no check item {check_item_id} for this sample type", field="check_item"
        ) from None
    if not 0 <= occurrences <= MAX_OCCURRENCES:
        raise BadInput(f"occurrences is 0 to {MAX_OCCURRENCES}", field="occurrences")
    if len(note) > MAX_NOTE:
        raise BadInput(f"a note is at most {MAX_NOTE} characters", field="note")
    if occurrences > 0 and photo is None:
        raise BadInput("a finding needs a photo", field="photo")
    if photo is not None:
        uploads.checked_type(photo, uploads.PHOTO_TYPES, "photo", "a JPEG, PNG or WebP photo")
    here = Point(lon, lat, srid=4326)
    score, _ = FieldInspectionScore.objects.update_or_create(
        task=task,
        check_item=item,
        defaults={
            "occurrences": occurrences,
            "deduction": deduction(item, occurrences),
            "note": note,
            "position": here,
            "distance_m": _distance_m(task.sample_id, here),
            "recorded_at": at,
            **({"photo": photo} if photo is not None else {"photo": None}),
        },
    )
    if task.state != TaskState.DRAFT:
        task.state = TaskState.DRAFT
        task.save(update_fields=["state"])
    _event(task, scope, "score", at, note=item.name)
    return score


def _distance_m(sample_id: int, here: Point) -> float:
    """The geodesic distance in metres from `here` to the sample's geometry (0 inside it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Distance(geom::geography, ST_GeomFromEWKT(%s)::geography) "
            "FROM evaluation_samplepoint WHERE id = %s",
            [here.ewkt, sample_id],
        )
        return round(cursor.fetchone()[0], 1)


@action("evaluation.submit_inspection", permission=perms.EVALUATION_SCORE, target=_task_target)
def do_submit_inspection(
    scope: Scope, task_id, *, at: dt.datetime | None = None
) -> FieldInspectionTask:
    """Submits the caller's draft for review; check items not scored count as nothing found."""
    at = at or timezone.now()
    task = _own_task(scope, task_id)
    if task.state != TaskState.DRAFT:
        raise Conflict(
            f"only a draft is submitted; the task is {task.get_state_display()}", field="state"
        )
    scored = set(task.scores.values_list("check_item_id", flat=True))
    for item in CheckItem.objects.filter(sample_type_id=task.sample.sample_type_id).exclude(
        pk__in=scored
    ):
        FieldInspectionScore.objects.create(task=task, check_item=item, recorded_at=at)
    task.state, task.submitted_at = TaskState.SUBMITTED, at
    task.save(update_fields=["state", "submitted_at"])
    _event(task, scope, "submit", at)
    return task


@action("evaluation.review_inspection", permission=perms.EVALUATION_MANAGE, target=_task_target)
def do_review_inspection(
    scope: Scope, task_id, *, approve: bool, reason: str = "", at: dt.datetime | None = None
) -> FieldInspectionTask:
    """Approves a submitted task, or returns it to its evaluator with a reason."""
    at = at or timezone.now()
    visible = config.visible_samples(scope).values("pk")
    try:
        task = FieldInspectionTask.objects.select_for_update().get(
            Q(sample__in=visible), pk=int(task_id)
        )
    except (TypeError, ValueError, FieldInspectionTask.DoesNotExist):
        raise NotFound(f"no inspection task {task_id}") from None
    if task.state != TaskState.SUBMITTED:
        raise Conflict(
            f"only a submitted task is reviewed; it is {task.get_state_display()}", field="state"
        )
    reason = (reason or "").strip()
    if not approve and not reason:
        raise BadInput("give the reason for returning it", field="reason")
    task.state = TaskState.APPROVED if approve else TaskState.RETURNED
    task.reviewed_at, task.reviewer, task.return_reason = at, scope.user, reason
    task.save(update_fields=["state", "reviewed_at", "reviewer", "return_reason"])
    _event(task, scope, "approve" if approve else "return", at, note=reason)
    return task


def inspection_scores(task: FieldInspectionTask) -> dict[int, float]:
    """The task's score per indicator: the indicator's full score less the deductions of its
    check items, not below zero."""
    lost: dict[int, float] = {}
    full: dict[int, float] = {}
    for score in task.scores.select_related("check_item__indicator"):
        indicator = score.check_item.indicator
        full[indicator.pk] = indicator.full_score
        lost[indicator.pk] = lost.get(indicator.pk, 0.0) + score.deduction
    return {pk: max(0.0, full[pk] - lost[pk]) for pk in full}


def visible_tasks(scope: Scope):
    """Inspection tasks of samples within the caller's areas."""
    config.require_reader(scope)
    return FieldInspectionTask.objects.filter(sample__in=config.visible_samples(scope).values("pk"))
