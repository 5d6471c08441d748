"""The case API under /api/v1/cases: report, read, list, boxes, actions, history, media.

Thin views: parse (serializers, `core.params`), call the actions and queries, render. Every
read goes through `cases.visibility`; every write is a ``do_*`` action.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts.scoping import Scope, scope_for
from core import params, uploads
from core.errors import BadInput, Conflict, ErrorSerializer, Forbidden, NotFound, TooLarge
from data.models import Category
from spatial import crs as crs_module

from . import actions, dispatching, queries, visibility
from .models import Case, CaseMedia, CaseTask, State
from .serializers import (
    ActionInputSerializer,
    BoxesSerializer,
    CaseEditSerializer,
    CaseInputSerializer,
    CaseSerializer,
    HistorySerializer,
    PlacementCorrectionSerializer,
    ReportedCaseSerializer,
    case_json,
)

TAG = "cases"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


def reader(request) -> Scope:
    """The caller's scope, which must read cases (401 anonymous, 403 without)."""
    scope = scope_for(request)
    scope.require(perms.CASES_READ)
    return scope


def valid_body(serializer_class, request) -> dict:
    """The request body validated by `serializer_class`, or `BadInput` naming the field."""
    body = serializer_class(data=request.data)
    if not body.is_valid():
        raise BadInput.from_serializer_errors(body.errors)
    return dict(body.validated_data)


def render_case(scope: Scope, case: Case, open_tasks=None) -> dict:
    return case_json(
        case,
        reporter_visible=visibility.sees_reporter(scope, case),
        actions=actions.allowed_actions(scope, case, open_tasks),
    )


def _fresh(scope: Scope, case_id) -> Case:
    case = visibility.get_visible(scope, case_id)
    return Case.objects.select_related("category__parent", "department").get(pk=case.pk)


LIST_PARAMETERS = [
    OpenApiParameter("box", str, description="a box key from /cases/boxes"),
    OpenApiParameter("state", str, description="comma list of states"),
    OpenApiParameter("source", str, description="comma list of sources"),
    OpenApiParameter("kind", str, enum=["component", "event"]),
    OpenApiParameter("category", str, description="major (2-digit) or minor (4-digit) class"),
    OpenApiParameter("area", str, description="district, street or community code"),
    OpenApiParameter("bbox", str, description="minLon,minLat,maxLon,maxLat (WGS84)"),
    OpenApiParameter("deadline_state", str, enum=["normal", "warning", "overdue", "none"]),
    OpenApiParameter("department", str, description="handling department code"),
    OpenApiParameter(
        "self_handled", bool, description="self-handled (自行处置) cases or the others"
    ),
    OpenApiParameter("q", str, description="task number prefix, or text in description/address"),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="reported at or after"),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="reported before"),
    OpenApiParameter("limit", int, description="1–1000, default 50"),
    OpenApiParameter("offset", int, description="default 0"),
]

FEATURES = inline_serializer(
    "CaseFeatureCollection",
    {
        "type": drf.CharField(),
        "features": drf.ListField(child=drf.DictField()),
        "numberMatched": drf.IntegerField(),
        "numberReturned": drf.IntegerField(),
    },
)


