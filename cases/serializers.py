"""Case bodies: what a report sends, what an action sends, and the case as the API gives it."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from core.serializers import JsonTypes
from data.models import Category

from .models import Case, DispatchMode, Level, Source


class ReporterSerializer(JsonTypes, serializers.Serializer):
    name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    phone = serializers.RegexField(
        r"^[0-9+\-() ]{0,32}$", required=False, allow_blank=True, default=""
    )
    private = serializers.BooleanField(required=False, default=False)
    callback_wanted = serializers.BooleanField(required=False, default=False)


class CaseInputSerializer(JsonTypes, serializers.Serializer):
    """A report (上报). The point is `lon`/`lat` in `crs` (default WGS84; any crs `locate`
    accepts, e.g. gcj02 from a phone's map)."""

    source = serializers.ChoiceField(choices=Source.choices)
    kind = serializers.ChoiceField(choices=Category.Kind.choices)
    category = serializers.RegexField(r"^\d{4}$", help_text="the minor class's 4-digit code")
    level = serializers.ChoiceField(choices=Level.choices, required=False, default=Level.ROUTINE)
    urgent = serializers.BooleanField(required=False, default=False)
    description = serializers.CharField(max_length=4000)
    address = serializers.CharField(max_length=256, required=False, allow_blank=True, default="")
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    crs = serializers.CharField(max_length=32, required=False, default="EPSG:4326")
    component = serializers.CharField(
        max_length=16, required=False, allow_blank=True, default="", help_text="16-digit code"
    )
    reporter = ReporterSerializer(required=False)
    custom_deadline = serializers.DateTimeField(required=False, allow_null=True, default=None)
    report_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="the device's key for this report (a UUID it makes): sent again, the report "
        "answers 200 with the case the first made instead of making another",
    )

    def validate_custom_deadline(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("a custom deadline lies in the future")
        return value


class ActionInputSerializer(JsonTypes, serializers.Serializer):
    """The body of ``POST /cases/{id}/actions/{action}``; each action reads what it needs."""

    version = serializers.IntegerField(min_value=1, help_text="the version you acted on")
    opinion = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="required by not_accept, not_register, feedback, rework, redispatch, "
        "send_to_register, dismiss_duplicate (why), request_supplement (what to collect) and supplement (what "
        "was found); 400 with field opinion otherwise",
    )
    condition = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="register / close: condition id"
    )
    department = serializers.CharField(
        max_length=32, required=False, allow_null=True, default=None, help_text="dispatch: code"
    )
    inspector = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="request_verify / request_check / request_supplement: the inspector's user id",
    )
    pool = serializers.BooleanField(
        required=False,
        default=False,
        help_text="request_verify / request_check: into the grid's task pool (任务池) instead",
    )
    duplicate = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="link_duplicate: the id of the earlier closed case this one duplicates",
    )
    valid = serializers.BooleanField(required=False, allow_null=True, default=None)
    passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    level = serializers.ChoiceField(choices=Level.choices, required=False, allow_null=True)
    mode = serializers.ChoiceField(
        choices=DispatchMode.choices,
        required=False,
        default=DispatchMode.NORMAL,
        help_text="dispatch / redispatch: normal, forced (强制派遣), parallel (并行派遣) or multi "
        "(多部门派遣); parallel and multi name `departments`",
    )
    departments = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        allow_empty=True,
        default=list,
        help_text="dispatch (parallel, multi): the department codes; rework of a parallel case: "
        "the departments to send back (default all)",
    )
    assisting = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        allow_null=True,
        default=None,
        help_text="dispatch: assisting department codes (协办)",
    )
    replace = serializers.CharField(
        max_length=32,
        required=False,
        allow_null=True,
        default=None,
        help_text="redispatch of a parallel case: the department whose share moves",
    )
    one_click = serializers.BooleanField(
        required=False,
        default=False,
        help_text="dispatch: to the manual's department and assisting departments (一键派遣)",
    )


class CaseEditSerializer(JsonTypes, serializers.Serializer):
    """An edit of a case's fields outside a transition (each change is recorded)."""

    version = serializers.IntegerField(min_value=1)
    description = serializers.CharField(max_length=4000, required=False)
    address = serializers.CharField(max_length=256, required=False, allow_blank=True)
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    urgent = serializers.BooleanField(required=False)
    custom_deadline = serializers.DateTimeField(required=False, allow_null=True)


class PlacementCorrectionSerializer(JsonTypes, serializers.Serializer):
    """A placement correction (立案修正): the right point and why."""

    version = serializers.IntegerField(min_value=1)
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    crs = serializers.CharField(max_length=32, required=False, default="EPSG:4326")
    opinion = serializers.CharField(max_length=2000)


class CategoryRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    major = serializers.CharField(help_text="the major class's name")


class CaseAreaSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class PlacementSnapshotSerializer(serializers.Serializer):
    district = CaseAreaSerializer(allow_null=True)
    street = CaseAreaSerializer(allow_null=True)
    community = CaseAreaSerializer(allow_null=True)
    unit_grid = serializers.CharField(allow_null=True)
    responsibility_grid = CaseAreaSerializer(allow_null=True)
    timing_zone = serializers.CharField(allow_null=True)
    road = serializers.CharField(allow_null=True)


class DepartmentRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ReporterOutSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    private = serializers.BooleanField()
    callback_wanted = serializers.BooleanField()


