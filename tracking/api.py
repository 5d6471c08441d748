"""The tracking API under /api/v1/tracking: ingest, live positions, alarms, playback.

Thin views: parse (`tracking.ingest.parse_batch` for fixes, `core.params` for queries), call the
action or the scoped query (`tracking.queries`), render.

Device sign-in: a vehicle terminal sends ``Authorization: Device <device id>:<key>``; the key
(given once when the tracker is registered) is stored as its SHA-256 (`Tracker.key_hash`; keys
are random 32-byte tokens, so a fast hash suffices). An inspector's phone signs in as its
person (``Authorization: Bearer``, or the session) and posts for its own tracker.
"""

from __future__ import annotations

import datetime as dt
import hmac

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import own_transaction
from accounts.scoping import Scope, scope_for, system_scope
from core import params
from core.errors import BadInput, ErrorSerializer, NotFound, Unauthorized
from core.serializers import JsonTypes

from . import actions, queries
from .ingest import parse_batch
from .models import Alarm, Tracker, hash_key

TAG = "tracking"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
MAX_TRACK_DAYS = 7


def _trackers():
    return Tracker.objects.annotate(area_digest=F("person__area_digest"))


def device_caller(request) -> tuple[Scope, Tracker] | None:
    """Gives the scope and tracker of a terminal signed in with ``Authorization: Device``,
    None without that header; `Unauthorized` for a wrong id or key."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "device":
        return None
    device, sep, key = value.strip().partition(":")
    if not sep or not device or not key or len(value) > 200:
        raise Unauthorized("malformed device credentials: Device <device id>:<key>")
    tracker = _trackers().filter(device_id=device).first()
    if (
        tracker is None
        or not tracker.key_hash
        or not hmac.compare_digest(tracker.key_hash, hash_key(key))
    ):
        raise Unauthorized("unknown device or wrong device key")
    return system_scope(actions.device_scope_name(device)), tracker


def _own_tracker(scope: Scope, device: str | None) -> Tracker:
    scope.require_signed_in()
    if device is not None:
        tracker = _trackers().filter(device_id=device).first()
        if tracker is None:
            raise NotFound(f"no device {device}", field="device")
        return tracker
    now = timezone.now()
    tracker = (
        _trackers()
        .filter(person_id=scope.person_id, active=True, person_id__isnull=False)
        .exclude(valid_to__lt=now)
        .order_by("-valid_from", "-id")
        .first()
    )
    if tracker is None:
        raise NotFound("you have no tracker: give the device", field="device")
    return tracker


FixSerializer = inline_serializer(
    "Fix",
    {
        "t": drf.DateTimeField(help_text="device time, RFC 3339"),
        "lon": drf.FloatField(),
        "lat": drf.FloatField(),
        "crs": drf.CharField(required=False, help_text="EPSG:4326 (default), gcj02, bd09, …"),
        "accuracy": drf.FloatField(required=False, min_value=0, help_text="metres"),
        "speed": drf.FloatField(required=False, min_value=0, help_text="m/s"),
        "heading": drf.FloatField(required=False, min_value=0, max_value=360),
        "battery": drf.IntegerField(required=False, min_value=0, max_value=100),
    },
)


@own_transaction  # a data stream: counted, not logged per batch (tracking.actions)
class FixesView(APIView):
    @extend_schema(
        operation_id="tracking_fixes",
        summary="Post a batch of fixes (an inspector's phone or a vehicle terminal)",
        tags=[TAG],
        request=inline_serializer(
            "FixBatch",
            {
                "device": drf.CharField(required=False, help_text="omitted: the caller's own"),
                "fixes": drf.ListField(child=FixSerializer),
            },
        ),
        responses={
            200: inline_serializer(
                "FixBatchResult",
                {
                    "accepted": drf.IntegerField(),
                    "duplicates": drf.IntegerField(),
                    "flagged": drf.IntegerField(),
                },
            ),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        signed = device_caller(request)
        scope = signed[0] if signed else scope_for(request)
        scope.require_signed_in()
        device_id, fixes = parse_batch(request.data, settings.TRACKING_MAX_BATCH)
        if signed is not None:
            tracker = signed[1]
            if device_id is not None and device_id != tracker.device_id:
                raise BadInput("device differs from the signed-in device", field="device")
        else:
            tracker = _own_tracker(scope, device_id)
        result = actions.do_ingest_fixes(scope, tracker, fixes)
        return Response(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "flagged": result.flagged,
            }
        )


def _signed_in(request) -> Scope:
    scope = scope_for(request)
    scope.require_signed_in()
    return scope


class LiveView(APIView):
    @extend_schema(
        operation_id="tracking_live",
        summary="Latest positions with status (GeoJSON), of the trackers the caller sees",
        tags=[TAG],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(queries.live(_signed_in(request)))


class AlarmsView(APIView):
    @extend_schema(
        operation_id="tracking_alarms",
        summary="Alarms of the trackers the caller sees, newest first",
        tags=[TAG],
        parameters=[
            OpenApiParameter("tracker", int, required=False),
            OpenApiParameter("kind", str, required=False, enum=Alarm.Kind.values),
            OpenApiParameter("open", bool, required=False),
            OpenApiParameter("since", OpenApiTypes.DATETIME, required=False),
            OpenApiParameter("limit", int, required=False),
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = _signed_in(request)
        query = request.query_params
        found = queries.alarms(
            scope,
            tracker=params.integer(query, "tracker", None, low=1),
            kind=params.choice(query, "kind", Alarm.Kind.values, None),
            open_only=params.boolean(query, "open", None),
            since=params.instant(query, "since", None),
            limit=params.integer(query, "limit", 200, low=1, high=1000),
        )
        return Response({"alarms": found})


class AcknowledgeSerializer(JsonTypes, drf.Serializer):
    note = drf.CharField(max_length=2000, allow_blank=True, default="")
    justified = drf.BooleanField(default=False)


class AcknowledgeView(APIView):
    @extend_schema(
        operation_id="tracking_alarm_acknowledge",
        summary="Acknowledge an alarm with a note; justified ones leave the statistics",
        tags=[TAG],
        request=AcknowledgeSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, alarm_id: int) -> Response:
        scope = scope_for(request)
        actions.do_acknowledge_alarm.require(scope)
        form = AcknowledgeSerializer(data=request.data)
        if not form.is_valid():
            raise BadInput.from_serializer_errors(form.errors)
        alarm = queries.visible_alarm(scope, alarm_id)
        actions.do_acknowledge_alarm(
            scope, alarm, form.validated_data["note"], form.validated_data["justified"]
        )
        return Response(queries.alarms(scope, alarm_id=alarm_id, limit=1)[0])


class TrackView(APIView):
    @extend_schema(
        operation_id="tracking_track",
        summary="A tracker's track for playback: simplified line with times, stops, gaps",
        tags=[TAG],
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATETIME, required=False),
            OpenApiParameter("to", OpenApiTypes.DATETIME, required=False),
            OpenApiParameter("zoom", float, required=False),
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, tracker_id: int) -> Response:
        scope = _signed_in(request)
        query = request.query_params
        end = params.instant(query, "to", None) or timezone.now()
        start = params.instant(query, "from", None) or end - dt.timedelta(days=1)
        if start >= end:
            raise BadInput("from must be before to", field="from")
        if end - start > dt.timedelta(days=MAX_TRACK_DAYS):
            raise BadInput(f"at most {MAX_TRACK_DAYS} days at a time", field="from")
        zoom = params.zoom(query, "zoom", 16.0)
        return Response(queries.track(scope, tracker_id, start, end, zoom))
