"""The configuration of comprehensive evaluation (评价配置, spec 4.6) as resources: each a model
with its serializer, written only through `do_save_config` and `do_delete_config`.

Writes need ``evaluation.manage``; reads ``evaluation.manage`` or ``evaluation.score``.
Evaluation objects are read within the caller's areas (`ScopedQuerySet` over the object's
area), the rest of the configuration (indicators, rules, types) is not spatial.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import (
    BadInput,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    first_code,
    first_error,
)
from spatial.models import AdminArea

from . import serializers as s
from .models import (
    BaseDataItem,
    BaseDataValue,
    CalculationRule,
    CheckItem,
    EvaluationCycle,
    EvaluationIndicator,
    EvaluationObject,
    Evaluator,
    FieldSamplingRule,
    IntervalRule,
    LogicalRule,
    SamplePoint,
    SampleType,
)


@dataclass(frozen=True)
class Resource:
    """One configuration resource: its URL name, model, serializer and Chinese label."""

    name: str
    model: type[models.Model]
    serializer: type
    label: str
    filters: tuple[str, ...] = ()  # query parameters that filter the list by equal value


RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in [
        Resource(
            "objects",
            EvaluationObject,
            s.EvaluationObjectSerializer,
            "评价对象",
            ("kind", "parent"),
        ),
        Resource("cycles", EvaluationCycle, s.EvaluationCycleSerializer, "评价周期", ("year",)),
        Resource("evaluators", Evaluator, s.EvaluatorSerializer, "评价员", ("active",)),
        Resource("data-items", BaseDataItem, s.BaseDataItemSerializer, "基础数据项"),
        Resource(
            "data-values", BaseDataValue, s.BaseDataValueSerializer, "基础数据", ("object", "year")
        ),
        Resource(
            "indicators",
            EvaluationIndicator,
            s.EvaluationIndicatorSerializer,
            "评价指标",
            ("parent", "level", "method"),
        ),
        Resource(
            "calculation-rules",
            CalculationRule,
            s.CalculationRuleSerializer,
            "计算规则",
            ("indicator",),
        ),
        Resource(
            "interval-rules", IntervalRule, s.IntervalRuleSerializer, "区间规则", ("indicator",)
        ),
        Resource("logical-rules", LogicalRule, s.LogicalRuleSerializer, "逻辑规则", ("indicator",)),
        Resource("sample-types", SampleType, s.SampleTypeSerializer, "样本类型"),
        Resource(
            "check-items",
            CheckItem,
            s.CheckItemSerializer,
            "检查项",
            ("indicator", "sample_type"),
        ),
        Resource(
            "sampling-rules",
            FieldSamplingRule,
            s.FieldSamplingRuleSerializer,
            "抽样规则",
            ("object", "sample_type", "year"),
        ),
    ]
}


def require_reader(scope: Scope) -> None:
    """Raises unless the caller configures or scores evaluations."""
    if scope.is_anonymous:
        raise Unauthorized("sign in first")
    if not (scope.has_perm(perms.EVALUATION_MANAGE) or scope.has_perm(perms.EVALUATION_SCORE)):
        raise Forbidden(
            f"your positions grant neither {perms.EVALUATION_MANAGE} nor {perms.EVALUATION_SCORE}"
        )


def resource(name: str) -> Resource:
    if name not in RESOURCES:
        raise NotFound(f"no configuration resource {name!r}")
    return RESOURCES[name]


def visible_objects(scope: Scope) -> models.QuerySet:
    """The evaluation objects whose area meets the caller's areas (all for administrators)."""
    return EvaluationObject.objects.visible_to(scope)


def visible_samples(scope: Scope) -> models.QuerySet:
    """The sample points inside the caller's areas (all for administrators)."""
    return SamplePoint.objects.visible_to(scope)


