"""Configuration endpoints under /api/v1: work calendars and their day overrides (holidays,
make-up days) with spreadsheet export and import, and the workflow definitions as a table.
Thin views over `cases.configuration`."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer
from core.serializers import JsonTypes
from spatial.layers.api import FileFormatNegotiation

from . import configuration as config
from . import manual
from .api import TAG, valid_body
from .export import CONTENT_TYPE

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
MAX_SHEET_BYTES = 5 * 1024 * 1024


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    working = serializers.BooleanField()
    periods = serializers.JSONField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class DayInputSerializer(JsonTypes, serializers.Serializer):
    working = serializers.BooleanField(help_text="false: a holiday (节假日); true: 调休 working")
    periods = serializers.JSONField(
        required=False, allow_null=True, help_text='[["HH:MM", "HH:MM"], ...]; null: the usual'
    )
    note = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class CalendarSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    periods = serializers.JSONField()
    use_official_holidays = serializers.BooleanField()
    is_default = serializers.BooleanField()
    days = DaySerializer(many=True)


class CalendarListSerializer(serializers.Serializer):
    calendars = CalendarSerializer(many=True)


class ImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class SheetUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="an .xlsx with the columns 日期, 是否工作日, 工作时段, 备注"
    )


class StageSerializer(serializers.Serializer):
    state = serializers.CharField()
    state_name = serializers.CharField()
    limit = serializers.CharField(allow_blank=True)


class TransitionSerializer(serializers.Serializer):
    action = serializers.CharField()
    action_name = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    outcome_name = serializers.CharField(allow_blank=True)
    source = serializers.CharField()
    source_name = serializers.CharField()
    target = serializers.CharField()
    target_name = serializers.CharField()
    permission = serializers.CharField()
    permission_name = serializers.CharField()


class WorkflowSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(allow_blank=True)
    source = serializers.CharField(allow_blank=True)
    self_handled = serializers.BooleanField()
    initial_state = serializers.CharField()
    priority = serializers.IntegerField()
    active = serializers.BooleanField()
    stages = StageSerializer(many=True)
    transitions = TransitionSerializer(many=True)


class WorkflowListSerializer(serializers.Serializer):
    workflows = WorkflowSerializer(many=True)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{text!r} is not a date (2026-10-01)", field="date") from None


class CalendarsView(APIView):
    @extend_schema(
        operation_id="calendars_list",
        tags=[TAG],
        summary="Work calendars (工作日历) with their holidays and make-up days",
        responses={200: CalendarListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope_for(request).require_signed_in()
        return Response({"calendars": config.list_calendars()})


class CalendarDayView(APIView):
    @extend_schema(
        operation_id="calendars_day_set",
        tags=[TAG],
        summary="Set a calendar's override of a date (holiday or make-up working day)",
        request=DayInputSerializer,
        responses={200: DaySerializer, **ERRORS},
    )
    def put(self, request: Request, key: str, date: str) -> Response:
        scope = scope_for(request)
        config.do_set_calendar_day.require(scope)
        row, day = config.get_calendar(key), _date(date)
        data = valid_body(DayInputSerializer, request)
        return Response(config.day_json(config.do_set_calendar_day(scope, row, day, data)))

    @extend_schema(
        operation_id="calendars_day_delete",
        tags=[TAG],
        summary="Drop a calendar's override of a date",
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, key: str, date: str) -> Response:
        scope = scope_for(request)
        config.do_delete_calendar_day.require(scope)
        config.do_delete_calendar_day(scope, config.get_calendar(key), _date(date))
        return Response(status=204)


class CalendarSheetView(APIView):
    """A calendar's day overrides as a spreadsheet: download, or upload to set them."""

    content_negotiation_class = FileFormatNegotiation
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="calendars_days_export",
        tags=[TAG],
        summary="Download a calendar's holidays and make-up days as .xlsx",
        responses={(200, CONTENT_TYPE): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, key: str):
        scope_for(request).require_signed_in()
        row = config.get_calendar(key)
        response = HttpResponse(config.export_days(row), content_type=CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="calendar-{row.key}.xlsx"'
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(
        operation_id="calendars_days_import",
        tags=[TAG],
        summary="Set a calendar's days from an .xlsx (all rows or none)",
        request={"multipart/form-data": SheetUploadSerializer},
        responses={200: ImportResultSerializer, **ERRORS},
    )
    def post(self, request: Request, key: str) -> Response:
        scope = scope_for(request)
        config.do_import_calendar_days.require(scope)
        upload = request.data.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise BadInput("choose an .xlsx file", field="file")
        if upload.size > MAX_SHEET_BYTES:
            raise BadInput(f"the sheet is larger than {MAX_SHEET_BYTES} bytes", field="file")
        row = config.get_calendar(key)
        return Response(config.do_import_calendar_days(scope, row, upload.read()))


class WorkflowsView(APIView):
    @extend_schema(
        operation_id="workflows_list",
        tags=[TAG],
        summary="Workflow definitions (流程定义): stages with limits, transitions with permissions",
        responses={200: WorkflowListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope_for(request).require_signed_in()
        return Response({"workflows": config.workflows_json()})


class ManualDepartmentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ManualSerializer(serializers.Serializer):
    category = serializers.DictField()
    citywide = ManualDepartmentSerializer(allow_null=True)
    areas = serializers.JSONField(help_text="GeoJSON FeatureCollection: each area's own entry")
    departments = ManualDepartmentSerializer(many=True, help_text="active handling departments")


class ManualEntryInputSerializer(JsonTypes, serializers.Serializer):
    department = serializers.CharField(max_length=32, help_text="the department's code")
    standard = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default="", help_text="处置标准"
    )


class ManualEntrySerializer(serializers.Serializer):
    kind = serializers.CharField()
    category = serializers.CharField()
    area = serializers.CharField(help_text="area code, or city for the citywide entry")
    department = ManualDepartmentSerializer()
    standard = serializers.CharField(allow_blank=True)


class ManualView(APIView):
    @extend_schema(
        operation_id="manual_read",
        tags=[TAG],
        summary="A minor class's responsibility manual (事项指挥手册): citywide and by area",
        parameters=[
            OpenApiParameter("kind", str, required=True, enum=["component", "event"]),
            OpenApiParameter("category", str, required=True, description="minor class code"),
        ],
        responses={200: ManualSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope_for(request).require_signed_in()
        query = request.query_params
        kind = params.choice(query, "kind", ["component", "event"])
        code = params.text(query, "category")
        return Response(manual.manual_for(manual.get_minor(kind, code)))


class ManualEntryView(APIView):
    @extend_schema(
        operation_id="manual_entry_set",
        tags=[TAG],
        summary="Set who handles a minor class in an area (`city`: citywide)",
        request=ManualEntryInputSerializer,
        responses={200: ManualEntrySerializer, **ERRORS},
    )
    def put(self, request: Request, kind: str, category: str, area: str) -> Response:
        scope = scope_for(request)
        manual.do_set_manual_entry.require(scope)
        minor = manual.get_minor(kind, category)
        data = valid_body(ManualEntryInputSerializer, request)
        entry = manual.do_set_manual_entry(scope, minor, area, data)
        return Response(
            {
                "kind": minor.kind,
                "category": minor.code,
                "area": entry.area.code if entry.area_id else manual.CITYWIDE,
                "department": {"code": entry.department.code, "name": entry.department.name},
                "standard": entry.standard,
            }
        )

    @extend_schema(
        operation_id="manual_entry_delete",
        tags=[TAG],
        summary="Drop an area's own manual entry (the larger area's or the citywide applies)",
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, kind: str, category: str, area: str) -> Response:
        scope = scope_for(request)
        manual.do_delete_manual_entry.require(scope)
        manual.do_delete_manual_entry(scope, manual.get_minor(kind, category), area)
        return Response(status=204)


class ManualSheetView(APIView):
    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="manual_export",
        tags=[TAG],
        summary="Download the whole responsibility manual as .xlsx",
        responses={(200, CONTENT_TYPE): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request):
        scope_for(request).require_signed_in()
        response = HttpResponse(manual.export_manual(), content_type=CONTENT_TYPE)
        response["Content-Disposition"] = 'attachment; filename="manual.xlsx"'
        response["Cache-Control"] = "private, no-store"
        return response
