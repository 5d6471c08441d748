"""The timed dispatch API (定时派遣) under /api/v1/cases/{id}/scheduled-dispatch: set, read,
edit and cancel. Thin views over `cases.scheduling`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import params
from core.errors import ErrorSerializer
from core.serializers import JsonTypes

from . import scheduling
from .models import Case, ScheduledDispatch
from .api import reader, valid_body
from .serializers import DepartmentRefSerializer, local_time

TAG = "cases"
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


class ScheduleInputSerializer(JsonTypes, serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="the case version you acted on")
    run_at = serializers.DateTimeField(help_text="when to dispatch; in the future")
    department = serializers.CharField(
        max_length=32,
        required=False,
        allow_null=True,
        default=None,
        help_text="handling department code; default: the manual's",
    )
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EditInputSerializer(JsonTypes, serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="the case version you acted on")
    run_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    department = serializers.CharField(max_length=32, required=False, allow_null=True, default=None)
    opinion = serializers.CharField(
        max_length=2000, required=False, allow_null=True, allow_blank=True, default=None
    )


class CancelInputSerializer(JsonTypes, serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="or the `version` query parameter"
    )
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ScheduledDispatchSerializer(serializers.Serializer):
    """A case's timed dispatch; `case_version` is the case's version now (to act on next)."""

    id = serializers.IntegerField()
    case = serializers.IntegerField()
    case_version = serializers.IntegerField()
    state = serializers.ChoiceField(choices=ScheduledDispatch.State.choices)
    state_name = serializers.CharField()
    run_at = serializers.DateTimeField()
    department = DepartmentRefSerializer()
    opinion = serializers.CharField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()


def scheduled_json(row: ScheduledDispatch) -> dict:
    """The timed dispatch as `ScheduledDispatchSerializer` documents it."""
    return {
        "id": row.pk,
        "case": row.case_id,
        "case_version": Case.objects.values_list("version", flat=True).get(pk=row.case_id),
        "state": row.state,
        "state_name": row.get_state_display(),
        "run_at": local_time(row.run_at),
        "department": {"code": row.department.code, "name": row.department.name},
        "opinion": row.opinion,
        "created_by": row.created_by.get_username() if row.created_by_id else None,
        "created_at": local_time(row.created_at),
        "done_at": local_time(row.done_at),
        "error": row.error,
    }


class CaseScheduledDispatchView(APIView):
    @extend_schema(
        operation_id="cases_scheduled_dispatch",
        tags=[TAG],
        summary="A case's timed dispatch (定时派遣), the newest in any state",
        responses={200: ScheduledDispatchSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        return Response(scheduled_json(scheduling.get_scheduled(scope, case_id)))

    @extend_schema(
        operation_id="cases_schedule_dispatch",
        tags=[TAG],
        summary="Dispatch a case at a set time (定时派遣)",
        description=(
            "The case must wait for dispatch and the caller may dispatch it. Beat dispatches it "
            "at `run_at` as the caller. 400 for a time not in the future; 409 (with `current`) "
            "for a stale version, another state or a timed dispatch already set."
        ),
        request=ScheduleInputSerializer,
        responses={201: ScheduledDispatchSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(ScheduleInputSerializer, request)
        row = scheduling.do_schedule_dispatch(scope, case_id, **data)
        return Response(scheduled_json(row), status=201)

    @extend_schema(
        operation_id="cases_edit_scheduled_dispatch",
        tags=[TAG],
        summary="Change a timed dispatch's time, department or opinion while still scheduled",
        description="409 when it is done, cancelled or failed, or the case no longer waits.",
        request=EditInputSerializer,
        responses={200: ScheduledDispatchSerializer, **ERRORS},
    )
    def patch(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(EditInputSerializer, request)
        row = scheduling.do_edit_scheduled_dispatch(scope, case_id, **data)
        return Response(scheduled_json(row))

    @extend_schema(
        operation_id="cases_cancel_scheduled_dispatch",
        tags=[TAG],
        summary="Cancel a timed dispatch while still scheduled",
        description="409 when it is done, cancelled or failed.",
        parameters=[OpenApiParameter("version", int, description="or `version` in the body")],
        request=CancelInputSerializer,
        responses={200: ScheduledDispatchSerializer, **ERRORS},
    )
    def delete(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(CancelInputSerializer, request)
        version = data.pop("version", None)
        if version is None:
            version = params.integer(request.query_params, "version", None, low=1)
        row = scheduling.do_cancel_scheduled_dispatch(scope, case_id, version=version, **data)
        return Response(scheduled_json(row))
