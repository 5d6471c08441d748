"""HTTP endpoints of the spatial core: locate, health, census. Thin: parse, call, render."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from core import params
from core.access import public
from core.errors import ErrorSerializer

from . import census as census_service
from . import crs as crs_module
from . import health as health_service
from .locate import locate
from .serializers import (
    CensusSerializer,
    HealthSerializer,
    LocateResponseSerializer,
)


@public
class LocateView(APIView):
    """Where a point is: admin areas, grids, timing zone, controlled areas, nearest road.

    Public, but each part comes from a registry layer: parts of non-public layers are null (or
    empty) unless the caller's grants name the layer and the caller's area holds the point."""

    @extend_schema(
        operation_id="locate",
        summary="Place a point (落点): everything it belongs to, in one query",
        parameters=[
            OpenApiParameter(
                "lon",
                float,
                required=True,
                description="longitude (-180..180), or x/easting for a projected crs",
            ),
            OpenApiParameter(
                "lat",
                float,
                required=True,
                description="latitude (-90..90), or y/northing for a projected crs",
            ),
            OpenApiParameter(
                "crs",
                crs_module.CRS_PARAMETER_SCHEMA,
                required=False,
                description=f"one of {crs_module.ACCEPTED}",
            ),
            OpenApiParameter(
                "at",
                OpenApiTypes.DATETIME,
                required=False,
                description=(
                    "time for controlled areas (default now; without an offset it is "
                    "Asia/Shanghai time)"
                ),
            ),
        ],
        responses={200: LocateResponseSerializer, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params
        given = params.point(query)
        crs = crs_module.parse_crs(given.crs)
        lon, lat = crs_module.to_wgs84(given.x, given.y, crs)
        # Without an offset, `at` is Beijing time (the server's TIME_ZONE).
        at = params.instant(query, "at", None)
        placement = locate(lon, lat, at, scope=scope_for(request))
        return Response(
            {
                "input": {"x": given.x, "y": given.y, "crs": crs.label},
                "wgs84": {"lon": round(lon, 9), "lat": round(lat, 9)},
                "placement": placement.as_dict(),
            }
        )


@public
class HealthView(APIView):
    """Health of the database, PostGIS, Redis and Celery: 503 with the same report when the
    status is "failed" (the database does not answer).

    The report is the same for every caller, so no authentication runs: a session or token
    lookup would need the database this endpoint must be able to report as down."""

    authentication_classes: list = []

    @extend_schema(
        operation_id="health",
        summary="Health: database, PostGIS version, Redis, Celery workers",
        responses={200: HealthSerializer, 503: HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        report = health_service.health()
        return Response(report, status=503 if report["status"] == "failed" else 200)


@public
class CensusView(APIView):
    """Census results (普查成果) for the city or an admin area. Public: aggregate counts only,
    of the rows the caller sees in each layer (null for a layer the caller may not read)."""

    @extend_schema(
        operation_id="census",
        summary="Census results (普查成果) of the city or an admin area",
        parameters=[
            OpenApiParameter(
                "area",
                str,
                required=False,
                pattern=census_service.AREA_CODE_RE.pattern,
                description="admin area code (6, 9 or 12 digits); omit for the whole city",
            )
        ],
        responses={200: CensusSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        area = census_service.resolve_area(params.text(request.query_params, "area", None))
        return Response(census_service.census(area, scope_for(request)))
