"""A citizen's report (公众上报 / 投诉 / 咨询) becomes a case of source 公众 (or 12345热线 for the
hotline's key) through the case's own report action, its precheck and its workflow.

`do_public_report` runs as the channel's system actor (``system:open311:<key name>``, or
``system:public:web`` for the public page): `actions.do_report_case` places, numbers and
prechecks the case (a forbidding rule refuses it, a similar open case is named back), then the
`PublicReport` row keeps the type, channel, key, citizen and contact details, and the photos
are stored at the report stage — one transaction: a refused photo writes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from accounts.oplog import action
from accounts.scoping import Scope, system_scope
from core.errors import BadInput
from data.models import Category
from geocoder.dictionary import gazetteer
from geocoder.match import geocode

from .. import actions
from ..models import Case, CaseEvent, CaseMedia, Source
from .models import ApiKey, Channel, Citizen, Feedback, PublicReport, ReportType
from .publication import CLOSED_STATES

DESCRIPTION_MAX = 4000


@dataclass
class PublicRequest:
    """What a citizen sends, already parsed (the point in WGS84 when given)."""

    category: Category
    description: str
    lon: float | None = None
    lat: float | None = None
    address_string: str = ""
    address_id: str = ""
    report_type: str = ReportType.REPORT
    feedback: str = Feedback.SMS
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    hide_name: bool = False
    component_code: str = ""
    attributes: dict = field(default_factory=dict)
    media_url: str = ""
    photos: list[tuple[UploadedFile, str]] = field(default_factory=list)


def channel_scope(key: ApiKey | None) -> Scope:
    """The system actor a channel reports as."""
    return system_scope(f"open311:{key.name}" if key else "public:web")


def category_of(service_code: str) -> Category:
    """The minor class an Open311 service code names (C0101, E0102); 400 otherwise."""
    code = (service_code or "").strip()
    kinds = {"C": Category.Kind.COMPONENT, "E": Category.Kind.EVENT}
    if len(code) != 5 or code[0] not in kinds or not code[1:].isdigit():
        raise BadInput(f"no service {code!r}", field="service_code")
    found = (
        Category.objects.filter(kind=kinds[code[0]], code=code[1:], parent__isnull=False)
        .select_related("parent")
        .first()
    )
    if found is None:
        raise BadInput(f"no service {code!r}", field="service_code")
    return found


def locate_request(request: PublicRequest) -> tuple[float, float, str]:
    """(lon, lat, address) of a request: its point, else its address_id, else its
    address_string geocoded; 400 naming the field when none gives a point."""
    if request.lon is not None and request.lat is not None:
        return request.lon, request.lat, request.address_string
    if request.address_id:
        kind, _, ident = request.address_id.partition(":")
        g = gazetteer()
        place = None
        if ident.isdigit() and kind == "door":
            place = g.doors.get(int(ident))
        elif ident.isdigit() and kind == "building":
            place = next(
                (b for row in g.buildings_by_number.values() for b in row if b.id == int(ident)),
                None,
            )
        elif ident.isdigit():
            place = g.entries.get((kind, int(ident)))
        if place is None:
            raise BadInput(f"no address {request.address_id!r}", field="address_id")
        return place.lon, place.lat, request.address_string
    if request.address_string:
        _, found = geocode(request.address_string, limit=1)
        if not found:
            raise BadInput(
                f"the address {request.address_string!r} was not found", field="address_string"
            )
        return found[0].lon, found[0].lat, found[0].address
    raise BadInput("give lat and long, address_string or address_id", field="lat")


def _has_place(request: PublicRequest) -> bool:
    given = (request.lon, request.lat, request.address_string, request.address_id)
    return any(value not in (None, "") for value in given)


def _reporter_name(request: PublicRequest) -> str:
    return f"{request.last_name}{request.first_name}".strip()[:64]


@action(
    "cases.public_report",
    permission=None,
    details=lambda request, **kw: {
        "service": request.category.code,
        "channel": kw.get("channel"),
        "type": request.report_type,
    },
)
def do_public_report(
    scope: Scope,
    request: PublicRequest,
    *,
    channel: str,
    key: ApiKey | None = None,
    citizen: Citizen | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """Reports a citizen's problem as a case (公众上报): through `do_report_case` with the
    precheck; the public row, the photos and the channel in the report event's details."""
    if request.report_type not in ReportType.values:
        raise BadInput(f"type is one of {', '.join(ReportType.values)}", field="report_type")
    if request.feedback not in Feedback.values:
        raise BadInput(f"feedback is one of {', '.join(Feedback.values)}", field="feedback")
    if not request.description.strip():
        raise BadInput("describe the problem", field="description")
    if len(request.description) > DESCRIPTION_MAX:
        raise BadInput(f"description has at most {DESCRIPTION_MAX} characters", "description")
    located = True
    if request.report_type == ReportType.REPORT or _has_place(request):
        lon, lat, address = locate_request(request)
    else:  # a complaint or a question without a place: filed at the centre's point
        lon, lat = settings.PUBLIC_UNLOCATED_POINT
        address, located = "", False
    phone = citizen.phone if citizen is not None else request.phone
    source = Source.HOTLINE if channel == Channel.HOTLINE else Source.PUBLIC
    case = actions.do_report_case(
        scope,
        actions.NewCase(
            source=source,
            category=request.category,
            description=request.description.strip(),
            lon=lon,
            lat=lat,
            address=address[:256],
            component_code=request.component_code,
            reporter=actions.Reporter(
                name=_reporter_name(request),
                phone=phone[:32],
                private=request.hide_name,
                # A text on close and the centre's call-back, unless the answer is to be public.
                callback_wanted=bool(phone) and request.feedback != Feedback.PUBLIC,
            ),
        ),
        at=at,
    )
    report = PublicReport.objects.create(
        case=case,
        report_type=request.report_type,
        channel=channel,
        api_key=key,
        citizen=citizen,
        feedback=request.feedback,
        email=request.email[:254],
        device_id=request.device_id[:64],
        account_id=request.account_id[:64],
        attributes=request.attributes,
        media_url=request.media_url[:500],
        token=uuid.uuid4(),
        located=located,
    )
    event = CaseEvent.objects.filter(case=case, action="report").first()
    for upload, content_type in request.photos:
        actions.store_media(
            scope, case, CaseMedia.Stage.REPORT, upload, content_type, case.reported_at, event
        )
    case.public_report = report
    return case


def similar_open_numbers(case: Case) -> list[str]:
    """The numbers of the open similar cases the report's precheck found (its event keeps
    their ids)."""
    event = CaseEvent.objects.filter(case=case, action="report").only("details").first()
    ids = (event.details or {}).get("similar", []) if event else []
    if not ids:
        return []
    rows = Case.objects.filter(pk__in=ids).exclude(state__in=CLOSED_STATES)
    return list(rows.order_by("reported_at").values_list("number", flat=True))
