"""``POST /api/v1/evaluation/sampling/preview``: the draw of a sampling rule (a stored one, or
one given in the body) as GeoJSON, before any task is created. Thin view over `sampling`."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.scoping import Scope, scope_for
from core.errors import BadInput, ErrorSerializer, NotFound
from core.serializers import JsonTypes

from .http import SignedInView
from . import config, samples, sampling
from .models import FieldSamplingRule, SamplePoint, SampleType

TAG = "evaluation"
ID_MAX = 2**63 - 1
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404)}
MAX_COUNT = 10_000


class SamplingPreviewSerializer(JsonTypes, drf.Serializer):
    rule = drf.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="a stored rule; or give:"
    )
    object = drf.IntegerField(min_value=1, max_value=ID_MAX, required=False)
    sample_type = drf.IntegerField(min_value=1, max_value=ID_MAX, required=False)
    count = drf.IntegerField(min_value=1, max_value=MAX_COUNT, required=False)
    area = drf.IntegerField(min_value=1, max_value=ID_MAX, required=False, allow_null=True)
    attributes = drf.DictField(child=drf.CharField(max_length=128), required=False)
    stratify = drf.BooleanField(required=False, default=True)
    min_distance_m = drf.FloatField(min_value=0, max_value=100_000, required=False, default=0)
    seed = drf.IntegerField(min_value=0, max_value=2**63 - 1, required=False, default=1)


def rule_of_stored(scope: Scope, pk: int) -> tuple[sampling.Rule, FieldSamplingRule]:
    stored = config.row(scope, "sampling-rules", pk)
    config.row(scope, "objects", stored.object_id)  # the object must be the caller's
    return (
        sampling.Rule(
            object_id=stored.object_id,
            sample_type_id=stored.sample_type_id,
            count=stored.count,
            area_id=stored.area_id,
            attributes=stored.attributes or {},
            stratify=stored.stratify,
            min_distance_m=stored.min_distance_m,
            seed=stored.seed,
        ),
        stored,
    )


def rule_of_body(scope: Scope, data: dict) -> sampling.Rule:
    if "rule" in data:
        return rule_of_stored(scope, data["rule"])[0]
    for name in ("object", "sample_type", "count"):
        if name not in data:
            raise BadInput(f"give {name}, or a stored rule", field=name)
    config.row(scope, "objects", data["object"])
    if not SampleType.objects.filter(pk=data["sample_type"]).exists():
        raise NotFound(f"no sample type {data['sample_type']}", field="sample_type")
    return sampling.Rule(
        object_id=data["object"],
        sample_type_id=data["sample_type"],
        count=data["count"],
        area_id=data.get("area"),
        attributes=data.get("attributes") or {},
        stratify=data["stratify"],
        min_distance_m=data["min_distance_m"],
        seed=data["seed"],
    )


def draw_json(found: sampling.Draw) -> dict:
    """The draw as a GeoJSON FeatureCollection in drawing order, with its strata."""
    by_id = {s.pk: s for s in SamplePoint.objects.filter(pk__in=found.chosen)}
    features = []
    for rank, pk in enumerate(found.chosen, start=1):
        feature = samples.feature(by_id[pk])
        feature["properties"]["rank"] = rank
        features.append(feature)
    return {
        "type": "FeatureCollection",
        "features": features,
        "available": found.available,
        "drawn": len(found.chosen),
        "strata": [
            {"street": s.street, "available": s.available, "quota": s.quota, "drawn": s.drawn}
            for s in found.strata
        ],
    }


DRAW = inline_serializer(
    "EvaluationSamplingDraw",
    {
        "type": drf.CharField(default="FeatureCollection"),
        "features": drf.ListField(child=drf.DictField(), help_text="with properties.rank"),
        "available": drf.IntegerField(help_text="candidates after the filters"),
        "drawn": drf.IntegerField(),
        "strata": drf.ListField(
            child=inline_serializer(
                "EvaluationSamplingStratum",
                {
                    "street": drf.IntegerField(allow_null=True),
                    "available": drf.IntegerField(),
                    "quota": drf.IntegerField(),
                    "drawn": drf.IntegerField(),
                },
            )
        ),
    },
)


class PreviewView(SignedInView):
    @extend_schema(
        operation_id="evaluation_sampling_preview",
        tags=[TAG],
        summary="The draw of a sampling rule (抽样预览) as GeoJSON; nothing is stored",
        description="The same rule and seed give the same draw. Candidates: enabled samples of "
        "the type in the object, within the area and with the attribute values, inside the "
        "caller's areas.",
        request=SamplingPreviewSerializer,
        responses={200: DRAW, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        config.require_reader(scope)
        body = SamplingPreviewSerializer(data=request.data)
        if not body.is_valid():
            raise BadInput.from_serializer_errors(body.errors)
        rule = rule_of_body(scope, dict(body.validated_data))
        return Response(draw_json(sampling.draw_rule(scope, rule)))


urlpatterns = [
    path("evaluation/sampling/preview", PreviewView.as_view(), name="evaluation-sampling-preview"),
]
