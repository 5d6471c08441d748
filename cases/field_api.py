"""The field side of a case (inspectors' tasks and self-handled reports), thin views over
`cases.actions` and `cases.self_handling`:

- ``POST /api/v1/cases/self-handled`` — a self-handled report (自行处置上报), multipart with the
  report's fields and the files ``before`` and ``after`` (one or more each, both required);
- ``GET /api/v1/cases/{id}/tasks`` — the case's verification, check and supplementary
  collection tasks (核实, 核查, 补采) with their deadlines, whether they are overdue, and answers;
- ``GET /api/v1/cases/{id}/inspectors`` — the inspectors whose areas hold the case, for the
  centre's task forms (the reporting inspector first when they are among them).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts.scoping import scope_for
from core.errors import BadInput, ErrorSerializer, Forbidden, TooLarge
from data.models import Category
from spatial import crs as crs_module

from . import actions, self_handling, visibility
from .api import _content_type, _fresh, reader, render_case
from .models import CaseTask, Level
from .serializers import CaseSerializer, local_time

TAG = "cases"
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
}
MAX_FILES = 9  # per side of a self-handled report


class SelfHandledFieldsSerializer(serializers.Serializer):
    """The form fields of a self-handled report (its files are checked apart)."""

    kind = serializers.ChoiceField(choices=Category.Kind.choices)
    category = serializers.RegexField(r"^\d{4}$", help_text="the minor class's 4-digit code")
    level = serializers.ChoiceField(choices=Level.choices, required=False, default=Level.ROUTINE)
    description = serializers.CharField(max_length=4000)
    address = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    crs = serializers.CharField(max_length=32, required=False, default="EPSG:4326")
    report_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="the device's key for this report: sent again, it answers 200 with that case",
    )


class SelfHandledInputSerializer(SelfHandledFieldsSerializer):
    """A self-handled report (自行处置上报) as multipart form fields, with the files ``before``
    and ``after`` (photos, videos or recordings; one or more each)."""

    before = serializers.ListField(child=serializers.FileField(), help_text="before handling")
    after = serializers.ListField(child=serializers.FileField(), help_text="after handling")


def _checked_files(request: Request, field: str) -> list[tuple[object, str]]:
    files = request.FILES.getlist(field)
    if not files:
        side = "before" if field == "before" else "after"
        raise BadInput(f"add the photos taken {side} handling", field=field)
    if len(files) > MAX_FILES:
        raise BadInput(f"at most {MAX_FILES} files {field} handling", field=field)
    checked = []
    for upload in files:
        try:
            content_type, limit = _content_type(upload)
        except BadInput as exc:
            raise BadInput(exc.message, field=field) from None
        if upload.size > limit:
            raise TooLarge(f"{content_type} files are limited to {limit} bytes", field=field)
        checked.append((upload, content_type))
    return checked


class SelfHandledReportView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="cases_report_self_handled",
        tags=[TAG],
        summary="Report a problem fixed on the spot (自行处置上报), with photos before and after",
        description=(
            "An inspector (`cases.report`) reports a small problem they already fixed: the "
            "report's fields as form fields and the files `before` and `after` (one or more "
            "each; 400 naming the field when one side is missing). The case starts in "
            "`to_review` (待审核), the acceptor's box 自行处置, where it is archived (`archive`) "
            "or sent to registration (`send_to_register`)."
        ),
        request={"multipart/form-data": SelfHandledInputSerializer},
        responses={200: CaseSerializer, 201: CaseSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        self_handling.do_report_self_handled.require(scope)
        fields = {k: request.data.get(k) for k in request.data if k not in ("before", "after")}
        body = SelfHandledFieldsSerializer(data=fields)
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
        before = _checked_files(request, "before")
        after = _checked_files(request, "after")
        crs = crs_module.parse_crs(data["crs"])
        lon, lat = crs_module.to_wgs84(data["lon"], data["lat"], crs)
        case = self_handling.do_report_self_handled(
            scope,
            actions.NewCase(
                source="inspector",
                category=category,
                description=data["description"],
                lon=lon,
                lat=lat,
                level=data["level"],
                address=data["address"],
                report_key=data["report_key"],
            ),
            before=before,
            after=after,
        )
        repeated = getattr(case, "repeated", False)
        return Response(render_case(scope, _fresh(scope, case.pk)), status=200 if repeated else 201)


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CaseTask.Kind.choices)
    kind_name = serializers.CharField()
    inspector = serializers.CharField(
        allow_null=True, help_text="the assignee's name; null while in a pool"
    )
    inspector_id = serializers.IntegerField(allow_null=True)
    pool = serializers.CharField(
        allow_null=True, help_text="the grid whose task pool (任务池) it was sent to"
    )
    requested_by = serializers.CharField(allow_null=True)
    note = serializers.CharField(help_text="what the inspector is asked")
    created_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField(help_text="open past its deadline, or answered late")
    done_at = serializers.DateTimeField(allow_null=True)
    result = serializers.BooleanField(allow_null=True, help_text="verify / check: the outcome")
    answer = serializers.CharField()
    return_state = serializers.CharField(help_text="supplement: the state it returns the case to")


def _name(user) -> str:
    person = getattr(user, "person", None)
    return (person.name if person is not None and person.name else "") or user.get_username()


def task_json(task: CaseTask, now) -> dict:
    """A task as `TaskSerializer` documents it."""
    late = task.deadline is not None and (task.done_at or now) > task.deadline
    return {
        "id": task.pk,
        "kind": task.kind,
        "kind_name": task.get_kind_display(),
        "inspector": _name(task.assignee) if task.assignee_id else None,
        "inspector_id": task.assignee_id,
        "pool": task.pool_grid or None,
        "requested_by": _name(task.requested_by) if task.requested_by_id else None,
        "note": task.note,
        "created_at": local_time(task.created_at),
        "deadline": local_time(task.deadline),
        "overdue": late,
        "done_at": local_time(task.done_at),
        "result": task.result,
        "answer": task.answer,
        "return_state": task.return_state,
    }


class CaseTasksView(APIView):
    @extend_schema(
        operation_id="cases_tasks",
        tags=[TAG],
        summary="A case's inspector tasks (核实, 核查, 补采), newest first, with deadlines",
        responses={
            200: inline_serializer("CaseTasks", {"tasks": TaskSerializer(many=True)}),
            **ERRORS,
        },
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        case = visibility.get_visible(scope, case_id)
        rows = CaseTask.objects.filter(case=case).select_related(
            "assignee__person", "requested_by__person"
        )
        now = timezone.now()
        return Response({"tasks": [task_json(t, now) for t in rows.order_by("-created_at", "-pk")]})


_ASKING = (perms.CASES_ACCEPT, perms.CASES_REGISTER)


class CaseInspectorsView(APIView):
    @extend_schema(
        operation_id="cases_inspectors",
        tags=[TAG],
        summary="The inspectors whose areas hold the case (for verify, check and 补采 tasks)",
        description=(
            "For the centre's positions (`cases.accept` or `cases.register`; 403 otherwise): "
            "the active inspectors whose areas hold the case's point, the reporting inspector "
            "first when among them. `reporter` marks them."
        ),
        responses={
            200: inline_serializer(
                "CaseInspectors",
                {
                    "inspectors": inline_serializer(
                        "CaseInspector",
                        {
                            "id": serializers.IntegerField(help_text="the user id to send"),
                            "username": serializers.CharField(),
                            "name": serializers.CharField(),
                            "reporter": serializers.BooleanField(),
                        },
                        many=True,
                    )
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        if not scope.sees_everything and not any(scope.has_perm(p) for p in _ASKING):
            raise Forbidden("only the centre sends inspectors tasks")
        case = visibility.get_visible(scope, case_id)
        people = list(actions.inspectors_covering(case))
        people.sort(key=lambda p: p.user_id != case.reported_by_id)  # stable: then by id
        return Response(
            {
                "inspectors": [
                    {
                        "id": p.user_id,
                        "username": p.user.get_username(),
                        "name": p.name or p.user.get_username(),
                        "reporter": p.user_id == case.reported_by_id,
                    }
                    for p in people
                ]
            }
        )
