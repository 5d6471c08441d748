"""Send the nearest inspector (派最近监督员: 工作安排 / 应急调动, spec 5.1.4.2.6):
``POST /api/v1/cases/{id}/send-nearest`` gives a case's verification (核实) or check (核查)
task to the online inspector nearest to it by road.

Glue in the project shell, like `web.nearby`: tracking finds the inspector
(`tracking.nearest.nearest`, road distance with pgRouting, straight without it), cases writes
the task through its own action (`request_verify` / `request_check`, taken by the caller, with
its version check, row lock, permission and event). Neither app imports the other.

Who may be sent: active inspectors (``cases.report`` without ``cases.accept``, as
`cases.actions.inspectors_covering` counts them) whose areas meet the caller's area (anyone
for a system admin), with a person tracker online (a fix within ``TRACKING_ONLINE_S``). The
caller needs no ``tracking.monitor``: an acceptor learns only who was sent and how far, not
where everyone is. Nobody online → 409 ``no_inspector_online``, nothing written.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions as perms
from accounts.models import Person
from accounts.scoping import Scope, system_scope
from cases import actions, visibility
from cases.api import _fresh, reader, render_case, valid_body
from cases.serializers import CaseSerializer
from cases.models import State
from core.errors import Conflict, ErrorSerializer, Forbidden
from tracking import nearest as tracking_nearest
from tracking.models import Tracker

# The task each waiting state asks for, and the action that sends it.
TASK_OF_STATE = {State.TO_VERIFY: "request_verify", State.TO_CHECK: "request_check"}


class SendNearestInput(drf.Serializer):
    version = drf.IntegerField(help_text="the case's version you acted on")
    opinion = drf.CharField(max_length=2000, required=False, allow_blank=True, default="")


def eligible_inspectors(scope: Scope) -> list[int]:
    """The user ids of the active inspectors whose areas meet the caller's area."""
    people = Person.objects.filter(
        user__is_active=True, positions__permissions__contains=[perms.CASES_REPORT]
    ).exclude(positions__permissions__contains=[perms.CASES_ACCEPT])
    if not scope.sees_everything:
        mine = Person.objects.filter(pk=scope.person_id).values_list("area_geom", flat=True).first()
        if mine is None:
            return []
        people = people.filter(area_geom__intersects=mine)
    return sorted(set(people.values_list("user_id", flat=True)))


def nearest_inspector(scope: Scope, lon: float, lat: float) -> dict | None:
    """The online inspector the caller may send nearest to (`lon`, `lat`) by road, with the
    method and distances; None when nobody is online."""
    users = eligible_inspectors(scope)
    if not users:
        return None
    found = tracking_nearest.nearest(
        system_scope("cases.send_nearest"),
        lon,
        lat,
        limit=1,
        kind=Tracker.Kind.PERSON,
        online_only=True,
        user_ids=users,
    )
    if not found["nearest"]:
        return None
    first = found["nearest"][0]
    user_id = Tracker.objects.filter(pk=first["tracker"]).values_list("person__user_id", flat=True)[
        0
    ]
    return {
        "user": user_id,
        "name": first["name"],
        "tracker": first["tracker"],
        "method": found["method"],
        "road_m": first["road_m"],
        "straight_m": first["straight_m"],
    }


def send_nearest(scope: Scope, case_id, *, version: int, opinion: str = "") -> tuple:
    """Gives the case's waiting verification or check task to the nearest online inspector
    through the case's own action; gives (case, the inspector chosen)."""
    case = visibility.get_visible(scope, case_id)
    name = TASK_OF_STATE.get(case.state)
    if name is None:
        raise Conflict(
            f"a {State(case.state).label} case waits for no verification or check",
            current={"state": case.state, "version": case.version},
        )
    if name not in actions.allowed_actions(scope, case):
        raise Forbidden(f"your position may not take {name} on this case")
    chosen = nearest_inspector(scope, case.geom.x, case.geom.y)
    if chosen is None:
        raise Conflict(
            "no inspector is online near the case: send the task to one by name",
            field="inspector",
            code="no_inspector_online",
        )
    run = actions.TRANSITIONS[name]
    case = run(scope, case.pk, version=version, inspector=chosen["user"], opinion=opinion)
    return case, chosen


class SendNearestView(APIView):
    @extend_schema(
        operation_id="cases_send_nearest",
        tags=["cases"],
        summary="Send the case's verification or check task to the nearest online inspector "
        "(派最近监督员), by road distance",
        description="The case must wait in 待核实 (request_verify) or 待核查 (request_check); "
        "the caller takes that action. 409 `no_inspector_online` when no inspector the caller "
        "may send is online; 409 with `current` for a wrong state or a stale version.",
        request=SendNearestInput,
        responses={
            200: inline_serializer(
                "SendNearest",
                {
                    "case": CaseSerializer(),
                    "inspector": inline_serializer(
                        "SentInspector",
                        {
                            "user": drf.IntegerField(),
                            "name": drf.CharField(),
                            "tracker": drf.IntegerField(),
                            "method": drf.ChoiceField(choices=["road", "straight"]),
                            "road_m": drf.FloatField(allow_null=True),
                            "straight_m": drf.FloatField(),
                        },
                    ),
                },
            ),
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request: Request, case_id: int) -> Response:
        scope = reader(request)
        data = valid_body(SendNearestInput, request)
        case, chosen = send_nearest(
            scope, case_id, version=data["version"], opinion=data["opinion"]
        )
        return Response({"case": render_case(scope, _fresh(scope, case.pk)), "inspector": chosen})
