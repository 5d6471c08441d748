"""The notifications API (通知) under /api/v1/: the caller's own in-app notices and marking
them read. Thin views over `cases.notifications`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer
from core.serializers import JsonTypes

from . import notifications
from .models import Notification

TAG = "cases"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class NoticeCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class NoticeSerializer(serializers.Serializer):
    """One in-app notice; `kind` is arrival (a case or task that came to the caller),
    application (the answer to the caller's application), supervision (督办 of a case the
    caller's department handles) or deadline (a case the caller acts on reached its warning
    time or deadline)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    title = serializers.CharField()
    body = serializers.CharField()
    case = NoticeCaseSerializer()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NoticeListSerializer(serializers.Serializer):
    notifications = NoticeSerializer(many=True)
    unread = serializers.IntegerField(help_text="the caller's unread notices in all")
    unread_arrivals = serializers.IntegerField(help_text="of them, cases or tasks that came")


class ReadInputSerializer(JsonTypes, serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=500, default=list
    )
    all = serializers.BooleanField(required=False, default=False)


class ReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="notices newly marked read")


def notice_json(notice: Notification) -> dict:
    return {
        "id": notice.pk,
        "kind": notice.kind,
        "title": notice.title,
        "body": notice.body,
        "case": {"id": notice.case_id, "number": notice.case.number},
        "created_at": notice.created_at.isoformat(),
        "read_at": notice.read_at.isoformat() if notice.read_at else None,
    }


class NotificationsView(APIView):
    @extend_schema(
        operation_id="notifications_list",
        tags=[TAG],
        summary="The caller's notices (通知), newest first",
        parameters=[
            OpenApiParameter("unread", bool, description="1: unread ones only"),
            OpenApiParameter("limit", int, description="1–200, default 50"),
        ],
        responses={200: NoticeListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        unread_only = params.boolean(request.query_params, "unread", False)
        limit = params.integer(request.query_params, "limit", 50, low=1, high=200, clamp=True)
        found = notifications.notices_of(scope, unread=unread_only)
        unread = notifications.notices_of(scope, unread=True)
        return Response(
            {
                "notifications": [notice_json(n) for n in found[:limit]],
                "unread": unread.count(),
                "unread_arrivals": unread.filter(kind=Notification.Kind.ARRIVAL).count(),
            }
        )


class NotificationsReadView(APIView):
    @extend_schema(
        operation_id="notifications_read",
        tags=[TAG],
        summary="Mark the caller's notices read: the ids given, or all",
        request=ReadInputSerializer,
        responses={200: ReadSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        body = ReadInputSerializer(data=request.data)
        if not body.is_valid():
            raise BadInput.from_serializer_errors(body.errors)
        data = body.validated_data
        marked = notifications.do_mark_read(scope, data["ids"], everything=data["all"])
        return Response({"marked": marked})
