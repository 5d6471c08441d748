"""Printing to PDF (打印): GET /api/v1/cases/{id}/print.pdf, /api/v1/cases/print.pdf and the
file of a print job.

Thin: a sheet reads the case through `visibility.get_visible` (404 for a case the caller does
not see), a list through `queries.case_list` with the list's filters; the PDF is written by
`cases.printing`.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import client_ip
from core import params
from core.context import Origin, origin
from core.errors import ErrorSerializer
from core.jobs import describe_job
from core.models import Job
from spatial.layers.api import FileFormatNegotiation

from . import actions, printing, queries, visibility
from .api import LIST_PARAMETERS, TAG, reader
from .export_api import ExportJobSerializer, job_file
from .models import Case

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}
PDF = (200, printing.CONTENT_TYPE)


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=printing.CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _job_json(job: Job) -> dict:
    done = job.state == Job.State.SUCCEEDED and bool(job.result_path)
    return {
        **describe_job(job),
        "status_url": f"/api/v1/jobs/{job.pk}",
        "result_url": f"/api/v1/cases/prints/{job.pk}" if done else None,
    }


class CasePrintView(APIView):
    """One case as a printed case sheet (案件处理单)."""

    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="cases_print",
        tags=[TAG],
        summary="Print a case to PDF (打印): the case sheet, with or without its history",
        description=(
            "An A4 case sheet: task number, source, class, description, placement, address, "
            "deadlines, department, photos before and after handling as thumbnails and, with "
            "`history=1`, the history (办理经过) as a table of events with times, people and "
            "opinions. The reporter's name and phone only for callers who see them in "
            "`GET /cases/{id}`. 404 for a case the caller does not see."
        ),
        parameters=[
            OpenApiParameter("history", OpenApiTypes.BOOL, description="add the history table")
        ],
        responses={PDF: OpenApiTypes.BINARY, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int):
        scope = reader(request)
        history = params.boolean(request.query_params, "history", False)
        visible = visibility.get_visible(scope, case_id)
        case = Case.objects.select_related("category__parent", "department").get(pk=visible.pk)
        content = printing.case_sheet(scope, case, history)
        return _pdf(content, f"case-{case.number}.pdf")


class CaseListPrintView(APIView):
    """The caller's filtered case list as a printed table, or a job for a long list."""

    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="cases_print_list",
        tags=[TAG],
        summary="Print the filtered case list to PDF (打印)",
        description=(
            "The list's filters as query parameters; an A4 landscape table of the matching "
            "cases with the filters in words (no reporter columns). Up to 100 cases (the "
            "`CITYGRID_CASES_PRINT_DIRECT` setting) are answered at once; more answer 202 with "
            "a job: follow `status_url`, then download `result_url`. 413 above "
            "`CITYGRID_CASES_PRINT_MAX` (2,000) cases."
        ),
        parameters=[p for p in LIST_PARAMETERS if p.name not in ("limit", "offset")],
        responses={
            PDF: OpenApiTypes.BINARY,
            202: ExportJobSerializer,
            413: ErrorSerializer,
            **ERRORS,
        },
    )
    def get(self, request: Request):
        scope = reader(request)
        query = {k: request.query_params.get(k) for k in request.query_params}
        chosen = queries.CaseFilter.from_query(query)
        cases = queries.case_list(scope, chosen)
        total = cases.count()
        printing.check_size(total)
        if total > settings.CASES_PRINT_DIRECT:
            here = Origin(
                via="http", method="GET", path=request.path, ip=client_ip(request._request)
            )
            with origin(here):
                job = actions.do_print_cases(scope, query, total=total)
            return Response(_job_json(job), status=202)
        content = printing.case_list_pdf(scope, chosen, cases, total)
        return _pdf(content, printing.file_name("cases"))


class CasePrintFileView(APIView):
    """The PDF of a finished print job (its owner only)."""

    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="cases_print_file",
        tags=[TAG],
        summary="Download the PDF of a finished print job",
        responses={PDF: OpenApiTypes.BINARY, 404: ErrorSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, job_id):
        return job_file(
            reader(request),
            job_id,
            kind=printing.JOB_KIND,
            noun="print",
            content_type=printing.CONTENT_TYPE,
            attachment=False,
            suffix="pdf",
        )
