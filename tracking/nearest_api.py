"""``GET /api/v1/tracking/nearest``: search around a point (周边查询), thin over
`tracking.nearest`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from core import params
from core.errors import ErrorSerializer
from spatial import crs as crs_module

from . import nearest
from .models import Tracker

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}

NEAREST_ITEM = inline_serializer(
    "NearestTracker",
    {
        "tracker": drf.IntegerField(),
        "device": drf.CharField(),
        "kind": drf.ChoiceField(choices=Tracker.Kind.values),
        "name": drf.CharField(),
        "status": drf.ChoiceField(choices=["online", "offline"]),
        "t": drf.DateTimeField(help_text="the latest fix"),
        "position": drf.JSONField(help_text="GeoJSON Point, WGS84"),
        "straight_m": drf.FloatField(),
        "road_m": drf.FloatField(allow_null=True, help_text="null: by straight line only"),
    },
)


class NearestView(APIView):
    @extend_schema(
        operation_id="tracking_nearest",
        summary="The trackers nearest to a point (周边查询), by road distance where pgRouting is",
        tags=["tracking"],
        parameters=[
            OpenApiParameter("lon", float, required=True),
            OpenApiParameter("lat", float, required=True),
            OpenApiParameter("crs", str, required=False, description="EPSG:4326, gcj02, bd09…"),
            OpenApiParameter("limit", int, required=False, description="5, at most 50"),
            OpenApiParameter("kind", str, required=False, enum=Tracker.Kind.values),
            OpenApiParameter("online", bool, required=False, description="default true"),
        ],
        responses={
            200: inline_serializer(
                "Nearest",
                {
                    "method": drf.ChoiceField(choices=["road", "straight"]),
                    "origin": drf.JSONField(help_text="GeoJSON Point, WGS84"),
                    "nearest": NEAREST_ITEM,
                    "path": drf.JSONField(
                        allow_null=True,
                        help_text="the way to the nearest: MultiLineString by road (walks to "
                        "and from the road first and last), LineString when straight",
                    ),
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        query = request.query_params
        spot = params.point(query)
        lon, lat = crs_module.to_wgs84(spot.x, spot.y, spot.crs)
        return Response(
            nearest.nearest(
                scope,
                lon,
                lat,
                limit=params.integer(query, "limit", 5, low=1, high=50),
                kind=params.choice(query, "kind", Tracker.Kind.values, None),
                online_only=params.boolean(query, "online", True),
            )
        )