def rows(scope: Scope, name: str, query) -> models.QuerySet:
    """The rows of resource `name` the caller may read, filtered by `query`'s equal values."""
    require_reader(scope)
    found = resource(name)
    queryset = visible_objects(scope) if found.model is EvaluationObject else found.model.objects
    queryset = queryset.all()
    if found.model in (BaseDataValue, FieldSamplingRule):
        queryset = queryset.filter(object__in=visible_objects(scope).values("pk"))
    for key in found.filters:
        value = query.get(key)
        if value in (None, ""):
            continue
        if key == "active":
            queryset = queryset.filter(active=value == "true")
            continue
        if key in ("kind", "method"):
            queryset = queryset.filter(**{key: value})
            continue
        try:
            queryset = queryset.filter(**{key: int(value)})
        except ValueError:
            raise BadInput(f"{key} must be an integer", field=key) from None
    return queryset.order_by(*(queryset.model._meta.ordering or ["id"]))


def row(scope: Scope, name: str, pk, *, lock: bool = False) -> models.Model:
    """One row of resource `name` by id (404 when there is none the caller sees)."""
    found = resource(name)
    queryset = visible_objects(scope) if found.model is EvaluationObject else found.model.objects
    if lock:
        queryset = queryset.select_for_update()
    try:
        return queryset.get(pk=int(pk))
    except (ValueError, TypeError, found.model.DoesNotExist):
        raise NotFound(f"no {found.label} {pk}") from None


def _target(name, *args, **kwargs) -> str:
    return f"{name}:{kwargs.get('pk') or 'new'}"


@action("evaluation.save_config", permission=perms.EVALUATION_MANAGE, target=_target)
def do_save_config(scope: Scope, name: str, *, data: dict, pk=None) -> models.Model:
    """Creates a row of resource `name` from `data`, or (with `pk`) changes the fields given;
    400 naming the field for bad values, 409 for a duplicate."""
    found = resource(name)
    instance = row(scope, name, pk, lock=True) if pk is not None else None
    body = found.serializer(instance, data=data, partial=instance is not None)
    if not body.is_valid():
        if first_code(body.errors) == "unique":
            field, message = first_error(body.errors)
            raise Conflict(message, field=field)
        raise BadInput.from_serializer_errors(body.errors)
    _within_areas(scope, body.validated_data)
    try:
        with transaction.atomic():
            saved = body.save()
    except IntegrityError:
        raise Conflict(f"that {found.label} conflicts with a stored one (a duplicate)") from None
    if isinstance(saved, EvaluationObject):
        _refresh_object_geometry(saved)
    return saved


def _within_areas(scope: Scope, data: dict) -> None:
    """Refuses references to objects, areas or samples outside the caller's areas (as if they
    did not exist): a manager of one street configures that street only."""
    if scope.sees_everything:
        return
    for field, value in data.items():
        for ref in value if isinstance(value, list) else [value]:
            if isinstance(ref, EvaluationObject):
                visible = visible_objects(scope)
            elif isinstance(ref, AdminArea):
                visible = AdminArea.objects.visible_to(scope)
            elif isinstance(ref, SamplePoint):
                visible = visible_samples(scope)
            else:
                continue
            if not visible.filter(pk=ref.pk).exists():
                raise NotFound(f"no {field} {ref.pk} in your areas", field=field)


def _refresh_object_geometry(obj: EvaluationObject) -> None:
    """An object is drawn as its administrative area (a city without one: none)."""
    geom = obj.area.geom if obj.area_id else None
    EvaluationObject.objects.filter(pk=obj.pk).update(geom=geom)
    obj.geom = geom


@action("evaluation.delete_config", permission=perms.EVALUATION_MANAGE, target=_target)
def do_delete_config(scope: Scope, name: str, *, pk) -> None:
    """Deletes a row of resource `name`; 409 while other rows still refer to it."""
    found = resource(name)
    instance = row(scope, name, pk, lock=True)
    try:
        with transaction.atomic():
            instance.delete()
    except (ProtectedError, RestrictedError, IntegrityError):
        raise Conflict(f"that {found.label} is still in use") from None
