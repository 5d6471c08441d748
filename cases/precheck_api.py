"""The report's precheck and a case's similar and duplicate cases: POST /api/v1/cases/precheck,
GET /api/v1/cases/{id}/similar and GET /api/v1/cases/{id}/duplicates. Thin views over
`cases.precheck`, `cases.similar` and `cases.duplicates`."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer
from data.models import Category
from spatial import crs as crs_module
from spatial.serializers import PlacementSerializer

from . import actions, duplicates, precheck, similar, visibility
from .api import reader, valid_body
from .models import Case, State
from .serializers import CaseInputSerializer, RuleHitSerializer, local_time

TAG = "cases"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class PrecheckInputSerializer(CaseInputSerializer):
    """The report's body (as for ``POST /cases``); the description may still be empty."""

    description = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )


class CrossGridSerializer(serializers.Serializer):
    outside = serializers.BooleanField(help_text="the point lies outside the reporter's grids")
    grids = serializers.ListField(
        child=serializers.CharField(), help_text="the reporter's responsibility grids"
    )


class SimilarCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    state_name = serializers.CharField()
    category = serializers.DictField(child=serializers.CharField())
    description = serializers.CharField()
    address = serializers.CharField()
    reported_at = serializers.DateTimeField()
    distance_m = serializers.FloatField()
    version = serializers.IntegerField(help_text="to merge it (POST /cases/merge)")


class SimilarRuleSerializer(serializers.Serializer):
    metres = serializers.FloatField()
    hours = serializers.FloatField()


class PrecheckSerializer(serializers.Serializer):
    """What reporting would meet (nothing is saved)."""

    placement = PlacementSerializer(help_text="the placement the caller may see")
    cross_grid = CrossGridSerializer(
        allow_null=True, help_text="跨网格 for an inspector's report; null otherwise"
    )
    rules = RuleHitSerializer(many=True, help_text="no-report rules hit, forbidding first")
    allowed = serializers.BooleanField(help_text="false: reporting now would be refused")
    similar_count = serializers.IntegerField(help_text="similar cases, whoever may see them")
    similar = SimilarCaseSerializer(many=True, help_text="those the caller sees, nearest first")
    similar_refused = serializers.BooleanField(help_text="the class refuses similar reports")
    similar_rule = SimilarRuleSerializer()
    recommended_categories = serializers.ListField(
        child=serializers.DictField(), help_text="classes the text classifier proposes"
    )


class SimilarListSerializer(serializers.Serializer):
    similar = SimilarCaseSerializer(many=True)


