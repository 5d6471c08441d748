"""Evaluation results over HTTP (评价结果): compute, per object, rankings, trend and the
rankings as a spreadsheet. Thin views over `results`."""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer, NotFound
from core.serializers import JsonTypes

from .http import SignedInView
from . import rankings, results
from .inspections_api import valid
from .models import EvaluationCycle, EvaluationObject

TAG = "evaluation"
ID_MAX = 2**63 - 1
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 409)}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RANKING_FILTERS = [
    OpenApiParameter("cycle", int, required=False, description="or year"),
    OpenApiParameter("year", int, required=False, description="its latest cycle"),
    OpenApiParameter("kind", str, required=False, enum=EvaluationObject.Kind.values),
    OpenApiParameter("size", str, required=False, enum=EvaluationObject.Size.values),
    OpenApiParameter("group", str, required=False),
    OpenApiParameter("advanced", bool, required=False, description="count advanced indicators"),
]
RANK_ROW = inline_serializer(
    "EvaluationRankRow",
    {
        "object": drf.IntegerField(),
        "code": drf.CharField(),
        "name": drf.CharField(),
        "score": drf.FloatField(),
        "rank": drf.IntegerField(help_text="ties share a rank"),
    },
)
RANKINGS = inline_serializer(
    "EvaluationRankings",
    {
        "cycle": drf.IntegerField(),
        "year": drf.IntegerField(),
        "advanced": drf.BooleanField(),
        "indicators": drf.ListField(child=drf.DictField(), help_text="first-level code, name"),
        "overall": drf.ListField(child=drf.DictField(), help_text="with first-level scores"),
        "by_indicator": drf.DictField(child=RANK_ROW, help_text="by first-level code"),
    },
)


class ResultsComputeSerializer(JsonTypes, drf.Serializer):
    cycle = drf.IntegerField(min_value=1, max_value=ID_MAX)


def _cycle_of(query) -> int:
    """The cycle named by ``cycle``, or the latest cycle of ``year``."""
    cycle = params.integer(query, "cycle", None, low=1)
    if cycle is not None:
        return cycle
    year = params.integer(query, "year", None, low=2000, high=2100)
    if year is None:
        raise BadInput("give cycle or year", field="cycle")
    found = EvaluationCycle.objects.filter(year=year).order_by("-ends_on", "-id").first()
    if found is None:
        raise NotFound(f"no cycle in {year}", field="year")
    return found.pk


def _ranking_query(request: Request) -> dict:
    query = request.query_params
    return {
        "cycle_id": _cycle_of(query),
        "kind": params.choice(query, "kind", EvaluationObject.Kind.values, None),
        "size": params.choice(query, "size", EvaluationObject.Size.values, None),
        "group": params.text(query, "group", None, max_length=64),
        "advanced": params.boolean(query, "advanced", True),
    }


class ComputeView(SignedInView):
    @extend_schema(
        operation_id="evaluation_results_compute",
        tags=[TAG],
        summary="Compute the cycle's results of the objects in the caller's areas",
        request=ResultsComputeSerializer,
        responses={
            200: inline_serializer("EvaluationComputed", {"objects": drf.IntegerField()}),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        data = valid(ResultsComputeSerializer, request)
        count = results.do_compute_results(scope_for(request), cycle_id=data["cycle"])
        return Response({"objects": count})


class ObjectResultsView(SignedInView):
    @extend_schema(
        operation_id="evaluation_object_results",
        tags=[TAG],
        summary="One object's value, score and source per indicator in a cycle",
        parameters=[OpenApiParameter("cycle", int, required=True)],
        responses={
            200: inline_serializer(
                "EvaluationObjectResults", {"results": drf.ListField(child=drf.DictField())}
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, object_id: int) -> Response:
        cycle = params.integer(request.query_params, "cycle", low=1)
        found = rankings.object_results(scope_for(request), cycle, object_id)
        return Response({"results": found})


class RankingsView(SignedInView):
    @extend_schema(
        operation_id="evaluation_rankings",
        tags=[TAG],
        summary="Rankings (排名): overall and per first-level indicator",
        parameters=RANKING_FILTERS,
        responses={200: RANKINGS, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = _ranking_query(request)
        return Response(rankings.rankings(scope_for(request), query.pop("cycle_id"), **query))


class TrendView(SignedInView):
    @extend_schema(
        operation_id="evaluation_trend",
        tags=[TAG],
        summary="An object's overall (or one indicator's) score per cycle, by year",
        parameters=[OpenApiParameter("indicator", str, required=False)],
        responses={
            200: inline_serializer(
                "EvaluationTrend", {"trend": drf.ListField(child=drf.DictField())}
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, object_id: int) -> Response:
        code = params.text(request.query_params, "indicator", None, max_length=32)
        return Response({"trend": rankings.trend(scope_for(request), object_id, code)})


def rankings_workbook(found: dict) -> bytes:
    """The overall ranking as a sheet: rank, code, name, each first-level score, total."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = f"{found['year']}年综合评价"
    firsts = found["indicators"]
    sheet.append(["排名", "编码", "评价对象", *[i["short_name"] for i in firsts], "总分"])
    for row in found["overall"]:
        scores = [row["indicators"][i["code"]] for i in firsts]
        sheet.append([row["rank"], row["code"], row["name"], *scores, row["score"]])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


class ExportView(SignedInView):
    @extend_schema(
        operation_id="evaluation_rankings_export",
        tags=[TAG],
        summary="The overall ranking with first-level scores as an .xlsx sheet",
        parameters=RANKING_FILTERS,
        responses={(200, XLSX): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        query = _ranking_query(request)
        found = rankings.rankings(scope_for(request), query.pop("cycle_id"), **query)
        response = HttpResponse(rankings_workbook(found), content_type=XLSX)
        response["Content-Disposition"] = (
            f'attachment; filename="evaluation-{found["year"]}-{found["cycle"]}.xlsx"'
        )
        return response


urlpatterns = [
    path("evaluation/results/compute", ComputeView.as_view(), name="evaluation-results-compute"),
    path(
        "evaluation/results/objects/<int:object_id>",
        ObjectResultsView.as_view(),
        name="evaluation-object-results",
    ),
    path(
        "evaluation/results/objects/<int:object_id>/trend",
        TrendView.as_view(),
        name="evaluation-trend",
    ),
    path("evaluation/rankings", RankingsView.as_view(), name="evaluation-rankings"),
    path("evaluation/rankings/export", ExportView.as_view(), name="evaluation-rankings-export"),
]
