"""The centre's view of what the public sees of a case, and its moderation:
`GET /api/v1/cases/{id}/public` and `POST /api/v1/cases/{id}/public` (``cases.accept``). The
view also tells the centre how a public report came: its channel (上报渠道), key, type and the
answer the citizen asked for (null for cases the public did not report)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts.scoping import scope_for
from core.errors import BadInput, ErrorSerializer

from .. import visibility
from ..models import Case
from . import publication
from .models import PublicEdit, PublicReport
from .moderation import do_moderate
from .public_api import PUBLIC_CASE, public_json

TAG = "public"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


class ModerationSerializer(drf.Serializer):
    target = drf.ChoiceField(choices=PublicEdit.Target.values)
    event = drf.IntegerField(required=False, allow_null=True, default=None)
    media = drf.IntegerField(required=False, allow_null=True, default=None)
    hidden = drf.BooleanField(required=False, default=False)
    text = drf.CharField(required=False, allow_blank=True, default="", max_length=4000)
    reason = drf.CharField(required=False, allow_blank=True, default="", max_length=200)
    restore = drf.BooleanField(required=False, default=False)


EDIT = inline_serializer(
    "PublicEditItem",
    {
        "target": drf.CharField(),
        "event": drf.IntegerField(allow_null=True),
        "media": drf.IntegerField(allow_null=True),
        "hidden": drf.BooleanField(),
        "text": drf.CharField(),
        "reason": drf.CharField(),
        "edited_at": drf.DateTimeField(),
    },
)
REPORT = inline_serializer(
    "PublicReportInfo",
    {
        "channel": drf.CharField(),
        "channel_name": drf.CharField(),
        "report_type": drf.CharField(),
        "feedback": drf.CharField(),
        "api_key": drf.CharField(allow_null=True),
        "located": drf.BooleanField(),
        "reopened": drf.IntegerField(),
    },
    allow_null=True,
)
MODERATED = inline_serializer(
    "ModeratedCase",
    {
        "hidden": drf.BooleanField(),
        "report": REPORT,
        "public": PUBLIC_CASE,
        "edits": drf.ListField(child=EDIT),
    },
)


def _answer(case_id: int) -> dict:
    case = Case.objects.select_related("category", "department").get(pk=case_id)
    edits = PublicEdit.objects.filter(case=case).order_by("edited_at", "id")
    report = PublicReport.objects.filter(case=case).select_related("api_key").first()
    return {
        "hidden": any(e.target == PublicEdit.Target.CASE and e.hidden for e in edits),
        "report": {
            "channel": report.channel,
            "channel_name": report.get_channel_display(),
            "report_type": report.report_type,
            "feedback": report.feedback,
            "api_key": report.api_key.name if report.api_key else None,
            "located": report.located,
            "reopened": report.reopened,
        }
        if report
        else None,
        "public": public_json(publication.gather([case], with_history=True)[0]),
        "edits": [
            {
                "target": e.target,
                "event": e.event_id,
                "media": e.media_id,
                "hidden": e.hidden,
                "text": e.text,
                "reason": e.reason,
                "edited_at": publication.w3c(e.edited_at),
            }
            for e in edits
        ],
    }


class CasePublicView(APIView):
    """What the public sees of a case the caller sees, and the centre's edits of it."""

    @extend_schema(
        operation_id="cases_public_view",
        tags=[TAG],
        summary="What the public sees of this case, with the moderators' edits",
        responses={200: MODERATED, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = scope_for(request)
        scope.require(perms.CASES_READ)
        case = visibility.get_visible(scope, case_id)
        return Response(_answer(case.pk))

    @extend_schema(
        operation_id="cases_public_moderate",
        tags=[TAG],
        summary="Hide or rewrite what the public sees (the original is kept), or restore it",
        request=ModerationSerializer,
        responses={200: MODERATED, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = scope_for(request)
        do_moderate.require(scope)
        body = ModerationSerializer(data=request.data)
        if not body.is_valid():
            raise BadInput.from_serializer_errors(body.errors)
        data = body.validated_data
        do_moderate(
            scope,
            case_id,
            target=data["target"],
            event_id=data["event"],
            media_id=data["media"],
            hidden=data["hidden"],
            text=data["text"],
            reason=data["reason"],
            restore=data["restore"],
        )
        return Response(_answer(int(case_id)))
