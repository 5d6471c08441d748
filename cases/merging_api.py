"""Merging similar cases over HTTP: POST /api/v1/cases/merge and GET /api/v1/cases/{id}/reporters
(undo: ``POST /cases/{id}/actions/unmerge``). Thin views over `cases.merging`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ErrorSerializer

from . import merging, visibility
from .api import _fresh, reader, render_case, valid_body
from .serializers import CaseSerializer

TAG = "cases"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class ChosenCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(min_value=1, help_text="the version you chose it at")


class MergeInputSerializer(serializers.Serializer):
    cases = ChosenCaseSerializer(many=True, help_text="two or more similar cases not dispatched")
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReporterEntrySerializer(serializers.Serializer):
    case = serializers.IntegerField()
    number = serializers.CharField()
    source = serializers.CharField()
    reported_at = serializers.DateTimeField()
    name = serializers.CharField(allow_null=True, help_text="null where the caller may not see it")
    phone = serializers.CharField(allow_null=True)
    callback_wanted = serializers.BooleanField()


class ReportersSerializer(serializers.Serializer):
    reporters = ReporterEntrySerializer(many=True)


class CaseMergeView(APIView):
    @extend_schema(
        operation_id="cases_merge",
        tags=[TAG],
        summary="Merge similar cases (案件合并) into the earliest reported, before dispatch",
        description=(
            "Each chosen case must be similar to the earliest (`/cases/{id}/similar`) and not "
            "dispatched; the others go to 已合并 (`merged`) and their reporters are listed with "
            "the surviving case. Undo with `POST /cases/{id}/actions/unmerge`."
        ),
        request=MergeInputSerializer,
        responses={200: CaseSerializer, 404: ErrorSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = reader(request)
        data = valid_body(MergeInputSerializer, request)
        survivor = merging.do_merge_cases(
            scope,
            cases=[(chosen["id"], chosen["version"]) for chosen in data["cases"]],
            opinion=data["opinion"],
        )
        return Response(render_case(scope, _fresh(scope, survivor.pk)))


class CaseReportersView(APIView):
    @extend_schema(
        operation_id="cases_reporters",
        tags=[TAG],
        summary="Everyone who reported a case: its reporter and those of the cases merged into it",
        responses={200: ReportersSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        case = visibility.get_visible(scope, case_id)
        return Response({"reporters": merging.reporters(scope, case)})
