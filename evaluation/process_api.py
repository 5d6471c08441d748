"""The process supervision API (流程监督, spec 5.1.4.3) under /api/v1/supervision and the photo
thumbnails of the lists: thin views over `evaluation.process` and `evaluation.thumbnails`,
sharing the screen's selection parameters and case rows (`evaluation.screen_api`)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import State
from core import params
from core.errors import ErrorSerializer

from . import process, statistics, thumbnails
from .screen_api import CASE_ROW, ERRORS, MAX_CASES, PERIOD_FIELDS, SELECTION, TAG, reader

# ---- process supervision (流程监督) ---------------------------------------------------------

STAGE_ITEM = inline_serializer(
    "SupervisionStage",
    {
        "state": drf.CharField(),
        "name": drf.CharField(),
        "count": drf.IntegerField(),
        "overdue": drf.IntegerField(),
        "warning": drf.IntegerField(),
    },
    many=True,
)
PHOTO = inline_serializer(
    "SupervisionPhoto",
    {
        "id": drf.IntegerField(),
        "stage": drf.CharField(),
        "stage_name": drf.CharField(),
        "url": drf.CharField(),
        "uploaded_at": drf.DateTimeField(),
    },
    many=True,
)
STEP = inline_serializer(
    "SupervisionStep",
    {
        "stage": drf.CharField(),
        "stage_name": drf.CharField(),
        "action": drf.CharField(allow_null=True),
        "handler": drf.CharField(allow_null=True),
        "position": drf.CharField(allow_null=True),
        "department": drf.CharField(allow_null=True),
        "start": drf.DateTimeField(),
        "end": drf.DateTimeField(allow_null=True),
        "opinion": drf.CharField(),
    },
    many=True,
)


class SupervisionStagesView(APIView):
    @extend_schema(
        operation_id="supervision_stages",
        summary="The workflow stages with the caller's cases waiting in each (流程监督)",
        tags=[TAG],
        parameters=SELECTION,
        responses={
            200: inline_serializer("SupervisionStages", {**PERIOD_FIELDS, "stages": STAGE_ITEM}),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        chosen = statistics.Selection.from_query(request.query_params)
        return Response(process.stages(scope, chosen))


class SupervisionCasesView(APIView):
    @extend_schema(
        operation_id="supervision_cases",
        summary="The caller's cases of one stage, overdue first",
        tags=[TAG],
        parameters=[
            *SELECTION,
            OpenApiParameter("state", str, enum=State.values),
            OpenApiParameter("number", str, required=False, description="task number prefix"),
            OpenApiParameter("reporter", str, required=False, description="inspector username"),
            OpenApiParameter("limit", int, required=False, description=f"1-{MAX_CASES}, 50"),
            OpenApiParameter("offset", int, required=False),
        ],
        responses={
            200: inline_serializer(
                "SupervisionCases",
                {**PERIOD_FIELDS, "count": drf.IntegerField(), "cases": CASE_ROW},
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        query = request.query_params
        chosen = statistics.Selection.from_query(query)
        state = params.choice(query, "state", State.values)
        limit = params.integer(query, "limit", 50, low=1, high=MAX_CASES)
        offset = params.integer(query, "offset", 0, low=0, high=1_000_000)
        cases = process.stage_cases(
            scope,
            chosen,
            state,
            params.text(query, "number", None),
            params.text(query, "reporter", None),
        )
        rows = statistics.case_rows(list(cases[offset : offset + limit]))
        return Response({**chosen.period.as_json(), "count": cases.count(), "cases": rows})


class SupervisionStepsView(APIView):
    @extend_schema(
        operation_id="supervision_steps",
        summary="A case's steps (handler, department, start, end, opinion) and its photos "
        "before and after handling",
        tags=[TAG],
        responses={
            200: inline_serializer(
                "SupervisionSteps",
                {
                    "case": drf.IntegerField(),
                    "number": drf.CharField(),
                    "state": drf.CharField(),
                    "deadline": drf.DateTimeField(allow_null=True),
                    "deadline_state": drf.CharField(),
                    "steps": STEP,
                    "before": PHOTO,
                    "after": PHOTO,
                },
            ),
            404: ErrorSerializer,
            **ERRORS,
        },
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        return Response(process.steps(scope, case_id))


class CaseThumbnailView(APIView):
    @extend_schema(
        operation_id="screen_case_thumbnail",
        summary="A case photo's thumbnail (JPEG, at most 240×180)",
        tags=[TAG],
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int, media_id: int) -> HttpResponse:
        scope = reader(request)
        response = HttpResponse(
            thumbnails.thumbnail(scope, case_id, media_id), content_type="image/jpeg"
        )
        response["Cache-Control"] = "private, max-age=86400"
        return response
