"""Serializer pieces every API body shares.

`JsonTypes` holds a request body to the JSON types the OpenAPI document gives its fields. DRF
is lenient where the document is not: a number is read as text (``"group": 0``), a dict as a
list of its keys (``"grids": {}``), ``""`` as null for a relation, ``"5"`` as the id 5, ``0`` as
false, ``"12"`` as the number 12. A client written from the document never sends those, and a
server that quietly reads them hides the client's bug; so they are refused, naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.relations import (
    ManyRelatedField,
    PrimaryKeyRelatedField,
    RelatedField,
    SlugRelatedField,
)


class JsonTypes:
    """Serializer mixin (before the serializer class): a field's value must have the JSON type
    the document gives it (`wrong_type`); DRF's own validation follows."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for name, field in self.fields.items():  # type: ignore[attr-defined]
                if not field.read_only and name in data:
                    problem = wrong_type(field, data[name])
                    if problem:
                        errors[name] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


def wrong_type(field: serializers.Field, value: Any) -> str | None:
    """Gives why `value` is not of the JSON type `field` documents, or None when it is (null is
    left to the field's allow_null)."""
    if value is None:
        return None
    if isinstance(field, ManyRelatedField | serializers.ListField):
        if not isinstance(value, list):
            return "expected a list"
        child = field.child_relation if isinstance(field, ManyRelatedField) else field.child
        return next((p for p in (wrong_type(child, item) for item in value) if p), None)
    if isinstance(field, serializers.DictField | serializers.JSONField) and _holds_nul(value):
        return "may not hold a NUL character (\\u0000), in a key or a text"
    if isinstance(field, RelatedField) and value == "":
        return "give null for none, not an empty text"
    if isinstance(field, PrimaryKeyRelatedField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "expected an id"
    if isinstance(field, SlugRelatedField | serializers.CharField) and not isinstance(value, str):
        return "not a valid string"
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return "expected true or false"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(field, serializers.IntegerField) and not (number and float(value).is_integer()):
        return "expected an integer"
    if isinstance(field, serializers.FloatField) and not number:
        return "expected a number"
    return None


def _holds_nul(value: Any) -> bool:
    """Whether a JSON value holds NUL in any key or text (PostgreSQL's jsonb refuses it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in str(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False
