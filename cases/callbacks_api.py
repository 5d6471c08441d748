"""The call-back API (回访): POST /api/v1/cases/{id}/callback. A thin view over
`cases.callbacks`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ErrorSerializer
from core.serializers import JsonTypes

from . import callbacks
from .api import reader, valid_body
from .models import Case, CaseCallback
from .serializers import local_time

TAG = "cases"
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


class CallbackInputSerializer(JsonTypes, serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="the case version you acted on")
    result = serializers.ChoiceField(choices=CaseCallback.Result.choices)
    satisfaction = serializers.ChoiceField(
        choices=CaseCallback.Satisfaction.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="required when the reporter was reached; empty otherwise",
    )
    opinion = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CallbackSerializer(serializers.Serializer):
    """A recorded call-back; `case_version` is the case's version now."""

    id = serializers.IntegerField()
    case = serializers.IntegerField()
    case_version = serializers.IntegerField()
    result = serializers.ChoiceField(choices=CaseCallback.Result.choices)
    result_name = serializers.CharField()
    satisfaction = serializers.CharField(help_text="empty unless reached")
    satisfaction_name = serializers.CharField()
    opinion = serializers.CharField()
    recorded_by = serializers.CharField(allow_null=True)
    recorded_at = serializers.DateTimeField()


def callback_json(row: CaseCallback) -> dict:
    """The call-back as `CallbackSerializer` documents it."""
    return {
        "id": row.pk,
        "case": row.case_id,
        "case_version": Case.objects.values_list("version", flat=True).get(pk=row.case_id),
        "result": row.result,
        "result_name": row.get_result_display(),
        "satisfaction": row.satisfaction,
        "satisfaction_name": row.get_satisfaction_display() if row.satisfaction else "",
        "opinion": row.opinion,
        "recorded_by": row.recorded_by.get_username() if row.recorded_by_id else None,
        "recorded_at": local_time(row.recorded_at),
    }


class CaseCallbackView(APIView):
    @extend_schema(
        operation_id="cases_record_callback",
        tags=[TAG],
        summary="Record the call-back (回访) of a closed public or hotline case",
        description=(
            "The centre (`cases.accept`) records the call to a reporter who asked for one: "
            "`result` (reached, not_reached, refused), `satisfaction` when reached, `opinion`. "
            "The case's state does not move; a dissatisfied reporter does not reopen it. 409 "
            "(with `current`) for a stale version, a case not closed, not from the public or "
            "the hotline, no call-back asked, or one already recorded."
        ),
        request=CallbackInputSerializer,
        responses={201: CallbackSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(CallbackInputSerializer, request)
        row = callbacks.do_record_callback(scope, case_id, **data)
        return Response(callback_json(row), status=201)
