"""The wall screen's API (大屏, spec 5.1.4.1) under /api/v1/screen: thin views over
`evaluation.statistics`, `evaluation.hotspots` and `evaluation.panels`. Every answer counts
only the caller's cases (``cases.read``; `cases.visibility`); `screen/cases` lists the cases
behind any count given the same parameters plus the count's own.

`evaluation.hotspots` (numpy, scipy, libpysal) is imported by the view that needs it, so a web
worker never asked for hot spots does not carry them (tests/web/test_lean_imports.py)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts.scoping import scope_for
from cases.models import Source
from core import params
from core.errors import BadInput, ErrorSerializer
from spatial.census import census as area_census
from spatial.census import resolve_area

from . import panels, statistics, trend

TAG = "screen"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}
MAX_CASES = 500


def reader(request):
    scope = scope_for(request)
    scope.require(perms.CASES_READ)
    return scope


SELECTION = [
    OpenApiParameter(
        "period",
        str,
        enum=list(statistics.PERIODS),
        required=False,
        description="today (default), week, month, year: the calendar one holding now; "
        "custom: from and to",
    ),
    OpenApiParameter("from", OpenApiTypes.DATETIME, required=False, description="custom only"),
    OpenApiParameter(
        "to", OpenApiTypes.DATETIME, required=False, description="custom; a date: its end"
    ),
    OpenApiParameter("source", str, required=False, enum=Source.values, description="repeat"),
    OpenApiParameter("category", str, required=False, description="2- or 4-digit class code"),
    OpenApiParameter("kind", str, required=False, enum=["component", "event"]),
    OpenApiParameter("area", str, required=False, description="admin area or unit grid code"),
]
CELL = [
    OpenApiParameter("measure", str, required=False, enum=list(statistics.MEASURES)),
    OpenApiParameter("level", str, required=False, enum=list(statistics.LEVELS)),
    OpenApiParameter("code", str, required=False, description="the area code of `level`"),
    OpenApiParameter("stage", str, required=False, enum=list(statistics.STAGES)),
    OpenApiParameter("hour", int, required=False, description="hour of report, 0-23"),
    OpenApiParameter("department", str, required=False, description="handling department code"),
]
PERIOD_FIELDS = {
    "period": drf.CharField(),
    "from": drf.DateTimeField(),
    "to": drf.DateTimeField(),
}
MEASURE_FIELDS = {k: drf.IntegerField(help_text=n) for k, (n, _) in statistics.MEASURES.items()}
CASE_ROW = inline_serializer(
    "ScreenCase",
    {
        "id": drf.IntegerField(),
        "number": drf.CharField(),
        "state": drf.CharField(),
        "state_name": drf.CharField(),
        "source": drf.CharField(),
        "source_name": drf.CharField(),
        "category": drf.CharField(),
        "category_code": drf.CharField(),
        "kind": drf.CharField(),
        "description": drf.CharField(),
        "address": drf.CharField(),
        "street": drf.CharField(),
        "community": drf.CharField(),
        "lon": drf.FloatField(),
        "lat": drf.FloatField(),
        "reported_at": drf.DateTimeField(),
        "department": drf.CharField(allow_null=True),
        "deadline_state": drf.CharField(),
        "urgent": drf.BooleanField(),
        "thumbnail": drf.CharField(allow_null=True, help_text="URL of the first report photo"),
    },
    many=True,
)
AREA_ROW = inline_serializer(
    "ScreenAreaCounts",
    {"code": drf.CharField(), "name": drf.CharField(), **MEASURE_FIELDS},
    many=True,
)
FREE = drf.DictField(help_text="see docs/screen.md")


class ScreenCensusView(APIView):
    @extend_schema(
        operation_id="screen_census",
        summary="Case counts per area of a level, with drill-down to the level below",
        tags=[TAG],
        parameters=[
            *SELECTION,
            OpenApiParameter("level", str, enum=list(statistics.LEVELS), required=False),
            OpenApiParameter("parent", str, required=False, description="area of the level above"),
        ],
        responses={
            200: inline_serializer(
                "ScreenCensus",
                {
                    **PERIOD_FIELDS,
                    "level": drf.CharField(),
                    "parent": drf.CharField(allow_null=True),
                    "next_level": drf.CharField(allow_null=True),
                    "measures": drf.ListField(child=drf.DictField()),
                    "areas": AREA_ROW,
                    "total": inline_serializer("ScreenTotals", MEASURE_FIELDS),
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        chosen = statistics.Selection.from_query(request.query_params)
        level = params.choice(request.query_params, "level", list(statistics.LEVELS), "district")
        parent = params.text(request.query_params, "parent", None)
        return Response(statistics.census(scope, chosen, level, parent))


class ScreenCasesView(APIView):
    @extend_schema(
        operation_id="screen_cases",
        summary="The cases behind a count of the screen (the latest first)",
        tags=[TAG],
        parameters=[
            *SELECTION,
            *CELL,
            OpenApiParameter("limit", int, required=False, description=f"1-{MAX_CASES}, 50"),
        ],
        responses={
            200: inline_serializer(
                "ScreenCases", {**PERIOD_FIELDS, "count": drf.IntegerField(), "cases": CASE_ROW}
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        chosen = statistics.Selection.from_query(request.query_params)
        cell = statistics.Cell.from_query(request.query_params)
        limit = params.integer(request.query_params, "limit", 50, low=1, high=MAX_CASES)
        cases = statistics.selected_cases(scope, chosen, cell)
        return Response(
            {
                **chosen.period.as_json(),
                "count": cases.count(),
                "cases": statistics.case_rows(list(cases[:limit])),
            }
        )


class ScreenIndexView(APIView):
    @extend_schema(
        operation_id="screen_index",
        summary="The case index (案件指数) of the period and its trend, year on year and "
        "period on period",
        tags=[TAG],
        parameters=SELECTION,
        responses={
            200: inline_serializer("ScreenIndex", {**PERIOD_FIELDS, "index": FREE}),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        chosen = statistics.Selection.from_query(request.query_params)
        return Response(trend.case_index(scope, chosen))


class ScreenSourcesView(APIView):
    @extend_schema(
        operation_id="screen_sources",
        summary="Cases per source (来源分析) with their measures and stages",
        tags=[TAG],
        parameters=SELECTION,
        responses={
            200: inline_serializer("ScreenSources", {**PERIOD_FIELDS, "sources": FREE}),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        chosen = statistics.Selection.from_query(request.query_params)
        return Response(statistics.sources(scope, chosen))


class ScreenHotSummaryView(APIView):
    @extend_schema(
        operation_id="screen_hot_summary",
        summary="The classes and streets with the most cases and the cases per hour (热点分析)",
        tags=[TAG],
        parameters=SELECTION,
        responses={
            200: inline_serializer("ScreenHotSummary", {**PERIOD_FIELDS, "by_type": FREE}),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        chosen = statistics.Selection.from_query(request.query_params)
        return Response(statistics.hot_summary(scope, chosen))


class ScreenHotSpotsView(APIView):
    @extend_schema(
        operation_id="screen_hot_spots",
        summary="Getis-Ord Gi* hot spots over the unit grids and their emerging categories",
        tags=[TAG],
        parameters=[
            *SELECTION,
            OpenApiParameter(
                "all", bool, required=False, description="every cell, not only those with a pattern"
            ),
        ],
        responses={
            200: inline_serializer(
                "ScreenHotSpots",
                {
                    **PERIOD_FIELDS,
                    "cells": drf.IntegerField(),
                    "slice": drf.CharField(),
                    "slices": drf.IntegerField(),
                    "confidence": drf.DictField(child=drf.IntegerField()),
                    "categories": drf.DictField(child=drf.IntegerField()),
                    "type": drf.CharField(),
                    "features": drf.ListField(child=drf.DictField()),
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        chosen = statistics.Selection.from_query(request.query_params)
        every = params.boolean(request.query_params, "all", False)
        from . import hotspots  # numpy and scipy: only in the workers that are asked

        return Response(hotspots.hot_spots(scope, chosen, every_cell=every))


class ScreenFlowsView(APIView):
    @extend_schema(
        operation_id="screen_flows",
        summary="Migration lines (迁徙图): cases from each street to each handling department",
        tags=[TAG],
        parameters=SELECTION,
        responses={
            200: inline_serializer(
                "ScreenFlows", {**PERIOD_FIELDS, "lines": drf.ListField(child=drf.DictField())}
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        chosen = statistics.Selection.from_query(request.query_params)
        return Response(panels.flows(scope, chosen))


class ScreenComponentsView(APIView):
    @extend_schema(
        operation_id="screen_components",
        summary="The component panel (部件): counts by major and minor class, and the list of "
        "one minor class with points to locate",
        tags=[TAG],
        parameters=[
            OpenApiParameter("area", str, required=False, description="admin area code"),
            OpenApiParameter("category", str, required=False, description="4-digit minor class"),
            OpenApiParameter("limit", int, required=False, description="1-500, 200"),
        ],
        responses={
            200: inline_serializer(
                "ScreenComponents",
                {"census": FREE, "components": drf.ListField(child=drf.DictField())},
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        area = resolve_area(params.text(request.query_params, "area", None))
        category = params.text(request.query_params, "category", None)
        if category is not None and not (category.isdigit() and len(category) == 4):
            raise BadInput("category is a 4-digit minor class code", field="category")
        limit = params.integer(request.query_params, "limit", 200, low=1, high=500)
        found = panels.components(scope, category, area, limit) if category else []
        counts = area_census(area, scope)["components"]
        return Response({"census": counts, "components": found})


class ScreenInspectorsView(APIView):
    @extend_schema(
        operation_id="screen_inspectors",
        summary="Trackers online, busy and offline, and the alarms (tracking's scope)",
        tags=[TAG],
        responses={200: inline_serializer("ScreenInspectors", {"trackers": FREE}), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        return Response(panels.inspectors(scope))
