"""Open311 GeoReport v2 under /open311/v2/ (公众服务接口): discovery, services, service
definitions, requests (GET and POST), one request, tokens — each in .json and .xml.

Thin views: parse (`core.params`), call `reporting` / `publication`, render with `formats`.
Every read is public and goes through `visibility.public_cases` and the public fields of
`publication`; no reporter field is ever written out. Errors are Open311's (400, 403, 404;
429 past a key's quota) in the path's format.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from core import params, uploads
from core.access import public
from core.errors import ApiError, BadInput, NotFound
from data.models import Category
from spatial import crs as crs_module

from .. import visibility
from ..models import Case
from . import formats, keys, publication
from .models import PublicReport
from .reporting import (
    PublicRequest,
    category_of,
    channel_scope,
    do_public_report,
    similar_open_numbers,
)

SPAN_DAYS = 90
MAX_REQUESTS = 1000
DEFAULT_PAGE_SIZE = 200
W3C_ZONE = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
COMPONENT_ATTRIBUTE = "service_object_id"


def open311(*methods: str):
    """Makes a view an Open311 endpoint: public, CSRF-free (keys, not cookies, authorize
    writes), `jurisdiction_id` checked, other methods 405, `ApiError` as an Open311 error."""

    def decorate(view):
        @functools.wraps(view)
        def run(request: HttpRequest, *args, fmt: str = "json", **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = formats.error(fmt, 405, f"{request.method} is not allowed here")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                jurisdiction = request.GET.get("jurisdiction_id") or request.POST.get(
                    "jurisdiction_id"
                )
                if jurisdiction and jurisdiction != settings.OPEN311_JURISDICTION:
                    raise NotFound(f"no jurisdiction {jurisdiction[:64]!r}")
                return view(request, *args, fmt=fmt, **kwargs)
            except ApiError as exc:
                return formats.api_error(fmt, exc)

        return public(csrf_exempt(run))

    return decorate


def _root(request: HttpRequest) -> str:
    return request.build_absolute_uri("/open311/v2/")


@public
@csrf_exempt
def unknown(request: HttpRequest) -> HttpResponse:
    """Any other path under /open311/v2/: a 404 in the format its extension names."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return formats.error(fmt, 404, "no such Open311 resource: paths end in .json or .xml")


@open311("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Service discovery: where the endpoint is, its formats and contact."""
    changeset = "2026-11-29T00:00:00+08:00"
    return formats.render(
        fmt,
        "discovery",
        {
            "changeset": changeset,
            "contact": "城市运行管理服务中心 12345",
            "key_service": "API keys are issued per channel by the city's operations centre",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": _root(request),
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["application/json", "text/xml"],
                }
            ],
        },
    )


def _service(category: Category) -> dict:
    component = category.kind == Category.Kind.COMPONENT
    major = category.parent.name if category.parent_id else ""
    return {
        "service_code": publication.service_code(category.kind, category.code),
        "service_name": category.name,
        "description": f"{category.get_kind_display()}·{major}·{category.name}",
        "metadata": component,
        "type": "realtime",
        "keywords": ",".join(k for k in (category.name, major, category.get_kind_display()) if k),
        "group": major,
    }


def _minor_classes():
    return Category.objects.filter(parent__isnull=False).select_related("parent")