class CaseSerializer(serializers.Serializer):
    """A case as every case endpoint gives it; `reporter` is null for callers who may not
    see it, `actions` the action names the caller may take now."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    state_name = serializers.CharField()
    source = serializers.CharField()
    category = CategoryRefSerializer()
    level = serializers.CharField()
    urgent = serializers.BooleanField()
    description = serializers.CharField()
    address = serializers.CharField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    placement = PlacementSnapshotSerializer()
    component = serializers.CharField(allow_null=True)
    reporter = ReporterOutSerializer(allow_null=True)
    reported_at = serializers.DateTimeField()
    department = DepartmentRefSerializer(allow_null=True)
    register_condition = serializers.IntegerField(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    deadline_state = serializers.CharField()
    handling_deadline = serializers.DateTimeField(allow_null=True)
    custom_deadline = serializers.DateTimeField(allow_null=True)
    check_passed = serializers.BooleanField(allow_null=True)
    rework_count = serializers.IntegerField()
    dispatch_mode = serializers.ChoiceField(
        choices=DispatchMode.choices, help_text="how it was dispatched (派遣方式)"
    )
    similar_count = serializers.IntegerField(
        help_text="similar cases (相似案件) found when it was reported: GET /cases/{id}/similar"
    )
    parent = serializers.IntegerField(
        allow_null=True, help_text="multi-department dispatch: the case it was split from"
    )
    self_handled = serializers.BooleanField(help_text="reported as fixed on the spot (自行处置)")
    acceptor = serializers.IntegerField(
        allow_null=True, help_text="user id of the acceptor it is assigned to (cases.assignment)"
    )
    duplicate_of = serializers.IntegerField(
        allow_null=True, help_text="linked as a repeat (重复案件) of this earlier closed case"
    )
    closed_at = serializers.DateTimeField(allow_null=True)
    held_since = serializers.DateTimeField(allow_null=True, help_text="on hold (挂账) since")
    hold_until = serializers.DateTimeField(allow_null=True, help_text="released automatically then")
    actions = serializers.ListField(child=serializers.CharField())
    version = serializers.IntegerField()


class RuleHitSerializer(serializers.Serializer):
    """A no-report rule a report hits (`cases.report_rules`)."""

    kind = serializers.ChoiceField(
        choices=["area", "road", "hours"],
        help_text="area: a controlled area (管控区域); road: 上报路段; hours: 上报时段",
    )
    id = serializers.IntegerField()
    name = serializers.CharField()
    action = serializers.ChoiceField(choices=["forbid", "warn"])
    action_name = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    requirement = serializers.CharField(allow_blank=True, help_text="采集要求")


class ReportedCaseSerializer(CaseSerializer):
    """A case just reported, with the warnings of the rules it hit."""

    warnings = RuleHitSerializer(many=True)


def local_time(value):
    """An instant as RFC 3339 in local (Asia/Shanghai) time, or None."""
    return timezone.localtime(value).isoformat() if value else None


def _ref(code: str, name: str):
    return {"code": code, "name": name} if code else None


def case_json(case: Case, *, reporter_visible: bool, actions: list[str]) -> dict:
    """The case as `CaseSerializer` documents it (built by hand: lists give 50 at a time)."""
    category = case.category
    return {
        "id": case.pk,
        "number": case.number,
        "state": case.state,
        "state_name": case.get_state_display(),
        "source": case.source,
        "category": {
            "code": category.code,
            "name": category.name,
            "kind": category.kind,
            "major": category.parent.name if category.parent_id else "",
        },
        "level": case.level,
        "urgent": case.urgent,
        "description": case.description,
        "address": case.address,
        "lon": round(case.geom.x, 7),
        "lat": round(case.geom.y, 7),
        "placement": {
            "district": _ref(case.district_code, case.district_name),
            "street": _ref(case.street_code, case.street_name),
            "community": _ref(case.community_code, case.community_name),
            "unit_grid": case.unit_grid_code or None,
            "responsibility_grid": _ref(case.grid_code, case.grid_name),
            "timing_zone": case.timing_zone or None,
            "road": case.road_name or None,
        },
        "component": case.component_code or None,
        "reporter": (
            {
                "name": case.reporter_name,
                "phone": case.reporter_phone,
                "private": case.reporter_private,
                "callback_wanted": case.callback_wanted,
            }
            if reporter_visible
            else None
        ),
        "reported_at": local_time(case.reported_at),
        "department": (
            {"code": case.department.code, "name": case.department.name}
            if case.department_id
            else None
        ),
        "register_condition": case.register_condition_id,
        "deadline": local_time(case.deadline),
        "deadline_state": case.deadline_state,
        "handling_deadline": local_time(case.handling_deadline),
        "custom_deadline": local_time(case.custom_deadline),
        "check_passed": case.check_passed,
        "rework_count": case.rework_count,
        "dispatch_mode": case.dispatch_mode,
        "parent": case.parent_id,
        "self_handled": case.self_handled,
        "similar_count": case.similar_count,
        "acceptor": case.acceptor_id,
        "duplicate_of": case.duplicate_of_id,
        "closed_at": local_time(case.closed_at),
        "held_since": local_time(case.held_since),
        "hold_until": local_time(case.hold_until),
        "actions": actions,
        "version": case.version,
    }


class EventSerializer(serializers.Serializer):
    action = serializers.CharField()
    from_state = serializers.CharField(source="from")
    to = serializers.CharField()
    actor = serializers.CharField()
    position = serializers.CharField()
    department = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()
    opinion = serializers.CharField()
    details = serializers.DictField()


class HistorySerializer(serializers.Serializer):
    events = EventSerializer(many=True)


class BoxSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    count = serializers.IntegerField()
    new = serializers.IntegerField(
        help_text="cases that came into the box since the caller last opened its list (新到)"
    )


class BoxesSerializer(serializers.Serializer):
    boxes = BoxSerializer(many=True)
