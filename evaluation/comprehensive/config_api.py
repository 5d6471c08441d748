"""The configuration API of comprehensive evaluation (评价配置): for each resource of
`config.RESOURCES`, ``GET/POST /api/v1/evaluation/config/<resource>`` and
``GET/PATCH/DELETE /api/v1/evaluation/config/<resource>/<id>``, built by one small factory;
and ``GET /api/v1/evaluation/indicators/tree``."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from core.errors import ErrorSerializer

from .http import SignedInView
from . import config
from .models import EvaluationIndicator

TAG = "evaluation"
ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 409)}
MAX_ROWS = 5000


def _snake(name: str) -> str:
    return name.replace("-", "_")


def list_view(resource: config.Resource) -> type[APIView]:
    """The list and create view of one resource."""
    many = inline_serializer(
        f"Evaluation{resource.serializer.__name__}List",
        {"items": resource.serializer(many=True), "count": drf.IntegerField()},
    )

    class View(SignedInView):
        @extend_schema(
            operation_id=f"evaluation_config_{_snake(resource.name)}",
            tags=[TAG],
            summary=f"The {resource.name} ({resource.label}) the caller may read",
            parameters=[OpenApiParameter(f, str, required=False) for f in resource.filters],
            responses={200: many, **ERRORS},
        )
        def get(self, request: Request) -> Response:
            found = config.rows(scope_for(request), resource.name, request.query_params)
            items = list(found[:MAX_ROWS])
            return Response(
                {"items": resource.serializer(items, many=True).data, "count": found.count()}
            )

        @extend_schema(
            operation_id=f"evaluation_config_{_snake(resource.name)}_create",
            tags=[TAG],
            summary=f"Add a {resource.label} (evaluation.manage)",
            request=resource.serializer,
            responses={201: resource.serializer, **ERRORS},
        )
        def post(self, request: Request) -> Response:
            saved = config.do_save_config(scope_for(request), resource.name, data=request.data)
            return Response(resource.serializer(saved).data, status=201)

    View.__name__ = f"{resource.serializer.__name__}ListView"
    return View


def detail_view(resource: config.Resource) -> type[APIView]:
    """The read, change and delete view of one row of a resource."""

    class View(SignedInView):
        @extend_schema(
            operation_id=f"evaluation_config_{_snake(resource.name)}_read",
            tags=[TAG],
            summary=f"One {resource.label}",
            responses={200: resource.serializer, **ERRORS},
        )
        def get(self, request: Request, pk: int) -> Response:
            scope = scope_for(request)
            config.require_reader(scope)
            return Response(resource.serializer(config.row(scope, resource.name, pk)).data)

        @extend_schema(
            operation_id=f"evaluation_config_{_snake(resource.name)}_edit",
            tags=[TAG],
            summary=f"Change a {resource.label} (evaluation.manage): the fields given",
            request=resource.serializer,
            responses={200: resource.serializer, **ERRORS},
        )
        def patch(self, request: Request, pk: int) -> Response:
            saved = config.do_save_config(
                scope_for(request), resource.name, data=request.data, pk=pk
            )
            return Response(resource.serializer(saved).data)

        @extend_schema(
            operation_id=f"evaluation_config_{_snake(resource.name)}_delete",
            tags=[TAG],
            summary=f"Delete a {resource.label} (evaluation.manage); 409 while in use",
            responses={204: None, **ERRORS},
        )
        def delete(self, request: Request, pk: int) -> Response:
            config.do_delete_config(scope_for(request), resource.name, pk=pk)
            return Response(status=204)

    View.__name__ = f"{resource.serializer.__name__}DetailView"
    return View


TreeNode = inline_serializer(
    "EvaluationIndicatorNode",
    {
        "id": drf.IntegerField(),
        "code": drf.CharField(),
        "short_name": drf.CharField(),
        "level": drf.IntegerField(),
        "method": drf.CharField(),
        "advanced": drf.BooleanField(),
        "full_score": drf.FloatField(),
        "children": drf.ListField(child=drf.DictField(), help_text="nodes of the next level"),
    },
)


def indicator_tree() -> list[dict]:
    """The indicator system as nested nodes, each level in its order."""
    nodes = {
        i.pk: {
            "id": i.pk,
            "code": i.code,
            "short_name": i.short_name,
            "level": i.level,
            "method": i.method,
            "advanced": i.advanced,
            "full_score": i.full_score,
            "children": [],
            "parent": i.parent_id,
        }
        for i in EvaluationIndicator.objects.order_by("level", "sort_order", "code")
    }
    roots = []
    for node in nodes.values():
        parent = node.pop("parent")
        (nodes[parent]["children"] if parent else roots).append(node)
    return roots


class IndicatorTreeView(SignedInView):
    @extend_schema(
        operation_id="evaluation_indicator_tree",
        tags=[TAG],
        summary="The three-level indicator system (评价指标体系) as a tree",
        responses={200: inline_serializer("EvaluationIndicatorTree", {"tree": TreeNode}), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        config.require_reader(scope_for(request))
        return Response({"tree": indicator_tree()})


urlpatterns = [
    path("evaluation/indicators/tree", IndicatorTreeView.as_view(), name="evaluation-tree"),
]
for _resource in config.RESOURCES.values():
    urlpatterns += [
        path(
            f"evaluation/config/{_resource.name}",
            list_view(_resource).as_view(),
            name=f"evaluation-config-{_resource.name}",
        ),
        path(
            f"evaluation/config/{_resource.name}/<int:pk>",
            detail_view(_resource).as_view(),
            name=f"evaluation-config-{_resource.name}-detail",
        ),
    ]