class PrecheckView(APIView):
    @extend_schema(
        operation_id="cases_precheck",
        tags=[TAG],
        summary="Precheck a report (上报预检): placement, cross-grid, no-report rules, similar",
        request=PrecheckInputSerializer,
        responses={200: PrecheckSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_report_case.require(scope)
        data = valid_body(PrecheckInputSerializer, request)
        category = (
            Category.objects.filter(kind=data["kind"], code=data["category"])
            .select_related("parent")
            .first()
        )
        if category is None:
            raise BadInput(f"no {data['kind']} class {data['category']}", field="category")
        crs = crs_module.parse_crs(data["crs"])
        lon, lat = crs_module.to_wgs84(data["lon"], data["lat"], crs)
        answer = precheck.precheck(
            scope,
            category,
            lon,
            lat,
            source=data["source"],
            description=data["description"],
            at=timezone.now(),
        )
        return Response(answer)


class CaseSimilarView(APIView):
    @extend_schema(
        operation_id="cases_similar",
        tags=[TAG],
        summary="A case's similar cases (相似案件), judged at its report time, nearest first",
        responses={200: SimilarListSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        case = visibility.get_visible(scope, case_id)
        case = Case.objects.select_related("category").get(pk=case.pk)
        found = similar.similar_to(case)
        return Response({"similar": precheck.similar_json(scope, found)})


class DuplicateCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    category = serializers.DictField(child=serializers.CharField())
    description = serializers.CharField()
    address = serializers.CharField()
    unit_grid_code = serializers.CharField()
    closed_at = serializers.DateTimeField()


class DuplicatesSerializer(serializers.Serializer):
    checked = serializers.BooleanField(help_text="the case's class is checked for duplicates")
    status = serializers.ChoiceField(
        choices=["none", "suspected", "dismissed", "linked"],
        help_text="suspected: registration waits for link_duplicate or dismiss_duplicate",
    )
    duplicate_of = DuplicateCaseSerializer(allow_null=True, help_text="when linked")
    duplicates = DuplicateCaseSerializer(many=True, help_text="the suspected earlier cases")
    may_decide = serializers.BooleanField(help_text="the caller may link or dismiss now")
    may_unlink = serializers.BooleanField(
        help_text="the caller may take the link back (an appeal upheld: unlink_duplicate)"
    )


def _duplicate_json(scope, ids: list[int]) -> list[dict]:
    """The earlier closed cases the caller may see, latest closure first."""
    rows = (
        visibility.visible_cases(scope)
        .filter(pk__in=ids)
        .select_related("category")
        .only("id", "number", "description", "address", "unit_grid_code", "closed_at", "category")
        .order_by("-closed_at", "id")
    )
    return [
        {
            "id": case.pk,
            "number": case.number,
            "category": {"code": case.category.code, "name": case.category.name},
            "description": case.description[:200],
            "address": case.address,
            "unit_grid_code": case.unit_grid_code,
            "closed_at": local_time(case.closed_at),
        }
        for case in rows
    ]


class CaseDuplicatesView(APIView):
    @extend_schema(
        operation_id="cases_duplicates",
        tags=[TAG],
        summary="A case's suspected duplicates (重复案件): earlier closed cases it repeats",
        responses={200: DuplicatesSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        case = visibility.get_visible(scope, case_id)
        checked = duplicates.parameters(case.category_id) is not None
        found = [] if case.duplicate_of_id else duplicates.find_duplicates(case)
        if case.duplicate_of_id:
            status = "linked"
        elif found and case.duplicate_dismissed:
            status = "dismissed"
        elif found:
            status = "suspected"
        else:
            status = "none"
        linked = _duplicate_json(scope, [case.duplicate_of_id]) if case.duplicate_of_id else []
        may_unlink = (
            status == "linked"
            and case.state not in (State.CLOSED, State.VOID, State.MERGED)
            and scope.has_perm(perms.CASES_REGISTER)
        )
        may_decide = (
            status == "suspected"
            and case.state == State.TO_REGISTER
            and case.held_since is None
            and scope.has_perm(perms.CASES_REGISTER)
        )
        return Response(
            {
                "checked": checked,
                "status": status,
                "duplicate_of": linked[0] if linked else None,
                "duplicates": _duplicate_json(scope, found),
                "may_decide": may_decide,
                "may_unlink": may_unlink,
            }
        )


class DuplicateRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    linked = serializers.IntegerField(help_text="linked as duplicates (认定重复)")
    dismissed = serializers.IntegerField(help_text="suspicion dismissed, or an appeal upheld")


class DuplicateStatisticsSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    by = serializers.CharField()
    total = DuplicateRowSerializer()
    rows = DuplicateRowSerializer(many=True)


class DuplicateStatisticsView(APIView):
    @extend_schema(
        operation_id="cases_duplicate_statistics",
        tags=[TAG],
        summary="Duplicate cases counted (重复案件统计) by class, area or handling department",
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="reported at or after"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="reported before"),
            OpenApiParameter("by", str, enum=list(duplicates.STATISTICS_BY)),
        ],
        responses={200: DuplicateStatisticsSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        now = timezone.now()
        until = params.instant(request.query_params, "until", now)
        since = params.instant(request.query_params, "since", until - dt.timedelta(days=30))
        if since >= until:
            raise BadInput("since must come before until", field="since")
        by = params.choice(request.query_params, "by", list(duplicates.STATISTICS_BY), "category")
        cases = visibility.visible_cases(scope).filter(
            reported_at__gte=since, reported_at__lt=until
        )
        rows = duplicates.statistics(cases, by)
        total = {
            "code": "",
            "name": "合计",
            "linked": sum(r["linked"] for r in rows),
            "dismissed": sum(r["dismissed"] for r in rows),
        }
        return Response(
            {
                "since": local_time(since),
                "until": local_time(until),
                "by": by,
                "total": total,
                "rows": rows,
            }  # fmt: skip
        )
