"""Controlled areas (管控区域) and applications to suspend collection (暂停采集申请) under
/api/v1/controlled-areas. Thin views over `cases.controlled_areas`."""

from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from core.errors import BadInput, ErrorSerializer
from core.serializers import JsonTypes

from . import controlled_areas as areas
from .api import reader, valid_body
from .models import CollectionSuspension, RuleEffect

TAG = "cases"
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}
WINDOWS_HELP = '["HH:MM", "HH:MM"] pairs in local time; end before start runs past midnight'


class AreaInputSerializer(JsonTypes, serializers.Serializer):
    name = serializers.CharField(max_length=128)
    geometry = serializers.JSONField(help_text="GeoJSON Polygon or MultiPolygon (holes allowed)")
    crs = serializers.CharField(max_length=32, required=False, default="EPSG:4326")
    action = serializers.ChoiceField(choices=RuleEffect.choices, default=RuleEffect.FORBID)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    requirement = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="采集要求"
    )
    categories = serializers.ListField(
        child=serializers.CharField(max_length=4), required=False, help_text="empty: every class"
    )
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_to = serializers.DateTimeField(required=False, allow_null=True)
    daily_windows = serializers.JSONField(required=False, help_text=WINDOWS_HELP)


class AreaEditSerializer(AreaInputSerializer):
    name = serializers.CharField(max_length=128, required=False)
    geometry = serializers.JSONField(required=False)
    action = serializers.ChoiceField(choices=RuleEffect.choices, required=False)


class AreaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    action = serializers.ChoiceField(choices=RuleEffect.choices)
    action_name = serializers.CharField()
    reason = serializers.CharField()
    requirement = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_to = serializers.DateTimeField(allow_null=True)
    daily_windows = serializers.ListField(child=serializers.ListField())
    permit = serializers.BooleanField(help_text="a permit (附件) is attached")
    geometry = serializers.DictField()


class AreaListSerializer(serializers.Serializer):
    areas = AreaSerializer(many=True)


class SuspensionInputSerializer(JsonTypes, serializers.Serializer):
    name = serializers.CharField(max_length=128)
    geometry = serializers.JSONField(help_text="GeoJSON Polygon or MultiPolygon")
    crs = serializers.CharField(max_length=32, required=False, default="EPSG:4326")
    reason = serializers.CharField(max_length=2000)
    requirement = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    categories = serializers.ListField(child=serializers.CharField(max_length=4), required=False)
    valid_from = serializers.DateTimeField()
    valid_to = serializers.DateTimeField()
    daily_windows = serializers.JSONField(required=False, help_text=WINDOWS_HELP)


class SuspensionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=CollectionSuspension.State.choices)
    state_name = serializers.CharField()
    department = serializers.DictField(child=serializers.CharField())
    name = serializers.CharField()
    reason = serializers.CharField()
    requirement = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    valid_from = serializers.DateTimeField()
    valid_to = serializers.DateTimeField()
    daily_windows = serializers.ListField(child=serializers.ListField())
    permit = serializers.BooleanField()
    applied_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    opinion = serializers.CharField()
    area = serializers.IntegerField(allow_null=True, help_text="the area approval made")
    geometry = serializers.DictField()


class SuspensionListSerializer(serializers.Serializer):
    applications = SuspensionSerializer(many=True)


class AnswerSerializer(JsonTypes, serializers.Serializer):
    approve = serializers.BooleanField()
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PermitSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="a photo (JPEG, PNG, WebP) or a PDF")


def _suspension_body(request: Request) -> dict:
    """The application validated; in a multipart body (with the permit) `geometry`,
    `categories` and `daily_windows` come as JSON text."""
    data = request.data
    if request.content_type.startswith("multipart/"):
        data = {key: data.get(key) for key in data if key != "permit"}
        for key in ("geometry", "categories", "daily_windows"):
            if isinstance(data.get(key), str):
                try:
                    data[key] = json.loads(data[key])
                except ValueError:
                    raise BadInput(f"{key} is JSON text in a form", field=key) from None
    body = SuspensionInputSerializer(data=data)
    if not body.is_valid():
        raise BadInput.from_serializer_errors(body.errors)
    return dict(body.validated_data)


