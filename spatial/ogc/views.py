"""OGC API – Features (Part 1: core, GeoJSON) over the layer registry: landing page,
conformance, collections, items (bbox, limit, offset, datetime, property filters) and one item.

Every layer, core or managed, is a collection; the caller's scope decides which ones are listed
and which rows each returns (`Scope.layer_condition` in the SQL of `spatial.layers.features`).
Apps built on spatial add collections of their own through `spatial.ogc.collections` (cases)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.views import APIView

from spatial.layers import registry
from spatial.ogc import collections as extra_collections
from core import params
from spatial.layers.features import MAX_LIMIT, FeatureQuery, Filters, property_filters
from spatial.models import Layer
from core.access import public
from accounts.scoping import scope_for
from core.errors import BadInput, ErrorSerializer, NotFound

GEOJSON = "application/geo+json"
JSON = "application/json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# The names of CRS84 a client may give as `bbox-crs` or `crs`: the only CRS offered.
CRS84_NAMES = (CRS84, "EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4326")
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
DEFAULT_LIMIT = 10
RESERVED = {"bbox", "bbox-crs", "limit", "offset", "datetime", "f", "crs"}


def _respond(body: dict, content_type: str = JSON, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        content_type=content_type,
        status=status,
    )


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/ogc").rstrip("/")


FORMATS = ["json", "geojson", "application/json", GEOJSON]


def _check_format(request: HttpRequest) -> None:
    params.choice(request.GET, "f", FORMATS, None)


def landing(request: HttpRequest) -> HttpResponse:
    """The landing page: links to conformance, collections and the API definition."""
    _check_format(request)
    base = _base(request)
    root = request.build_absolute_uri("/").rstrip("/")
    return _respond(
        {
            "title": "CityGrid OGC API – Features",
            "description": "Every layer of the city's layer registry as a feature collection.",
            "links": [
                {"href": base, "rel": "self", "type": JSON, "title": "this document"},
                {
                    "href": f"{root}/api/v1/openapi.json",
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                    "title": "API definition",
                },
                {
                    "href": f"{root}/api/v1/docs",
                    "rel": "service-doc",
                    "type": "text/html",
                    "title": "API documentation",
                },
                {
                    "href": f"{base}/conformance",
                    "rel": "conformance",
                    "type": JSON,
                    "title": "conformance classes",
                },
                {
                    "href": f"{base}/collections",
                    "rel": "data",
                    "type": JSON,
                    "title": "collections",
                },
            ],
        }
    )


def conformance(request: HttpRequest) -> HttpResponse:
    """The conformance classes implemented."""
    _check_format(request)
    return _respond({"conformsTo": CONFORMANCE})


def _collection_body(key: str, title: str, description: str, base: str) -> dict:
    href = f"{base}/collections/{key}"
    return {
        "id": key,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            {"href": href, "rel": "self", "type": JSON, "title": title},
            {"href": f"{href}/items", "rel": "items", "type": GEOJSON, "title": "features"},
        ],
    }


def _extra_collection(found: extra_collections.Collection, base: str, scope) -> dict:
    described = found.describe(scope)
    body = _collection_body(found.key, described["title"], described["description"], base)
    if described.get("extent"):
        body["extent"] = described["extent"]
    return body


def _collection(layer: Layer, base: str, scope) -> dict:
    description = layer.description or layer.get_kind_display()
    body = _collection_body(layer.key, layer.title, description, base)
    if layer.extent and registry.sees_whole_layer(layer, scope):
        body["extent"] = {"spatial": {"bbox": [layer.extent], "crs": CRS84}}
    if layer.datetime_column:
        body.setdefault("extent", {})["temporal"] = {"interval": [[None, None]]}
    return body


def _vector_layer(key: str, scope) -> Layer:
    if extra_collections.is_registered(key):  # a registered collection's key hides a layer's
        raise NotFound(f"no feature collection {key!r}")
    layer = registry.get_layer(key, scope)
    if layer.kind == Layer.Kind.RASTER or not layer.table_name:
        raise NotFound(f"no feature collection {key!r}")
    return layer


def collections(request: HttpRequest) -> HttpResponse:
    """The collections the caller may read."""
    _check_format(request)
    scope = scope_for(request)
    base = _base(request)
    layers = [
        x
        for x in registry.list_layers(scope)
        if x.kind != Layer.Kind.RASTER
        and x.table_name
        and not extra_collections.is_registered(x.key)
    ]
    listed = [_collection(layer, base, scope) for layer in layers]
    listed += [_extra_collection(c, base, scope) for c in extra_collections.readable(scope)]
    return _respond(
        {
            "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON}],
            "collections": listed,
        }
    )


def collection(request: HttpRequest, key: str) -> HttpResponse:
    """One collection's description."""
    _check_format(request)
    scope = scope_for(request)
    found = extra_collections.find(key, scope)
    if found is not None:
        return _respond(_extra_collection(found, _base(request), scope))
    return _respond(_collection(_vector_layer(key, scope), _base(request), scope))


