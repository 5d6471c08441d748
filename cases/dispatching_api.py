"""The dispatch progress API (派遣进度) under /api/v1/cases/{id}/dispatches: how a case was
dispatched, each department's share of a parallel dispatch, the department cases of a
multi-department one, the assisting departments and the manual's recommendation. A thin view
over `cases.dispatching`; the dispatch itself is the ``dispatch`` action."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ErrorSerializer

from . import dispatching, visibility
from .api import reader
from .models import DeadlineState, DispatchMode, State
from .serializers import DepartmentRefSerializer as DepartmentRef

TAG = "cases"
ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


class ShareSerializer(serializers.Serializer):
    """One department's share of a parallel dispatch, timed alone."""

    department = DepartmentRef()
    dispatched_at = serializers.DateTimeField(help_text="its clock started (again, on rework)")
    deadline = serializers.DateTimeField(allow_null=True)
    deadline_state = serializers.ChoiceField(
        choices=DeadlineState.choices, help_text="now, or when it fed back"
    )
    fed_back_at = serializers.DateTimeField(allow_null=True)
    feedback = serializers.CharField()
    overdue = serializers.BooleanField(allow_null=True, help_text="fed back after its deadline")
    rework_count = serializers.IntegerField()


class ChildSerializer(serializers.Serializer):
    """A department case of a multi-department dispatch (those the caller sees)."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.ChoiceField(choices=State.choices)
    state_name = serializers.CharField()
    department = DepartmentRef(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    deadline_state = serializers.ChoiceField(choices=DeadlineState.choices)
    closed_at = serializers.DateTimeField(allow_null=True)


class ParentRef(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class RecommendationSerializer(serializers.Serializer):
    """The manual's entry for the case's class and place (推荐派遣, 一键派遣, 自动派遣)."""

    department = DepartmentRef()
    assisting = DepartmentRef(many=True)
    auto_dispatch = serializers.BooleanField()


class DispatchProgressSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=DispatchMode.choices)
    mode_name = serializers.CharField()
    parent = ParentRef(allow_null=True)
    departments = ShareSerializer(many=True, help_text="parallel: one per department")
    children = ChildSerializer(many=True, help_text="multi-department: the department cases")
    assisting = DepartmentRef(many=True)
    recommended = RecommendationSerializer(allow_null=True)


class CaseDispatchesView(APIView):
    @extend_schema(
        operation_id="cases_dispatches",
        tags=[TAG],
        summary="How a case was dispatched and each department's progress (派遣进度)",
        responses={200: DispatchProgressSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        case = visibility.get_visible(scope, case_id)
        answer = dispatching.progress(scope, case)
        entry = dispatching.manual_entry(case)
        answer["recommended"] = (
            {
                "department": {"code": entry.department.code, "name": entry.department.name},
                "assisting": [
                    {"code": d.code, "name": d.name}
                    for d in entry.assisting.filter(active=True).order_by("sort_order", "code")
                ],
                "auto_dispatch": entry.auto_dispatch,
            }
            if entry is not None
            else None
        )
        return Response(answer)
