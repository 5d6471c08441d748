"""Nominatim-compatible search and reverse (format=jsonv2 or json), so existing clients
(geopy, Leaflet plugins, QGIS) can use the geocoder unchanged.

Answers follow the caller's scope as `/api/v1/geocode` and `/api/v1/reverse` do: anonymous
callers find places of public layers and the address database only (no component codes).
`place_id` (and `osm_id`) name the source row: the same place has the same id in every worker.
"""

from __future__ import annotations

import hashlib

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from spatial import crs as crs_module
from core import params
from core.errors import ErrorSerializer
from core.access import public

from .api import MAX_Q_CHARS, Q_SCHEMA
from .match import Candidate, geocode
from .reverse import reverse

LICENCE = "CityGrid address database"
FORMATS = ("jsonv2", "json")
RANK = {
    "door": 30,
    "interpolated": 30,
    "building": 30,
    "component": 30,
    "organization": 30,
    "place": 26,
    "road": 26,
    "grid": 22,
    "area": 18,
}
TYPE = {
    "door": "house",
    "interpolated": "house",
    "building": "building",
    "road": "road",
    "place": "place",
    "organization": "office",
    "area": "administrative",
    "grid": "grid",
    "component": "component",
}
CATEGORY = {
    "door": "place",
    "interpolated": "place",
    "building": "building",
    "road": "highway",
    "place": "place",
    "organization": "office",
    "area": "boundary",
    "grid": "boundary",
    "component": "man_made",
}

PLACE_FIELDS = {
    "place_id": serializers.IntegerField(
        help_text="stable: primary key * 16 + source table number (15: derived place)"
    ),
    "licence": serializers.CharField(),
    "osm_type": serializers.CharField(),
    "osm_id": serializers.IntegerField(),
    "lat": serializers.CharField(),
    "lon": serializers.CharField(),
    "category": serializers.CharField(help_text="jsonv2; json calls it class"),
    "type": serializers.CharField(),
    "place_rank": serializers.IntegerField(),
    "importance": serializers.FloatField(help_text="search: the answer's confidence (0..1)"),
    "addresstype": serializers.CharField(),
    "name": serializers.CharField(),
    "display_name": serializers.CharField(),
    "address": serializers.DictField(required=False),
    "boundingbox": serializers.ListField(child=serializers.CharField()),
}


SEARCH_SCHEMA = {
    "summary": "Nominatim-compatible search",
    "parameters": [
        OpenApiParameter("q", Q_SCHEMA, required=True),
        OpenApiParameter("format", str, required=False, enum=list(FORMATS)),
        OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 40}, required=False),
        OpenApiParameter("addressdetails", int, required=False, enum=[0, 1]),
    ],
    "responses": {
        200: inline_serializer("NominatimPlaces", PLACE_FIELDS, many=True),
        400: ErrorSerializer,
    },
}
REVERSE_SCHEMA = {
    "summary": "Nominatim-compatible reverse",
    "parameters": [
        OpenApiParameter("lat", {"type": "number", "minimum": -90, "maximum": 90}, required=True),
        OpenApiParameter("lon", {"type": "number", "minimum": -180, "maximum": 180}, required=True),
        OpenApiParameter("format", str, required=False, enum=list(FORMATS)),
    ],
    "responses": {200: inline_serializer("NominatimPlace", PLACE_FIELDS), 400: ErrorSerializer},
}


def _format(request: Request) -> str:
    return params.choice(request.query_params, "format", FORMATS, "jsonv2")


def _address(parts: dict) -> dict:
    out = {
        "house_number": parts.get("number"),
        "road": parts.get("road"),
        "neighbourhood": parts.get("community"),
        "suburb": parts.get("street"),
        "city_district": parts.get("district"),
        "building": parts.get("building"),
        "country": "中国",
        "country_code": "cn",
    }
    return {k: str(v) for k, v in out.items() if v not in (None, "")}


def place_json(
    address: str,
    level: str,
    lon: float,
    lat: float,
    parts: dict,
    score: float,
    ident: int,
    fmt: str,
    details: bool,
) -> dict:
    """Gives one result in Nominatim's shape."""
    d = 0.0002
    item = {
        "place_id": ident,
        "licence": LICENCE,
        "osm_type": "node",
        "osm_id": ident,
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        ("category" if fmt == "jsonv2" else "class"): CATEGORY.get(level, "place"),
        "type": TYPE.get(level, "place"),
        "place_rank": RANK.get(level, 30),
        "importance": score,
        "addresstype": TYPE.get(level, "place"),
        "name": parts.get("name") or address,
        "display_name": address,
        "boundingbox": [f"{lat - d:.7f}", f"{lat + d:.7f}", f"{lon - d:.7f}", f"{lon + d:.7f}"],
    }
    if fmt == "json":
        item.pop("addresstype")
    if details:
        item["address"] = _address(parts)
    return item


