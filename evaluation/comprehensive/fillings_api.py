"""Filling tasks over HTTP (平台上报, 问卷调查, 自评价报告): ``/api/v1/evaluation/fillings``…
Thin views over `fillings`."""

from __future__ import annotations


from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer, Forbidden
from core.serializers import JsonTypes

from .http import SignedInView
from . import fillings
from .inspections_api import valid
from .models import FillingTask, TaskState

TAG = "evaluation"
ID_MAX = 2**63 - 1
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 409)}
MAX_SHEET_BYTES = 10 * 1024 * 1024


def filling_json(task: FillingTask, now=None) -> dict:
    now = now or timezone.now()
    return {
        "id": task.pk,
        "kind": task.kind,
        "kind_name": task.get_kind_display(),
        "cycle": task.cycle_id,
        "object": task.object_id,
        "assignee": task.assignee_id,
        "reviewer": task.reviewer_id,
        "state": task.state,
        "state_name": task.get_state_display(),
        "deadline": task.deadline.isoformat(),
        "overdue": fillings.is_overdue(task, now),
        "values": task.values,
        "submitted_at": task.submitted_at.isoformat() if task.submitted_at else None,
        "return_reason": task.return_reason,
        "attachments": [
            {"id": a.pk, "name": a.name, "content_type": a.content_type, "size": a.size}
            for a in task.attachments.all()
        ],
    }


FILLING = inline_serializer(
    "EvaluationFilling",
    {
        "id": drf.IntegerField(),
        "kind": drf.ChoiceField(choices=FillingTask.Kind.choices),
        "kind_name": drf.CharField(),
        "cycle": drf.IntegerField(),
        "object": drf.IntegerField(),
        "assignee": drf.IntegerField(help_text="user id"),
        "reviewer": drf.IntegerField(allow_null=True),
        "state": drf.ChoiceField(choices=TaskState.choices),
        "state_name": drf.CharField(),
        "deadline": drf.DateTimeField(),
        "overdue": drf.BooleanField(help_text="still open after the deadline"),
        "values": drf.DictField(),
        "submitted_at": drf.DateTimeField(allow_null=True),
        "return_reason": drf.CharField(),
        "attachments": drf.ListField(child=drf.DictField()),
    },
)
FILLINGS = inline_serializer("EvaluationFillings", {"tasks": FILLING})


class FillingCreateSerializer(JsonTypes, drf.Serializer):
    kind = drf.ChoiceField(choices=FillingTask.Kind.choices)
    cycle = drf.IntegerField(min_value=1, max_value=ID_MAX)
    objects = drf.ListField(
        child=drf.IntegerField(min_value=1, max_value=ID_MAX), min_length=1, max_length=1000
    )
    assignee = drf.IntegerField(min_value=1, max_value=ID_MAX, help_text="person id")
    reviewer = drf.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="person id"
    )
    deadline = drf.DateTimeField()


class FillingValuesSerializer(JsonTypes, drf.Serializer):
    values = drf.DictField(child=drf.JSONField())


class FillingReviewSerializer(JsonTypes, drf.Serializer):
    approve = drf.BooleanField()
    reason = drf.CharField(max_length=1000, required=False, allow_blank=True, default="")


