"""The applications API (申请与答复授权) under /api/v1/: apply on a case, list a case's
applications, the caller's list to answer, answer, withdraw, release a hold. Thin views over
`cases.applications`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import Scope
from core import params
from core.errors import ErrorSerializer
from core.serializers import JsonTypes

from . import applications as apps
from . import visibility
from .api import _fresh, reader, render_case, valid_body
from .models import Application, ApplicationKind, HoldMode, LimitUnit
from .serializers import CaseSerializer
from .serializers import local_time

TAG = "cases"
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


class ApplyInputSerializer(JsonTypes, serializers.Serializer):
    """An application: its kind and reason, and what it asks for."""

    version = serializers.IntegerField(min_value=1, help_text="the case version you acted on")
    kind = serializers.ChoiceField(choices=ApplicationKind.choices)
    reason = serializers.CharField(max_length=2000)
    amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    unit = serializers.ChoiceField(choices=LimitUnit.choices, required=False, default="")
    new_deadline = serializers.DateTimeField(required=False, allow_null=True, default=None)
    hold_mode = serializers.ChoiceField(choices=HoldMode.choices, required=False, default="")
    hold_hours = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    hold_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    department = serializers.CharField(
        max_length=32, required=False, allow_null=True, default=None, help_text="transfer / assist"
    )
    cases = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=50,
        help_text="merge: the department's other cases of the same problem (ids)",
    )


class AnswerInputSerializer(JsonTypes, serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "deny"])
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    unit = serializers.ChoiceField(choices=LimitUnit.choices, required=False, default="")
    new_deadline = serializers.DateTimeField(required=False, allow_null=True, default=None)
    hold_hours = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    hold_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    forbid_reapply = serializers.BooleanField(required=False, default=False)


class OpinionInputSerializer(JsonTypes, serializers.Serializer):
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReleaseInputSerializer(OpinionInputSerializer):
    version = serializers.IntegerField(min_value=1)


class StepSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    approver = serializers.CharField()
    decision = serializers.CharField()
    opinion = serializers.CharField()
    changes = serializers.DictField()
    at = serializers.DateTimeField()


class NextLevelSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    permission = serializers.CharField()
    receiving_department = serializers.BooleanField()
    opinion_required = serializers.BooleanField()
    may_change_time = serializers.BooleanField()


class ApplicationSerializer(serializers.Serializer):
    """An application as every applications endpoint gives it; `next` is the level answering
    next (null once answered), `may_answer` whether the caller answers it now, `extension_share`
    the applicant department's extended cases (extensions only)."""

    id = serializers.IntegerField()
    case = serializers.IntegerField()
    case_number = serializers.CharField()
    kind = serializers.CharField()
    kind_name = serializers.CharField()
    state = serializers.CharField()
    reason = serializers.CharField()
    applicant = serializers.CharField()
    department = serializers.CharField(allow_null=True)
    requested = serializers.DictField()
    target_department = serializers.CharField(allow_null=True)
    merge_cases = serializers.ListField(
        child=serializers.IntegerField(), help_text="merge: the other cases named"
    )
    next = NextLevelSerializer(allow_null=True)
    may_answer = serializers.BooleanField()
    forbid_reapply = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    steps = StepSerializer(many=True)
    extension_share = serializers.DictField(allow_null=True)


class ApplicationListSerializer(serializers.Serializer):
    applications = ApplicationSerializer(many=True)


def _text(value):
    return None if value is None else str(value)


def application_json(scope: Scope, app: Application) -> dict:
    """The application as `ApplicationSerializer` documents it."""
    rule = apps.current_rule(app) if app.state == Application.State.PENDING else None
    return {
        "id": app.pk,
        "case": app.case_id,
        "case_number": app.case.number,
        "kind": app.kind,
        "kind_name": app.get_kind_display(),
        "state": app.state,
        "reason": app.reason,
        "applicant": app.applicant_name,
        "department": app.department.code if app.department_id else None,
        "requested": {
            "amount": _text(app.amount),
            "unit": app.unit or None,
            "new_deadline": local_time(app.new_deadline),
            "hold_mode": app.hold_mode or None,
            "hold_hours": _text(app.hold_hours),
            "hold_until": local_time(app.hold_until),
        },
        "target_department": app.target_department.code if app.target_department_id else None,
        "merge_cases": list(app.merge_cases),
        "next": (
            {
                "level": rule.level,
                "permission": rule.permission,
                "receiving_department": rule.receiving_department,
                "opinion_required": rule.opinion_required,
                "may_change_time": rule.may_change_time,
            }
            if rule
            else None
        ),
        "may_answer": apps.may_answer(scope, app, rule),
        "forbid_reapply": app.forbid_reapply,
        "created_at": local_time(app.created_at),
        "answered_at": local_time(app.answered_at),
        "steps": [
            {
                "level": s.level,
                "approver": s.approver_name,
                "decision": s.decision,
                "opinion": s.opinion,
                "changes": s.changes,
                "at": local_time(s.at),
            }
            for s in app.steps.all()
        ],
        "extension_share": (
            {
                k: _text(v) if k == "cap" else v
                for k, v in apps.extension_share(app.department_id).items()
            }
            if app.kind == ApplicationKind.EXTENSION
            else None
        ),
    }


