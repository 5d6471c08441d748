"""Automatic assignment to acceptors over HTTP (案件智能分配, `cases.assignment`):

* ``GET/PUT /api/v1/cases/assignment`` — the rules (mode, maximum load, returned cases, classes
  first);
* ``GET /api/v1/cases/assignment/seats``, ``PUT /api/v1/cases/assignment/seats/{user}`` — the
  acceptors' seats with their loads;
* ``POST /api/v1/cases/assignment/duty`` — the caller goes on duty (上岗) or hands over (交班);
* ``POST /api/v1/cases/{id}/assign`` — assign by hand (人工分派).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from core.errors import BadInput, ErrorSerializer
from data.models import Category

from . import assignment
from .models import CaseRules
from .api import _fresh, reader, render_case, valid_body
from .serializers import CaseSerializer

TAG = "cases"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class RulesSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=list(assignment.MODES), help_text="off, sequential (顺序分派), balanced (平均分派)"
    )
    mode_name = serializers.CharField(read_only=True)
    max_load = serializers.IntegerField(
        min_value=1, max_value=1000, help_text="cases an acceptor holds at most"
    )
    returned_to_acceptor = serializers.BooleanField(
        help_text="a case coming back goes to its acceptor, outside their load"
    )
    first = serializers.ListField(
        child=serializers.CharField(max_length=4),
        required=False,
        help_text="class codes (2 or 4 digits) assigned first, after urgent cases",
    )


class SeatSerializer(serializers.Serializer):
    user = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    auto_assign = serializers.BooleanField(default=True)
    position = serializers.IntegerField(min_value=0, max_value=10000, default=0)
    max_load = serializers.IntegerField(min_value=1, max_value=1000, allow_null=True, default=None)
    on_duty = serializers.BooleanField(read_only=True)
    on_duty_since = serializers.DateTimeField(read_only=True, allow_null=True)
    load = serializers.IntegerField(read_only=True, required=False)


class SeatsSerializer(serializers.Serializer):
    seats = SeatSerializer(many=True)


class DutyInputSerializer(serializers.Serializer):
    on_duty = serializers.BooleanField(help_text="true: 上岗; false: 交班 (cases handed back)")


class DutySerializer(serializers.Serializer):
    seat = SeatSerializer()
    handed_over = serializers.IntegerField()


class AssignInputSerializer(serializers.Serializer):
    acceptor = serializers.IntegerField(help_text="user id of an acceptor who sees the case")
    version = serializers.IntegerField(min_value=1)


def _categories(codes: list[str]) -> list[Category]:
    found = {c.code: c for c in Category.objects.filter(code__in=codes)}
    missing = [code for code in codes if code not in found]
    if missing:
        raise BadInput(f"no class {', '.join(missing)}", field="first")
    return [found[code] for code in codes]


class AssignmentRulesView(APIView):
    @extend_schema(
        operation_id="cases_assignment_rules",
        tags=[TAG],
        summary="The rules of automatic assignment to acceptors (案件智能分配)",
        responses={200: RulesSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        reader(request).require(perms.CASES_ACCEPT)
        return Response(assignment.rules_view(CaseRules.current()))

    @extend_schema(
        operation_id="cases_assignment_rules_set",
        tags=[TAG],
        summary="Set the assignment mode, maximum load, returned cases and classes first",
        request=RulesSerializer,
        responses={200: RulesSerializer, **ERRORS},
    )
    def put(self, request: Request) -> Response:
        scope = reader(request)
        data = valid_body(RulesSerializer, request)
        first = _categories(data["first"]) if "first" in data else None
        saved = assignment.do_save_assignment_rules(
            scope,
            mode=data["mode"],
            max_load=data["max_load"],
            returned_to_acceptor=data["returned_to_acceptor"],
            first=first,
        )
        return Response(assignment.rules_view(saved))


class SeatsView(APIView):
    @extend_schema(
        operation_id="cases_assignment_seats",
        tags=[TAG],
        summary="The acceptors' seats (受理席位) with their current loads",
        responses={200: SeatsSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        reader(request).require(perms.CASES_ACCEPT)
        return Response({"seats": assignment.seats()})


class SeatView(APIView):
    @extend_schema(
        operation_id="cases_assignment_seat_set",
        tags=[TAG],
        summary="Create or change an acceptor's seat: auto-assigned or not, order, maximum load",
        request=SeatSerializer,
        responses={200: SeatSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def put(self, request: Request, user_id: int) -> Response:
        scope = reader(request)
        data = valid_body(SeatSerializer, request)
        seat = assignment.do_save_seat(
            scope,
            user_id,
            auto_assign=data["auto_assign"],
            position=data["position"],
            max_load=data["max_load"],
        )
        return Response(assignment.seat_view(seat, assignment.loads([seat.user_id])[seat.user_id]))


class DutyView(APIView):
    @extend_schema(
        operation_id="cases_assignment_my_seat",
        tags=[TAG],
        summary="The caller's own seat with their load (404 without a seat)",
        responses={200: SeatSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        scope.require(perms.CASES_ACCEPT)
        return Response(assignment.my_seat(scope))

    @extend_schema(
        operation_id="cases_assignment_duty",
        tags=[TAG],
        summary="Go on duty (上岗) or hand over (交班): your cases go back to the waiting ones",
        request=DutyInputSerializer,
        responses={200: DutySerializer, 404: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = reader(request)
        data = valid_body(DutyInputSerializer, request)
        return Response(assignment.do_set_duty(scope, on_duty=data["on_duty"]))


class CaseAssignView(APIView):
    @extend_schema(
        operation_id="cases_assign",
        tags=[TAG],
        summary="Assign a case waiting in an acceptor stage to an acceptor by hand (人工分派)",
        request=AssignInputSerializer,
        responses={200: CaseSerializer, 404: ErrorSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(AssignInputSerializer, request)
        case = assignment.do_assign_case(
            scope, case_id, acceptor_id=data["acceptor"], version=data["version"]
        )
        return Response(render_case(scope, _fresh(scope, case.pk)))
