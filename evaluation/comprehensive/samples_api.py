"""The sample library API (样本库): ``GET /api/v1/evaluation/samples`` (GeoJSON within the
caller's areas), ``POST /api/v1/evaluation/samples/import`` (GeoJSON features) and
``POST /api/v1/evaluation/samples/import-layer`` (a registry layer). Thin views over
`samples`."""

from __future__ import annotations

from accounts import permissions as perms

from django.contrib.gis.geos import Polygon
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer
from core.serializers import JsonTypes

from .http import SignedInView
from . import config, samples

TAG = "evaluation"
ID_MAX = 2**63 - 1
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 409)}
MAX_LIST = 10_000

FEATURES = inline_serializer(
    "EvaluationSampleFeatures",
    {
        "type": drf.CharField(default="FeatureCollection"),
        "features": drf.ListField(child=drf.DictField()),
        "numberMatched": drf.IntegerField(),
    },
)
IMPORTED = inline_serializer(
    "EvaluationSamplesImported",
    {
        "added": drf.IntegerField(),
        "updated": drf.IntegerField(),
        "skipped": drf.IntegerField(),
        "skipped_features": drf.ListField(child=drf.DictField(), help_text="index and reason"),
    },
)


class SampleImportSerializer(JsonTypes, drf.Serializer):
    object = drf.IntegerField(min_value=1, max_value=ID_MAX)
    sample_type = drf.IntegerField(min_value=1, max_value=ID_MAX)
    features = drf.ListField(child=drf.JSONField(), help_text="GeoJSON features")
    name_property = drf.CharField(max_length=64, required=False, default="name")


class SampleLayerImportSerializer(JsonTypes, drf.Serializer):
    object = drf.IntegerField(min_value=1, max_value=ID_MAX)
    sample_type = drf.IntegerField(min_value=1, max_value=ID_MAX)
    layer = drf.CharField(max_length=63)
    name_field = drf.CharField(max_length=63, required=False, default="name")


def _body(serializer_class, request) -> dict:
    body = serializer_class(data=request.data)
    if not body.is_valid():
        raise BadInput.from_serializer_errors(body.errors)
    return dict(body.validated_data)


class SamplesView(SignedInView):
    @extend_schema(
        operation_id="evaluation_samples",
        tags=[TAG],
        summary="Sample points (样本点) within the caller's areas, as GeoJSON",
        parameters=[
            OpenApiParameter("object", int, required=False),
            OpenApiParameter("sample_type", int, required=False),
            OpenApiParameter("street", int, required=False),
            OpenApiParameter(
                "bbox", str, required=False, description="minlon,minlat,maxlon,maxlat"
            ),
            OpenApiParameter("limit", int, required=False, description=f"at most {MAX_LIST}"),
        ],
        responses={200: FEATURES, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        config.require_reader(scope)
        query = request.query_params
        found = config.visible_samples(scope).order_by("id")
        for name in ("object", "sample_type", "street"):
            value = params.integer(query, name, None, low=1)
            if value is not None:
                found = found.filter(**{f"{name}_id": value})
        box = params.bbox(query, "bbox", None)
        if box is not None:
            found = found.filter(geom__intersects=Polygon.from_bbox(tuple(box)))
        limit = params.integer(query, "limit", 1000, low=1, high=MAX_LIST)
        rows = list(found.select_related(None)[:limit])
        return Response(
            {
                "type": "FeatureCollection",
                "features": [samples.feature(s) for s in rows],
                "numberMatched": found.count(),
            }
        )


class ImportView(SignedInView):
    permissions = (perms.EVALUATION_MANAGE,)

    @extend_schema(
        operation_id="evaluation_samples_import",
        tags=[TAG],
        summary="Add or update samples of one type in one object from GeoJSON features",
        description="Features of the wrong shape, invalid, unnamed or outside the object are "
        "left out and listed; a feature's id is its source (imported again, it is updated).",
        request=SampleImportSerializer,
        responses={200: IMPORTED, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _body(SampleImportSerializer, request)
        done = samples.do_import_samples(
            scope_for(request),
            object_id=data["object"],
            sample_type_id=data["sample_type"],
            features=data["features"],
            name_property=data["name_property"],
        )
        return Response(done.as_json())


class LayerImportView(SignedInView):
    permissions = (perms.EVALUATION_MANAGE,)

    @extend_schema(
        operation_id="evaluation_samples_import_layer",
        tags=[TAG],
        summary="Add or update samples from a registry layer the caller reads (its areas)",
        request=SampleLayerImportSerializer,
        responses={200: IMPORTED, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _body(SampleLayerImportSerializer, request)
        done = samples.do_import_layer_samples(
            scope_for(request),
            object_id=data["object"],
            sample_type_id=data["sample_type"],
            layer_key=data["layer"],
            name_field=data["name_field"],
        )
        return Response(done.as_json())


urlpatterns = [
    path("evaluation/samples", SamplesView.as_view(), name="evaluation-samples"),
    path("evaluation/samples/import", ImportView.as_view(), name="evaluation-samples-import"),
    path(
        "evaluation/samples/import-layer",
        LayerImportView.as_view(),
        name="evaluation-samples-import-layer",
    ),
]