def items(request: HttpRequest, key: str) -> HttpResponse:
    """A page of a collection's features (GeoJSON FeatureCollection with paging links)."""
    _check_format(request)
    for name in ("bbox-crs", "crs"):
        params.choice(request.GET, name, CRS84_NAMES, None)
    scope = scope_for(request)
    found = extra_collections.find(key, scope)
    layer = _vector_layer(key, scope) if found is None else None
    # OGC API: a limit above the maximum is served at the maximum, not refused.
    limit = params.integer(request.GET, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT, clamp=True)
    offset = params.integer(request.GET, "offset", 0, low=0)
    query_values = {k: request.GET.get(k) for k in request.GET}
    if found is not None:
        _refuse_unknown(query_values, RESERVED | found.reserved())
        matched, features = found.page(scope, query_values, limit, offset)
    else:
        filters = Filters(
            bbox=params.bbox(request.GET, "bbox", None),
            # Times without an offset are UTC here, as the database session reads them.
            datetime=params.interval(request.GET, "datetime", None, naive_tz=UTC),
            properties=property_filters(layer, query_values, RESERVED),
        )
        query = FeatureQuery(layer, scope)
        matched = query.count(filters)
        features = query.features(filters, limit, offset)
    href = f"{_base(request)}/collections/{key}/items"
    kept = {k: v for k, v in query_values.items() if k not in ("offset", "limit")}

    def page(at: int) -> str:
        return f"{href}?{urlencode({**kept, 'limit': limit, 'offset': at})}"

    links = [
        {"href": page(offset), "rel": "self", "type": GEOJSON, "title": "this page"},
        {"href": f"{_base(request)}/collections/{key}", "rel": "collection", "type": JSON},
    ]
    if offset + len(features) < matched:
        links.append(
            {"href": page(offset + limit), "rel": "next", "type": GEOJSON, "title": "next page"}
        )
    if offset > 0:
        links.append(
            {
                "href": page(max(0, offset - limit)),
                "rel": "prev",
                "type": GEOJSON,
                "title": "previous page",
            }
        )
    return _respond(
        {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": links,
        },
        GEOJSON,
    )


def _refuse_unknown(query: dict, known: set[str]) -> None:
    for name in query:
        if name not in known:
            allowed = ", ".join(sorted(known - RESERVED))
            raise BadInput(f"unknown parameter {name!r}; filters: {allowed}", field=name)


def item(request: HttpRequest, key: str, fid: str) -> HttpResponse:
    """One feature by id."""
    _check_format(request)
    scope = scope_for(request)
    extra = extra_collections.find(key, scope)
    layer = _vector_layer(key, scope) if extra is None else None
    try:
        number = int(fid)
    except ValueError:
        raise NotFound(f"no feature {fid!r} in {key!r}") from None
    if extra is not None:
        feature = extra.feature(scope, number)
    else:
        found = FeatureQuery(layer, scope).features(Filters(fid=number), 1)
        feature = found[0] if found else None
    if feature is None:
        raise NotFound(f"no feature {fid!r} in {key!r}")
    href = f"{_base(request)}/collections/{key}"
    feature["links"] = [
        {"href": f"{href}/items/{number}", "rel": "self", "type": GEOJSON},
        {"href": href, "rel": "collection", "type": JSON},
    ]
    return _respond(feature, GEOJSON)


