"""The case models in the Django admin."""

from django import forms
from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from cases.calendar import Season, parse_periods
from cases.models import (
    ApiKey,
    CalendarDay,
    CollectionSuspension,
    Condition,
    ConveniencePoint,
    DuplicateRule,
    ManualEntry,
    ReportHours,
    RoadReportRule,
    SeasonalHours,
    SimilarRule,
    TimeLimit,
    WorkCalendar,
    Workflow,
    WorkflowStage,
    WorkflowTransition,
)
from data.models import Category

# --- the work calendar (工作日历) -----------------------------------------------------------


def _checked_periods(form: forms.ModelForm, *, required: bool) -> list | None:
    """Gives the form's `periods` if they read as working periods, else a form error."""
    periods = form.cleaned_data.get("periods")
    if periods is None and not required:
        return None
    try:
        if not isinstance(periods, list) or (required and not periods):
            raise ValueError('give [["HH:MM","HH:MM"], …] pairs')
        parse_periods(periods)
    except (TypeError, ValueError) as error:
        raise forms.ValidationError(f"not working periods: {error}") from None
    return periods


class WorkCalendarForm(forms.ModelForm):
    class Meta:
        model = WorkCalendar
        fields = "__all__"

    def clean_periods(self):
        return _checked_periods(self, required=True)

    def clean_warning_ratio(self):
        ratio = self.cleaned_data.get("warning_ratio")
        if ratio is not None and not 0 < ratio <= 1:
            raise forms.ValidationError("a share within (0, 1]")
        return ratio


class SeasonalHoursForm(forms.ModelForm):
    class Meta:
        model = SeasonalHours
        fields = "__all__"

    def clean_periods(self):
        return _checked_periods(self, required=True)

    def clean(self):
        data = super().clean()
        try:
            Season(data.get("start") or "", data.get("end") or "", ())
        except ValueError as error:
            raise forms.ValidationError(f"start and end are month-days MM-DD: {error}") from None
        return data


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = "__all__"

    def clean_periods(self):
        return _checked_periods(self, required=False)


class SeasonalHoursInline(admin.TabularInline):
    model = SeasonalHours
    form = SeasonalHoursForm
    extra = 0


@admin.register(WorkCalendar)
class WorkCalendarAdmin(admin.ModelAdmin):
    form = WorkCalendarForm
    list_display = ["key", "name", "periods", "use_official_holidays", "is_default"]
    search_fields = ["key", "name"]
    inlines = [SeasonalHoursInline]


