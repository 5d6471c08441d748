"""The work statistics API (网格员工作情况) under /api/v1/evaluation: thin views over
`evaluation.work`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer, NotFound, TooLarge

from cases import api as cases_api
from cases.export_api import job_file
from cases.models import Case
from core.jobs import describe_job
from core.models import Job
from spatial.layers.api import FileFormatNegotiation

from . import definitions, indicators, reports, scores, sheets, work

TAG = "evaluation"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
MAX_DAYS = 366
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DAY = dt.timedelta(days=1)


def period(query) -> tuple[dt.datetime, dt.datetime]:
    """Gives [start, end) from ``from`` and ``to``: RFC 3339 instants, or dates (``to`` a date
    includes that day); default today (local)."""
    today = dt.datetime.combine(timezone.localdate(), dt.time(), timezone.get_default_timezone())
    start = params.instant(query, "from", None) or today
    end = params.instant(query, "to", None)
    if end is None:
        end = start + DAY if "from" in query and DATE_ONLY.match(query["from"]) else today + DAY
    elif DATE_ONLY.match(query["to"]):
        end += DAY
    if end <= start:
        raise BadInput("from must be before to", field="from")
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise BadInput(f"at most {MAX_DAYS} days at a time", field="from")
    return start, end


WORK_ITEM = inline_serializer(
    "InspectorWork",
    {
        "person": drf.IntegerField(),
        "name": drf.CharField(),
        "trackers": drf.ListField(child=drf.IntegerField()),
        "reports": drf.IntegerField(help_text="cases reported (上报案件)"),
        "verifications": drf.IntegerField(help_text="verification tasks done (核实)"),
        "checks": drf.IntegerField(help_text="check tasks done (核查)"),
        "supplements": drf.IntegerField(help_text="supplementary collections done (补采)"),
        "self_handled": drf.IntegerField(help_text="reports fixed on the spot (自行处置)"),
        "self_handled_archived": drf.IntegerField(help_text="of which archived as fixed"),
        "stays": drf.IntegerField(help_text="long-stay alarms (滞留), justified left out"),
        "signal_lost": drf.IntegerField(help_text="signal-lost alarms (信号异常)"),
        "out_of_grid": drf.IntegerField(help_text="out-of-grid alarms (超出区域)"),
        "checkpoints": drf.IntegerField(help_text="patrol checkpoint visits (巡更打卡)"),
        "checkpoints_missed": drf.IntegerField(help_text="missed-checkpoint alarms"),
        "online_s": drf.IntegerField(help_text="seconds online (fix intervals under signal lost)"),
        "in_grid_s": drf.IntegerField(help_text="of which in the responsibility grids"),
        "attendance": inline_serializer(
            "InspectorAttendance",
            {
                "duties": drf.IntegerField(),
                "clocked_in": drf.IntegerField(),
                "anomalies": drf.IntegerField(help_text="not excused"),
                "excused": drf.IntegerField(help_text="with an accepted explanation"),
            },
        ),
    },
)
PERIOD = [
    OpenApiParameter("from", OpenApiTypes.DATETIME, required=False, description="today 00:00"),
    OpenApiParameter("to", OpenApiTypes.DATETIME, required=False, description="a date: its end"),
]


def _answer(start, end, found) -> dict:
    return {
        "from": timezone.localtime(start).isoformat(),
        "to": timezone.localtime(end).isoformat(),
        "inspectors": [w.as_json() for w in found],
    }


class InspectorsWorkView(APIView):
    @extend_schema(
        operation_id="evaluation_inspectors_work",
        summary="Work statistics of every inspector the caller sees, for a period",
        tags=[TAG],
        parameters=[
            *PERIOD,
            OpenApiParameter("tracker", int, required=False, description="the one carrying it"),
        ],
        responses={
            200: inline_serializer(
                "InspectorsWork",
                {"from": drf.DateTimeField(), "to": drf.DateTimeField(), "inspectors": WORK_ITEM},
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        start, end = period(request.query_params)
        tracker = params.integer(request.query_params, "tracker", None, low=1)
        return Response(_answer(start, end, work.work(scope, start, end, tracker=tracker)))


class InspectorWorkView(APIView):
    @extend_schema(
        operation_id="evaluation_inspector_work",
        summary="One inspector's work statistics (网格员工作情况) for a period",
        tags=[TAG],
        parameters=PERIOD,
        responses={200: WORK_ITEM, **ERRORS},
    )
    def get(self, request: Request, person_id: int) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        start, end = period(request.query_params)
        found = work.work(scope, start, end, person=person_id)
        if not found:
            raise NotFound(f"no inspector {person_id}")
        return Response(_answer(start, end, found)["inspectors"][0])


# ---------------------------------------------------------------------------------------------
# Indicators (考核指标, spec 5.1.5): the tables and the cases behind each number.

SUBJECT = OpenApiParameter(
    "subject",
    str,
    required=False,
    enum=list(definitions.SUBJECTS),
    description="area (default), department, inspector, acceptor, shift_leader, dispatcher",
)
LEVEL = OpenApiParameter(
    "level",
    str,
    required=False,
    enum=list(indicators.LEVELS),
    description="areas: district, street (default), community or grid (unit grid)",
)
INDICATOR_ITEM = inline_serializer(
    "IndicatorDefinition",
    {
        "subject": drf.CharField(),
        "code": drf.CharField(),
        "name": drf.CharField(help_text="Chinese name"),
        "definition": drf.CharField(),
        "numerator": drf.CharField(help_text="a rate: its numerator's code; blank for a count"),
        "denominator": drf.CharField(),
        "lower_is_better": drf.BooleanField(),
    },
)
TABLE_ROW = inline_serializer(
    "IndicatorRow",
    {
        "key": drf.CharField(help_text="area code, department code or person id"),
        "name": drf.CharField(),
        "values": drf.DictField(
            child=drf.FloatField(allow_null=True), help_text="indicator code → count or rate"
        ),
        "score": drf.FloatField(allow_null=True, help_text="composite index (综合指标值), 0–100"),
        "grade": drf.CharField(allow_null=True, help_text="A–E"),
    },
)


def _subject(query) -> tuple[str, str]:
    subject = params.choice(query, "subject", definitions.SUBJECTS, definitions.AREA)
    level = params.choice(query, "level", list(indicators.LEVELS), "street")
    return subject, level


class IndicatorDefinitionsView(APIView):
    @extend_schema(
        operation_id="evaluation_indicator_definitions",
        summary="The indicator definitions (one table: code, name, definition, rate parts)",
        tags=[TAG],
        parameters=[SUBJECT],
        responses={
            200: inline_serializer("IndicatorDefinitions", {"indicators": INDICATOR_ITEM}),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope_for(request).require_signed_in()
        subject = params.choice(request.query_params, "subject", definitions.SUBJECTS, None)
        found = [asdict(i) for i in definitions.INDICATORS if subject in (None, i.subject)]
        return Response({"indicators": found})


class IndicatorsView(APIView):
    @extend_schema(
        operation_id="evaluation_indicators",
        summary="The indicator table of areas, departments or a position for a period",
        tags=[TAG],
        parameters=[SUBJECT, LEVEL, *PERIOD],
        responses={
            200: inline_serializer(
                "IndicatorTable",
                {
                    "subject": drf.CharField(),
                    "level": drf.CharField(),
                    "from": drf.DateTimeField(),
                    "to": drf.DateTimeField(),
                    "indicators": INDICATOR_ITEM,
                    "rows": TABLE_ROW,
                    "total": TABLE_ROW,
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require(perms.CASES_READ)
        subject, level = _subject(request.query_params)
        start, end = period(request.query_params)
        found = indicators.table(scope, subject, start, end, level)
        return Response(table_json(found))


def table_json(found: indicators.Table) -> dict:
    """The JSON of a table, each row with its composite index and grade."""
    graded = scores.grade_table(found)
    return {
        "subject": found.subject,
        "level": found.level,
        "from": timezone.localtime(found.start).isoformat(),
        "to": timezone.localtime(found.end).isoformat(),
        "indicators": [asdict(i) for i in definitions.BY_SUBJECT[found.subject].values()],
        "rows": [{**r.as_json(), **graded[r.key]} for r in found.rows],
        "total": {**found.total.as_json(), **graded[None]},
    }


INDICATOR = OpenApiParameter("indicator", str, required=True, description="an indicator code")
KEY = OpenApiParameter(
    "key", str, required=False, description="area code, department code or person id; none: all"
)
PART = OpenApiParameter(
    "part",
    str,
    required=False,
    enum=["numerator", "denominator"],
    description="a rate: the cases of its numerator (default) or denominator",
)


class IndicatorCasesView(APIView):
    @extend_schema(
        operation_id="evaluation_indicator_cases",
        summary="The cases behind one number of a table (反查), as GeoJSON for the list and map",
        tags=[TAG],
        parameters=[
            SUBJECT,
            LEVEL,
            *PERIOD,
            INDICATOR,
            KEY,
            PART,
            OpenApiParameter("limit", int, required=False, description="1–1000, default 200"),
            OpenApiParameter("offset", int, required=False),
        ],
        responses={200: cases_api.FEATURES, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require(perms.CASES_READ)
        query = request.query_params
        subject, level = _subject(query)
        code = params.choice(query, "indicator", list(definitions.BY_SUBJECT[subject]))
        key = params.text(query, "key", None, max_length=64) if "key" in query else None
        part = params.choice(query, "part", ["numerator", "denominator"], "numerator")
        limit = params.integer(query, "limit", 200, low=1, high=1000, clamp=True)
        offset = params.integer(query, "offset", 0, low=0, high=10_000_000)
        start, end = period(query)
        matched, page = indicators.cases_behind(
            scope, subject, code, start, end, level=level, key=key, part=part, limit=limit,
            offset=offset,
        )  # fmt: skip
        cases = Case.objects.filter(pk__in=page).select_related(
            "category__parent", "department", "register_condition"
        )
        by_id = {c.pk: c for c in cases}
        features = []
        for pk in page:
            properties = cases_api.render_case(scope, by_id[pk])
            lon, lat = properties.pop("lon"), properties.pop("lat")
            features.append(
                {
                    "type": "Feature",
                    "id": pk,
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": properties,
                }
            )
        return Response(
            {
                "type": "FeatureCollection",
                "features": features,
                "numberMatched": matched,
                "numberReturned": len(features),
            }
        )


class IndicatorsExportView(APIView):
    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="evaluation_indicators_export",
        summary="The indicator table as an Excel file, with its definitions",
        tags=[TAG],
        parameters=[SUBJECT, LEVEL, *PERIOD],
        responses={(200, sheets.CONTENT_TYPE): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request):
        scope = scope_for(request)
        scope.require(perms.CASES_READ)
        subject, level = _subject(request.query_params)
        start, end = period(request.query_params)
        found = indicators.table(scope, subject, start, end, level)
        response = HttpResponse(sheets.workbook_bytes([found]), content_type=sheets.CONTENT_TYPE)
        name = f"{sheets.sheet_title(found)}-{timezone.localtime(start):%Y%m%d}.xlsx"
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response


class IndicatorCasesExportView(APIView):
    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="evaluation_indicator_cases_export",
        summary="The cases behind one number as an Excel file (the case export's columns)",
        description="At most `CITYGRID_CASES_EXPORT_DIRECT` cases (default 1,000); more: 413.",
        tags=[TAG],
        parameters=[SUBJECT, LEVEL, *PERIOD, INDICATOR, KEY, PART],
        responses={(200, sheets.CONTENT_TYPE): OpenApiTypes.BINARY, 413: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request):
        from cases import export

        scope = scope_for(request)
        scope.require(perms.CASES_READ)
        query = request.query_params
        subject, level = _subject(query)
        code = params.choice(query, "indicator", list(definitions.BY_SUBJECT[subject]))
        key = params.text(query, "key", None, max_length=64) if "key" in query else None
        part = params.choice(query, "part", ["numerator", "denominator"], "numerator")
        start, end = period(query)
        most = settings.CASES_EXPORT_DIRECT
        matched, ids = indicators.cases_behind(
            scope, subject, code, start, end, level=level, key=key, part=part, limit=most
        )
        if matched > most:
            raise TooLarge(f"{matched} cases: at most {most} in a file; narrow the period or key")
        cases = (
            Case.objects.filter(pk__in=ids)
            .select_related("category__parent", "department")
            .order_by("pk")
        )
        response = HttpResponse(
            export.export_bytes(scope, cases, photos=False), content_type=sheets.CONTENT_TYPE
        )
        name = (
            f"{definitions.BY_SUBJECT[subject][code].name}-{timezone.localtime(start):%Y%m%d}.xlsx"
        )
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response


REPORT_JOB = inline_serializer(
    "EvaluationReportJob",
    {
        "id": drf.CharField(),
        "state": drf.CharField(),
        "status_url": drf.CharField(),
        "result_url": drf.CharField(allow_null=True, help_text="the workbook, once written"),
    },
)


def _report_json(job) -> dict:
    done = job.state == Job.State.SUCCEEDED and bool(job.result_path)
    return {
        **describe_job(job),
        "status_url": f"/api/v1/jobs/{job.pk}",
        "result_url": f"/api/v1/evaluation/reports/{job.pk}" if done else None,
    }


class ReportsView(APIView):
    @extend_schema(
        operation_id="evaluation_report_start",
        summary="Start the weekly, monthly or yearly report (周报/月报/年报) of the period holding a date",
        tags=[TAG],
        request=inline_serializer(
            "EvaluationReportRequest",
            {
                "kind": drf.ChoiceField(choices=list(reports.KINDS)),
                "date": drf.DateField(required=False, help_text="default: today"),
            },
        ),
        responses={202: REPORT_JOB, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require(perms.CASES_READ)
        body = request.data if isinstance(request.data, dict) else {}
        kind = body.get("kind")
        if kind not in reports.KINDS:
            raise BadInput(f"kind is one of {', '.join(reports.KINDS)}", field="kind")
        day = timezone.localdate()
        if body.get("date") not in (None, ""):
            try:
                day = dt.date.fromisoformat(str(body["date"]))
            except ValueError:
                raise BadInput("date is YYYY-MM-DD", field="date") from None
        job = reports.do_start_report(scope, kind, day)
        return Response(_report_json(job), status=202)


class ReportFileView(APIView):
    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        operation_id="evaluation_report_file",
        summary="Download the workbook of a finished report job (its owner only)",
        tags=[TAG],
        responses={(200, sheets.CONTENT_TYPE): OpenApiTypes.BINARY, 409: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, job_id):
        return job_file(
            scope_for(request),
            job_id,
            kind=reports.JOB_KIND,
            noun="report",
            content_type=sheets.CONTENT_TYPE,
            attachment=True,
            suffix="xlsx",
        )