def _related(queryset):
    return queryset.select_related("case", "department", "target_department").prefetch_related(
        "steps"
    )


def _one(scope: Scope, app: Application) -> dict:
    return application_json(scope, _related(Application.objects.filter(pk=app.pk)).get())


class CaseApplicationsView(APIView):
    @extend_schema(
        operation_id="cases_applications",
        tags=[TAG],
        summary="A case's applications (申请), newest first",
        responses={200: ApplicationListSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        case = visibility.get_visible(scope, case_id)
        found = _related(Application.objects.filter(case=case))
        return Response({"applications": [application_json(scope, a) for a in found]})

    @extend_schema(
        operation_id="cases_apply",
        tags=[TAG],
        summary="Apply for a return, extension, hold, void, transfer or assistance",
        description=(
            "409 (with `current`) for a stale version, a state the kind does not apply in, a "
            "pending application, a forbidden re-application, a class that may not be extended "
            "or a department over its extension cap. A return no restriction applies to is "
            "taken at once (the application answers approved)."
        ),
        request=ApplyInputSerializer,
        responses={201: ApplicationSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(ApplyInputSerializer, request)
        app = apps.do_apply(scope, case_id, **data)
        return Response(_one(scope, app), status=201)


class ApplicationsView(APIView):
    @extend_schema(
        operation_id="applications_list",
        tags=[TAG],
        summary="Applications: pending ones the caller answers now, or the caller's answered ones",
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=list(Application.State.values),
                description="pending (default): waiting for the caller's answer; otherwise "
                "those the caller or their department applied for or answered",
            ),
            OpenApiParameter("limit", int, description="1–500, default 100"),
        ],
        responses={200: ApplicationListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        state = params.choice(
            request.query_params, "state", list(Application.State.values), "pending"
        )
        limit = params.integer(request.query_params, "limit", 100, low=1, high=500, clamp=True)
        visible = visibility.visible_cases(scope).values("pk")
        found = _related(Application.objects.filter(state=state, case__in=visible))
        if state == Application.State.PENDING:
            found = [a for a in found if apps.may_answer(scope, a, apps.current_rule(a))]
        else:
            user = scope.user.pk
            mine = found.filter(applicant_id=user) | found.filter(steps__approver_id=user)
            if scope.department_id:
                mine = mine | found.filter(department_id=scope.department_id)
            found = mine.distinct()
        return Response({"applications": [application_json(scope, a) for a in found[:limit]]})


class ApplicationAnswerView(APIView):
    @extend_schema(
        operation_id="applications_answer",
        tags=[TAG],
        summary="Answer an application at its pending level (答复授权)",
        request=AnswerInputSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    def post(self, request: Request, application_id: int) -> Response:
        scope = reader(request)
        app = apps.do_answer_application(
            scope, application_id, **valid_body(AnswerInputSerializer, request)
        )
        return Response(_one(scope, app))


class ApplicationWithdrawView(APIView):
    @extend_schema(
        operation_id="applications_withdraw",
        tags=[TAG],
        summary="Withdraw a pending application (撤销申请)",
        request=OpinionInputSerializer,
        responses={200: ApplicationSerializer, **ERRORS},
    )
    def post(self, request: Request, application_id: int) -> Response:
        scope = reader(request)
        data = valid_body(OpinionInputSerializer, request)
        app = apps.do_withdraw_application(scope, application_id, **data)
        return Response(_one(scope, app))


class CaseReleaseView(APIView):
    @extend_schema(
        operation_id="cases_release_hold",
        tags=[TAG],
        summary="Release a held case (解除挂账): the deadline moves by the time held",
        request=ReleaseInputSerializer,
        responses={200: CaseSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(ReleaseInputSerializer, request)
        case = apps.do_release_hold(scope, case_id, **data)
        return Response(render_case(scope, _fresh(scope, case.pk)))