class CasesView(APIView):
    """Cases: the caller's list (GeoJSON, filtered, paged) and reporting a new one."""

    @extend_schema(
        operation_id="cases_list",
        tags=[TAG],
        summary="Cases the caller sees, filtered, newest first (GeoJSON)",
        parameters=LIST_PARAMETERS,
        responses={200: FEATURES, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        query = request.query_params
        chosen = queries.CaseFilter.from_query(query)
        limit = params.integer(query, "limit", 50, low=1, high=1000, clamp=True)
        offset = params.integer(query, "offset", 0, low=0, high=10_000_000)
        cases = queries.case_list(scope, chosen)
        if chosen.box:  # the box's list is open: its "new" count starts again
            queries.mark_box_seen(scope, chosen.box)
        matched = cases.count()
        page = list(cases[offset : offset + limit])
        tasks = queries.open_tasks_of(scope, [c.pk for c in page])
        features = []
        for case in page:
            properties = render_case(scope, case, tasks)
            lon, lat = properties.pop("lon"), properties.pop("lat")
            features.append(
                {
                    "type": "Feature",
                    "id": case.pk,
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

    @extend_schema(
        operation_id="cases_report",
        tags=[TAG],
        summary="Report a case (上报): placed, numbered, under its workflow",
        request=CaseInputSerializer,
        responses={
            200: ReportedCaseSerializer,
            201: ReportedCaseSerializer,
            409: ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        actions.do_report_case.require(scope)
        body = CaseInputSerializer(data=request.data)
        if not body.is_valid():
            raise BadInput.from_serializer_errors(body.errors)
        data = body.validated_data
        category = (
            Category.objects.filter(kind=data["kind"], code=data["category"])
            .select_related("parent")
            .first()
        )
        if category is None:
            raise BadInput(f"no {data['kind']} class {data['category']}", field="category")
        crs = crs_module.parse_crs(data["crs"])
        lon, lat = crs_module.to_wgs84(data["lon"], data["lat"], crs)
        reporter = data.get("reporter") or {}
        case = actions.do_report_case(
            scope,
            actions.NewCase(
                source=data["source"],
                category=category,
                description=data["description"],
                lon=lon,
                lat=lat,
                level=data["level"],
                urgent=data["urgent"],
                address=data["address"],
                component_code=data["component"],
                reporter=actions.Reporter(
                    name=reporter.get("name", ""),
                    phone=reporter.get("phone", ""),
                    private=reporter.get("private", False),
                    callback_wanted=reporter.get("callback_wanted", False),
                ),
                custom_deadline=data["custom_deadline"],
                report_key=data["report_key"],
            ),
        )
        body = render_case(scope, _fresh(scope, case.pk))
        body["warnings"] = case.report_warnings
        return Response(body, status=200 if getattr(case, "repeated", False) else 201)


class CaseView(APIView):
    @extend_schema(
        operation_id="cases_read",
        tags=[TAG],
        summary="One case, with the actions the caller may take now",
        responses={200: CaseSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        return Response(render_case(scope, _fresh(scope, case_id)))

    @extend_schema(
        operation_id="cases_edit",
        tags=[TAG],
        summary="Edit a case's fields outside a transition (recorded with old and new values)",
        request=CaseEditSerializer,
        responses={200: CaseSerializer, 404: ErrorSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def patch(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        body = CaseEditSerializer(data=request.data)
        if not body.is_valid():
            raise BadInput.from_serializer_errors(body.errors)
        changes = dict(body.validated_data)
        version = changes.pop("version")
        if not changes:
            raise BadInput("nothing to change", field="description")
        case = actions.do_edit_case(scope, case_id, version=version, changes=changes)
        return Response(render_case(scope, _fresh(scope, case.pk)))


class CasePlacementView(APIView):
    @extend_schema(
        operation_id="cases_correct_placement",
        tags=[TAG],
        summary="Correct a case's point and responsible area (立案修正)",
        request=PlacementCorrectionSerializer,
        responses={200: CaseSerializer, 404: ErrorSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        body = PlacementCorrectionSerializer(data=request.data)
        if not body.is_valid():
            raise BadInput.from_serializer_errors(body.errors)
        data = body.validated_data
        lon, lat = crs_module.to_wgs84(data["lon"], data["lat"], crs_module.parse_crs(data["crs"]))
        case = actions.do_correct_placement(
            scope, case_id, version=data["version"], lon=lon, lat=lat, opinion=data["opinion"]
        )
        return Response(render_case(scope, _fresh(scope, case.pk)))


class CaseActionView(APIView):
    @extend_schema(
        operation_id="cases_act",
        tags=[TAG],
        summary="Take a workflow action on a case (accept, register, dispatch, …)",
        description=(
            "Actions: " + ", ".join(actions.TRANSITIONS) + ". 403 for a position or area that "
            "may not act, 409 (with `current` state and version) for a wrong state or a stale "
            "version, 400 for a bad body."
        ),
        request=ActionInputSerializer,
        responses={200: CaseSerializer, 404: ErrorSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int, name: str) -> Response:
        scope = reader(request)
        run = actions.TRANSITIONS.get(name)
        if run is None:
            raise NotFound(f"no action {name!r}; one of {', '.join(actions.TRANSITIONS)}")
        body = ActionInputSerializer(data=request.data)
        if not body.is_valid():
            raise BadInput.from_serializer_errors(body.errors)
        data = body.validated_data
        common = {"version": data["version"], "opinion": data["opinion"]}
        extra = {
            "register": {"condition": data["condition"], "level": data.get("level")},
            "close": {"condition": data["condition"]},
            "dispatch": {
                "department": data["department"],
                "mode": data["mode"],
                "departments": data["departments"],
                "assisting": data["assisting"],
                "one_click": data["one_click"],
            },
            "redispatch": {
                "department": data["department"],
                "mode": data["mode"],
                "replace": data["replace"],
            },
            "rework": {"departments": data["departments"]},
            "request_verify": {"inspector": data["inspector"], "pool": data["pool"]},
            "request_check": {"inspector": data["inspector"], "pool": data["pool"]},
            "request_supplement": {"inspector": data["inspector"]},
            "link_duplicate": {"duplicate": data["duplicate"]},
            "verify": {"result": data["valid"]},
            "check": {"result": data["passed"]},
        }.get(name, {})
        case = run(scope, case_id, **common, **extra)
        return Response(render_case(scope, _fresh(scope, case.pk)))


class CaseHistoryView(APIView):
    @extend_schema(
        operation_id="cases_history",
        tags=[TAG],
        summary="A case's history (办理经过), oldest first",
        responses={200: HistorySerializer, 404: ErrorSerializer, **ERRORS},
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        case = visibility.get_visible(scope, case_id)
        return Response({"events": queries.history(case)})


class CaseBoxesView(APIView):
    @extend_schema(
        operation_id="cases_boxes",
        tags=[TAG],
        summary="The caller's case boxes (案件箱) with counts",
        description=(
            "`count`: the cases in the box; `new`: those that came into it since the caller "
            "last opened the box's list (`GET /cases?box=`), at most 3 days back."
        ),
        responses={200: BoxesSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        return Response({"boxes": queries.box_counts(scope)})


# --- media ------------------------------------------------------------------------------------

_STAGE_OF_STATE = {
    State.REPORTED: CaseMedia.Stage.REPORT,
    State.TO_VERIFY: CaseMedia.Stage.REPORT,
    State.VERIFYING: CaseMedia.Stage.REPORT,
    State.TO_REGISTER: CaseMedia.Stage.REPORT,
    State.TO_DISPATCH: CaseMedia.Stage.REPORT,
    State.HANDLING: CaseMedia.Stage.HANDLING,
    State.CHECKING: CaseMedia.Stage.CHECK,
    State.SUPPLEMENTING: CaseMedia.Stage.SUPPLEMENT,
}


def _content_type(upload: UploadedFile) -> tuple[str, int]:
    """(content type, size limit) of an upload, from its declared type checked against its
    first bytes; `BadInput` for a type the case media do not take."""
    declared = uploads.declared_type(upload)
    for _, (types, limit) in settings.CASE_MEDIA_LIMITS.items():
        if declared in types:
            break
    else:
        raise BadInput(
            f"{declared or 'this file type'} is not accepted: photos (JPEG, PNG, WebP), videos "
            "(MP4, MOV) or recordings (MP3, M4A, AMR, WAV)",
            field="file",
        )
    if not uploads.content_matches(upload, declared):
        raise BadInput(f"the file's content is not {declared}", field="file")
    return declared, limit


def _may_attach(scope: Scope, case: Case, stage: str) -> bool:
    if scope.sees_everything:
        return True
    if stage == CaseMedia.Stage.REPORT:
        mine = scope.user is not None and case.reported_by_id == scope.user.pk
        return mine or scope.has_perm(perms.CASES_ACCEPT)
    if stage == CaseMedia.Stage.HANDLING:
        return scope.has_perm(perms.CASES_HANDLE) and dispatching.handles(scope, case)
    # The check's or the supplementary collection's inspector, while their task is open.
    kind = CaseTask.Kind.SUPPLEMENT if stage == CaseMedia.Stage.SUPPLEMENT else CaseTask.Kind.CHECK
    return CaseTask.objects.filter(
        case=case, kind=kind, assignee_id=scope.user.pk, done_at__isnull=True
    ).exists()


MEDIA_ITEM = inline_serializer(
    "CaseMediaItem",
    {
        "id": drf.IntegerField(),
        "stage": drf.CharField(),
        "name": drf.CharField(),
        "content_type": drf.CharField(),
        "size": drf.IntegerField(),
        "uploaded_at": drf.DateTimeField(),
        "url": drf.CharField(),
    },
)


def _media_json(media: CaseMedia) -> dict:
    return {
        "id": media.pk,
        "stage": media.stage,
        "name": media.name,
        "content_type": media.content_type,
        "size": media.size,
        "uploaded_at": timezone.localtime(media.uploaded_at).isoformat(),
        "url": f"/api/v1/cases/{media.case_id}/media/{media.pk}",
    }


class CaseMediaView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="cases_media_list",
        tags=[TAG],
        summary="A case's photos, videos and recordings by stage",
        responses={
            200: inline_serializer("CaseMediaList", {"media": MEDIA_ITEM}),
            404: ErrorSerializer,
            **ERRORS,
        },
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        case = visibility.get_visible(scope, case_id)
        return Response({"media": [_media_json(m) for m in case.media.all()]})

    @extend_schema(
        operation_id="cases_media_upload",
        tags=[TAG],
        summary=(
            "Attach a file to the case's current stage (report, handling, check or "
            "supplementary collection)"
        ),
        request={
            "multipart/form-data": inline_serializer("CaseMediaUpload", {"file": drf.FileField()})
        },
        responses={201: MEDIA_ITEM, 404: ErrorSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        upload = request.FILES.get("file")
        if upload is None:
            raise BadInput("send the file as the multipart field 'file'", field="file")
        case = visibility.get_visible(scope, case_id)
        stage = _STAGE_OF_STATE.get(case.state)
        if stage is None:
            raise Conflict(
                f"nothing can be attached while the case is {case.get_state_display()}",
            )
        if not _may_attach(scope, case, stage):
            raise Forbidden("you may not attach files to this stage of the case")
        content_type, limit = _content_type(upload)
        if upload.size > limit:
            raise TooLarge(f"{content_type} files are limited to {limit} bytes", field="file")
        media = actions.do_attach_media(scope, case, stage, upload, content_type)
        return Response(_media_json(media), status=201)


class CaseMediaFileView(APIView):
    @extend_schema(
        operation_id="cases_media_file",
        tags=[TAG],
        summary="The bytes of one attached file",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ErrorSerializer},
    )
    def get(self, request: Request, case_id: int, media_id: int):
        scope = reader(request)
        case = visibility.get_visible(scope, case_id)
        media = case.media.filter(pk=media_id).first()
        if media is None:
            raise NotFound(f"no file {media_id} on case {case.number}")
        response = FileResponse(media.file.open("rb"), content_type=media.content_type)
        response["Content-Disposition"] = f'inline; filename="{media.pk}"'
        response["Cache-Control"] = "private, max-age=3600"
        return response


class HandlingDepartmentsView(APIView):
    @extend_schema(
        operation_id="cases_departments",
        tags=[TAG],
        summary="The handling departments (专业处置部门) a case may be dispatched to",
        responses={
            200: inline_serializer(
                "HandlingDepartments",
                {
                    "departments": drf.ListField(
                        child=inline_serializer(
                            "HandlingDepartment", {"code": drf.CharField(), "name": drf.CharField()}
                        )
                    )
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        reader(request)
        from accounts.models import Department

        rows = Department.objects.filter(kind=Department.Kind.HANDLING, active=True).order_by(
            "sort_order", "code"
        )
        return Response({"departments": [{"code": d.code, "name": d.name} for d in rows]})
