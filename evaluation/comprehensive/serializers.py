"""Request and answer bodies of the comprehensive evaluation configuration (评价配置, spec 4.6):
one model serializer per configuration resource, checked field by field before an action
writes."""

from __future__ import annotations

import re

from rest_framework import serializers

from core.serializers import JsonTypes

from . import formulas
from .models import (
    BaseDataItem,
    BaseDataValue,
    CalculationRule,
    CheckItem,
    EvaluationCycle,
    EvaluationIndicator,
    EvaluationObject,
    Evaluator,
    FieldSamplingRule,
    IntervalRule,
    LogicalRule,
    SampleType,
)

ITEM_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_LEVEL = 3
MAX_POINTS = 1000.0  # no indicator is worth more, nor deducts more, than this many points


def points(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(min_value=0, max_value=MAX_POINTS, **kwargs)


class EvaluationObjectSerializer(JsonTypes, serializers.ModelSerializer):
    class Meta:
        model = EvaluationObject
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "parent",
            "area",
            "city_type",
            "size",
            "participating",
            "group",
        ]

    def validate(self, data):
        kind = data.get("kind", getattr(self.instance, "kind", None))
        area = data.get("area", getattr(self.instance, "area", None))
        parent = data.get("parent", getattr(self.instance, "parent", None))
        if area is not None and kind != EvaluationObject.Kind.CITY and area.level != kind:
            raise serializers.ValidationError({"area": f"a {kind} object takes a {kind} area"})
        if kind == EvaluationObject.Kind.CITY and parent is not None:
            raise serializers.ValidationError({"parent": "a city has no parent object"})
        if kind != EvaluationObject.Kind.CITY and parent is None:
            raise serializers.ValidationError({"parent": f"a {kind} belongs to a city object"})
        if parent is not None and self.instance is not None and parent.pk == self.instance.pk:
            raise serializers.ValidationError({"parent": "an object is not its own parent"})
        return data


class EvaluationCycleSerializer(JsonTypes, serializers.ModelSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)

    class Meta:
        model = EvaluationCycle
        fields = ["id", "name", "year", "starts_on", "ends_on"]

    def validate(self, data):
        starts = data.get("starts_on", getattr(self.instance, "starts_on", None))
        ends = data.get("ends_on", getattr(self.instance, "ends_on", None))
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"ends_on": "the cycle ends before it starts"})
        return data


class EvaluatorSerializer(JsonTypes, serializers.ModelSerializer):
    class Meta:
        model = Evaluator
        fields = ["id", "person", "unit", "objects_bound", "sample_points", "active"]


class BaseDataItemSerializer(JsonTypes, serializers.ModelSerializer):
    class Meta:
        model = BaseDataItem
        fields = ["id", "code", "name", "unit"]

    def validate_code(self, value: str) -> str:
        if not ITEM_CODE.match(value) or value in formulas.FUNCTIONS:
            raise serializers.ValidationError(
                "a data item code is lower-case letters, digits and _ (starting with a letter), "
                "and not min, max, abs or round: formulas name it"
            )
        return value