@open311("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    """The services: one per minor class (component classes C…, event classes E…)."""
    return formats.render(fmt, "services", [_service(c) for c in _minor_classes()])


@open311("GET")
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """A service's attributes: a component class takes the component's 16-digit code."""
    try:
        category = category_of(code)
    except BadInput:
        raise NotFound(f"no service {code[:16]!r}") from None
    attributes = []
    if category.kind == Category.Kind.COMPONENT:
        attributes.append(
            {
                "variable": True,
                "code": COMPONENT_ATTRIBUTE,
                "datatype": "string",
                "required": False,
                "datatype_description": "16位数字",
                "order": 1,
                "description": f"{category.name}的部件编码（16位，设施上的标牌）",
                "values": [],
            }
        )
    return formats.render(
        fmt,
        "service_definition",
        {"service_code": code, "attributes": attributes},
    )


def _request_json(item: publication.PublicCase, request: HttpRequest, extended: bool) -> dict:
    case = item.case
    media = request.build_absolute_uri(item.media_url) if item.media_url.startswith("/") else None
    body = {
        "service_request_id": case.number,
        "status": item.status,
        "status_notes": item.status_notes or None,
        "service_name": case.category.name,
        "service_code": publication.service_code(case.kind, case.category.code),
        "description": item.description or None,
        "agency_responsible": item.agency,
        "service_notice": item.notice or None,
        "requested_datetime": publication.w3c(case.reported_at),
        "updated_datetime": publication.w3c(case.updated_at),
        "expected_datetime": None
        if item.status == "closed"
        else publication.w3c(case.handling_deadline or case.deadline),
        "address": item.address or None,
        "address_id": item.address_id,
        "zipcode": None,
        "lat": round(case.geom.y, 6) if item.located else None,
        "long": round(case.geom.x, 6) if item.located else None,
        "media_url": media or item.media_url or None,
    }
    if extended:
        body["extended_attributes"] = {
            "state": case.get_state_display(),
            "report_type": item.report_type,
            "history": item.history,
            "before": [request.build_absolute_uri(publication.media_path(m)) for m in item.before],
            "after": [request.build_absolute_uri(publication.media_path(m)) for m in item.after],
        }
    return body


def _zoned(query, name: str) -> dt.datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not W3C_ZONE.search(raw.strip()):
        raise BadInput(f"{name} must be a W3C datetime with its zone (…Z or …+08:00)", name)
    return params.instant(query, name)


def _listed(query) -> tuple[list[Case], bool]:
    cases = visibility.public_cases().select_related("category", "department")
    extended = params.boolean(query, "extensions", False)
    numbers = params.names(query, "service_request_id", None)
    if numbers:
        if len(numbers) > MAX_REQUESTS:
            raise BadInput(f"at most {MAX_REQUESTS} ids", field="service_request_id")
        return list(cases.filter(number__in=numbers).order_by("-reported_at")), extended
    codes = params.names(query, "service_code", None)
    if codes:
        categories = [category_of(code) for code in codes]
        cases = cases.filter(category__in=categories)
    statuses = params.names(query, "status", None)
    if statuses:
        if not set(statuses) <= {"open", "closed"}:
            raise BadInput("status is open, closed or both", field="status")
        if statuses == ["open"]:
            cases = cases.exclude(state__in=publication.CLOSED_STATES)
        elif statuses == ["closed"]:
            cases = cases.filter(state__in=publication.CLOSED_STATES)
    start, end = _zoned(query, "start_date"), _zoned(query, "end_date")
    span = dt.timedelta(days=SPAN_DAYS)
    if start and end and start > end:
        raise BadInput("start_date is after end_date", field="start_date")
    if start and end and end - start > span:
        raise BadInput(f"start_date to end_date spans more than {SPAN_DAYS} days", "end_date")
    if end is None:
        end = min(start + span, timezone.now()) if start else timezone.now()
    if start is None:
        start = end - span
    cases = cases.filter(reported_at__gte=start, reported_at__lte=end)
    size = params.integer(query, "page_size", DEFAULT_PAGE_SIZE, low=1, high=MAX_REQUESTS)
    page = params.integer(query, "page", 1, low=1, high=1_000_000)
    offset = (page - 1) * size
    return list(cases.order_by("-reported_at", "-id")[offset : offset + size]), extended


def _spend_key_if_given(request: HttpRequest) -> None:
    plain = request.GET.get("api_key")
    if plain:
        keys.spend(keys.key_for(plain))


@open311("GET", "POST")
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET: the public cases (the last 90 days by default, newest first); POST: a report."""
    if request.method == "POST":
        return _post_request(request, fmt)
    _spend_key_if_given(request)
    cases, extended = _listed(request.GET)
    items = publication.gather(cases, with_history=extended)
    body = [_request_json(item, request, extended) for item in items]
    return formats.render(fmt, "service_requests", body)


@open311("GET")
def request_view(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    """One public case by its number (the service_request_id)."""
    _spend_key_if_given(request)
    case = (
        visibility.public_cases()
        .filter(number=number)
        .select_related("category", "department")
        .first()
    )
    if case is None:
        raise NotFound(f"no service request {number[:32]!r}")
    extended = params.boolean(request.GET, "extensions", False)
    item = publication.gather([case], with_history=extended)[0]
    return formats.render(fmt, "service_requests", [_request_json(item, request, extended)])


@open311("GET")
def token_view(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """The service_request_id a POST's token stands for."""
    try:
        wanted = uuid.UUID(token)
    except ValueError:
        raise NotFound(f"no token {token[:40]!r}") from None
    report = PublicReport.objects.filter(token=wanted).select_related("case").first()
    if report is None or not visibility.public_cases().filter(pk=report.case_id).exists():
        raise NotFound(f"no token {token[:40]!r}")
    return formats.render(
        fmt,
        "service_requests",
        [{"service_request_id": report.case.number, "token": str(report.token)}],
    )


def _text(form, name: str, limit: int) -> str:
    value = form.get(name, "")
    if len(value) > limit:
        raise BadInput(f"{name} has at most {limit} characters", field=name)
    if "\x00" in value:
        raise BadInput(f"{name} holds a NUL character", field=name)
    return value.strip()


def _photos(request: HttpRequest) -> list:
    files = request.FILES.getlist("media")
    if len(files) > 9:
        raise BadInput("at most 9 photos", field="media")
    types, limit = settings.CASE_MEDIA_LIMITS["image"]
    checked = []
    for upload in files:
        content_type = uploads.checked_type(
            upload, frozenset(types), "media", "photos (JPEG, PNG, WebP)"
        )
        if upload.size > limit:
            raise BadInput(f"a photo has at most {limit // (1024 * 1024)} MB", field="media")
        checked.append((upload, content_type))
    return checked


def parse_report(form, files_request: HttpRequest | None = None) -> PublicRequest:
    """A report's fields (Open311's and our extensions) as a `PublicRequest`."""
    category = category_of(form.get("service_code", ""))
    lon = lat = None
    if form.get("lat") not in (None, "") or form.get("long") not in (None, ""):
        crs = crs_module.parse_crs(form.get("crs") or None)
        lon, lat = crs_module.to_wgs84(
            params.number(form, "long"), params.number(form, "lat"), crs, ("long", "lat")
        )
    attributes = {
        key[len("attribute[") : -1]: value
        for key, value in form.items()
        if key.startswith("attribute[") and key.endswith("]")
    }
    component = (attributes.get(COMPONENT_ATTRIBUTE) or form.get(COMPONENT_ATTRIBUTE) or "").strip()
    return PublicRequest(
        category=category,
        description=_text(form, "description", 4000),
        lon=lon,
        lat=lat,
        address_string=_text(form, "address_string", 256),
        address_id=_text(form, "address_id", 64),
        report_type=form.get("report_type") or "report",
        feedback=form.get("feedback") or "sms",
        first_name=_text(form, "first_name", 32),
        last_name=_text(form, "last_name", 32),
        phone=_text(form, "phone", 32),
        email=_text(form, "email", 254),
        device_id=_text(form, "device_id", 64),
        account_id=_text(form, "account_id", 64),
        hide_name=params.boolean(form, "hide_name", False),
        component_code=component,
        attributes={k[:64]: str(v)[:256] for k, v in list(attributes.items())[:20]},
        media_url=_text(form, "media_url", 500),
        photos=_photos(files_request) if files_request is not None else [],
    )


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    key = keys.key_for(request.POST.get("api_key"))
    used = keys.spend(key)
    report = parse_report(request.POST, request)
    case = do_public_report(channel_scope(key), report, channel=key.channel, key=key)
    similar = similar_open_numbers(case)
    notice = f"附近已有相似案件在办理：{'、'.join(similar)}" if similar else None
    body = [
        {
            "service_request_id": case.number,
            "token": str(case.public_report.token),
            "service_notice": notice,
            "account_id": report.account_id or None,
        }
    ]
    response = formats.render(fmt, "service_requests", body, status=201)
    response["X-RateLimit-Limit"] = str(key.hourly_quota)
    response["X-RateLimit-Remaining"] = str(max(key.hourly_quota - used, 0))
    return response