@admin.register(SeasonalHours)
class SeasonalHoursAdmin(admin.ModelAdmin):
    form = SeasonalHoursForm
    list_display = ["calendar", "name", "start", "end", "periods"]
    list_filter = ["calendar"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ["calendar", "date", "working", "periods", "note"]
    list_filter = ["calendar", "working"]
    date_hierarchy = "date"


# --- conditions, time limits and the manual (立案结案条件, 小类计时, 事项指挥手册) ---------------


class TimeLimitInline(admin.TabularInline):
    model = TimeLimit
    extra = 0


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 0
    fields = ["kind", "code", "text", "sort_order", "active"]
    show_change_link = True


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["category", "kind", "code", "text", "sort_order", "active"]
    list_filter = ["kind", "active", "category__kind"]
    search_fields = ["category__code", "category__name", "code", "text"]
    list_select_related = ["category"]
    raw_id_fields = ["category"]
    inlines = [TimeLimitInline]


@admin.register(ManualEntry)
class ManualEntryAdmin(admin.ModelAdmin):
    list_display = ["category", "area", "department", "limit_amount", "limit_unit", "auto_dispatch"]
    list_filter = ["category__kind", "department", "auto_dispatch"]
    search_fields = ["category__code", "category__name", "department__name"]
    list_select_related = ["category", "area", "department"]
    raw_id_fields = ["category", "area"]
    filter_horizontal = ["assisting"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The code tables' classes with their conditions. Names, departments and limits come
    from `data/code_tables/` after every migrate: edit the files for those."""

    list_display = ["kind", "code", "name", "parent", "default_department", "handling_limit_hours"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]
    inlines = [ConditionInline]


# --- workflow definitions (流程定义) ---------------------------------------------------------


class WorkflowStageInline(admin.TabularInline):
    model = WorkflowStage
    extra = 0


class WorkflowTransitionInline(admin.TabularInline):
    model = WorkflowTransition
    extra = 0


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    """The workflow definitions as data: which cases a definition takes (kind, source, the
    self-handled flag), the state they start in, its stages' limits and its transitions. An
    edit reaches every process within seconds (`cases.workflows`); a case keeps its workflow."""

    list_display = ["key", "name", "kind", "source", "self_handled", "initial_state", "priority"]
    list_filter = ["self_handled", "source", "active"]
    search_fields = ["key", "name"]
    inlines = [WorkflowStageInline, WorkflowTransitionInline]


# --- rules at report time: no-report rules (非采集区域) and similar cases (相似案件) -----------


class _WindowsForm(forms.ModelForm):
    """Checks `daily_windows` as ``[["HH:MM", "HH:MM"], …]`` (end before start: past midnight)."""

    def clean_daily_windows(self):
        from core.errors import BadInput

        from cases.report_rules import parse_windows

        try:
            return parse_windows(self.cleaned_data.get("daily_windows"))
        except BadInput as error:
            raise forms.ValidationError(error.message) from None


class RoadReportRuleForm(_WindowsForm):
    class Meta:
        model = RoadReportRule
        fields = "__all__"


class ReportHoursForm(_WindowsForm):
    class Meta:
        model = ReportHours
        fields = "__all__"


@admin.register(RoadReportRule)
class RoadReportRuleAdmin(admin.ModelAdmin):
    form = RoadReportRuleForm
    list_display = ("name", "road_name", "road", "buffer_m", "action", "active")
    list_filter = ("action", "active")
    raw_id_fields = ("road",)


@admin.register(ReportHours)
class ReportHoursAdmin(admin.ModelAdmin):
    form = ReportHoursForm
    list_display = ("category", "daily_windows", "action", "active")
    list_filter = ("action", "active")


@admin.register(SimilarRule)
class SimilarRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "metres", "hours", "related", "refuse")
    list_filter = ("refuse",)


@admin.register(DuplicateRule)
class DuplicateRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "days", "metres", "active")
    list_filter = ("active",)


@admin.register(CollectionSuspension)
class CollectionSuspensionAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "state", "valid_from", "valid_to", "applied_at")
    list_filter = ("state",)
    readonly_fields = ("state", "answered_by", "answered_at", "opinion", "area")


# --- the public service (公众服务, cases.open311) ----------------------------------------------


@admin.register(ConveniencePoint)
class ConveniencePointAdmin(GISModelAdmin):
    """Convenience points (便民设施) the public map shows near the citizen."""

    list_display = ("name", "kind", "address", "contact", "opening_hours", "source")
    list_filter = ("kind",)
    search_fields = ("name", "address")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Open311 API keys: made by `manage.py open311_keys create` (the key is shown once);
    here they are listed, their quota changed and revoked."""

    list_display = ("name", "channel", "prefix", "hourly_quota", "created_at", "revoked_at")
    list_filter = ("channel",)
    readonly_fields = ("name", "channel", "digest", "prefix", "created_at", "revoked_at")
    fields = (*readonly_fields, "hourly_quota", "revoked_reason")
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # a key is made where it can be shown once: open311_keys create

    @admin.action(description="Revoke the chosen keys (they answer 403 from now on)")
    def revoke(self, request, queryset) -> None:
        from accounts.scoping import scope_for
        from cases.open311.keys import do_revoke_api_key

        scope = scope_for(request)
        for key in queryset:
            do_revoke_api_key(scope, name=key.name, reason=key.revoked_reason or "admin")
