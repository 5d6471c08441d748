"""HTTP endpoints of the address sources (地址数据源): list, load (a job), delete. Thin: parse,
check the caller's scope, call an action, render."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer, TooLarge
from core.jobs import describe_job
from spatial.layers import files
from spatial.layers.serializers import JobProgressSerializer

from . import actions
from .models import AddressSource
from .sources import jobs as source_jobs
from .sources.jobs import EXTENT_CHECKS, KINDS, LoadOptions

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


class RefusalSerializer(serializers.Serializer):
    row = serializers.CharField(help_text="file row (1-based), or OSM layer:id")
    reason = serializers.CharField()


class SourceSerializer(serializers.Serializer):
    source = serializers.CharField()
    kind = serializers.ChoiceField(choices=list(KINDS))
    version = serializers.IntegerField()
    file_name = serializers.CharField()
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="rows loaded per table: roads doors compounds organizations places buildings",
    )
    loaded = serializers.IntegerField()
    refused = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="features that are no address (unnamed ways)")
    refusals = RefusalSerializer(many=True, help_text="a sample of the refused rows")
    loaded_at = serializers.DateTimeField(allow_null=True)
    loaded_by = serializers.CharField()


class SourceListSerializer(serializers.Serializer):
    sources = SourceSerializer(many=True)


class SourceLoadSerializer(serializers.Serializer):
    file = serializers.FileField()
    source = serializers.CharField(required=False, max_length=64, help_text="default: file name")
    kind = serializers.ChoiceField(choices=list(KINDS), required=False)
    map = serializers.CharField(required=False, help_text="路名=ROAD,门牌号=NO,...")
    crs = serializers.CharField(required=False, help_text="EPSG:4548, gcj02, bd09, ...")
    layer = serializers.CharField(required=False)
    format = serializers.CharField(required=False)
    x = serializers.CharField(required=False)
    y = serializers.CharField(required=False)
    wkt = serializers.CharField(required=False)
    extent_check = serializers.ChoiceField(choices=list(EXTENT_CHECKS), required=False)


class SourceAcceptedSerializer(serializers.Serializer):
    job = JobProgressSerializer()
    url = serializers.CharField()


def _require_reader(scope) -> None:
    """Address sources are listed to those who load them (layers.import) and system admins."""
    scope.require(perms.LAYERS_IMPORT)


class SourceListView(APIView):
    """The address sources, and loading one from a file."""

    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request, *args, **kwargs):
        files.ensure_spool_dir()  # before anything parses the multipart body
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="geocoder_sources_list",
        summary="List address sources (地址数据源) with counts and refused rows",
        responses={200: SourceListSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        _require_reader(scope)
        sources = AddressSource.objects.order_by("name")
        return Response({"sources": [source_jobs.describe(s) for s in sources]})

    @extend_schema(
        operation_id="geocoder_sources_load",
        summary="Load an address source from a vector file or OSM extract (a background job); "
        "a source loaded again is replaced in one transaction",
        request={"multipart/form-data": SourceLoadSerializer},
        responses={202: SourceAcceptedSerializer, 413: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_load_addresses.require(scope)
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.MAX_UPLOAD_BYTES + 64 * 1024:
            raise TooLarge(
                f"upload is larger than the limit of {settings.MAX_UPLOAD_BYTES} bytes",
                field="file",
            )
        form = SourceLoadSerializer(data=request.data)
        if not form.is_valid():
            raise BadInput.from_serializer_errors(form.errors)
        data = dict(form.validated_data)
        upload = data.pop("file")
        options = LoadOptions(mapping=data.pop("map", ""), **data)
        job = actions.do_load_addresses(scope, upload, upload.name, options)
        return Response({"job": describe_job(job), "url": f"/api/v1/jobs/{job.pk}"}, status=202)


class SourceDetailView(APIView):
    """One address source: read it, or delete it with every address it loaded."""

    @extend_schema(
        operation_id="geocoder_sources_read",
        summary="Describe an address source",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH)],
        responses={200: SourceSerializer, **ERRORS},
    )
    def get(self, request: Request, name: str) -> Response:
        scope = scope_for(request)
        _require_reader(scope)
        return Response(source_jobs.describe(_source(name)))

    @extend_schema(
        operation_id="geocoder_sources_delete",
        summary="Delete an address source and every address it loaded",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH)],
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, name: str) -> Response:
        scope = scope_for(request)
        actions.do_delete_address_source.require(scope)
        actions.do_delete_address_source(scope, _source(name))
        return Response(status=204)


def _source(name: str) -> AddressSource:
    return source_jobs.get_source(params.text({"name": name}, "name", max_length=64))
