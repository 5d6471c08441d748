"""HTTP endpoint of the category tree (大小类) with conditions, time limits and the citywide
responsibility manual. Thin: parse, call, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.scoping import scope_for
from core import params
from core.errors import ErrorSerializer
from data.models import Category

from .categories import category_tree
from .models import Condition, Level, LimitUnit, State

TAG = "cases"


class CategoryLimitSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=State.choices)
    zone = serializers.CharField(help_text="timing zone kind (core, general, outer); blank: any")
    level = serializers.ChoiceField(choices=Level.choices, allow_blank=True, help_text="blank: any")
    amount = serializers.FloatField()
    unit = serializers.ChoiceField(choices=LimitUnit.choices)


class CategoryCloseConditionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    text = serializers.CharField()


class CategoryRegisterConditionSerializer(CategoryCloseConditionSerializer):
    limits = CategoryLimitSerializer(many=True, help_text="the most specific row applies")


class ManualDepartmentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CategoryManualSerializer(serializers.Serializer):
    department = ManualDepartmentSerializer()
    limit_amount = serializers.FloatField(allow_null=True)
    limit_unit = serializers.CharField(help_text="a limit unit, blank without a limit")
    standard = serializers.CharField(help_text="the handling standard (处置标准)")


class MinorCategorySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="4 digits")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Category.Kind.choices)
    default_department = serializers.CharField()
    handling_limit_hours = serializers.IntegerField(allow_null=True)
    register_conditions = CategoryRegisterConditionSerializer(
        many=True, help_text=Condition.Kind.REGISTER.label
    )
    close_conditions = CategoryCloseConditionSerializer(
        many=True, help_text=Condition.Kind.CLOSE.label
    )
    manual = CategoryManualSerializer(allow_null=True, help_text="the citywide manual entry")


class MajorCategorySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="2 digits")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Category.Kind.choices)
    children = MinorCategorySerializer(many=True)


class CategoryTreeSerializer(serializers.Serializer):
    categories = MajorCategorySerializer(many=True)


class CategoriesView(APIView):
    """The major and minor classes of components and events with their active registration and
    closure conditions (立案条件, 结案条件), the handling time limits of each registration
    condition and the citywide responsibility manual entry (事项指挥手册). Signed-in callers."""

    @extend_schema(
        operation_id="categories",
        tags=[TAG],
        summary="Category tree (大小类) with conditions, time limits and the manual",
        parameters=[
            OpenApiParameter(
                "kind", str, required=False, enum=Category.Kind.values, description="only this kind"
            )
        ],
        responses={200: CategoryTreeSerializer, 400: ErrorSerializer, 401: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        scope_for(request).require_signed_in()
        kind = params.choice(request.query_params, "kind", Category.Kind.values, None)
        return Response({"categories": category_tree(kind)})
