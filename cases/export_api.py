"""Excel export of the case list: GET /api/v1/cases/export.xlsx and the job's file.

Thin: the list's filters are parsed by `CaseFilter.from_query`, the rows are
`queries.case_list` (the caller's cases), the file is written by `cases.export`.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import client_ip
from core import params
from core.context import Origin, origin
from core.errors import Conflict, ErrorSerializer, NotFound
from core.jobs import describe_job, get_job
from core.models import Job
from spatial.layers.api import FileFormatNegotiation
from spatial.layers.serializers import JobProgressSerializer

from . import actions, export, queries
from .api import LIST_PARAMETERS, TAG, reader

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}
XLSX = (200, export.CONTENT_TYPE)


class ExportJobSerializer(JobProgressSerializer):
    status_url = serializers.CharField(help_text="the job's progress")
    result_url = serializers.CharField(allow_null=True, help_text="the file, once written")


def _job_json(job: Job) -> dict:
    done = job.state == Job.State.SUCCEEDED and bool(job.result_path)
    return {
        **describe_job(job),
        "status_url": f"/api/v1/jobs/{job.pk}",
        "result_url": f"/api/v1/cases/exports/{job.pk}" if done else None,
    }


class CaseExportView(APIView):
    """The caller's filtered case list as an Excel file, or a job for a long list."""

    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="cases_export",
        tags=[TAG],
        summary="Export the filtered case list to Excel (案件导出), with or without photos",
        description=(
            "The list's filters as query parameters. Up to 1,000 matching cases (the "
            "`CITYGRID_CASES_EXPORT_DIRECT` setting) are answered at once as an .xlsx; more "
            "answer 202 with a job: follow `status_url`, then download `result_url`. Reporter "
            "columns only for callers who see every reporter. 413 above the export limit."
        ),
        parameters=[
            *[p for p in LIST_PARAMETERS if p.name not in ("limit", "offset")],
            OpenApiParameter(
                "photos", OpenApiTypes.BOOL, description="embed report photo thumbnails"
            ),
        ],
        responses={
            XLSX: OpenApiTypes.BINARY,
            202: ExportJobSerializer,
            413: ErrorSerializer,
            **ERRORS,
        },
    )
    def get(self, request: Request):
        scope = reader(request)
        query = {k: request.query_params.get(k) for k in request.query_params}
        photos = params.boolean(query, "photos", False)
        query.pop("photos", None)
        cases = queries.case_list(scope, queries.CaseFilter.from_query(query))
        total = cases.count()
        export.check_size(total, photos)
        if total > settings.CASES_EXPORT_DIRECT:
            here = Origin(
                via="http", method="GET", path=request.path, ip=client_ip(request._request)
            )
            with origin(here):
                job = actions.do_export_cases(scope, query, photos, total=total)
            return Response(_job_json(job), status=202)
        response = HttpResponse(
            export.export_bytes(scope, cases, photos), content_type=export.CONTENT_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="{export.file_name()}"'
        response["Cache-Control"] = "private, no-store"
        return response


class CaseExportFileView(APIView):
    """The file of a finished export job (its owner only)."""

    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="cases_export_file",
        tags=[TAG],
        summary="Download the Excel file of a finished export job",
        responses={XLSX: OpenApiTypes.BINARY, 404: ErrorSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, job_id):
        return job_file(
            reader(request),
            job_id,
            kind=export.JOB_KIND,
            noun="export",
            content_type=export.CONTENT_TYPE,
            attachment=True,
            suffix="xlsx",
        )


def job_file(
    scope, job_id, *, kind: str, noun: str, content_type: str, attachment: bool, suffix: str
):
    """Gives the file of the caller's finished job `job_id` of `kind` (an export, a print):
    404 for a job that is not theirs or not of that kind, 409 while it has no file yet."""
    job = get_job(str(job_id), scope)
    if job.kind != kind:
        raise NotFound(f"no {noun} {job_id}")
    if job.state != Job.State.SUCCEEDED or not job.result_path:
        raise Conflict(f"the {noun} is {job.state}, no file yet")
    return FileResponse(
        open(job.result_path, "rb"),
        content_type=content_type,
        as_attachment=attachment,
        filename=job.params.get("file_name") or f"cases-{job.pk}.{suffix}",
    )
