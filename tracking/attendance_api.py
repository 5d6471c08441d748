"""The attendance API (考勤) under /api/v1/tracking: clock-in and out, anomalies, explanations.

Thin views over `tracking.attendance`. Reads are scoped by `tracking.queries.visible_trackers`:
an inspector sees their own tracker's attendance, holders of ``tracking.monitor`` that of the
trackers they see, system admins all.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import Scope, scope_for
from core import params, uploads
from core.errors import BadInput, ErrorSerializer, NotFound, TooLarge
from core.serializers import JsonTypes
from spatial import crs as crs_module

from . import attendance, queries
from .models import AttendanceExplanation, ClockRecord, Shift, Tracker

TAG = "tracking"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
MAX_DAYS = 62
PHOTO_TYPES_TEXT = "photos (JPEG, PNG, WebP)"


def _signed_in(request) -> Scope:
    scope = scope_for(request)
    scope.require_signed_in()
    return scope


def _local(at: dt.datetime | None) -> str | None:
    return timezone.localtime(at).isoformat() if at else None


def clock_json(record: ClockRecord) -> dict:
    return {
        "id": record.pk,
        "tracker": record.tracker_id,
        "kind": record.kind,
        "kind_label": ClockRecord.Kind(record.kind).label,
        "at": _local(record.at),
        "position": {
            "type": "Point",
            "coordinates": [round(record.geom.x, 7), round(record.geom.y, 7)],
        },
        "accuracy": record.accuracy,
        "grid": (
            {"id": record.grid_id, "code": record.grid.code, "name": record.grid.name}
            if record.grid_id
            else None
        ),
        "off_grid": record.off_grid,
        "off_grid_m": record.off_grid_m,
        "offline": record.received_at is not None,
        "received_at": _local(record.received_at) if record.received_at else None,
        "photo": {
            "url": f"/api/v1/tracking/clocks/{record.pk}/photo",
            "content_type": record.photo_type,
            "size": record.photo_size,
        },
    }


def explanation_json(item: AttendanceExplanation) -> dict:
    return {
        "id": item.pk,
        "tracker": item.tracker_id,
        "date": item.date.isoformat(),
        "shift": queries.shift_json(item.shift),
        "anomaly": item.anomaly,
        "anomaly_label": AttendanceExplanation.Anomaly(item.anomaly).label,
        "text": item.text,
        "status": item.status,
        "status_label": AttendanceExplanation.Status(item.status).label,
        "submitted_at": _local(item.submitted_at),
        "decided_by": item.decided_by.username if item.decided_by_id else None,
        "decided_at": _local(item.decided_at),
        "decision_note": item.decision_note,
    }


CLOCK_ITEM = inline_serializer(
    "ClockRecord",
    {
        "id": drf.IntegerField(),
        "tracker": drf.IntegerField(),
        "kind": drf.ChoiceField(choices=ClockRecord.Kind.values),
        "kind_label": drf.CharField(),
        "at": drf.DateTimeField(),
        "position": drf.JSONField(help_text="GeoJSON Point, WGS84"),
        "accuracy": drf.FloatField(allow_null=True),
        "grid": drf.JSONField(allow_null=True, help_text="{id, code, name} or null"),
        "off_grid": drf.BooleanField(),
        "off_grid_m": drf.FloatField(),
        "offline": drf.BooleanField(help_text="made offline (离线打卡): `at` is the phone's time"),
        "received_at": drf.DateTimeField(allow_null=True, help_text="offline: the server's time"),
        "photo": drf.JSONField(help_text="{url, content_type, size}"),
    },
)


class ClockView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="tracking_clock",
        summary="Clock in or out (考勤打卡) with position and photo; off-grid allowed, flagged",
        tags=[TAG],
        request={
            "multipart/form-data": inline_serializer(
                "ClockUpload",
                {
                    "kind": drf.ChoiceField(choices=ClockRecord.Kind.values),
                    "lon": drf.FloatField(),
                    "lat": drf.FloatField(),
                    "crs": drf.CharField(required=False, help_text="EPSG:4326, gcj02, bd09, …"),
                    "accuracy": drf.FloatField(required=False, min_value=0),
                    "taken_at": drf.DateTimeField(
                        required=False,
                        help_text="a clock made offline: the phone's time of it (with zone)",
                    ),
                    "photo": drf.FileField(help_text="JPEG, PNG or WebP"),
                },
            )
        },
        responses={201: CLOCK_ITEM, 413: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = _signed_in(request)
        form = request.data
        kind = params.choice(form, "kind", ClockRecord.Kind.values)
        spot = params.point(form)
        lon, lat = crs_module.to_wgs84(spot.x, spot.y, spot.crs)
        accuracy = params.number(form, "accuracy", None, low=0)
        photo = request.FILES.get("photo")
        if photo is None:
            raise BadInput("attach a photo", field="photo")
        if photo.size > settings.TRACKING_CLOCK_PHOTO_MAX_BYTES:
            raise TooLarge("the photo is too large", field="photo")
        photo_type = uploads.checked_type(photo, uploads.PHOTO_TYPES, "photo", PHOTO_TYPES_TEXT)
        taken_at = params.instant(form, "taken_at", None)
        record = attendance.do_clock(
            scope, kind, lon, lat, photo, photo_type, accuracy=accuracy, taken_at=taken_at
        )
        return Response(clock_json(record), status=201)


def _days(query) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    first = params.day(query, "from", None) or today
    last = params.day(query, "to", None) or first
    if last < first:
        raise BadInput("from must not be after to", field="from")
    if (last - first).days >= MAX_DAYS:
        raise BadInput(f"at most {MAX_DAYS} days at a time", field="from")
    return first, last


def _trackers(scope: Scope, query) -> list[int]:
    one = params.integer(query, "tracker", None, low=1)
    found = queries.visible_trackers(scope, [one] if one else None, kind=Tracker.Kind.PERSON)
    if one and not found:
        raise NotFound(f"no tracker {one}", field="tracker")
    return found


def _span(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    return (
        dt.datetime.combine(first, dt.time(), tz),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz),
    )


PERIOD = [
    OpenApiParameter("from", OpenApiTypes.DATE, required=False, description="today"),
    OpenApiParameter("to", OpenApiTypes.DATE, required=False, description="from"),
    OpenApiParameter("tracker", int, required=False),
]


class ClocksView(APIView):
    @extend_schema(
        operation_id="tracking_clocks",
        summary="Clock records of the dates from..to (local) of the trackers the caller sees",
        tags=[TAG],
        parameters=PERIOD,
        responses={200: inline_serializer("ClockList", {"clocks": CLOCK_ITEM}), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = _signed_in(request)
        first, last = _days(request.query_params)
        trackers = _trackers(scope, request.query_params)
        found = ClockRecord.objects.filter(
            tracker_id__in=trackers, at__gte=_span(first, last)[0], at__lt=_span(first, last)[1]
        ).select_related("grid")
        return Response({"clocks": [clock_json(r) for r in found]})


class ClockPhotoView(APIView):
    @extend_schema(
        operation_id="tracking_clock_photo",
        summary="A clock record's photo",
        tags=[TAG],
        responses={(200, "image/*"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request, clock_id: int) -> FileResponse:
        scope = _signed_in(request)
        record = ClockRecord.objects.filter(pk=clock_id).first()
        if record is None or not queries.visible_trackers(scope, [record.tracker_id]):
            raise NotFound(f"no clock record {clock_id}")
        return FileResponse(record.photo.open("rb"), content_type=record.photo_type)


def _duty_json(duty: attendance.DutyAttendance, explained: dict) -> dict:
    def clock(c):
        return {"id": c.id, "at": _local(c.at), "off_grid": c.off_grid} if c else None

    return {
        "tracker": duty.tracker_id,
        "date": duty.date.isoformat(),
        "shift": queries.shift_json(duty.shift),
        "start": _local(duty.start),
        "end": _local(duty.end),
        "in_place_of": duty.in_place_of,
        "clock_in": clock(duty.clock_in),
        "clock_out": clock(duty.clock_out),
        "anomalies": [
            {
                "anomaly": kind,
                "label": AttendanceExplanation.Anomaly(kind).label,
                "details": details,
                "explanation": explained.get((duty.tracker_id, duty.date, duty.shift.pk, kind)),
            }
            for kind, details in duty.anomalies
        ],
    }


class AttendanceView(APIView):
    @extend_schema(
        operation_id="tracking_attendance",
        summary="Rostered duties of the dates from..to with clocks, anomalies and explanations",
        tags=[TAG],
        parameters=PERIOD,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = _signed_in(request)
        first, last = _days(request.query_params)
        trackers = _trackers(scope, request.query_params)
        duties = attendance.duties_between(trackers, first, last)
        explained = {
            (e.tracker_id, e.date, e.shift_id, e.anomaly): explanation_json(e)
            for e in AttendanceExplanation.objects.filter(
                tracker_id__in=trackers, date__range=(first, last)
            ).select_related("shift", "decided_by")
        }
        return Response(
            {
                "from": first.isoformat(),
                "to": last.isoformat(),
                "duties": [_duty_json(d, explained) for d in duties],
                "anomalies": sum(len(d.anomalies) for d in duties),
            }
        )


class ExplainSerializer(JsonTypes, drf.Serializer):
    date = drf.DateField(help_text="the date the shift starts on")
    shift = drf.IntegerField(min_value=1)
    anomaly = drf.ChoiceField(choices=AttendanceExplanation.Anomaly.values)
    text = drf.CharField(max_length=2000)


EXPLANATION_ITEM = OpenApiTypes.OBJECT


class ExplanationsView(APIView):
    @extend_schema(
        operation_id="tracking_attendance_explanations",
        summary="Explanations (考勤说明) of the trackers the caller sees, by status",
        tags=[TAG],
        parameters=[
            OpenApiParameter(
                "status", str, required=False, enum=AttendanceExplanation.Status.values
            ),
            *PERIOD,
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = _signed_in(request)
        query = request.query_params
        first, last = _days(query)
        found = AttendanceExplanation.objects.filter(
            tracker_id__in=_trackers(scope, query), date__range=(first, last)
        ).select_related("shift", "decided_by")
        status = params.choice(query, "status", AttendanceExplanation.Status.values, None)
        if status:
            found = found.filter(status=status)
        return Response({"explanations": [explanation_json(e) for e in found]})

    @extend_schema(
        operation_id="tracking_attendance_explain",
        summary="Explain an anomaly of one's own duty (pending a supervisor's decision)",
        tags=[TAG],
        request=ExplainSerializer,
        responses={201: OpenApiTypes.OBJECT, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = _signed_in(request)
        form = ExplainSerializer(data=request.data)
        if not form.is_valid():
            raise BadInput.from_serializer_errors(form.errors)
        data = form.validated_data
        shift = Shift.objects.filter(pk=data["shift"]).first()
        if shift is None:
            raise NotFound(f"no shift {data['shift']}", field="shift")
        tracker = attendance.own_tracker(scope, timezone.now())
        item = attendance.do_explain_anomaly(
            scope, tracker, data["date"], shift, data["anomaly"], data["text"]
        )
        return Response(explanation_json(item), status=201)


class DecideSerializer(JsonTypes, drf.Serializer):
    accepted = drf.BooleanField()
    note = drf.CharField(max_length=500, allow_blank=True, default="")


class DecideView(APIView):
    @extend_schema(
        operation_id="tracking_attendance_decide",
        summary="Accept or reject a pending explanation (supervisors, tracking.monitor)",
        tags=[TAG],
        request=DecideSerializer,
        responses={200: OpenApiTypes.OBJECT, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, explanation_id: int) -> Response:
        scope = scope_for(request)
        attendance.do_decide_explanation.require(scope)
        form = DecideSerializer(data=request.data)
        if not form.is_valid():
            raise BadInput.from_serializer_errors(form.errors)
        item = AttendanceExplanation.objects.filter(pk=explanation_id).first()
        if item is None or not queries.visible_trackers(scope, [item.tracker_id]):
            raise NotFound(f"no explanation {explanation_id}")
        item = attendance.do_decide_explanation(
            scope, item, form.validated_data["accepted"], form.validated_data["note"]
        )
        return Response(explanation_json(item))
