"""Search around (周边查询, spec 5.1.4.2.6 / 5.1.4.3.6): what lies within a radius of a point or a
case, nearest first: ``GET /api/v1/nearby`` and ``GET /api/v1/cases/{id}/nearby``.

Glue in the project shell, like `web.live_tiles`: the answer joins cases and tracking, which may
not import each other (docs/architecture.md §1). Each kind is read through its own app's scope,
in SQL: cases through `cases.visibility.visible_cases`, inspectors (person trackers) and
vehicles through `tracking.nearest.within` (`tracking.queries.visible_condition`), components
through the ``components`` layer's condition (`Scope.layer_condition_by_key`). Distances are
geodesic metres, straight; a bounding box around the point (`spatial.crs.degrees_covering`)
lets each table's GiST index find the candidates before the exact test.
"""

from __future__ import annotations

from django.db import connection
from django.db.models.expressions import RawSQL
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from psycopg2 import sql
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import Scope, scope_for
from cases import visibility
from cases.models import State
from core import params
from core.errors import BadInput, ErrorSerializer
from spatial import crs as crs_module
from spatial.crs import degrees_covering
from spatial.models import Component
from tracking import nearest as tracking_nearest
from tracking.models import Tracker

KINDS = ("cases", "inspectors", "components", "vehicles")
RADIUS_M = 500.0
MAX_RADIUS_M = 5000.0
LIMIT = 20
MAX_LIMIT = 100
TAG = "nearby"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer}

_DISTANCE = (
    'ST_Distance("cases_case"."geom"::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography)'
)


def _point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}


def nearby_cases(
    scope: Scope, lon: float, lat: float, radius: float, limit: int, exclude: int = 0
) -> list[dict]:
    """The cases `scope` sees within `radius` metres, nearest first (then the newest)."""
    dlon, dlat = degrees_covering(radius, lat)
    box = RawSQL(
        '"cases_case"."geom" && ST_Expand(ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s)',
        (lon, lat, dlon, dlat),
    )
    found = (
        visibility.visible_cases(scope)
        .alias(in_box=box)
        .filter(in_box=True)
        .annotate(metres=RawSQL(_DISTANCE, (lon, lat)))
        .filter(metres__lte=radius)
        .exclude(pk=exclude)
        .select_related("category")
        .only(
            "number", "state", "address", "reported_at", "geom", "category__code", "category__name"
        )
        .order_by("metres", "-reported_at", "pk")[:limit]
    )
    return [
        {
            "id": case.pk,
            "number": case.number,
            "state": case.state,
            "state_label": State(case.state).label,
            "category": {"code": case.category.code, "name": case.category.name},
            "address": case.address,
            "reported_at": case.reported_at.isoformat(),
            "position": _point(case.geom.x, case.geom.y),
            "metres": round(case.metres, 1),
        }
        for case in found
    ]


COMPONENTS_SQL = """
SELECT c.id, c.code, c.name, cat.name, c.status, ST_X(ST_PointOnSurface(c.geom)),
       ST_Y(ST_PointOnSurface(c.geom)), d.metres
FROM spatial_component c
JOIN data_category cat ON cat.id = c.category_id
CROSS JOIN LATERAL (SELECT ST_Distance(c.geom::geography,
                    ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) AS metres) d
WHERE c.geom && ST_Expand(ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s)
  AND d.metres <= %s AND {visible}
ORDER BY d.metres, c.id
LIMIT %s
"""


def nearby_components(
    scope: Scope, lon: float, lat: float, radius: float, limit: int
) -> list[dict]:
    """The components (部件) of the ``components`` layer the caller reads within `radius`."""
    condition = scope.layer_condition_by_key("components", sql.SQL("c.geom"))
    if condition.empty:
        return []
    dlon, dlat = degrees_covering(radius, lat)
    query = sql.SQL(COMPONENTS_SQL).format(visible=condition.sql)
    values = [lon, lat, lon, lat, dlon, dlat, radius, *condition.params, limit]
    with connection.cursor() as cursor:
        cursor.execute(query, values)
        rows = cursor.fetchall()
    statuses = dict(Component.Status.choices)
    return [
        {
            "id": pk,
            "code": code,
            "name": name or category,
            "category": category,
            "status": status,
            "status_label": statuses.get(status, status),
            "position": _point(x, y),
            "metres": round(metres, 1),
        }
        for pk, code, name, category, status, x, y, metres in rows
    ]


