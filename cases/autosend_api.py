"""Automatic tasks and the grid task pool over HTTP (`cases.autosend`, `cases.task_pool`):

* ``GET/POST /api/v1/cases/auto-task-rules``, ``PUT/DELETE …/auto-task-rules/{id}`` — the
  rules of automatic verification and check tasks (the centre: ``cases.register``);
* ``GET /api/v1/cases/task-pool`` — the pooled tasks of the caller's grids;
* ``POST /api/v1/cases/{id}/tasks/{task}/claim`` — claim one (认领).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from core.errors import ErrorSerializer

from . import autosend, task_pool
from .api import reader, valid_body
from .models import AutoTaskRule, Level, Source

TAG = "cases"
ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class HoursField(serializers.ListField):
    child = serializers.ListField(
        child=serializers.RegexField(r"^([01]\d|2[0-3]):[0-5]\d$", max_length=5),
        min_length=2,
        max_length=2,
    )


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=["verify", "check"])
    active = serializers.BooleanField(default=True)
    priority = serializers.IntegerField(min_value=-1000, max_value=1000, default=100)
    sources = serializers.ListField(
        child=serializers.ChoiceField(choices=Source.values), default=list, max_length=20
    )
    categories = serializers.ListField(
        child=serializers.CharField(max_length=4),
        default=list,
        max_length=200,
        help_text="class codes; a major (2 digits) covers its minors",
    )
    levels = serializers.ListField(
        child=serializers.ChoiceField(choices=Level.values), default=list, max_length=10
    )
    urgent_only = serializers.BooleanField(default=False)
    area_codes = serializers.ListField(
        child=serializers.RegexField(r"^\d{6}(\d{3}(\d{3})?)?$"),
        default=list,
        max_length=200,
        help_text="district (6), street (9) or community (12 digits) codes",
    )
    hours = HoursField(
        default=list, max_length=10, help_text='[["HH:MM","HH:MM"], …] local; empty: all day'
    )
    target = serializers.ChoiceField(choices=AutoTaskRule.Target.values, default="nearest")
    none_online = serializers.ChoiceField(choices=AutoTaskRule.NoneOnline.values, default="centre")


def rule_json(rule: AutoTaskRule) -> dict:
    return {
        "id": rule.pk,
        "name": rule.name,
        "kind": rule.kind,
        "active": rule.active,
        "priority": rule.priority,
        "sources": rule.sources,
        "categories": sorted(c.code for c in rule.categories.all()),
        "levels": rule.levels,
        "urgent_only": rule.urgent_only,
        "area_codes": rule.area_codes,
        "hours": rule.hours,
        "target": rule.target,
        "none_online": rule.none_online,
    }


class RulesView(APIView):
    @extend_schema(
        operation_id="cases_auto_task_rules",
        tags=[TAG],
        summary="The rules of automatic verification and check tasks (自动派发规则)",
        responses={200: inline_serializer("AutoTaskRules", {"rules": RuleSerializer(many=True)})},
    )
    def get(self, request: Request) -> Response:
        reader(request).require(perms.CASES_REGISTER)
        rules = AutoTaskRule.objects.prefetch_related("categories")
        return Response({"rules": [rule_json(r) for r in rules]})

    @extend_schema(
        operation_id="cases_auto_task_rule_create",
        tags=[TAG],
        summary="Add a rule: which cases get their task automatically, to whom, in which hours",
        request=RuleSerializer,
        responses={201: RuleSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        scope = reader(request)
        data = valid_body(RuleSerializer, request)
        rule = autosend.do_save_auto_task_rule(scope, None, data)
        return Response(rule_json(rule), status=201)


class RuleView(APIView):
    @extend_schema(
        operation_id="cases_auto_task_rule_replace",
        tags=[TAG],
        summary="Replace a rule of automatic tasks",
        request=RuleSerializer,
        responses={200: RuleSerializer, 404: ErrorSerializer, **ERRORS},
    )
    def put(self, request: Request, rule_id: int) -> Response:
        scope = reader(request)
        data = valid_body(RuleSerializer, request)
        return Response(rule_json(autosend.do_save_auto_task_rule(scope, rule_id, data)))

    @extend_schema(
        operation_id="cases_auto_task_rule_delete",
        tags=[TAG],
        summary="Delete a rule of automatic tasks",
        request=None,
        responses={204: None, 404: ErrorSerializer, **ERRORS},
    )
    def delete(self, request: Request, rule_id: int) -> Response:
        autosend.do_delete_auto_task_rule(reader(request), rule_id)
        return Response(status=204)


class PoolTaskSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    kind = serializers.CharField()
    kind_name = serializers.CharField()
    case = serializers.IntegerField()
    number = serializers.CharField()
    category = serializers.CharField()
    address = serializers.CharField()
    grid = serializers.CharField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()


class PoolView(APIView):
    @extend_schema(
        operation_id="cases_task_pool",
        tags=[TAG],
        summary="The tasks waiting in the pools (任务池) of the caller's grids, oldest first",
        responses={200: inline_serializer("TaskPool", {"tasks": PoolTaskSerializer(many=True)})},
    )
    def get(self, request: Request) -> Response:
        scope = reader(request)
        scope.require(perms.CASES_REPORT)
        return Response({"tasks": task_pool.pool_tasks(scope)})


class ClaimView(APIView):
    @extend_schema(
        operation_id="cases_task_claim",
        tags=[TAG],
        summary="Claim a pooled task (认领): the first claim wins, a later one gets 409",
        request=None,
        responses={
            200: inline_serializer("ClaimedTask", {"task": serializers.IntegerField()}),
            404: ErrorSerializer,
            409: ErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request, case_id: int, task_id: int) -> Response:
        task = task_pool.do_claim_task(reader(request), case_id, task_id)
        return Response({"task": task.pk})
