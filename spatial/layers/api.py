"""HTTP endpoints of layer management: registry, import, jobs, export, identify, map
configuration and themes. Thin: parse, check the caller's scope, call a service, render."""

from __future__ import annotations

import shutil

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import params
from core.errors import ErrorSerializer
from core.access import public
from accounts.scoping import scope_for
from core.errors import BadInput, TooLarge
from core.jobs import describe_job, get_job

from spatial import actions
from spatial import crs as crs_module
from spatial.models import Layer

from . import export as export_service
from . import identify as identify_service
from . import files, mapconfig, registry
from .importer import ImportOptions
from .serializers import (
    IdentifySerializer,
    ImportAcceptedSerializer,
    JobProgressSerializer,
    LayerImportSerializer,
    LayerListSerializer,
    LayerPatchSerializer,
    LayerSerializer,
    MapConfigSerializer,
    RefreshSerializer,
    ThemeEditSerializer,
    ThemeListSerializer,
    ThemeSerializer,
)

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
LAYER_KINDS = list(Layer.Kind.values)
# `layers=a,b`: at least one key (a text with something besides commas and spaces), no NUL.
LAYER_LIST_SCHEMA = {"type": "string", "pattern": "^[^\\u0000]*[^\\s,\\u0000][^\\u0000]*$"}