class AreasView(APIView):
    @extend_schema(
        operation_id="controlled_areas_list",
        tags=[TAG],
        summary="Controlled areas (管控区域) the caller sees",
        responses={200: AreaListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        rows = areas.visible_areas(scope).order_by("id")
        return Response({"areas": [areas.area_json(area) for area in rows]})

    @extend_schema(
        operation_id="controlled_areas_create",
        tags=[TAG],
        summary="Draw a controlled area (the centre)",
        request=AreaInputSerializer,
        responses={201: AreaSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        areas.do_save_controlled_area.require(scope)
        data = valid_body(AreaInputSerializer, request)
        area = areas.do_save_controlled_area(scope, None, data)
        return Response(areas.area_json(area), status=201)


class AreaView(APIView):
    @extend_schema(
        operation_id="controlled_areas_edit",
        tags=[TAG],
        summary="Edit a controlled area (the centre)",
        request=AreaEditSerializer,
        responses={200: AreaSerializer, **ERRORS},
    )
    def patch(self, request: Request, area_id: int) -> Response:
        scope = scope_for(request)
        areas.do_save_controlled_area.require(scope)
        area = areas.get_area(scope, area_id)
        data = valid_body(AreaEditSerializer, request)
        data = {key: value for key, value in data.items() if key in request.data or key == "crs"}
        return Response(areas.area_json(areas.do_save_controlled_area(scope, area, data)))


class AreaPermitView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="controlled_areas_permit",
        tags=[TAG],
        summary="Attach the permit (附件) of a controlled area",
        request={"multipart/form-data": PermitSerializer},
        responses={200: AreaSerializer, **ERRORS},
    )
    def post(self, request: Request, area_id: int) -> Response:
        scope = scope_for(request)
        areas.do_attach_permit.require(scope)
        area = areas.get_area(scope, area_id)
        upload = request.FILES.get("file")
        if upload is None:
            raise BadInput("attach the permit as `file`", field="file")
        return Response(areas.area_json(areas.do_attach_permit(scope, area, upload)))


class SuspensionsView(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="controlled_areas_applications",
        tags=[TAG],
        summary="Applications to suspend collection (暂停采集申请): the centre's, a department's own",
        responses={200: SuspensionListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        rows = areas.visible_suspensions(scope).order_by("-applied_at", "-id")
        state = request.query_params.get("state")
        if state:
            rows = rows.filter(state=state)
        return Response({"applications": [areas.suspension_json(row) for row in rows[:500]]})

    @extend_schema(
        operation_id="controlled_areas_apply",
        tags=[TAG],
        summary="Apply to suspend collection in an area for a period (a department)",
        request=SuspensionInputSerializer,
        responses={201: SuspensionSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        areas.do_apply_suspension.require(scope)
        data = _suspension_body(request)
        row = areas.do_apply_suspension(scope, data, request.FILES.get("permit"))
        return Response(areas.suspension_json(row), status=201)


class SuspensionAnswerView(APIView):
    @extend_schema(
        operation_id="controlled_areas_answer",
        tags=[TAG],
        summary="Approve (it becomes a forbidding controlled area) or deny an application",
        request=AnswerSerializer,
        responses={200: SuspensionSerializer, **ERRORS},
    )
    def post(self, request: Request, application_id: int) -> Response:
        scope = scope_for(request)
        areas.do_answer_suspension.require(scope)
        row = areas.get_suspension(scope, application_id)
        data = valid_body(AnswerSerializer, request)
        row = areas.do_answer_suspension(scope, row, data["approve"], data["opinion"])
        return Response(areas.suspension_json(row))