class FillingsView(SignedInView):
    @extend_schema(
        operation_id="evaluation_fillings",
        tags=[TAG],
        summary="Filling tasks: the caller's own, and with evaluation.manage their areas'",
        parameters=[
            OpenApiParameter("kind", str, required=False, enum=FillingTask.Kind.values),
            OpenApiParameter("cycle", int, required=False),
            OpenApiParameter("state", str, required=False, enum=TaskState.values),
            OpenApiParameter("overdue", bool, required=False),
        ],
        responses={200: FILLINGS, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params
        found = fillings.visible_fillings(scope_for(request))
        kind = params.choice(query, "kind", FillingTask.Kind.values, None)
        if kind:
            found = found.filter(kind=kind)
        cycle = params.integer(query, "cycle", None, low=1)
        if cycle:
            found = found.filter(cycle_id=cycle)
        state = params.choice(query, "state", TaskState.values, None)
        if state:
            found = found.filter(state=state)
        now = timezone.now()
        overdue = params.boolean(query, "overdue", None)
        if overdue is not None:
            late = found.filter(state__in=fillings.OPEN, deadline__lt=now)
            found = late if overdue else found.exclude(pk__in=late.values("pk"))
        rows = found.prefetch_related("attachments").order_by("deadline", "id")[:2000]
        return Response({"tasks": [filling_json(t, now) for t in rows]})

    @extend_schema(
        operation_id="evaluation_fillings_create",
        tags=[TAG],
        summary="Create filling tasks (evaluation.manage): one per object, in batch",
        request=FillingCreateSerializer,
        responses={201: FILLINGS, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = valid(FillingCreateSerializer, request)
        tasks = fillings.do_create_fillings(
            scope_for(request),
            kind=data["kind"],
            cycle_id=data["cycle"],
            object_ids=data["objects"],
            assignee_id=data["assignee"],
            reviewer_id=data.get("reviewer"),
            deadline=data["deadline"],
        )
        return Response({"tasks": [filling_json(t) for t in tasks]}, status=201)


class DraftView(SignedInView):
    @extend_schema(
        operation_id="evaluation_filling_draft",
        tags=[TAG],
        summary="Save the caller's values as a draft",
        request=FillingValuesSerializer,
        responses={200: FILLING, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        data = valid(FillingValuesSerializer, request)
        task = fillings.do_save_filling(scope_for(request), task_id, values=data["values"])
        return Response(filling_json(task))


class SubmitView(SignedInView):
    @extend_schema(
        operation_id="evaluation_filling_submit",
        tags=[TAG],
        summary="Submit the caller's draft for review",
        request=None,
        responses={200: FILLING, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        return Response(filling_json(fillings.do_submit_filling(scope_for(request), task_id)))


class ReviewView(SignedInView):
    @extend_schema(
        operation_id="evaluation_filling_review",
        tags=[TAG],
        summary="Approve a submitted filling, or return it with a reason",
        request=FillingReviewSerializer,
        responses={200: FILLING, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        data = valid(FillingReviewSerializer, request)
        task = fillings.do_review_filling(
            scope_for(request), task_id, approve=data["approve"], reason=data["reason"]
        )
        return Response(filling_json(task))


FILE_FORM = {"multipart/form-data": inline_serializer("EvaluationFile", {"file": drf.FileField()})}


class AttachmentView(SignedInView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="evaluation_filling_attach",
        tags=[TAG],
        summary="Attach a PDF or photo to the caller's open filling task",
        request=FILE_FORM,
        responses={201: FILLING, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        attachment = fillings.do_attach_filling(
            scope_for(request), task_id, upload=request.FILES.get("file")
        )
        return Response(filling_json(attachment.task), status=201)


class ImportView(SignedInView):
    def initial(self, request, *args, **kwargs):
        # Only someone with filling tasks imports a sheet into them: 403 before the file is read.
        super().initial(request, *args, **kwargs)
        user = scope_for(request).user
        if not FillingTask.objects.filter(assignee=user).exists():
            raise Forbidden("you have no filling tasks (填报任务) to import into")

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="evaluation_fillings_import",
        tags=[TAG],
        summary="Save drafts from a spreadsheet: one row per object (column object: its code)",
        description="Columns: data item codes (platform), <indicator>.score and "
        "<indicator>.text (self), <indicator>.<level> (survey). All rows or none.",
        request={
            "multipart/form-data": inline_serializer(
                "EvaluationFillingsImport",
                {
                    "kind": drf.ChoiceField(choices=FillingTask.Kind.choices),
                    "cycle": drf.IntegerField(),
                    "file": drf.FileField(),
                },
            )
        },
        responses={200: FILLINGS, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        kind = params.choice(request.data, "kind", FillingTask.Kind.values)
        cycle = params.integer(request.data, "cycle", low=1)
        upload = request.FILES.get("file")
        if upload is None:
            raise BadInput("give the .xlsx file", field="file")
        if upload.size > MAX_SHEET_BYTES:
            raise BadInput("a sheet is at most 10 MB", field="file")
        tasks = fillings.do_import_fillings(
            scope_for(request), kind=kind, cycle_id=cycle, data=upload.read()
        )
        return Response({"tasks": [filling_json(t) for t in tasks]})


urlpatterns = [
    path("evaluation/fillings", FillingsView.as_view(), name="evaluation-fillings"),
    path("evaluation/fillings/import", ImportView.as_view(), name="evaluation-fillings-import"),
    path("evaluation/fillings/<int:task_id>/draft", DraftView.as_view(), name="evaluation-filling"),
    path(
        "evaluation/fillings/<int:task_id>/submit",
        SubmitView.as_view(),
        name="evaluation-filling-submit",
    ),
    path(
        "evaluation/fillings/<int:task_id>/review",
        ReviewView.as_view(),
        name="evaluation-filling-review",
    ),
    path(
        "evaluation/fillings/<int:task_id>/attachments",
        AttachmentView.as_view(),
        name="evaluation-filling-attach",
    ),
]