# --- DRF views: the same handlers, described in the OpenAPI document (service-desc) ----------


class _AnyAccept(DefaultContentNegotiation):
    """OGC clients ask for application/geo+json; the handlers set their own content type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _ogc_view(
    handler,
    operation_id: str,
    summary: str,
    parameters=(),
    geojson: bool = False,
    exclude: bool = False,
):
    """Gives a public DRF view class whose GET runs `handler` on the Django request."""
    media = GEOJSON if geojson else JSON

    class View(APIView):
        content_negotiation_class = _AnyAccept

        @extend_schema(
            operation_id=operation_id,
            summary=summary,
            parameters=[OpenApiParameter("f", str, required=False, enum=FORMATS), *parameters],
            responses={
                (200, media): OpenApiResponse(OpenApiTypes.OBJECT, description=media),
                400: OpenApiResponse(ErrorSerializer, description="bad parameter"),
                404: OpenApiResponse(ErrorSerializer, description="not found"),
            },
            tags=["ogcapi-features"],
            exclude=exclude,
        )
        def get(self, request, **kwargs):
            return handler(request._request, **kwargs)

    View.__name__ = View.__qualname__ = f"Ogc{operation_id.title().replace('_', '')}View"
    return public(View)


# `core.params.interval` as a pattern: RFC 3339 instants (the time of day, seconds and offset
# optional), or start/end with `..` or nothing for an open end. Impossible days (02-30) and a
# start after the end pass the pattern and are refused (400).
_INSTANT = (
    r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"([Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.,][0-9]+)?)?([Zz]|[+ -][01][0-9]:?[0-5][0-9])?)?"
)
DATETIME_PATTERN = f"^({_INSTANT}|({_INSTANT}|\\.\\.)?/({_INSTANT}|\\.\\.)?)$"

ITEM_PARAMETERS = [
    OpenApiParameter(
        "bbox",
        {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
        required=False,
        style="form",
        explode=False,
        description="minlon,minlat,maxlon,maxlat (or with heights, 6 numbers), CRS84: "
        "latitudes within -90..90, min ≤ max on both axes (no box across the antimeridian)",
    ),
    OpenApiParameter(
        "bbox-crs", str, required=False, enum=list(CRS84_NAMES), description="CRS84 only"
    ),
    OpenApiParameter("crs", str, required=False, enum=list(CRS84_NAMES), description="CRS84 only"),
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1},
        required=False,
        description=f"default 10; a limit above {MAX_LIMIT} is served at {MAX_LIMIT}",
    ),
    OpenApiParameter("offset", {"type": "integer", "minimum": 0}, required=False),
    OpenApiParameter(
        "datetime",
        {"type": "string", "pattern": DATETIME_PATTERN},
        required=False,
        description="RFC 3339 instant or start/end (.. for open), where the collection has time",
    ),
]
LandingView = _ogc_view(landing, "ogc_landing", "OGC API – Features landing page")
# The same landing page at /ogc/, which some clients request; documented once.
LandingSlashView = _ogc_view(landing, "ogc_landing_slash", "landing page", exclude=True)
ConformanceView = _ogc_view(conformance, "ogc_conformance", "Conformance classes")
CollectionsView = _ogc_view(collections, "ogc_collections", "Feature collections (layers)")
CollectionView = _ogc_view(collection, "ogc_collection", "One feature collection")
ItemsView = _ogc_view(
    items,
    "ogc_items",
    "Features of a collection (GeoJSON), paged; declared fields filter by ?name=value",
    ITEM_PARAMETERS,
    geojson=True,
)
ItemView = _ogc_view(item, "ogc_item", "One feature (GeoJSON)", geojson=True)
