"""Tile endpoints: vector tiles (MVT), raster tiles (PNG), TileJSON and MapLibre styles.

Tiles are binary, so the tile views are plain Django views; TileJSON and styles are DRF views
documented in the OpenAPI document. An empty tile is answered `204 No Content` (MapLibre draws
nothing for it), with the same ETag and Cache-Control as a full one.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from spatial.models import Layer
from tiles import cache, raster, service, styles, tilejson
from core import params
from core.access import public
from accounts.scoping import scope_for
from core.errors import BadInput, NotFound

MVT_TYPE = "application/vnd.mapbox-vector-tile"


def _ints(z: str, x: str, y: str) -> tuple[int, int, int]:
    """Gives the tile address of the path; `service.check_address` checks x and y at z."""
    path = {"z": z, "x": x, "y": y}
    zoom = params.zoom(path, "z", whole=True, max_zoom=settings.TILES_MAX_ZOOM)
    return int(zoom), params.integer(path, "x"), params.integer(path, "y")


def _cache_headers(response: HttpResponse, etag: str, private: bool) -> HttpResponse:
    response["ETag"] = f'"{etag}"'
    age = settings.TILES_MAX_AGE
    response["Cache-Control"] = f"{'private' if private else 'public'}, max-age={age}"
    if private:
        response["Vary"] = "Authorization, Cookie"
    return response


def _tile_response(data: bytes | None, content_type: str, etag: str, private: bool):
    if data is None:
        response = HttpResponse(status=304)
    elif not data:
        response = HttpResponse(status=204)
    else:
        response = HttpResponse(data, content_type=content_type)
    return _cache_headers(response, etag, private)


@public
@require_safe
def vector_tile(request: HttpRequest, layers: str, z: str, x: str, y: str) -> HttpResponse:
    """Gives the MVT of one layer or of a comma list of layers at z/x/y (204 when empty).

    Query parameters are the filters the layers declare (e.g. `?status=damaged&major=01`).
    """
    zi, xi, yi = _ints(z, x, y)
    query = {k: request.GET.getlist(k) for k in request.GET}
    etag, data, items = service.vector_tile(
        layers, zi, xi, yi, query, lambda: scope_for(request), request.headers.get("If-None-Match")
    )
    private = not all(item.layer.public for item in items)
    return _tile_response(data, MVT_TYPE, etag, private)


@public
@require_safe
def raster_tile(request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
    """Gives the PNG of a raster layer at z/x/y (204 outside the image)."""
    zi, xi, yi = _ints(z, x, y)
    service.check_address(zi, xi, yi)
    names = service.split_keys(layer)
    if len(names) != 1:
        raise BadInput("raster tiles take one layer", field="layers")
    found, scope = service.resolve_lazily(
        names, lambda: scope_for(request), kinds=(Layer.Kind.RASTER,)
    )
    item = found[0]
    if request.GET:
        raise BadInput(f"unknown parameter {next(iter(request.GET))!r}", field="query")
    etag = service.tile_etag([item], scope, zi, xi, yi, "png", {})
    private = not item.layer.public
    if etag in (request.headers.get("If-None-Match") or ""):
        return _tile_response(None, "image/png", etag, private)
    if not item.layer.min_zoom <= zi <= item.layer.max_zoom:
        return _tile_response(b"", "image/png", etag, private)
    data = cache.get(etag)
    if data is None:
        if not item.layer.raster_path:
            raise NotFound(f"layer {item.name} has no raster file", field="layers")
        data = raster.png_tile(item.layer.raster_path, zi, xi, yi)
        cache.put(etag, data)
    return _tile_response(data, "image/png", etag, private)


TILEJSON = inline_serializer(
    "TileJSON",
    {
        "tilejson": serializers.CharField(),
        "name": serializers.CharField(),
        "tiles": serializers.ListField(child=serializers.URLField()),
        "minzoom": serializers.IntegerField(),
        "maxzoom": serializers.IntegerField(),
        "bounds": serializers.ListField(child=serializers.FloatField()),
        "center": serializers.ListField(child=serializers.FloatField()),
        "vector_layers": serializers.ListField(child=serializers.DictField()),
    },
)


@public
class TileJsonView(APIView):
    """TileJSON 3.0.0 of a layer or a comma list of layers."""

    @extend_schema(
        operation_id="tilejson",
        summary="TileJSON 3.0.0 of one layer or a comma list of layers",
        parameters=[
            OpenApiParameter(
                "layers",
                service.KEYS_SCHEMA,
                OpenApiParameter.PATH,
                description=f"1..{service.MAX_LAYERS} layer keys, a,b, none twice",
            )
        ],
        responses={200: TILEJSON},
        tags=["tiles"],
    )
    def get(self, request, layers: str):
        scope = scope_for(request)
        items = service.resolve(service.split_keys(layers), scope)
        kinds = {item.layer.kind == Layer.Kind.RASTER for item in items}
        if len(kinds) > 1 or (True in kinds and len(items) > 1):
            raise BadInput("a raster layer has a TileJSON of its own", field="layers")
        base = request.build_absolute_uri("/")[:-1]
        return Response(tilejson.document(items, layers, base))


STYLE = inline_serializer(
    "MapLibreStyle",
    {
        "version": serializers.IntegerField(),
        "name": serializers.CharField(),
        "sources": serializers.DictField(),
        "layers": serializers.ListField(child=serializers.DictField()),
    },
)


@public
class StyleView(APIView):
    """A MapLibre style v8 of a theme, dark or light, with the caller's readable layers."""

    @extend_schema(
        operation_id="map_style",
        summary="MapLibre style v8 of a theme (专题); `base` or `all` for every readable layer",
        parameters=[
            OpenApiParameter("theme", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter("variant", OpenApiTypes.STR, enum=["dark", "light"]),
        ],
        responses={200: STYLE},
        tags=["tiles"],
    )
    def get(self, request, theme: str):
        variant = params.choice(request.query_params, "variant", styles.VARIANTS, "light")
        base = request.build_absolute_uri("/")[:-1]
        return Response(styles.style(theme, variant, scope_for(request), base))


PBF_TYPE = "application/x-protobuf"


@public
@require_safe
def glyphs(request: HttpRequest, fontstack: str, codes: str) -> HttpResponse:
    """Gives a glyph PBF of a font stack for MapLibre labels (`/fonts/{stack}/0-255.pbf`).

    404 for a font that is not served, 400 for a range that is not 256-aligned; made from the
    local font once and kept on disk, so the browser may keep it long (`GLYPHS_MAX_AGE`).
    """
    from tiles import glyphs as glyph_ranges

    data, etag = glyph_ranges.glyph_range(fontstack, codes)
    if f'"{etag}"' in (request.headers.get("If-None-Match") or ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type=PBF_TYPE)
    response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = f"public, max-age={settings.GLYPHS_MAX_AGE}"
    return response
