"""The public service's JSON API under /api/v1/public/ (no staff sign-in): the public map's
cases, one case's public record and photos, nearby convenience points, and the citizen's
account, reports, "my cases", ratings, reopening and hiding their name.

Citizens authenticate with ``X-Citizen-Token`` (from `POST /public/citizens/session`), never
with cookies, so these views take no session and need no CSRF token. Every answer is built
from `publication`'s public fields; the citizen's own phone is the only personal datum any of
them returns, and only to that citizen.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.http import FileResponse, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import own_transaction
from accounts.authentication import client_ip
from core import params
from core.access import public
from core.errors import BadInput, ErrorSerializer, NotFound
from spatial import crs as crs_module

from .. import visibility
from ..models import Case, CaseMedia
from . import citizens, publication
from .models import CaseRating, ConveniencePoint, PublicEdit
from .tiles import public_tile
from .views import parse_report

TAG = "public"
NUMBER = r"-?\d+(\.\d+)?"
BBOX_SCHEMA = {"type": "string", "pattern": rf"^{NUMBER},{NUMBER},{NUMBER},{NUMBER}$"}
LIMIT_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 200}
KINDS = "|".join(ConveniencePoint.Kind.values)
KINDS_SCHEMA = {"type": "string", "pattern": rf"^({KINDS})(,({KINDS}))*$"}
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 404: ErrorSerializer}
PUBLIC_CASE = inline_serializer(
    "PublicCase",
    {
        "number": drf.CharField(),
        "status": drf.ChoiceField(choices=["open", "closed"]),
        "state_name": drf.CharField(),
        "service_code": drf.CharField(),
        "category": drf.CharField(),
        "report_type": drf.CharField(),
        "description": drf.CharField(),
        "status_notes": drf.CharField(),
        "agency": drf.CharField(allow_null=True),
        "address": drf.CharField(),
        "lon": drf.FloatField(allow_null=True),
        "lat": drf.FloatField(allow_null=True),
        "reported_at": drf.DateTimeField(),
        "updated_at": drf.DateTimeField(),
        "closed_at": drf.DateTimeField(allow_null=True),
        "before": drf.ListField(child=drf.CharField()),
        "after": drf.ListField(child=drf.CharField()),
        "history": drf.ListField(child=drf.DictField()),
    },
)


def public_json(item: publication.PublicCase) -> dict:
    case = item.case
    return {
        "number": case.number,
        "status": item.status,
        "state_name": case.get_state_display(),
        "service_code": publication.service_code(case.kind, case.category.code),
        "category": case.category.name,
        "report_type": item.report_type,
        "description": item.description,
        "status_notes": item.status_notes,
        "agency": item.agency,
        "address": item.address,
        "lon": round(case.geom.x, 6) if item.located else None,
        "lat": round(case.geom.y, 6) if item.located else None,
        "reported_at": publication.w3c(case.reported_at),
        "updated_at": publication.w3c(case.updated_at),
        "closed_at": publication.w3c(case.closed_at),
        "before": [publication.media_path(m) for m in item.before],
        "after": [publication.media_path(m) for m in item.after],
        "history": item.history,
    }


@public
class PublicCasesView(APIView):
    """The public map's cases: open now or closed lately, in a box."""

    authentication_classes: list = []

    @extend_schema(
        operation_id="public_cases",
        tags=[TAG],
        summary="Public cases open now or closed lately, newest first (public fields only)",
        parameters=[
            OpenApiParameter(
                "bbox", BBOX_SCHEMA, description="minLon,minLat,maxLon,maxLat (WGS84)"
            ),
            OpenApiParameter("status", str, enum=["open", "closed"]),
            OpenApiParameter("limit", LIMIT_SCHEMA, description="1–200, default 50"),
        ],
        responses={200: inline_serializer("PublicCases", {"cases": drf.ListField()}), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params
        cases = visibility.public_cases().filter(
            publication.open_or_recent(closed_days=settings.PUBLIC_CLOSED_DAYS),
            publication.on_the_map(),
        )
        box = params.bbox(query, "bbox", None)
        if box is not None:
            cases = cases.filter(geom__intersects=Polygon.from_bbox(tuple(box)))
        status = params.choice(query, "status", ["open", "closed"], None)
        if status == "open":
            cases = cases.exclude(state__in=publication.CLOSED_STATES)
        elif status == "closed":
            cases = cases.filter(state__in=publication.CLOSED_STATES)
        limit = params.integer(query, "limit", 50, low=1, high=200)
        page = list(
            cases.select_related("category", "department").order_by("-reported_at", "-id")[:limit]
        )
        return Response({"cases": [public_json(i) for i in publication.gather(page)]})


@public
class PublicCaseView(APIView):
    """One public case with its public history and its photos before and after."""

    authentication_classes: list = []

    @extend_schema(
        operation_id="public_case",
        tags=[TAG],
        summary="One public case by its number, with its public history",
        responses={200: PUBLIC_CASE, **ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        case = (
            visibility.public_cases()
            .filter(number=number)
            .select_related("category", "department")
            .first()
        )
        if case is None:
            raise NotFound(f"no public case {number[:32]!r}")
        return Response(public_json(publication.gather([case], with_history=True)[0]))


@public
@require_safe
def public_media(request: HttpRequest, media_id: int) -> HttpResponse:
    """A public photo: of a public case, before or after, not hidden by a moderator."""
    media = (
        CaseMedia.objects.filter(
            pk=media_id,
            stage__in=(*publication.BEFORE_STAGES, *publication.AFTER_STAGES),
            content_type__startswith="image/",
            case__in=visibility.public_cases(),
        )
        .exclude(pk__in=_hidden_media())
        .first()
    )
    if media is None:
        raise NotFound(f"no public photo {media_id}")
    response = FileResponse(media.file.open("rb"), content_type=media.content_type)
    response["Cache-Control"] = "public, max-age=300"
    return response


def _hidden_media():
    return PublicEdit.objects.filter(target=PublicEdit.Target.MEDIA, hidden=True).values("media_id")


@public
@require_safe
def public_case_tile(request: HttpRequest, z: str, x: str, y: str) -> HttpResponse:
    """The public map's case tile (204 when empty): clusters with `point_count`, `open` and
    `closed` below the cluster zoom, single cases (number, status, class) from it on;
    ``?status=open`` or ``closed`` keeps only those."""
    path = {"z": z, "x": x, "y": y}
    zoom = int(params.zoom(path, "z", whole=True, max_zoom=settings.TILES_MAX_ZOOM))
    status = params.choice(request.GET, "status", ["open", "closed"], "")
    data = public_tile(zoom, params.integer(path, "x"), params.integer(path, "y"), status)
    if not data:
        response = HttpResponse(status=204)
    else:
        response = HttpResponse(data, content_type="application/vnd.mapbox-vector-tile")
    response["Cache-Control"] = "public, max-age=60"
    return response


POINT = inline_serializer(
    "ConveniencePoint",
    {
        "id": drf.IntegerField(),
        "kind": drf.CharField(),
        "kind_name": drf.CharField(),
        "name": drf.CharField(),
        "address": drf.CharField(),
        "contact": drf.CharField(),
        "opening_hours": drf.CharField(),
        "photo_url": drf.CharField(),
        "lon": drf.FloatField(),
        "lat": drf.FloatField(),
        "metres": drf.FloatField(),
    },
)


@public
class NearbyPointsView(APIView):
    """Convenience points (便民设施) within a radius of a point, nearest first."""

    authentication_classes: list = []

    @extend_schema(
        operation_id="public_nearby",
        tags=[TAG],
        summary="Convenience points within a radius (default 10 km), nearest first",
        parameters=[
            OpenApiParameter(
                "lon", {"type": "number", "minimum": -180, "maximum": 180}, required=True
            ),
            OpenApiParameter(
                "lat", {"type": "number", "minimum": -90, "maximum": 90}, required=True
            ),
            OpenApiParameter(
                "crs", crs_module.CRS_PARAMETER_SCHEMA, description="default EPSG:4326"
            ),
            OpenApiParameter(
                "radius", {"type": "integer", "minimum": 1, "maximum": 50000}, description="metres"
            ),
            OpenApiParameter("kinds", KINDS_SCHEMA, description="comma list of kinds"),
            OpenApiParameter("limit", LIMIT_SCHEMA, description="1–200, default 50"),
        ],
        responses={
            200: inline_serializer("NearbyPoints", {"points": drf.ListField(child=POINT)}),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        query = request.query_params
        lon, lat = crs_module.to_wgs84(
            params.number(query, "lon"), params.number(query, "lat"), query.get("crs") or None
        )
        radius = params.integer(
            query, "radius", settings.PUBLIC_NEARBY_RADIUS_M, low=1, high=50_000
        )
        kinds = params.names(query, "kinds", None)
        if kinds and not set(kinds) <= set(ConveniencePoint.Kind.values):
            raise BadInput(
                f"kinds are among {', '.join(ConveniencePoint.Kind.values)}", field="kinds"
            )
        limit = params.integer(query, "limit", 50, low=1, high=200)
        here = Point(lon, lat, srid=4326)
        # A box of degrees around the point (its GiST index), then the exact spheroid metres.
        dlon, dlat = crs_module.degrees_covering(radius, lat)
        box = Polygon.from_bbox((lon - dlon, lat - dlat, lon + dlon, lat + dlat))
        points = ConveniencePoint.objects.filter(
            geom__intersects=box, geom__distance_lte=(here, D(m=radius))
        )
        if kinds:
            points = points.filter(kind__in=kinds)
        points = points.annotate(metres=Distance("geom", here)).order_by("metres", "id")[:limit]
        return Response(
            {
                "points": [
                    {
                        "id": p.pk,
                        "kind": p.kind,
                        "kind_name": p.get_kind_display(),
                        "name": p.name,
                        "address": p.address,
                        "contact": p.contact,
                        "opening_hours": p.opening_hours,
                        "photo_url": p.photo_url,
                        "lon": round(p.geom.x, 6),
                        "lat": round(p.geom.y, 6),
                        "metres": round(p.metres.m, 1),
                    }
                    for p in points
                ]
            }
        )


# --- citizens -----------------------------------------------------------------------------


def _citizen(request: Request):
    return citizens.citizen_for(request.headers.get("X-Citizen-Token"))


PHONE_PATTERN = r"^1[3-9]\d{9}$"


class PhoneSerializer(drf.Serializer):
    phone = drf.RegexField(PHONE_PATTERN, help_text="an 11-digit mobile number")


class SignInSerializer(drf.Serializer):
    phone = drf.RegexField(PHONE_PATTERN)
    code = drf.RegexField(r"^\d{6}$", help_text="the 6 digits sent by SMS")


def _valid(serializer_class, request: Request) -> dict:
    body = serializer_class(data=request.data)
    if not body.is_valid():
        raise BadInput.from_serializer_errors(body.errors)
    return dict(body.validated_data)


@public
class CodeView(APIView):
    """Sends a one-time sign-in code to a phone."""

    authentication_classes: list = []
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="public_citizen_code",
        tags=[TAG],
        summary="Send a one-time code by SMS (a few per number per hour)",
        request=PhoneSerializer,
        responses={
            202: inline_serializer("CodeSent", {"expires_in": drf.IntegerField()}),
            429: ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        body = _valid(PhoneSerializer, request)
        citizens.send_code(body["phone"], ip=client_ip(request._request))
        return Response({"expires_in": settings.CITIZEN_CODE_TTL_S}, status=202)


@public
@own_transaction  # a wrong code's try is counted although the answer is a 400
class SessionView(APIView):
    """Signs a citizen in with the code: gives their token."""

    authentication_classes: list = []
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="public_citizen_session",
        tags=[TAG],
        summary="Sign in with phone and code; gives the X-Citizen-Token",
        request=SignInSerializer,
        responses={
            201: inline_serializer(
                "CitizenSession", {"token": drf.CharField(), "phone": drf.CharField()}
            ),
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        body = _valid(SignInSerializer, request)
        citizen, token = citizens.sign_in(body["phone"], body["code"])
        return Response({"token": token, "phone": citizen.phone}, status=201)


REPORT_FORM = inline_serializer(
    "PublicReportForm",
    {
        "service_code": drf.CharField(),
        "description": drf.CharField(max_length=4000),
        "lat": drf.FloatField(required=False),
        "long": drf.FloatField(required=False),
        "crs": drf.CharField(required=False),
        "address_string": drf.CharField(required=False),
        "report_type": drf.ChoiceField(
            choices=["report", "complaint", "consultation"], required=False
        ),
        "feedback": drf.ChoiceField(choices=["sms", "email", "public"], required=False),
        "hide_name": drf.BooleanField(required=False),
        "media": drf.ListField(child=drf.FileField(), required=False),
    },
)


@public
class ReportView(APIView):
    """A signed-in citizen reports from the public page (multipart, with photos)."""

    authentication_classes: list = []
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="public_report",
        tags=[TAG],
        summary="Report a problem, complaint or question as the signed-in citizen",
        request={"multipart/form-data": REPORT_FORM},
        responses={201: PUBLIC_CASE, 429: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        citizen = _citizen(request)
        report = parse_report(request.data, request._request)
        case = citizens.report(citizen, report)
        fresh = Case.objects.select_related("category", "department").get(pk=case.pk)
        return Response(public_json(publication.gather([fresh], with_history=True)[0]), status=201)


@public
class MyCasesView(APIView):
    """The signed-in citizen's cases (我的案件), newest first, with their history."""

    authentication_classes: list = []

    @extend_schema(
        operation_id="public_my_cases",
        tags=[TAG],
        summary="My cases: what I reported, with state, photos and public history",
        responses={
            200: inline_serializer(
                "MyCases", {"phone": drf.CharField(), "cases": drf.ListField(child=PUBLIC_CASE)}
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        citizen = _citizen(request)
        cases = list(
            citizens.cases_of(citizen)
            .select_related("category", "department")
            .order_by("-reported_at", "-id")[:100]
        )
        items = []
        ratings = {r.case_id: r for r in CaseRating.objects.filter(case__in=cases)}
        for item in publication.gather(cases, with_history=True):
            body = public_json(item)
            rating = ratings.get(item.case.pk)
            body["rating"] = {"stars": rating.stars, "comment": rating.comment} if rating else None
            body["private"] = item.case.reporter_private
            items.append(body)
        return Response({"phone": citizen.phone, "cases": items})


class RatingSerializer(drf.Serializer):
    stars = drf.IntegerField(min_value=1, max_value=5)
    comment = drf.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ReopenSerializer(drf.Serializer):
    reason = drf.CharField(max_length=2000)


class HideNameSerializer(drf.Serializer):
    hidden = drf.BooleanField()


@public
class RatingView(APIView):
    authentication_classes: list = []
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="public_my_case_rating",
        tags=[TAG],
        summary="Rate my closed case (1–5 stars and a comment); it feeds the call-back",
        request=RatingSerializer,
        responses={201: RatingSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        citizen = _citizen(request)
        body = _valid(RatingSerializer, request)
        rating = citizens.do_rate_case(
            citizens.CITIZENS, citizen, number, stars=body["stars"], comment=body["comment"]
        )
        return Response({"stars": rating.stars, "comment": rating.comment}, status=201)


@public
class ReopenView(APIView):
    authentication_classes: list = []
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="public_my_case_reopen",
        tags=[TAG],
        summary="Ask again for my closed case that was not fixed (within the period)",
        request=ReopenSerializer,
        responses={201: PUBLIC_CASE, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        citizen = _citizen(request)
        body = _valid(ReopenSerializer, request)
        new = citizens.do_reopen_case(citizens.CITIZENS, citizen, number, reason=body["reason"])
        fresh = Case.objects.select_related("category", "department").get(pk=new.pk)
        return Response(public_json(publication.gather([fresh], True)[0]), status=201)


@public
class HideNameView(APIView):
    authentication_classes: list = []
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="public_my_case_hide_name",
        tags=[TAG],
        summary="Hide (or show) my name on my case",
        request=HideNameSerializer,
        responses={200: HideNameSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        citizen = _citizen(request)
        body = _valid(HideNameSerializer, request)
        case = citizens.do_hide_name(citizens.CITIZENS, citizen, number, hidden=body["hidden"])
        return Response({"hidden": case.reporter_private})
