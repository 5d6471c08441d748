"""The organization in the Django admin (机构设置)."""

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from accounts.areas import refresh_person_area
from accounts.models import (
    ApiToken,
    Department,
    LoginLog,
    LoginPolicy,
    OperationLog,
    Person,
    Position,
    Role,
)
from accounts.pages import AdminSignInForm
from accounts.services import apply_role

# The admin's sign-in says how long to wait when the attempt was throttled.
admin.site.login_form = AdminSignInForm


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "contact_name", "phone", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent", "area"]


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "all_layers", "sort_order"]
    search_fields = ["key", "name"]
    filter_horizontal = ["layers"]


@admin.register(Person)
class PersonAdmin(GISModelAdmin):
    list_display = ["user", "name", "department", "work_card_no", "phone", "demo"]
    list_filter = ["department", "positions", "demo"]
    search_fields = ["user__username", "name", "work_card_no", "phone"]
    filter_horizontal = ["positions"]
    raw_id_fields = ["user", "admin_areas", "grids"]
    readonly_fields = ["area_geom", "area_digest"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        refresh_person_area(form.instance.pk)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["key", "name"]
    filter_horizontal = ["positions"]
    raw_id_fields = ["admin_areas", "grids"]
    actions = ["apply_to_everyone_in_role_positions"]

    @admin.action(description="Re-apply to the people already holding the role's positions")
    def apply_to_everyone_in_role_positions(self, request, queryset):
        for role in queryset:
            people = Person.objects.filter(positions__in=role.positions.all()).distinct()
            apply_role(role, people)


@admin.register(LoginPolicy)
class LoginPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "max_failures",
        "max_failures_per_ip",
        "max_failures_per_username",
        "failure_window_minutes",
        "throttle_base_seconds",
        "throttle_max_seconds",
        "min_password_length",
        "min_classes",
        "token_hours",
    ]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["key_hash", "prefix", "created_at", "last_used_at", "client_ip"]
    search_fields = ["user__username", "prefix"]


@admin.register(LoginLog)
class LoginLogAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "ip", "outcome", "method"]
    list_filter = ["outcome", "method"]
    search_fields = ["username", "ip"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OperationLog)
class OperationLogAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "method", "action", "target", "status", "outcome", "ip"]
    list_filter = ["outcome", "method"]
    search_fields = ["username", "action", "path"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False
