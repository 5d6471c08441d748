"""Responsibility grids (责任网格) under /api/v1/responsibility-grids: list, read (now or on a
date), create and edit from unit grids, history. Thin views over `spatial.responsibility`."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer
from core.serializers import JsonTypes

from . import responsibility as grids

ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}
UNIT_GRIDS_HELP = "codes of the unit grids (单元网格) whose union is the grid, all in one street"


class GridInputSerializer(JsonTypes, serializers.Serializer):
    name = serializers.CharField(max_length=64)
    unit_grids = serializers.ListField(
        child=serializers.CharField(max_length=14), help_text=UNIT_GRIDS_HELP
    )
    move = serializers.BooleanField(
        required=False, default=False, help_text="take unit grids other grids hold"
    )


class GridEditSerializer(GridInputSerializer):
    name = serializers.CharField(max_length=64, required=False)
    unit_grids = serializers.ListField(
        child=serializers.CharField(max_length=14), required=False, help_text=UNIT_GRIDS_HELP
    )


class GridSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    street = serializers.CharField(allow_null=True)
    street_name = serializers.CharField(allow_null=True)
    unit_grids = serializers.ListField(child=serializers.CharField())
    area_m2 = serializers.FloatField(allow_null=True)
    parts = serializers.IntegerField(help_text="polygons in the union (1: one piece)")
    as_of = serializers.CharField(allow_null=True, help_text="the date asked for, if any")
    geometry = serializers.JSONField(allow_null=True, required=False)


class GridListSerializer(serializers.Serializer):
    grids = GridSerializer(many=True)


class GridVersionSerializer(serializers.Serializer):
    name = serializers.CharField()
    street = serializers.CharField(allow_null=True)
    unit_grids = serializers.ListField(child=serializers.CharField())
    valid_from = serializers.CharField(allow_null=True, help_text="null: since before versions")
    valid_to = serializers.CharField(allow_null=True, help_text="null: still in force")
    changed_by = serializers.CharField()
    change = serializers.ChoiceField(choices=["before", "created", "edited", "lost"])


class GridHistorySerializer(serializers.Serializer):
    code = serializers.CharField()
    versions = GridVersionSerializer(many=True)


def _body(serializer_class, request: Request) -> dict:
    body = serializer_class(data=request.data)
    if not body.is_valid():
        raise BadInput.from_serializer_errors(body.errors)
    return dict(body.validated_data)


class GridsView(APIView):
    @extend_schema(
        operation_id="responsibility_grids_list",
        summary="Responsibility grids (责任网格) of a street, or the one holding a unit grid",
        parameters=[
            OpenApiParameter("street", str, required=False, description="9-digit street code"),
            OpenApiParameter("unit_grid", str, required=False, description="a unit grid code"),
        ],
        responses={200: GridListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        query = request.query_params
        street = params.text(query, "street", None)
        unit = params.text(query, "unit_grid", None)
        if not street and not unit:
            raise BadInput("give street or unit_grid", field="street")
        rows = grids.visible_grids(scope).select_related("street")
        if street:
            rows = rows.filter(street__code=street)
        if unit:
            rows = rows.filter(unit_grids__code=unit)
        return Response({"grids": [grids.grid_json(g, geometry=False) for g in rows[:500]]})

    @extend_schema(
        operation_id="responsibility_grids_create",
        summary="Make a responsibility grid from unit grids (the union; coded by the rule)",
        request=GridInputSerializer,
        responses={201: GridSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        grids.do_save_responsibility_grid.require(scope)
        data = _body(GridInputSerializer, request)
        grid = grids.do_save_responsibility_grid(scope, data, at=timezone.now())
        return Response(grids.grid_json(grid), status=201)


class GridView(APIView):
    @extend_schema(
        operation_id="responsibility_grids_read",
        summary="A responsibility grid now, or as it was on a date (`on`)",
        parameters=[
            OpenApiParameter(
                "on", OpenApiTypes.DATETIME, required=False, description="ISO 8601 time"
            )
        ],
        responses={200: GridSerializer, **ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        grid = grids.get_grid(scope, code)
        on = params.instant(request.query_params, "on", None)
        return Response(grids.grid_on(grid, on) if on else grids.grid_json(grid))

    @extend_schema(
        operation_id="responsibility_grids_edit",
        summary="Rename a responsibility grid or change its unit grids",
        request=GridEditSerializer,
        responses={200: GridSerializer, **ERRORS},
    )
    def patch(self, request: Request, code: str) -> Response:
        scope = scope_for(request)
        grids.do_save_responsibility_grid.require(scope)
        grid = grids.get_grid(scope, code)
        data = _body(GridEditSerializer, request)
        grid = grids.do_save_responsibility_grid(scope, data, grid, at=timezone.now())
        return Response(grids.grid_json(grid))


class GridHistoryView(APIView):
    @extend_schema(
        operation_id="responsibility_grids_history",
        summary="A responsibility grid's versions, oldest first",
        responses={200: GridHistorySerializer, **ERRORS},
    )
    def get(self, request: Request, code: str) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        grid = grids.get_grid(scope, code)
        return Response({"code": grid.code, "versions": grids.history(grid)})
