"""The case models in the Django admin."""

from django import forms
from django.contrib import admin

from cases.calendar import Season, parse_periods
from cases.models import CalendarDay, SeasonalHours, WorkCalendar

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