class BaseDataValueSerializer(JsonTypes, serializers.ModelSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    value = serializers.FloatField(min_value=-1e12, max_value=1e12)

    class Meta:
        model = BaseDataValue
        fields = ["id", "item", "object", "year", "value"]
        validators = []  # the unique triple is a 409 from the database


class EvaluationIndicatorSerializer(JsonTypes, serializers.ModelSerializer):
    full_score = points(required=False)
    level = serializers.IntegerField(read_only=True)

    class Meta:
        model = EvaluationIndicator
        fields = [
            "id",
            "code",
            "short_name",
            "definition",
            "parent",
            "level",
            "advanced",
            "method",
            "scored",
            "full_score",
            "reference_value",
            "sort_order",
        ]

    def validate(self, data):
        parent = data.get("parent", getattr(self.instance, "parent", None))
        level = 1 if parent is None else parent.level + 1
        if level > MAX_LEVEL:
            raise serializers.ValidationError({"parent": "the indicator tree has three levels"})
        if self.instance is not None and parent is not None:
            node = parent
            while node is not None:
                if node.pk == self.instance.pk:
                    raise serializers.ValidationError({"parent": "that would make a cycle"})
                node = node.parent
        data["level"] = level
        return data


class CalculationRuleSerializer(JsonTypes, serializers.ModelSerializer):
    formula = serializers.CharField(max_length=formulas.MAX_LENGTH)
    items = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CalculationRule
        fields = ["id", "indicator", "formula", "items"]

    def validate(self, data):
        formula = data.get("formula", getattr(self.instance, "formula", ""))
        codes = set(BaseDataItem.objects.values_list("code", flat=True))
        try:
            data["items"] = formulas.check(formula, codes)
        except formulas.FormulaError as exc:
            raise serializers.ValidationError({"formula": str(exc)}) from None
        return data


class IntervalRuleSerializer(JsonTypes, serializers.ModelSerializer):
    deduction = points()
    step = serializers.FloatField(min_value=1e-9, max_value=1e12, required=False, allow_null=True)
    lower = serializers.FloatField(min_value=-1e12, max_value=1e12, required=False, allow_null=True)
    upper = serializers.FloatField(min_value=-1e12, max_value=1e12, required=False, allow_null=True)

    class Meta:
        model = IntervalRule
        fields = [
            "id",
            "indicator",
            "lower",
            "lower_closed",
            "upper",
            "upper_closed",
            "step",
            "start",
            "deduction",
            "priority",
        ]

    def validate(self, data):
        def get(name):
            return data.get(name, getattr(self.instance, name, None))

        lower, upper = get("lower"), get("upper")
        if lower is not None and upper is not None and lower > upper:
            raise serializers.ValidationError({"upper": "the upper bound is below the lower"})
        if lower is None and upper is None:
            raise serializers.ValidationError({"lower": "give a lower or an upper bound"})
        if get("step") is not None:
            start = get("start") or IntervalRule.Start.UPPER
            if (start == "upper" and upper is None) or (start == "lower" and lower is None):
                raise serializers.ValidationError(
                    {"start": "a step counts from a bound the interval has"}
                )
        return data


class LogicalRuleSerializer(JsonTypes, serializers.ModelSerializer):
    deduction = points()

    class Meta:
        model = LogicalRule
        fields = ["id", "indicator", "kind", "higher_is_better", "deduction"]


class SampleTypeSerializer(JsonTypes, serializers.ModelSerializer):
    attributes = serializers.ListField(
        child=serializers.CharField(max_length=32), max_length=50, required=False
    )

    class Meta:
        model = SampleType
        fields = ["id", "code", "name", "shape", "attributes"]


class CheckItemSerializer(JsonTypes, serializers.ModelSerializer):
    deduction = points()
    max_deduction = points(required=False, allow_null=True)

    class Meta:
        model = CheckItem
        fields = [
            "id",
            "indicator",
            "sample_type",
            "name",
            "mode",
            "deduction",
            "max_deduction",
            "sort_order",
        ]

    def validate(self, data):
        indicator = data.get("indicator", getattr(self.instance, "indicator", None))
        if indicator is not None and indicator.method != EvaluationIndicator.Method.FIELD:
            raise serializers.ValidationError(
                {"indicator": "check items belong to field-inspected (实地考察) indicators"}
            )
        return data


class FieldSamplingRuleSerializer(JsonTypes, serializers.ModelSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    count = serializers.IntegerField(min_value=1, max_value=10_000)
    min_distance_m = serializers.FloatField(min_value=0, max_value=100_000, required=False)
    seed = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False)
    attributes = serializers.DictField(child=serializers.CharField(max_length=128), required=False)

    class Meta:
        model = FieldSamplingRule
        fields = [
            "id",
            "name",
            "sample_type",
            "object",
            "year",
            "count",
            "area",
            "attributes",
            "stratify",
            "min_distance_m",
            "seed",
            "enabled",
        ]

    def validate_attributes(self, value: dict) -> dict:
        if len(value) > 20:
            raise serializers.ValidationError("at most 20 attributes")
        return value