def _body(request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise BadInput("the body must be a JSON object")
    return dict(request.data)


@public
class LayerListView(APIView):
    """The layers the caller may read (public layers for anonymous callers)."""

    @extend_schema(
        operation_id="layers_list",
        summary="List layers (图层列表), scoped to the caller",
        parameters=[
            OpenApiParameter("kind", str, required=False, enum=LAYER_KINDS),
            OpenApiParameter("group", str, required=False),
        ],
        responses={200: LayerListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        query = request.query_params
        layers = registry.list_layers(
            scope,
            params.choice(query, "kind", LAYER_KINDS, None),
            params.text(query, "group", None),
        )
        return Response({"layers": [registry.describe(layer, scope) for layer in layers]})


@public
class LayerDetailView(APIView):
    """One layer: read (scoped), edit its presentation, delete a managed layer."""

    @extend_schema(
        operation_id="layers_read",
        summary="Describe a layer",
        responses={200: LayerSerializer, **ERRORS},
    )
    def get(self, request: Request, key: str) -> Response:
        scope = scope_for(request)
        return Response(registry.describe(registry.get_layer(key, scope), scope))

    @extend_schema(
        operation_id="layers_edit",
        summary="Edit a layer: title, field aliases and visibility, group, zooms, public, style",
        request=LayerPatchSerializer,
        responses={200: LayerSerializer, **ERRORS},
    )
    def patch(self, request: Request, key: str) -> Response:
        scope = scope_for(request)
        actions.do_edit_layer.require(scope)
        layer = registry.get_layer(key, scope)
        edited = actions.do_edit_layer(scope, layer, _body(request))
        return Response(registry.describe(edited, scope))

    @extend_schema(
        operation_id="layers_delete",
        summary="Delete a managed layer and its table",
        responses={204: None, **ERRORS, 409: ErrorSerializer},
    )
    def delete(self, request: Request, key: str) -> Response:
        scope = scope_for(request)
        actions.do_delete_layer.require(scope)
        actions.do_delete_layer(scope, registry.get_layer(key, scope))
        return Response(status=204)


class LayerRefreshView(APIView):
    """Recomputes a layer's extent and feature count from its table."""

    @extend_schema(
        operation_id="layers_refresh",
        request=None,
        summary="Refresh extent and count of a layer ('all' for every layer)",
        responses={200: RefreshSerializer, **ERRORS},
    )
    def post(self, request: Request, key: str) -> Response:
        scope = scope_for(request)
        actions.do_refresh_layer.require(scope)
        layers = registry.list_layers(scope) if key == "all" else [registry.get_layer(key, scope)]
        refreshed = [actions.do_refresh_layer(scope, layer) for layer in layers]
        return Response({"layers": [registry.describe(layer, scope) for layer in refreshed]})


class LayerImportView(APIView):
    """Starts an import job for an uploaded vector file (GIS admins)."""

    parser_classes = [MultiPartParser]

    def initial(self, request, *args, **kwargs):
        files.ensure_spool_dir()  # before anything parses the multipart body
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="layers_import",
        summary="Import a vector file as a managed layer or into core geography",
        request={"multipart/form-data": LayerImportSerializer},
        responses={202: ImportAcceptedSerializer, 413: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_import_layer.require(scope)
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.MAX_UPLOAD_BYTES + 64 * 1024:
            raise TooLarge(
                f"upload is larger than the limit of {settings.MAX_UPLOAD_BYTES} bytes",
                field="file",
            )
        form = LayerImportSerializer(data=request.data)
        if not form.is_valid():
            name, problems = next(iter(form.errors.items()))
            raise BadInput(f"{name}: {problems[0]}", field=name)
        data = form.validated_data
        upload = data.pop("file")
        options = ImportOptions(
            target=data.pop("target", "managed"),
            mapping=data.pop("map", "") or {},
            **{k: v for k, v in data.items() if v is not None},
        )
        job = actions.do_import_layer(scope, upload, upload.name, options)
        return Response({"job": describe_job(job), "url": f"/api/v1/jobs/{job.pk}"}, status=202)


class JobView(APIView):
    """A background job's state, progress, errors and report (owner or system admin)."""

    @extend_schema(
        operation_id="jobs_read",
        summary="Read a job's progress and report",
        responses={200: JobProgressSerializer, **ERRORS},
    )
    def get(self, request: Request, job_id: str) -> Response:
        return Response(describe_job(get_job(job_id, scope_for(request))))


class FileFormatNegotiation(DefaultContentNegotiation):
    """Leaves `?format=` to the view (it names the export file format, not a DRF renderer)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class LayerExportView(APIView):
    """A layer as GeoJSON, GeoPackage or zipped Shapefile, in a chosen CRS (scoped rows)."""

    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="layers_export",
        summary="Export a layer (only the rows the caller may see)",
        parameters=[
            OpenApiParameter("format", str, enum=list(export_service.FORMATS), required=False),
            OpenApiParameter(
                "crs",
                crs_module.CRS_PARAMETER_SCHEMA,
                required=False,
                description=f"one of {crs_module.ACCEPTED}",
            ),
        ],
        responses={
            **{
                (200, content_type): OpenApiResponse(
                    OpenApiTypes.OBJECT if content_type.endswith("json") else OpenApiTypes.BINARY,
                    description=f"the file ({fmt})",
                )
                for fmt, (_, _, content_type) in export_service.FORMATS.items()
            },
            **ERRORS,
        },
    )
    def get(self, request: Request, key: str):
        scope = scope_for(request)
        scope.require_signed_in()
        layer = registry.get_layer(key, scope)
        path, name, content_type = export_service.export_layer(
            layer,
            scope,
            params.text(request.query_params, "format", "geojson"),
            params.text(request.query_params, "crs", None),
        )
        handle = open(path, "rb")
        shutil.rmtree(path.parent, ignore_errors=True)  # the open handle keeps the data
        return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)


@public
class IdentifyView(APIView):
    """Features of the chosen layers at a map click, nearest first (图层查询)."""

    @extend_schema(
        operation_id="identify",
        summary="Identify features at a map click (spec 5.1.6.5)",
        parameters=[
            OpenApiParameter("lon", float, required=True),
            OpenApiParameter("lat", float, required=True),
            OpenApiParameter(
                "crs",
                crs_module.CRS_PARAMETER_SCHEMA,
                required=False,
                description=f"crs of lon/lat: one of {crs_module.ACCEPTED}",
            ),
            OpenApiParameter(
                "layers",
                LAYER_LIST_SCHEMA,
                required=True,
                description=f"layer keys, a,b (at most {identify_service.MAX_LAYERS})",
            ),
            OpenApiParameter(
                "tolerance_px",
                {"type": "number", "minimum": 0, "maximum": 100},
                required=False,
                description="default 5",
            ),
            OpenApiParameter(
                "zoom",
                {"type": "number", "minimum": 0, "maximum": 24},
                required=False,
                description="default 16",
            ),
        ],
        responses={200: IdentifySerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        from spatial import crs as crs_module

        query = request.query_params
        given = params.point(query)
        lon, lat = crs_module.to_wgs84(given.x, given.y, given.crs)
        config = mapconfig.default_config()
        result = identify_service.identify(
            scope_for(request),
            lon,
            lat,
            params.names(query, "layers", []),
            params.number(query, "tolerance_px", 5.0, low=0, high=100),
            params.zoom(query, "zoom", 16.0),
            config.tile_size,
        )
        return Response(result)


@public
class MapConfigView(APIView):
    """The map configuration the web map reads (地图配置)."""

    @extend_schema(
        operation_id="mapconfig_read",
        summary="Read the map configuration",
        responses={200: MapConfigSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(mapconfig.describe_config(mapconfig.default_config()))

    @extend_schema(
        operation_id="mapconfig_write",
        summary="Change the map configuration",
        request=MapConfigSerializer,
        responses={200: MapConfigSerializer, **ERRORS},
    )
    def put(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_set_map_config.require(scope)
        changes = {
            k: v for k, v in _body(request).items() if k not in ("name", "purposes", "updated_at")
        }
        return Response(mapconfig.describe_config(actions.do_set_map_config(scope, changes)))


@public
class ThemeListView(APIView):
    """Themes (专题): named, ordered sets of layers."""

    @extend_schema(
        operation_id="themes_list",
        summary="List themes",
        responses={200: ThemeListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        return Response(
            {"themes": [mapconfig.describe_theme(t, scope) for t in mapconfig.list_themes()]}
        )

    @extend_schema(
        operation_id="themes_create",
        summary="Create a theme",
        request=ThemeSerializer,
        responses={201: ThemeSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_save_theme.require(scope)
        theme = actions.do_save_theme(scope, _body(request))
        return Response(mapconfig.describe_theme(theme, scope), status=201)


@public
class ThemeDetailView(APIView):
    @extend_schema(
        operation_id="themes_read",
        summary="Read a theme",
        responses={200: ThemeSerializer, **ERRORS},
    )
    def get(self, request: Request, key: str) -> Response:
        return Response(mapconfig.describe_theme(mapconfig.get_theme(key), scope_for(request)))

    @extend_schema(
        operation_id="themes_edit",
        summary="Edit a theme (layers replace the list)",
        request=ThemeEditSerializer,
        responses={200: ThemeSerializer, **ERRORS},
    )
    def patch(self, request: Request, key: str) -> Response:
        scope = scope_for(request)
        actions.do_save_theme.require(scope)
        theme = actions.do_save_theme(scope, _body(request), mapconfig.get_theme(key))
        return Response(mapconfig.describe_theme(theme, scope))

    @extend_schema(
        operation_id="themes_delete", summary="Delete a theme", responses={204: None, **ERRORS}
    )
    def delete(self, request: Request, key: str) -> Response:
        scope = scope_for(request)
        actions.do_delete_theme.require(scope)
        actions.do_delete_theme(scope, mapconfig.get_theme(key))
        return Response(status=204)