def nearby(
    scope: Scope,
    lon: float,
    lat: float,
    *,
    radius: float,
    kinds: list[str],
    limit: int,
    exclude_case: int = 0,
) -> dict:
    """What lies within `radius` metres of (`lon`, `lat`) WGS84, per kind asked, nearest
    first, each kind as its own app lets `scope` see it."""
    answer: dict = {"origin": _point(lon, lat), "radius": radius}
    if "cases" in kinds:
        answer["cases"] = nearby_cases(scope, lon, lat, radius, limit, exclude_case)
    if "inspectors" in kinds:
        answer["inspectors"] = tracking_nearest.within(
            scope, lon, lat, radius, Tracker.Kind.PERSON, limit
        )
    if "vehicles" in kinds:
        answer["vehicles"] = tracking_nearest.within(
            scope, lon, lat, radius, Tracker.Kind.VEHICLE, limit
        )
    if "components" in kinds:
        answer["components"] = nearby_components(scope, lon, lat, radius, limit)
    return answer


def _options(query) -> dict:
    kinds = params.names(query, "kinds", list(KINDS))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise BadInput(
            f"unknown kind {unknown[0]!r}: one or more of {', '.join(KINDS)}", field="kinds"
        )
    return {
        "radius": params.number(query, "radius", RADIUS_M, low=1, high=MAX_RADIUS_M),
        "kinds": kinds,
        "limit": params.integer(query, "limit", LIMIT, low=1, high=MAX_LIMIT),
    }


_TRACKER = {
    "tracker": drf.IntegerField(),
    "device": drf.CharField(),
    "kind": drf.ChoiceField(choices=Tracker.Kind.values),
    "name": drf.CharField(),
    "status": drf.ChoiceField(choices=["online", "offline"]),
    "t": drf.DateTimeField(help_text="the latest fix"),
    "position": drf.JSONField(help_text="GeoJSON Point, WGS84"),
    "metres": drf.FloatField(),
}
NEARBY_SCHEMA = inline_serializer(
    "Nearby",
    {
        "origin": drf.JSONField(help_text="GeoJSON Point, WGS84"),
        "radius": drf.FloatField(help_text="metres"),
        "cases": inline_serializer(
            "NearbyCase",
            {
                "id": drf.IntegerField(),
                "number": drf.CharField(),
                "state": drf.ChoiceField(choices=State.values),
                "state_label": drf.CharField(),
                "category": drf.JSONField(help_text="{code, name}"),
                "address": drf.CharField(),
                "reported_at": drf.DateTimeField(),
                "position": drf.JSONField(help_text="GeoJSON Point, WGS84"),
                "metres": drf.FloatField(),
            },
            many=True,
            required=False,
        ),
        "inspectors": inline_serializer("NearbyInspector", _TRACKER, many=True, required=False),
        "vehicles": inline_serializer("NearbyVehicle", _TRACKER, many=True, required=False),
        "components": inline_serializer(
            "NearbyComponent",
            {
                "id": drf.IntegerField(),
                "code": drf.CharField(),
                "name": drf.CharField(),
                "category": drf.CharField(),
                "status": drf.ChoiceField(choices=Component.Status.values),
                "status_label": drf.CharField(),
                "position": drf.JSONField(help_text="GeoJSON Point, WGS84"),
                "metres": drf.FloatField(),
            },
            many=True,
            required=False,
        ),
    },
)
COMMON_PARAMETERS = [
    OpenApiParameter("radius", float, required=False, description="metres: 500, at most 5000"),
    OpenApiParameter(
        "kinds",
        str,
        required=False,
        description="comma list of cases, inspectors, components, vehicles (default all)",
    ),
    OpenApiParameter("limit", int, required=False, description="per kind: 20, at most 100"),
]


class NearbyView(APIView):
    @extend_schema(
        operation_id="nearby",
        tags=[TAG],
        summary="What lies within a radius of a point (周边查询), nearest first, per kind",
        parameters=[
            OpenApiParameter("lon", float, required=True),
            OpenApiParameter("lat", float, required=True),
            OpenApiParameter("crs", str, required=False, description="EPSG:4326, gcj02, bd09…"),
            *COMMON_PARAMETERS,
        ],
        responses={200: NEARBY_SCHEMA, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        query = request.query_params
        spot = params.point(query)
        lon, lat = crs_module.to_wgs84(spot.x, spot.y, spot.crs)
        return Response(nearby(scope, lon, lat, **_options(query)))


class CaseNearbyView(APIView):
    @extend_schema(
        operation_id="cases_nearby",
        tags=[TAG],
        summary="What lies within a radius of a case (周边查询), nearest first, the case left out",
        parameters=COMMON_PARAMETERS,
        responses={200: NEARBY_SCHEMA, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        case = visibility.get_visible(scope, case_id)
        options = _options(request.query_params)
        return Response(nearby(scope, case.geom.x, case.geom.y, exclude_case=case.pk, **options))