# The table behind each kind of reference (`Candidate.ref`, `ReverseResult.ref`).
SOURCE_TABLES = {
    "door": "geocoder_dooraddress",
    "courtyard": "geocoder_dooraddress",
    "building": "geocoder_building",
    "road": "geocoder_road",
    "place": "geocoder_placename",
    "compound": "geocoder_compound",
    "organization": "geocoder_organization",
    "storefront": "geocoder_organization",
    "district": "spatial_adminarea",
    "street": "spatial_adminarea",
    "community": "spatial_adminarea",
    "grid": "spatial_unitgrid",
    "component": "spatial_component",
    "segment": "spatial_roadsegment",
}
# Each table's number, fixed once given (add new tables at the end, never renumber): the low
# four bits of a place_id. 15 marks a place derived from a row rather than the row itself.
TABLE_NUMBERS = {
    "geocoder_dooraddress": 1,
    "geocoder_building": 2,
    "geocoder_road": 3,
    "geocoder_placename": 4,
    "geocoder_compound": 5,
    "geocoder_organization": 6,
    "spatial_adminarea": 7,
    "spatial_unitgrid": 8,
    "spatial_component": 9,
    "spatial_roadsegment": 10,
}
DERIVED = 15


def place_id(kind: str, pk: int, variant: str = "") -> int:
    """Gives the place_id of row `pk` of the table behind reference kind `kind`:
    ``pk * 16 + the table's number``, the same in every process (Python's ``hash()`` is salted
    per process, so it cannot name a place). A place derived from the row (`variant`: a road's
    part in an area, an interpolated door number) gets 48 bits of a BLAKE2 digest of table, key
    and variant, times 16, plus `DERIVED`; every id stays below 2**53 (exact in JavaScript)."""
    table = SOURCE_TABLES[kind]
    if not variant:
        return pk * 16 + TABLE_NUMBERS[table]
    digest = hashlib.blake2b(f"{table}:{pk}:{variant}".encode(), digest_size=6).digest()
    return int.from_bytes(digest, "big") * 16 + DERIVED


def _ident(c: Candidate) -> int:
    if c.ref is None or c.ref[0] not in SOURCE_TABLES:
        return place_id("place", 0, f"{c.match_level}:{c.address}")
    return place_id(c.ref[0], c.ref[1], c.variant)


class JsonOnly(APIView):
    """Always JSON: Nominatim's `format=` parameter is not DRF's format suffix."""

    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        return JSONRenderer(), JSONRenderer.media_type


@public
class SearchView(JsonOnly):
    @extend_schema(operation_id="nominatim_search", **SEARCH_SCHEMA)
    def get(self, request: Request) -> Response:
        fmt = _format(request)
        query = request.query_params
        q = params.text(query, "q", max_length=MAX_Q_CHARS)
        limit = params.integer(query, "limit", 10, low=1, high=40)
        details = params.boolean(query, "addressdetails", False)
        _, cands = geocode(q, limit=limit, scope=scope_for(request))
        return Response(
            [
                place_json(
                    c.address,
                    c.match_level,
                    c.lon,
                    c.lat,
                    c.parts,
                    c.confidence,
                    _ident(c),
                    fmt,
                    details,
                )
                for c in cands
            ]
        )


@public
class ReverseNominatimView(JsonOnly):
    @extend_schema(operation_id="nominatim_reverse", **REVERSE_SCHEMA)
    def get(self, request: Request) -> Response:
        fmt = _format(request)
        given = params.point(request.query_params)
        lon, lat = crs_module.to_wgs84(given.x, given.y)
        found = reverse(lon, lat, scope=scope_for(request))
        if found.address is None:
            return Response({"error": "Unable to geocode"})
        if found.ref is not None and found.ref[0] in SOURCE_TABLES:
            ident = place_id(*found.ref)
        else:
            ident = place_id("place", 0, f"{found.match_level}:{found.address}")
        return Response(
            place_json(
                found.address,
                found.match_level or "place",
                found.lon,
                found.lat,
                found.parts,
                1.0,
                ident,
                fmt,
                True,
            )
        )


@public
class StatusView(JsonOnly):
    @extend_schema(
        operation_id="nominatim_status",
        summary="Nominatim-compatible status",
        responses={
            200: inline_serializer(
                "NominatimStatus",
                {"status": serializers.IntegerField(), "message": serializers.CharField()},
            )
        },
    )
    def get(self, request: Request) -> Response:
        return Response({"status": 0, "message": "OK"})


@public
class SearchPhpView(SearchView):
    """Legacy /search.php spelling of search."""

    @extend_schema(operation_id="nominatim_search_php", **SEARCH_SCHEMA)
    def get(self, request: Request) -> Response:
        return super().get(request)


@public
class ReversePhpView(ReverseNominatimView):
    """Legacy /reverse.php spelling of reverse."""

    @extend_schema(operation_id="nominatim_reverse_php", **REVERSE_SCHEMA)
    def get(self, request: Request) -> Response:
        return super().get(request)


search_view = SearchView.as_view()
search_php_view = SearchPhpView.as_view()
reverse_view = ReverseNominatimView.as_view()
reverse_php_view = ReversePhpView.as_view()
status_view = StatusView.as_view()
