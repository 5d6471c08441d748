"""The tracking API under /api/v1/tracking: ingest, live positions, alarms, playback, rosters.

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
from .models import Alarm, PatrolRoute, Shift, Tracker, hash_key

TAG = "tracking"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
MAX_TRACK_DAYS = 7


def _trackers():
    return Tracker.objects.annotate(
        area_digest=F("person__area_digest"), route_version=F("route__version")
    )


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


HHMM = {"format": "%H:%M", "input_formats": ["%H:%M"]}


class ShiftSerializer(JsonTypes, drf.Serializer):
    name = drf.CharField(max_length=32)
    start = drf.TimeField(help_text="HH:MM local time", **HHMM)
    end = drf.TimeField(help_text="HH:MM; at or before the start: the next day", **HHMM)


def _form(serializer_class, data) -> dict:
    form = serializer_class(data=data)
    if not form.is_valid():
        raise BadInput.from_serializer_errors(form.errors)
    return form.validated_data


def _shift(pk: int, field: str = "shift") -> Shift:
    shift = Shift.objects.filter(pk=pk).first()
    if shift is None:
        raise NotFound(f"no shift {pk}", field=field)
    return shift


def _tracker(pk: int, field: str) -> Tracker:
    tracker = Tracker.objects.filter(pk=pk).first()
    if tracker is None:
        raise NotFound(f"no tracker {pk}", field=field)
    return tracker


class ShiftsView(APIView):
    @extend_schema(
        operation_id="tracking_shifts",
        summary="The shifts (班次)",
        tags=[TAG],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        _signed_in(request)
        return Response({"shifts": [queries.shift_json(s) for s in Shift.objects.all()]})

    @extend_schema(
        operation_id="tracking_shift_create",
        summary="Add a shift; an end at or before the start runs past midnight",
        tags=[TAG],
        request=ShiftSerializer,
        responses={201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_create_shift.require(scope)
        data = _form(ShiftSerializer, request.data)
        shift = actions.do_create_shift(scope, data["name"], data["start"], data["end"])
        return Response(queries.shift_json(shift), status=201)


class RosterView(APIView):
    @extend_schema(
        operation_id="tracking_roster",
        summary="A day's roster (排班) of the trackers the caller sees",
        tags=[TAG],
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, required=False, description="today"),
            OpenApiParameter("tracker", int, required=False),
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = _signed_in(request)
        query = request.query_params
        day = params.day(query, "date", None) or timezone.localdate()
        tracker = params.integer(query, "tracker", None, low=1)
        return Response(queries.roster_entries(scope, day, tracker))


class GenerateSerializer(JsonTypes, drf.Serializer):
    year = drf.IntegerField(min_value=2000, max_value=2100)
    month = drf.IntegerField(min_value=1, max_value=12)
    pattern = drf.CharField(max_length=32, help_text="weekdays, daily, or 'N on / M off'")
    shift = drf.IntegerField(min_value=1)
    trackers = drf.ListField(
        child=drf.IntegerField(min_value=1),
        required=False,
        max_length=2000,
        help_text="default: every active inspector tracker the caller sees",
    )


class RosterGenerateView(APIView):
    @extend_schema(
        operation_id="tracking_roster_generate",
        summary="Generate a month's roster from a pattern (existing entries stay)",
        tags=[TAG],
        request=GenerateSerializer,
        responses={
            200: inline_serializer("RosterGenerated", {"created": drf.IntegerField()}),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_generate_roster.require(scope)
        data = _form(GenerateSerializer, request.data)
        created = actions.do_generate_roster(
            scope,
            data["year"],
            data["month"],
            data["pattern"],
            _shift(data["shift"]),
            data.get("trackers"),
        )
        return Response({"created": created})


class LeaveSerializer(JsonTypes, drf.Serializer):
    tracker = drf.IntegerField(min_value=1)
    date = drf.DateField()
    shift = drf.IntegerField(min_value=1)
    substitute = drf.IntegerField(min_value=1, required=False, allow_null=True)
    note = drf.CharField(max_length=200, allow_blank=True, default="")


class RosterLeaveView(APIView):
    @extend_schema(
        operation_id="tracking_roster_leave",
        summary="Record a leave (请假) for a shift, with a substitute (替班) on duty instead",
        tags=[TAG],
        request=LeaveSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_set_leave.require(scope)
        data = _form(LeaveSerializer, request.data)
        tracker = _tracker(data["tracker"], "tracker")
        sub = data.get("substitute")
        entry = actions.do_set_leave(
            scope,
            tracker,
            data["date"],
            _shift(data["shift"]),
            _tracker(sub, "substitute") if sub else None,
            data["note"],
        )
        found = queries.roster_entries(scope, entry.date, tracker.pk)["entries"]
        return Response(next(e for e in found if e["id"] == entry.pk))


class CheckpointSerializer(JsonTypes, drf.Serializer):
    name = drf.CharField(max_length=64)
    lon = drf.FloatField(min_value=-180, max_value=180)
    lat = drf.FloatField(min_value=-90, max_value=90)
    radius_m = drf.FloatField(min_value=5, max_value=500, default=30)
    order = drf.IntegerField(min_value=0, max_value=10000, required=False)
    window_start = drf.TimeField(required=False, allow_null=True, help_text="HH:MM", **HHMM)
    window_end = drf.TimeField(required=False, allow_null=True, help_text="HH:MM", **HHMM)
    required = drf.IntegerField(min_value=1, max_value=50, default=1)

    def validate(self, data):
        if (data.get("window_start") is None) != (data.get("window_end") is None):
            raise drf.ValidationError({"window_end": "give both window_start and window_end"})
        return data


class RouteSerializer(JsonTypes, drf.Serializer):
    name = drf.CharField(max_length=64)
    line = drf.ListField(
        child=drf.ListField(child=drf.FloatField(), min_length=2, max_length=2),
        min_length=2,
        max_length=5000,
        help_text="[[lon, lat], …] in WGS84, along the roads",
    )
    tolerance_m = drf.FloatField(min_value=5, max_value=2000, required=False, allow_null=True)
    checkpoints = CheckpointSerializer(many=True, required=False, max_length=200)

    def validate_line(self, line):
        for n, (lon, lat) in enumerate(line):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise drf.ValidationError(f"vertex {n} is not a WGS84 lon/lat")
        if len({tuple(p) for p in line}) < 2:
            raise drf.ValidationError("a line needs two distinct vertices")
        return line


class RoutesView(APIView):
    @extend_schema(
        operation_id="tracking_routes",
        summary="Patrol routes (巡查路线) and their checkpoints (巡查点) the caller sees (GeoJSON)",
        tags=[TAG],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(queries.routes(_signed_in(request)))

    @extend_schema(
        operation_id="tracking_route_create",
        summary="Add a patrol route with its checkpoints (tracking.monitor, within one's areas)",
        tags=[TAG],
        request=RouteSerializer,
        responses={201: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_create_route.require(scope)
        data = _form(RouteSerializer, request.data)
        route = actions.do_create_route(
            scope,
            name=data["name"],
            line=[tuple(p) for p in data["line"]],
            tolerance_m=data.get("tolerance_m"),
            checkpoints=data.get("checkpoints") or [],
        )
        return Response(queries.routes(scope, route.pk), status=201)


class RouteChangeSerializer(RouteSerializer):
    name = drf.CharField(max_length=64, required=False)
    line = drf.ListField(
        child=drf.ListField(child=drf.FloatField(), min_length=2, max_length=2),
        min_length=2,
        max_length=5000,
        required=False,
        help_text="[[lon, lat], …] in WGS84",
    )
    active = drf.BooleanField(required=False)


class RouteView(APIView):
    @extend_schema(
        operation_id="tracking_route",
        summary="A patrol route and its checkpoints (GeoJSON)",
        tags=[TAG],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, route_id: int) -> Response:
        found = queries.routes(_signed_in(request), route_id)
        if not found["features"]:
            raise NotFound(f"no route {route_id}")
        return Response(found)

    @extend_schema(
        operation_id="tracking_route_update",
        summary="Change a patrol route: name, line, tolerance, active, checkpoints (replaced)",
        tags=[TAG],
        request=RouteChangeSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def patch(self, request: Request, route_id: int) -> Response:
        scope = scope_for(request)
        actions.do_update_route.require(scope)
        data = _form(RouteChangeSerializer, request.data)
        if not data:
            raise BadInput("give at least one of " + ", ".join(actions.ROUTE_FIELDS))
        route = PatrolRoute.objects.filter(pk=route_id).first()
        if route is None:
            raise NotFound(f"no route {route_id}")
        actions.do_update_route(scope, route=route, changes=dict(data))
        return Response(queries.routes(scope, route_id))


class AssignRouteSerializer(JsonTypes, drf.Serializer):
    route = drf.IntegerField(min_value=1, allow_null=True, help_text="null: no route")


class TrackerRouteView(APIView):
    @extend_schema(
        operation_id="tracking_tracker_route",
        summary="Assign a patrol route to a tracker (tracking.monitor; null takes it away)",
        tags=[TAG],
        request=AssignRouteSerializer,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def post(self, request: Request, tracker_id: int) -> Response:
        scope = scope_for(request)
        actions.do_assign_route.require(scope)
        data = _form(AssignRouteSerializer, request.data)
        route = None
        if data["route"] is not None:
            route = PatrolRoute.objects.filter(pk=data["route"]).first()
            if route is None:
                raise NotFound(f"no route {data['route']}", field="route")
        tracker = actions.do_assign_route(
            scope, tracker=_tracker(tracker_id, "tracker"), route=route
        )
        return Response({"tracker": tracker.pk, "route": tracker.route_id})
