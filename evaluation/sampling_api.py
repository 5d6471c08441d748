"""The quality sampling API (案件质检) under /api/v1/evaluation: thin views over
`evaluation.sampling`."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts.scoping import scope_for
from core import params
from core.errors import BadInput, NotFound

from . import sampling
from .api import ERRORS, TAG
from .models import DeductionItem, QualityScore, SampledCase, SamplingTask

SAMPLED = inline_serializer(
    "SampledCase",
    {
        "id": drf.IntegerField(),
        "case": drf.IntegerField(),
        "number": drf.CharField(),
        "category": drf.CharField(),
        "description": drf.CharField(),
        "address": drf.CharField(),
        "closed_at": drf.DateTimeField(allow_null=True),
        "department": drf.CharField(help_text="the handling department it was drawn for"),
        "scores": drf.ListField(
            child=drf.DictField(),
            help_text="submitted scores by evaluating department (the scorer is not shown)",
        ),
        "mine": drf.DictField(allow_null=True, help_text="the caller's department's score"),
    },
)
TASK = inline_serializer(
    "SamplingTask",
    {
        "id": drf.IntegerField(),
        "name": drf.CharField(),
        "basis": drf.CharField(),
        "mode": drf.CharField(),
        "from": drf.DateTimeField(),
        "to": drf.DateTimeField(),
        "total": drf.IntegerField(),
        "floor": drf.IntegerField(),
        "seed": drf.CharField(),
        "departments": drf.ListField(child=drf.CharField()),
        "issued_to": drf.ListField(child=drf.CharField()),
        "drawn": drf.DictField(child=drf.IntegerField(), help_text="department → cases drawn"),
        "statistics": drf.ListField(child=drf.DictField()),
        "cases": SAMPLED,
    },
)


def _score_json(row: QualityScore) -> dict:
    return {
        "department": row.department.code,
        "deductions": row.deductions,
        "score": float(row.score),
        "note": row.note,
        "submitted": row.submitted_at is not None,
    }


def _sampled_json(row: SampledCase, mine: int | None) -> dict:
    case = row.case
    scores = list(row.scores.all())
    own = next((s for s in scores if s.department_id == mine), None)
    return {
        "id": row.pk,
        "case": case.pk,
        "number": case.number,
        "category": case.category_id,
        "description": case.description,
        "address": case.address,
        "closed_at": timezone.localtime(case.closed_at).isoformat() if case.closed_at else None,
        "department": row.department.code,
        "scores": [_score_json(s) for s in scores if s.submitted_at is not None],
        "mine": _score_json(own) if own else None,
    }


def task_json(task: SamplingTask, rows, mine: int | None = None) -> dict:
    drawn: dict[str, int] = {d.code: 0 for d in task.departments.all()}
    for row in SampledCase.objects.filter(task=task).select_related("department"):
        drawn[row.department.code] = drawn.get(row.department.code, 0) + 1
    return {
        "id": task.pk,
        "name": task.name,
        "basis": task.basis,
        "mode": task.mode,
        "from": timezone.localtime(task.start).isoformat(),
        "to": timezone.localtime(task.end).isoformat(),
        "total": task.total,
        "floor": task.floor,
        "seed": task.seed,
        "departments": sorted(drawn),
        "issued_to": sorted(task.assignments.values_list("department__code", flat=True)),
        "drawn": drawn,
        "statistics": sampling.statistics(task),
        "cases": [_sampled_json(r, mine) for r in rows],
    }


def _instant(body: dict, name: str):
    value = body.get(name)
    if not isinstance(value, str):
        raise BadInput(f"{name} is a date and time (RFC 3339)", field=name)
    return params.instant({name: value}, name)


def _rows(query):
    return query.select_related("case", "department").prefetch_related("scores__department")


class SamplingsView(APIView):
    @extend_schema(
        operation_id="evaluation_samplings",
        summary="Samplings: all (managers) or those issued to the caller's department (scorers)",
        tags=[TAG],
        responses={200: inline_serializer("Samplings", {"samplings": TASK}), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        scope = scope_for(request)
        scope.require_signed_in()
        if scope.has_perm(perms.EVALUATION_MANAGE):
            tasks = SamplingTask.objects.all()
            rows = lambda t: _rows(t.cases.all())  # noqa: E731
        elif scope.has_perm(perms.EVALUATION_SCORE):
            tasks = SamplingTask.objects.filter(assignments__department_id=scope.department_id)
            mine = sampling.scorable(scope)
            rows = lambda t: _rows(mine.filter(task=t))  # noqa: E731
        else:
            scope.require(perms.EVALUATION_SCORE)
        found = [task_json(t, rows(t), scope.department_id) for t in tasks[:100]]
        return Response({"samplings": found})

    @extend_schema(
        operation_id="evaluation_sampling_create",
        summary="Draw a sampling of closed cases (抽查任务生成) across departments",
        tags=[TAG],
        request=inline_serializer(
            "SamplingRequest",
            {
                "name": drf.CharField(),
                "basis": drf.ChoiceField(choices=SamplingTask.Basis.values, required=False),
                "from": drf.DateTimeField(),
                "to": drf.DateTimeField(),
                "total": drf.IntegerField(),
                "mode": drf.ChoiceField(choices=SamplingTask.Mode.values),
                "departments": drf.ListField(child=drf.CharField()),
                "floor": drf.IntegerField(required=False),
                "seed": drf.CharField(required=False),
            },
        ),
        responses={201: TASK, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = scope_for(request)
        sampling.do_create_sampling.require(scope)
        body = request.data if isinstance(request.data, dict) else {}
        start, end = _instant(body, "from"), _instant(body, "to")
        task = sampling.do_create_sampling(
            scope,
            name=body.get("name"),
            basis=body.get("basis", SamplingTask.Basis.CLOSED),
            start=start,
            end=end,
            total=body.get("total"),
            mode=body.get("mode"),
            departments=body.get("departments"),
            floor=body.get("floor"),
            seed=body.get("seed") or "",
        )
        return Response(task_json(task, _rows(task.cases.all())), status=201)


class SamplingIssueView(APIView):
    @extend_schema(
        operation_id="evaluation_sampling_issue",
        summary="Issue a sampling to evaluating departments (抽查任务下发)",
        tags=[TAG],
        request=inline_serializer(
            "SamplingIssue", {"departments": drf.ListField(child=drf.CharField())}
        ),
        responses={200: TASK, **ERRORS},
    )
    def post(self, request: Request, task_id: int) -> Response:
        scope = scope_for(request)
        body = request.data if isinstance(request.data, dict) else {}
        sampling.do_issue_sampling(scope, task_id, departments=body.get("departments"))
        task = SamplingTask.objects.get(pk=task_id)
        return Response(task_json(task, _rows(task.cases.all())))


class SampledCaseScoreView(APIView):
    @extend_schema(
        operation_id="evaluation_sampled_case_score",
        summary="Score a sampled case for the caller's department (案件评价); submit to finish",
        tags=[TAG],
        request=inline_serializer(
            "QualityScoreRequest",
            {
                "deductions": drf.ListField(child=drf.CharField()),
                "note": drf.CharField(required=False),
                "submit": drf.BooleanField(required=False),
            },
        ),
        responses={200: SAMPLED, **ERRORS},
    )
    def post(self, request: Request, sampled_id: int) -> Response:
        scope = scope_for(request)
        body = request.data if isinstance(request.data, dict) else {}
        submit = body.get("submit", False)
        if not isinstance(submit, bool):
            raise BadInput("submit is true or false", field="submit")
        sampling.do_score_sampled_case(
            scope,
            sampled_id,
            deductions=body.get("deductions", []),
            note=body.get("note", ""),
            submit=submit,
        )
        row = _rows(SampledCase.objects.filter(pk=sampled_id)).first()
        if row is None:
            raise NotFound(f"no sampled case {sampled_id}")
        return Response(_sampled_json(row, scope.department_id))


class DeductionItemsView(APIView):
    @extend_schema(
        operation_id="evaluation_deduction_items",
        summary="The deduction items of quality scores (扣分项)",
        tags=[TAG],
        responses={
            200: inline_serializer(
                "DeductionItems",
                {
                    "items": inline_serializer(
                        "DeductionItemOut",
                        {
                            "code": drf.CharField(),
                            "name": drf.CharField(),
                            "points": drf.FloatField(),
                        },
                    )
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        scope_for(request).require_signed_in()
        items = DeductionItem.objects.filter(active=True)
        return Response(
            {"items": [{"code": i.code, "name": i.name, "points": float(i.points)} for i in items]}
        )
