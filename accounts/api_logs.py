"""Log API (日志管理, spec 5.1.8.9): login and operation logs with filters and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers as drf_serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts import serializers as s
from accounts.api import Pages, requires
from accounts.models import LoginLog, OperationLog
from core.errors import BadInput

TAG = "logs"
JSON = "application/json"
CSV_MAX_ROWS = 100_000


class CSVRenderer(BaseRenderer):
    """Renders a list of flat dicts as CSV (UTF-8 with BOM, so spreadsheet programs read
    Chinese text correctly)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, dict):  # an error body
            data = [data.get("error", data)]
        out = io.StringIO()
        out.write("\ufeff")
        if data:
            writer = csv.DictWriter(out, fieldnames=list(data[0]))
            writer.writeheader()
            writer.writerows(data)
        return out.getvalue().encode("utf-8")


# What `_bound` reads (Django's parse_date and parse_datetime), for the OpenAPI document; an
# impossible day such as 02-30 passes the pattern and is refused.
BOUND_SCHEMA = {
    "type": "string",
    # Empty is no bound; years from 1000 (Python's dates start at year 1, PostgreSQL's offsets
    # end at 15:59).
    "pattern": r"^([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?)?)?$",
}


def _bound(value: str | None, name: str, end: bool) -> datetime | None:
    if not value:
        return None
    parsed = None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is not None:
                parsed = datetime.combine(day, time.max if end else time.min)
    except ValueError:
        parsed = None
    if parsed is None:
        raise BadInput(f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 time", field=name)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _filter(queryset, params, choices_field: str, choices) -> object:
    since = _bound(params.get("since"), "since", end=False)
    until = _bound(params.get("until"), "until", end=True)
    if since:
        queryset = queryset.filter(at__gte=since)
    if until:
        queryset = queryset.filter(at__lte=until)
    person = params.get("person")
    if person:
        if not person.isdigit() or len(person) > 18:
            raise BadInput("person must be a user id", field="person")
        queryset = queryset.filter(user_id=int(person))
    username = params.get("username")
    if username:
        queryset = queryset.filter(username=username[:150])
    outcome = params.get("outcome")
    if outcome:
        if outcome not in choices:
            raise BadInput(f"outcome must be one of {', '.join(choices)}", field="outcome")
        queryset = queryset.filter(outcome=outcome)
    return queryset


COMMON_PARAMS = [
    OpenApiParameter(
        "person", {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}, description="user id"
    ),
    OpenApiParameter("username", str),
    OpenApiParameter("since", BOUND_SCHEMA, description="from this date or time (inclusive)"),
    OpenApiParameter("until", BOUND_SCHEMA, description="up to this date or time (inclusive)"),
    OpenApiParameter("format", str, enum=["json", "csv"], description="csv: export every row"),
    OpenApiParameter("limit", {"type": "integer", "minimum": 1}, description="rows a page"),
    OpenApiParameter("offset", {"type": "integer", "minimum": 0}, description="rows skipped"),
]


def _log_responses(serializer_class: type, name: str) -> dict:
    """The answers of a log view: a JSON page of rows, or every row as CSV (format=csv)."""
    page = inline_serializer(
        name,
        {
            "count": drf_serializers.IntegerField(),
            "next": drf_serializers.URLField(allow_null=True),
            "previous": drf_serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
    return {
        (200, "application/json"): page,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="every row, as CSV"),
    }


class _LogView(APIView):
    permission_classes = [requires(perms.LOGS_READ)]
    renderer_classes = [JSONRenderer, CSVRenderer]
    model = LoginLog
    serializer_class = s.LoginLogSerializer

    def filtered(self, request):
        raise NotImplementedError

    def finalize_response(self, request, response, *args, **kwargs):
        # An error is the JSON error even when CSV was asked for (a CSV row would lose it).
        if response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSON
        return super().finalize_response(request, response, *args, **kwargs)

    def get(self, request):
        rows = self.filtered(request)
        if request.accepted_renderer.format == "csv":
            data = self.serializer_class(rows[:CSV_MAX_ROWS], many=True).data
            filename = f"{self.model._meta.model_name}.csv"
            return Response(
                data, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
            )
        pages = Pages()
        page = pages.paginate_queryset(rows, request, view=self)
        return pages.get_paginated_response(self.serializer_class(page, many=True).data)


class LoginLogView(_LogView):
    """The login log (登录日志管理): sign-ins, failures, lockouts and sign-outs."""

    @extend_schema(
        tags=[TAG],
        parameters=[
            *COMMON_PARAMS,
            OpenApiParameter("outcome", str, enum=list(LoginLog.Outcome.values)),
            OpenApiParameter("method", str, enum=list(LoginLog.Method.values)),
        ],
        responses=_log_responses(s.LoginLogSerializer, "LoginLogPage"),
        summary="Login log",
    )
    def get(self, request):
        return super().get(request)

    def filtered(self, request):
        params = request.query_params
        rows = _filter(LoginLog.objects.all(), params, "outcome", LoginLog.Outcome.values)
        method = params.get("method")
        if method:
            if method not in LoginLog.Method.values:
                raise BadInput("unknown sign-in method", field="method")
            rows = rows.filter(method=method)
        return rows


class OperationLogView(_LogView):
    """The operation log (操作日志管理): every write through the API with its outcome."""

    model = OperationLog
    serializer_class = s.OperationLogSerializer

    @extend_schema(
        tags=[TAG],
        parameters=[
            *COMMON_PARAMS,
            OpenApiParameter("outcome", str, enum=list(OperationLog.Outcome.values)),
            OpenApiParameter("action", str, description="route name (e.g. accounts-person-list)"),
        ],
        responses=_log_responses(s.OperationLogSerializer, "OperationLogPage"),
        summary="Operation log",
    )
    def get(self, request):
        return super().get(request)

    def filtered(self, request):
        params = request.query_params
        rows = _filter(OperationLog.objects.all(), params, "outcome", OperationLog.Outcome.values)
        if params.get("action"):
            rows = rows.filter(action=params["action"][:128])
        return rows
