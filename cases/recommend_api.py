"""HTTP endpoint of the category recommendation (事项分类推荐, spec 5.2.7): ``GET
/api/v1/cases/recommend?text=&kind=&lon=&lat=&crs=&limit=``. Thin: parse, call
`cases.recommend`, render. It imports no scikit-learn: the model loads on the first call."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from core import params
from core.errors import BadInput, ErrorSerializer, Forbidden, ServiceUnavailable
from data.models import Category
from spatial import crs as crs_module
from spatial.locate import locate

from . import recommend
from .api import reader

TAG = "cases"
MAX_TEXT = 4000  # as a case's description
_ASKING = (perms.CASES_REPORT, perms.CASES_ACCEPT)


def area_codes(query) -> list[str]:
    """Gives the district, street and community codes of the query's optional point (``lon``,
    ``lat`` in ``crs``); none without one."""
    if query.get("lon") is None and query.get("lat") is None:
        return []
    point = params.point(query)
    lon, lat = crs_module.to_wgs84(point.x, point.y, crs_module.parse_crs(point.crs or 4326))
    placement = locate(lon, lat)
    return [a.code for a in (placement.district, placement.street, placement.community) if a]


class RecommendView(APIView):
    @extend_schema(
        operation_id="cases_recommend",
        tags=[TAG],
        summary="The likeliest minor classes of a description, with the manual's departments",
        description=(
            "For reporters and acceptors (`cases.report` or `cases.accept`; 403 otherwise): "
            "the classifier trained on the case history (`cases.recommend`) reads `text` and "
            "gives the `limit` (default 3) likeliest minor classes, most likely first, with "
            "the model's probability (over all classes: they sum to at most 1) and the "
            "department the responsibility manual names for the class — at the point when "
            "`lon`/`lat` are given (the manual can differ by area), else citywide. 503 before "
            "a model has been trained."
        ),
        parameters=[
            OpenApiParameter("text", OpenApiTypes.STR, required=True, description="描述"),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Category.Kind.values),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1–10, default 3"),
            OpenApiParameter("lon", OpenApiTypes.NUMBER),
            OpenApiParameter("lat", OpenApiTypes.NUMBER),
            OpenApiParameter("crs", OpenApiTypes.STR, description="default EPSG:4326"),
        ],
        responses={
            200: inline_serializer(
                "CategoryRecommendations",
                {
                    "recommendations": inline_serializer(
                        "CategoryRecommendation",
                        {
                            "kind": serializers.ChoiceField(choices=Category.Kind.choices),
                            "code": serializers.CharField(help_text="the minor class, 4 digits"),
                            "name": serializers.CharField(),
                            "probability": serializers.FloatField(),
                            "department": inline_serializer(
                                "RecommendedDepartment",
                                {"code": serializers.CharField(), "name": serializers.CharField()},
                                allow_null=True,
                                help_text="the manual's; null when it names none",
                            ),
                        },
                        many=True,
                    ),
                    "model_version": serializers.IntegerField(),
                },
            ),
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            503: ErrorSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        if not scope.sees_everything and not any(scope.has_perm(p) for p in _ASKING):
            raise Forbidden("recommendations are for reporters and acceptors")
        query = request.query_params
        text = params.text(query, "text", max_length=MAX_TEXT)
        if not text.strip():
            raise BadInput("text is empty", field="text")
        kind = params.choice(query, "kind", Category.Kind.values, None)
        limit = params.integer(query, "limit", 3, low=1, high=10)
        codes = area_codes(query)
        loaded = recommend.model()
        if loaded is None:
            raise ServiceUnavailable("no recommendation model yet: run manage.py train_recommend")
        return Response(
            {
                "recommendations": recommend.recommend(text, kind, limit, codes),
                "model_version": recommend.version_of(loaded.path),
            }
        )
