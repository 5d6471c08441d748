"""Field inspection over HTTP: the centre creates and reviews tasks
(``/api/v1/evaluation/inspections``…), the evaluator's app (评价员App) finds its object, lists
its tasks, scores check items with photos and submits (``/api/v1/evaluation/field/…``). Thin
views over `inspections`."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, ErrorSerializer
from core.serializers import JsonTypes

from .http import SignedInView
from . import inspections, samples
from .models import CheckItem, FieldInspectionTask, TaskState

TAG = "evaluation"
ID_MAX = 2**63 - 1
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 409)}


def valid(serializer_class, request: Request) -> dict:
    body = serializer_class(data=request.data)
    if not body.is_valid():
        raise BadInput.from_serializer_errors(body.errors)
    return dict(body.validated_data)


def task_json(task: FieldInspectionTask, request: Request | None = None) -> dict:
    """A task as `TASK` documents it: the sample, the check items of its type, the scores."""
    items = CheckItem.objects.filter(sample_type_id=task.sample.sample_type_id).select_related(
        "indicator"
    )
    scores = {s.check_item_id: s for s in task.scores.all()}

    def score_json(item):
        score = scores.get(item.pk)
        if score is None:
            return None
        photo = score.photo.url if score.photo else None
        return {
            "occurrences": score.occurrences,
            "deduction": score.deduction,
            "note": score.note,
            "photo": request.build_absolute_uri(photo) if photo and request else photo,
            "lon": score.position.x if score.position else None,
            "lat": score.position.y if score.position else None,
            "distance_m": score.distance_m,
            "recorded_at": score.recorded_at.isoformat(),
        }

    return {
        "id": task.pk,
        "cycle": task.cycle_id,
        "object": task.object_id,
        "state": task.state,
        "state_name": task.get_state_display(),
        "deadline": task.deadline.isoformat() if task.deadline else None,
        "evaluator": task.evaluator_id,
        "return_reason": task.return_reason,
        "sample": samples.feature(task.sample),
        "check_items": [
            {
                "id": item.pk,
                "name": item.name,
                "indicator": item.indicator.code,
                "mode": item.mode,
                "deduction": item.deduction,
                "max_deduction": item.max_deduction,
                "score": score_json(item),
            }
            for item in items
        ],
        "indicator_scores": {str(k): v for k, v in inspections.inspection_scores(task).items()},
    }


TASK = inline_serializer(
    "EvaluationInspectionTask",
    {
        "id": drf.IntegerField(),
        "cycle": drf.IntegerField(),
        "object": drf.IntegerField(),
        "state": drf.ChoiceField(choices=TaskState.choices),
        "state_name": drf.CharField(),
        "deadline": drf.DateTimeField(allow_null=True),
        "evaluator": drf.IntegerField(),
        "return_reason": drf.CharField(),
        "sample": drf.DictField(help_text="a GeoJSON feature"),
        "check_items": drf.ListField(child=drf.DictField(), help_text="with the score if any"),
        "indicator_scores": drf.DictField(
            child=drf.FloatField(), help_text="by indicator id: full score less deductions"
        ),
    },
)
TASKS = inline_serializer("EvaluationInspectionTasks", {"tasks": TASK})


class InspectionCreateSerializer(JsonTypes, drf.Serializer):
    cycle = drf.IntegerField(min_value=1, max_value=ID_MAX)
    evaluators = drf.ListField(
        child=drf.IntegerField(min_value=1, max_value=ID_MAX), min_length=1, max_length=500
    )
    rule = drf.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="batch: the rule's draw"
    )
    samples = drf.ListField(
        child=drf.IntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        max_length=10_000,
        help_text="one by one: these samples",
    )
    deadline = drf.DateTimeField(required=False)


class InspectionReviewSerializer(JsonTypes, drf.Serializer):
    approve = drf.BooleanField()
    reason = drf.CharField(max_length=1000, required=False, allow_blank=True, default="")


class InspectionsView(SignedInView):
    @extend_schema(
        operation_id="evaluation_inspections",
        tags=[TAG],
        summary="Inspection tasks of samples in the caller's areas",
        parameters=[
            OpenApiParameter("cycle", int, required=False),
            OpenApiParameter("state", str, required=False, enum=TaskState.values),
        ],
        responses={200: TASKS, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        found = inspections.visible_tasks(scope_for(request))
        cycle = params.integer(request.query_params, "cycle", None, low=1)
        if cycle is not None:
            found = found.filter(cycle_id=cycle)
        state = params.choice(request.query_params, "state", TaskState.values, None)
        if state is not None:
            found = found.filter(state=state)
        rows = found.select_related("sample").order_by("id")[:2000]
        return Response({"tasks": [task_json(t, request) for t in rows]})

    @extend_schema(
        operation_id="evaluation_inspections_create",
        tags=[TAG],
        summary="Create inspection tasks (evaluation.manage): a rule's draw, or given samples",
        description="Tasks go to the evaluators in turn, in drawing order; 409 when a sample "
        "is already tasked in the cycle.",
        request=InspectionCreateSerializer,
        responses={201: TASKS, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = valid(InspectionCreateSerializer, request)
        tasks = inspections.do_create_inspections(
            scope_for(request),
            cycle_id=data["cycle"],
            evaluator_ids=data["evaluators"],
            rule_id=data.get("rule"),
            sample_ids=data.get("samples"),
            deadline=data.get("deadline"),
        )
        return Response({"tasks": [task_json(t, request) for t in tasks]}, status=201)


class ReviewView(SignedInView):
    @extend_schema(
        operation_id="evaluation_inspection_review",
        tags=[TAG],
        summary="Approve a submitted inspection, or return it with a reason",
        request=InspectionReviewSerializer,
        responses={200: TASK, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        data = valid(InspectionReviewSerializer, request)
        task = inspections.do_review_inspection(
            scope_for(request), task_id, approve=data["approve"], reason=data["reason"]
        )
        return Response(task_json(task, request))


class FieldObjectsView(SignedInView):
    @extend_schema(
        operation_id="evaluation_field_objects",
        tags=[TAG],
        summary="The evaluator's objects at a position (street first, then district, city)",
        parameters=[
            OpenApiParameter("lon", OpenApiTypes.DOUBLE, required=True),
            OpenApiParameter("lat", OpenApiTypes.DOUBLE, required=True),
        ],
        responses={
            200: inline_serializer(
                "EvaluationFieldObjects",
                {"objects": drf.ListField(child=drf.DictField(), help_text="id, code, name, kind")},
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        lon = params.number(request.query_params, "lon", low=-180, high=180)
        lat = params.number(request.query_params, "lat", low=-90, high=90)
        found = inspections.objects_at(scope_for(request), lon, lat)
        return Response(
            {
                "objects": [
                    {"id": o.pk, "code": o.code, "name": o.name, "kind": o.kind} for o in found
                ]
            }
        )


class FieldTasksView(SignedInView):
    @extend_schema(
        operation_id="evaluation_field_tasks",
        tags=[TAG],
        summary="The evaluator's open (pending, draft, returned) or finished tasks",
        parameters=[OpenApiParameter("finished", bool, required=False)],
        responses={200: TASKS, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        finished = params.boolean(request.query_params, "finished", False)
        tasks = inspections.my_tasks(scope_for(request), finished)
        return Response({"tasks": [task_json(t, request) for t in tasks]})


class FieldScoreView(SignedInView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="evaluation_field_score",
        tags=[TAG],
        summary="Score one check item of the caller's task (a draft until submitted)",
        description="multipart: check_item, occurrences, lon and lat (the phone's position), "
        "note, photo (needed when something is found). The deduction and the time are the "
        "server's.",
        request={
            "multipart/form-data": inline_serializer(
                "EvaluationFieldScoreForm",
                {
                    "check_item": drf.IntegerField(),
                    "occurrences": drf.IntegerField(),
                    "lon": drf.FloatField(),
                    "lat": drf.FloatField(),
                    "note": drf.CharField(required=False),
                    "photo": drf.FileField(required=False),
                },
            )
        },
        responses={200: TASK, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        form = request.data
        inspections.do_score_inspection(
            scope_for(request),
            task_id,
            check_item_id=params.integer(form, "check_item", low=1),
            occurrences=params.integer(
                form, "occurrences", low=0, high=inspections.MAX_OCCURRENCES
            ),
            lon=params.number(form, "lon", low=-180, high=180),
            lat=params.number(form, "lat", low=-90, high=90),
            note=params.text(form, "note", "") or "",
            photo=request.FILES.get("photo"),
        )
        task = FieldInspectionTask.objects.select_related("sample").get(pk=task_id)
        return Response(task_json(task, request))


class FieldSubmitView(SignedInView):
    @extend_schema(
        operation_id="evaluation_field_submit",
        tags=[TAG],
        summary="Submit the caller's draft for review",
        request=None,
        responses={200: TASK, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        task = inspections.do_submit_inspection(scope_for(request), task_id)
        return Response(task_json(task, request))


urlpatterns = [
    path("evaluation/inspections", InspectionsView.as_view(), name="evaluation-inspections"),
    path(
        "evaluation/inspections/<int:task_id>/review",
        ReviewView.as_view(),
        name="evaluation-inspection-review",
    ),
    path("evaluation/field/objects", FieldObjectsView.as_view(), name="evaluation-field-objects"),
    path("evaluation/field/tasks", FieldTasksView.as_view(), name="evaluation-field-tasks"),
    path(
        "evaluation/field/tasks/<int:task_id>/scores",
        FieldScoreView.as_view(),
        name="evaluation-field-score",
    ),
    path(
        "evaluation/field/tasks/<int:task_id>/submit",
        FieldSubmitView.as_view(),
        name="evaluation-field-submit",
    ),
]
