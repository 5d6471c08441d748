"""The supervision API (督办): GET/POST /api/v1/cases/{id}/supervisions and
POST /api/v1/supervisions/{id}/reply; and annotations (批注): POST /api/v1/cases/{id}/annotations.
Thin views over `cases.supervision` and `cases.annotations`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ErrorSerializer
from core.serializers import JsonTypes

from . import annotations, supervision
from .api import reader, valid_body
from .models import CaseSupervision
from .serializers import DepartmentRefSerializer, local_time

TAG = "cases"
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


class SuperviseInputSerializer(JsonTypes, serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="what the department is pressed for")
    deadline = serializers.DateTimeField(help_text="reply by; in the future")


class ReplyInputSerializer(JsonTypes, serializers.Serializer):
    reply = serializers.CharField(max_length=2000)


class SupervisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    by = serializers.CharField(allow_null=True)
    department = DepartmentRefSerializer()
    note = serializers.CharField()
    deadline = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    reply = serializers.CharField(help_text="empty until replied")
    replied_by = serializers.CharField(allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)


class SupervisionListSerializer(serializers.Serializer):
    supervisions = SupervisionSerializer(many=True)


def _name(user):
    return user.get_username() if user is not None else None


def supervision_json(row: CaseSupervision) -> dict:
    """The supervision as `SupervisionSerializer` documents it."""
    return {
        "id": row.pk,
        "case": row.case_id,
        "by": _name(row.by),
        "department": {"code": row.department.code, "name": row.department.name},
        "note": row.note,
        "deadline": local_time(row.deadline),
        "created_at": local_time(row.created_at),
        "reply": row.reply,
        "replied_by": _name(row.replied_by),
        "replied_at": local_time(row.replied_at),
    }


class CaseSupervisionsView(APIView):
    @extend_schema(
        operation_id="cases_supervisions",
        tags=[TAG],
        summary="A case's supervisions (督办), oldest first",
        responses={200: SupervisionListSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        rows = supervision.supervisions_of(scope, case_id)
        return Response({"supervisions": [supervision_json(r) for r in rows]})

    @extend_schema(
        operation_id="cases_supervise",
        tags=[TAG],
        summary="Supervise (督办) a case in handling",
        description=(
            "A leader (`cases.supervise`) presses the handling department with a note and a "
            "time to reply by; the department's handlers are notified. The case's state and "
            "version do not move. 409 (with `current`) for a case not in handling."
        ),
        request=SuperviseInputSerializer,
        responses={201: SupervisionSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(SuperviseInputSerializer, request)
        row = supervision.do_supervise(scope, case_id, data["note"], data["deadline"])
        return Response(supervision_json(row), status=201)


class SupervisionReplyView(APIView):
    @extend_schema(
        operation_id="cases_reply_supervision",
        tags=[TAG],
        summary="Reply to a supervision (督办回复) as the supervised department",
        description="403 for anyone but the department's handlers; 409 when already replied.",
        request=ReplyInputSerializer,
        responses={200: SupervisionSerializer, **ERRORS},
    )
    def post(self, request: Request, supervision_id: int) -> Response:
        scope = reader(request)
        data = valid_body(ReplyInputSerializer, request)
        row = supervision.do_reply_supervision(scope, supervision_id, data["reply"])
        return Response(supervision_json(row))


class AnnotationInputSerializer(JsonTypes, serializers.Serializer):
    note = serializers.CharField(max_length=annotations.MAX_NOTE)


class AnnotationSerializer(serializers.Serializer):
    """The annotation as the history shows it (action ``annotate``)."""

    case = serializers.IntegerField()
    action = serializers.CharField()
    actor = serializers.CharField()
    position = serializers.CharField()
    at = serializers.DateTimeField()
    opinion = serializers.CharField(help_text="the note")


class CaseAnnotationsView(APIView):
    @extend_schema(
        operation_id="cases_annotate",
        tags=[TAG],
        summary="Annotate (批注) a case: a short note by centre staff, kept in its history",
        description=(
            "Centre positions (`cases.accept`, `cases.register`, `cases.dispatch` or "
            "`cases.supervise`); the event `annotate` moves neither the state nor the version."
        ),
        request=AnnotationInputSerializer,
        responses={201: AnnotationSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(AnnotationInputSerializer, request)
        event = annotations.do_annotate_case(scope, case_id, note=data["note"])
        body = {
            "case": event.case_id,
            "action": event.action,
            "actor": event.actor_name,
            "position": event.position,
            "at": local_time(event.at),
            "opinion": event.opinion,
        }
        return Response(body, status=201)
