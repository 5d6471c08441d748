"""HTTP endpoint of the work calendar: the deadline of a time limit. Thin: parse, call, render."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import params
from core.access import public
from core.errors import BadInput, ErrorSerializer

from . import calendars
from .calendar import MAX_WORKING_DAYS, MAX_WORKING_HOURS
from .models import LimitUnit, WorkCalendar

# The amount parameters, the unit each counts in, and the most each takes.
AMOUNTS = {
    "hours": (LimitUnit.WORKING_HOURS, MAX_WORKING_HOURS),
    "days": (LimitUnit.WORKING_DAYS, MAX_WORKING_DAYS),
    "natural_days": (LimitUnit.NATURAL_DAYS, 36_500),
    "natural_hours": (LimitUnit.NATURAL_HOURS, 876_000),
}
ZONE_KINDS = ("core", "general", "outer")


class DeadlineSerializer(serializers.Serializer):
    deadline = serializers.DateTimeField(help_text="the deadline, Asia/Shanghai time")
    start = serializers.DateTimeField(help_text="the start as given, in Asia/Shanghai time")
    amount = serializers.FloatField()
    unit = serializers.ChoiceField(choices=LimitUnit.values)
    zone = serializers.ChoiceField(choices=ZONE_KINDS, allow_null=True)
    calendar = serializers.CharField(help_text="key of the calendar used")


def _amount(query) -> tuple[str, float]:
    """Gives the one amount parameter given and its value; `BadInput` for none or several."""
    given = [name for name in AMOUNTS if query.get(name) is not None]
    if not given:
        raise BadInput(f"give one of {', '.join(AMOUNTS)}", field="hours")
    if len(given) > 1:
        raise BadInput(f"give only one of {', '.join(given)}", field=given[1])
    name = given[0]
    most = AMOUNTS[name][1]
    if name == "days":
        return name, params.integer(query, name, low=0, high=most)
    return name, params.number(query, name, low=0, high=most)


@public
class DeadlineView(APIView):
    """The deadline of a time limit (时限) on a work calendar.

    Public: it reveals nothing but the calendar. Every timing zone (计时区域) runs on the same
    calendar, so `zone` is only echoed; a calendar other than the default one is named by its
    key. Working days are the same clock time N working days later, counted from the next
    working moment when the start is outside working time."""

    @extend_schema(
        operation_id="calendar_deadline",
        summary="Deadline of a time limit on the work calendar (工作日历)",
        parameters=[
            OpenApiParameter(
                "start",
                OpenApiTypes.DATETIME,
                required=True,
                description="when the limit starts (without an offset: Asia/Shanghai time)",
            ),
            OpenApiParameter("hours", float, description=f"working hours (0..{MAX_WORKING_HOURS})"),
            OpenApiParameter(
                "days", int, description=f"whole working days (0..{MAX_WORKING_DAYS})"
            ),
            OpenApiParameter("natural_days", float, description="calendar days (0..36500)"),
            OpenApiParameter("natural_hours", float, description="elapsed hours (0..876000)"),
            OpenApiParameter(
                "zone",
                str,
                enum=list(ZONE_KINDS),
                description="timing zone kind; echoed (every zone runs on the same calendar)",
            ),
            OpenApiParameter(
                "calendar",
                str,
                pattern=r"^[-a-zA-Z0-9_]{1,32}$",
                description="key of a work calendar (default: the default calendar)",
            ),
        ],
        description="Give `start` and exactly one of `hours`, `days`, `natural_days`, "
        "`natural_hours`.",
        responses={200: DeadlineSerializer, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params
        start = params.instant(query, "start")
        name, amount = _amount(query)
        zone = params.choice(query, "zone", ZONE_KINDS, None)
        key = params.text(query, "calendar", None, max_length=32)
        try:
            calendar = calendars.calendar_for(key)
        except WorkCalendar.DoesNotExist:
            raise BadInput(f"no work calendar {key!r}", field="calendar") from None
        unit = AMOUNTS[name][0]
        try:
            deadline = calendar.add(start, amount, unit)
        except ValueError as error:
            raise BadInput(str(error), field=name) from None
        return Response(
            {
                "deadline": deadline.isoformat(),
                "start": start.astimezone(calendar.tz).isoformat(),
                "amount": amount,
                "unit": str(unit),
                "zone": zone,
                "calendar": calendar.key,
            }
        )
