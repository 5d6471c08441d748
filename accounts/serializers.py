"""Request and response shapes of the accounts API."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from spatial.models import AdminArea, Layer, ResponsibilityGrid
from accounts import permissions as perms
from accounts.areas import set_person_areas
from accounts.models import Department, LoginLog, OperationLog, Person, Position, Role
from accounts.services import check_password, create_person
from core.serializers import JsonTypes


class TokenRequestSerializer(JsonTypes, serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    token_type = serializers.CharField()
    expires_at = serializers.DateTimeField()


class PasswordChangeSerializer(JsonTypes, serializers.Serializer):
    old_password = serializers.CharField(max_length=1024, trim_whitespace=False)
    new_password = serializers.CharField(max_length=1024, trim_whitespace=False)


class ThrottleEntrySerializer(serializers.Serializer):
    """A sign-in counter with failures (accounts.throttle.Entry)."""

    kind = serializers.ChoiceField(
        choices=["username", "client", "pair"],
        help_text="username: from every client; client: any username; pair: username at client",
    )
    username = serializers.CharField(allow_null=True)
    client = serializers.CharField(allow_null=True)
    failures = serializers.IntegerField()
    last_failure_at = serializers.DateTimeField()
    until = serializers.DateTimeField(
        allow_null=True, help_text="the next attempt must wait until then (null: it need not)"
    )


class DepartmentSerializer(JsonTypes, serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), allow_null=True, required=False
    )
    area = serializers.SlugRelatedField(
        slug_field="code", queryset=AdminArea.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Department
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "parent",
            "area",
            "contact_name",
            "phone",
            "address",
            "sort_order",
            "active",
        ]

    def validate_parent(self, parent):
        node = parent
        while node is not None and self.instance is not None:
            if node.pk == self.instance.pk:
                raise serializers.ValidationError("a department cannot be its own ancestor")
            node = node.parent
        return parent


class PositionSerializer(JsonTypes, serializers.ModelSerializer):
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(perms.ALL_PERMISSIONS)), required=False
    )
    layers = serializers.SlugRelatedField(
        slug_field="key", queryset=Layer.objects.all(), many=True, required=False
    )
    # The front end's page names (["cases/accept", "map"]) and its column choices per page.
    menus = serializers.ListField(
        child=serializers.CharField(max_length=200), max_length=200, required=False
    )
    columns = serializers.DictField(required=False)

    class Meta:
        model = Position
        fields = [
            "id",
            "key",
            "name",
            "description",
            "permissions",
            "all_layers",
            "layers",
            "menus",
            "columns",
            "sort_order",
        ]


class PersonSerializer(JsonTypes, serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", max_length=150)
    password = serializers.CharField(
        write_only=True, required=False, max_length=1024, trim_whitespace=False
    )
    is_active = serializers.BooleanField(source="user.is_active", required=False)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), allow_null=True, required=False
    )
    positions = serializers.SlugRelatedField(
        slug_field="key", queryset=Position.objects.all(), many=True, required=False
    )
    admin_areas = serializers.SlugRelatedField(
        slug_field="code", queryset=AdminArea.objects.all(), many=True, required=False
    )
    grids = serializers.SlugRelatedField(
        slug_field="code", queryset=ResponsibilityGrid.objects.all(), many=True, required=False
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "username",
            "password",
            "is_active",
            "name",
            "department",
            "positions",
            "work_card_no",
            "phone",
            "admin_areas",
            "grids",
        ]

    def validate_username(self, value: str) -> str:
        user_model = get_user_model()
        field = user_model._meta.get_field("username")
        for validator in field.validators:
            validator(value)
        taken = user_model.objects.filter(username=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.user_id)
        if taken.exists():
            raise serializers.ValidationError("username is taken", code="unique")
        return value

    def create(self, validated):
        user = validated.pop("user", {})
        return create_person(
            user["username"],
            validated.pop("password", None),
            positions=validated.pop("positions", []),
            admin_areas=validated.pop("admin_areas", []),
            grids=validated.pop("grids", []),
            **validated,
        )

    @transaction.atomic
    def update(self, person, validated):
        user_fields = validated.pop("user", {})
        user = person.user
        for name, value in user_fields.items():
            setattr(user, name, value)
        password = validated.pop("password", None)
        if password:
            check_password(password, user)
            user.set_password(password)
        user.save()
        if "positions" in validated:
            person.positions.set(validated.pop("positions"))
        areas = validated.pop("admin_areas", None)
        grids = validated.pop("grids", None)
        for name, value in validated.items():
            setattr(person, name, value)
        person.save()
        if areas is not None or grids is not None:
            set_person_areas(
                person,
                areas if areas is not None else person.admin_areas.all(),
                grids if grids is not None else person.grids.all(),
            )
        return person


class RoleSerializer(JsonTypes, serializers.ModelSerializer):
    positions = serializers.SlugRelatedField(
        slug_field="key", queryset=Position.objects.all(), many=True, required=False
    )
    admin_areas = serializers.SlugRelatedField(
        slug_field="code", queryset=AdminArea.objects.all(), many=True, required=False
    )
    grids = serializers.SlugRelatedField(
        slug_field="code", queryset=ResponsibilityGrid.objects.all(), many=True, required=False
    )

    class Meta:
        model = Role
        fields = ["id", "key", "name", "description", "positions", "admin_areas", "grids"]


class ApplyRoleSerializer(JsonTypes, serializers.Serializer):
    # A list of one or more (min_length documents it: allow_empty on a relation does not).
    people = serializers.ListField(
        child=serializers.PrimaryKeyRelatedField(queryset=Person.objects.all()), min_length=1
    )


class PermissionGrantSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    granted_by = serializers.ListField(child=serializers.CharField())


class LayerGrantSerializer(serializers.Serializer):
    key = serializers.CharField()
    granted_by = serializers.ListField(child=serializers.CharField())


class EffectivePermissionsSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    username = serializers.CharField()
    sees_everything = serializers.BooleanField()
    permissions = PermissionGrantSerializer(many=True)
    all_layers = serializers.BooleanField()
    layers = LayerGrantSerializer(many=True)
    has_area = serializers.BooleanField()


class DepartmentBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "kind"]


class PositionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Position
        fields = ["key", "name", "menus", "columns"]


@extend_schema_field(OpenApiTypes.OBJECT)
class GeoJSONField(serializers.Field):
    """A geometry as a GeoJSON object (or null)."""

    def to_representation(self, value):
        return json.loads(value.geojson) if value is not None else None


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField()
    name = serializers.CharField()
    is_superuser = serializers.BooleanField()
    department = DepartmentBriefSerializer(allow_null=True)
    positions = PositionBriefSerializer(many=True)
    permissions = serializers.ListField(child=serializers.CharField())
    all_layers = serializers.BooleanField()
    layers = serializers.ListField(child=serializers.CharField())
    admin_areas = serializers.ListField(child=serializers.CharField())
    grids = serializers.ListField(child=serializers.CharField())
    area = GeoJSONField(
        allow_null=True,
        help_text="the union of the person's areas, GeoJSON in EPSG:4326 (null: no area)",
    )
    scope_key = serializers.CharField()


class LoginLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = LoginLog
        fields = ["id", "at", "user", "username", "ip", "outcome", "method", "user_agent"]


class OperationLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = OperationLog
        fields = [
            "id",
            "at",
            "user",
            "username",
            "positions",
            "method",
            "path",
            "action",
            "target",
            "status",
            "outcome",
            "ip",
            "duration_ms",
        ]
