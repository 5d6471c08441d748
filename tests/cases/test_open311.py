"""Open311 GeoReport v2 over HTTP (issue 25, spec 7): a mini-program's report with its API key
becomes a public case the centre works in its boxes, its status comes back through
`requests/{id}` as it moves; every error case of the standard in JSON and XML; keys per
channel with their quota and revocation; the channel kept on the case."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.test import Client

from cases.models import Case, CaseEvent, PublicReport
from coordTransform import wgs84_to_gcj02
from spatial.models import ControlledArea
from tests.cases.conftest import inside
from tests.cases.test_main_path import act, condition_id

pytestmark = pytest.mark.django_db
ROOT = "/open311/v2"
PHONE = "13912345678"


def make_key(name: str, channel: str = "miniprogram", quota: int | None = None) -> str:
    out = io.StringIO()
    extra = ["--quota", str(quota)] if quota else []
    call_command("open311_keys", "create", name, "--channel", channel, *extra, stdout=out)
    key = out.getvalue().strip()
    assert key.startswith("o311_") and len(key) > 20
    return key


def post(key: str | None, fmt: str = "json", **fields):
    body = {"service_code": "E0102", "description": "小区门口有一堆暴露垃圾", **fields}
    if key is not None:
        body["api_key"] = key
    return Client().post(f"{ROOT}/requests.{fmt}", body)


def errors_of(response, status: int, fmt: str = "json") -> list[dict]:
    """The Open311 errors of a response that must have `status`, in either format."""
    assert response.status_code == status, response.content[:400]
    if fmt == "xml":
        assert response["Content-Type"].startswith("text/xml")
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        found = [
            {"code": int(e.findtext("code")), "description": e.findtext("description")}
            for e in root.findall("error")
        ]
    else:
        assert response["Content-Type"].startswith("application/json")
        found = json.loads(response.content)
    assert found and all(set(e) == {"code", "description"} for e in found), found
    assert found[0]["code"] == status
    return found


@pytest.fixture
def key(org):
    return make_key("mini-program")


def test_a_report_with_a_key_reaches_the_centre_and_its_status_follows_the_case(
    key, as_user, two_streets
):
    street = two_streets[0]
    lon, lat = inside(street)
    made = post(key, lat=lat, long=lon, first_name="明", last_name="李", phone=PHONE)
    assert made.status_code == 201, made.content
    (answer,) = made.json()
    number = answer["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.source == "public" and case.state == "reported"
    assert case.reporter_phone == PHONE and case.reporter_name == "李明"
    public = PublicReport.objects.get(case=case)
    assert public.channel == "miniprogram" and public.api_key.name == "mini-program"
    report_event = CaseEvent.objects.get(case=case, action="report")
    assert report_event.actor_name == "system:open311:mini-program"

    # The token names the request.
    token = Client().get(f"{ROOT}/tokens/{answer['token']}.json").json()
    assert token == [{"service_request_id": number, "token": answer["token"]}]

    def status() -> dict:
        (one,) = Client().get(f"{ROOT}/requests/{number}.json").json()
        assert one["service_request_id"] == number
        assert PHONE not in json.dumps(one, ensure_ascii=False) and "李明" not in json.dumps(
            one, ensure_ascii=False
        )
        return one

    first = status()
    assert first["status"] == "open" and first["service_code"] == "E0102"
    assert first["agency_responsible"] is None
    assert abs(first["lat"] - lat) < 1e-6 and abs(first["long"] - lon) < 1e-6

    acceptor, leader = as_user("acceptor"), as_user("shiftleader")
    inspector, dispatcher = as_user(f"inspector-{street.code}"), as_user("dispatcher")
    box = acceptor.get("/api/v1/cases?box=to_accept").json()
    assert case.pk in [f["id"] for f in box["features"]]
    steps = [
        (acceptor, "accept", {"opinion": "已受理，将派人核实"}),
        (acceptor, "request_verify", {}),
        (inspector, "verify", {"valid": True}),
        (leader, "register", {"condition": condition_id("event", "0102", "register")}),
    ]
    for version, (client, name, body) in enumerate(steps, start=1):
        done = act(client, case.pk, name, version, **body)
        assert done.status_code == 200, (name, done.content)
    in_box = dispatcher.get("/api/v1/cases?box=to_dispatch").json()
    assert case.pk in [f["id"] for f in in_box["features"]]
    assert status()["status_notes"] == "已受理，将派人核实"

    more = [
        (dispatcher, "dispatch", {}),
        (as_user("dept-huanwei"), "feedback", {"opinion": "垃圾已清运完毕"}),
        (acceptor, "request_check", {}),
        (inspector, "check", {"passed": True}),
        (leader, "close", {"condition": condition_id("event", "0102", "close")}),
    ]
    for version, (client, name, body) in enumerate(more, start=5):
        done = act(client, case.pk, name, version, **body)
        assert done.status_code == 200, (name, done.content)
        if name == "dispatch":
            handling = status()
            assert handling["status"] == "open" and handling["agency_responsible"]
            assert handling["expected_datetime"]
    closed = status()
    assert closed["status"] == "closed" and closed["status_notes"] == "垃圾已清运完毕"
    assert closed["expected_datetime"] is None

    # The list finds it by status and code, and not under the other status.
    listed = Client().get(f"{ROOT}/requests.json?status=closed&service_code=E0102").json()
    assert number in [r["service_request_id"] for r in listed]
    still_open = Client().get(f"{ROOT}/requests.json?status=open").json()
    assert number not in [r["service_request_id"] for r in still_open]


def test_xml_answers_services_definitions_and_requests(key, two_streets):
    lon, lat = inside(two_streets[0])
    made = post(key, "xml", lat=lat, long=lon)
    assert made.status_code == 201 and made["Content-Type"].startswith("text/xml")
    number = ET.fromstring(made.content).findtext("request/service_request_id")
    assert number and Case.objects.filter(number=number).exists()

    services = ET.fromstring(Client().get(f"{ROOT}/services.xml").content)
    codes = [s.findtext("service_code") for s in services.findall("service")]
    assert "E0102" in codes and any(c.startswith("C") for c in codes)
    component = next(s for s in services.findall("service") if s.findtext("metadata") == "true")
    code = component.findtext("service_code")
    assert code.startswith("C")
    definition = ET.fromstring(Client().get(f"{ROOT}/services/{code}.xml").content)
    assert definition.findtext("service_code") == code
    assert definition.findtext("attributes/attribute/code") == "service_object_id"

    one = ET.fromstring(Client().get(f"{ROOT}/requests/{number}.xml").content)
    assert one.tag == "service_requests"
    assert one.findtext("request/status") == "open"
    assert one.findtext("request/service_code") == "E0102"


def test_a_mini_program_sends_gcj02_and_the_case_stands_at_the_wgs84_point(key, two_streets):
    lon, lat = inside(two_streets[0])
    glon, glat = wgs84_to_gcj02(lon, lat)  # the reference implementation, not ours
    made = post(key, lat=glat, long=glon, crs="gcj02")
    assert made.status_code == 201, made.content
    case = Case.objects.get(number=made.json()[0]["service_request_id"])
    assert abs(case.geom.x - lon) < 1e-6 and abs(case.geom.y - lat) < 1e-6


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_standard_errors(key, two_streets, fmt):
    lon, lat = inside(two_streets[0])
    # 403: no key, an unknown one, a revoked one.
    assert "api_key" in errors_of(post(None, fmt, lat=lat, long=lon), 403, fmt)[0]["description"]
    errors_of(post("o311_nonsense", fmt, lat=lat, long=lon), 403, fmt)
    revoked = make_key("old-app", "city_app")
    call_command("open311_keys", "revoke", "old-app", "--reason", "leaked", stdout=io.StringIO())
    assert "revoked" in errors_of(post(revoked, fmt, lat=lat, long=lon), 403, fmt)[0]["description"]
    # 400: a service that does not exist, no place, an address nobody knows, a long text.
    errors_of(post(key, fmt, lat=lat, long=lon, service_code="E9999"), 400, fmt)
    errors_of(post(key, fmt, lat=lat, long=lon, service_code="0102"), 400, fmt)
    assert "lat" in errors_of(post(key, fmt), 400, fmt)[0]["description"]
    errors_of(post(key, fmt, address_string="火星市不存在路999号"), 400, fmt)
    errors_of(post(key, fmt, address_id="door:0"), 400, fmt)
    errors_of(post(key, fmt, lat=lat, long=lon, description="长" * 4001), 400, fmt)
    errors_of(post(key, fmt, lat=lat, long=lon, description=""), 400, fmt)
    errors_of(post(key, fmt, lat="abc", long=lon), 400, fmt)
    errors_of(post(key, fmt, lat=95, long=lon), 400, fmt)
    outside = errors_of(post(key, fmt, lat=10.0, long=10.0), 400, fmt)
    assert "outside the city" in outside[0]["description"]
    # 404: an unknown jurisdiction, request, token or service.
    client = Client()
    errors_of(client.get(f"{ROOT}/services.{fmt}?jurisdiction_id=elsewhere"), 404, fmt)
    assert client.get(f"{ROOT}/services.{fmt}?jurisdiction_id=citygrid").status_code == 200
    errors_of(client.get(f"{ROOT}/requests/19990101000001.{fmt}"), 404, fmt)
    errors_of(client.get(f"{ROOT}/tokens/00000000-0000-0000-0000-000000000000.{fmt}"), 404, fmt)
    errors_of(client.get(f"{ROOT}/tokens/nonsense.{fmt}"), 404, fmt)
    errors_of(client.get(f"{ROOT}/services/E9999.{fmt}"), 404, fmt)
    # 400: dates without a zone, a span over 90 days, an unknown status.
    errors_of(client.get(f"{ROOT}/requests.{fmt}?start_date=2026-01-01T00:00:00"), 400, fmt)
    span = "start_date=2026-01-01T00:00:00Z&end_date=2026-05-01T00:00:00Z"
    assert (
        "90" in errors_of(client.get(f"{ROOT}/requests.{fmt}?{span}"), 400, fmt)[0]["description"]
    )
    errors_of(client.get(f"{ROOT}/requests.{fmt}?status=pending"), 400, fmt)
    # Not a method of the route.
    errors_of(client.delete(f"{ROOT}/requests.{fmt}"), 405, fmt)
    assert Case.objects.count() == 0  # none of these wrote a case


def test_a_blocked_area_refuses_the_report_with_its_reason(key, two_streets):
    lon, lat = inside(two_streets[0])
    half = 0.002
    ring = [(lon - half, lat - half), (lon + half, lat - half), (lon + half, lat + half),
            (lon - half, lat + half), (lon - half, lat - half)]  # fmt: skip
    ControlledArea.objects.create(
        name="地铁施工围挡区",
        geom=MultiPolygon(Polygon(ring, srid=4326), srid=4326),
        action="forbid",
        reason="围挡内问题由施工单位负责",
    )
    for fmt in ("json", "xml"):
        refused = errors_of(post(key, fmt, lat=lat, long=lon), 400, fmt)
        assert "地铁施工围挡区" in refused[0]["description"]
        assert "施工单位负责" in refused[0]["description"]
    assert Case.objects.count() == 0
    olon, olat = inside(two_streets[1])
    beside = post(key, lat=olat, long=olon)  # another street, outside the area: accepted
    assert beside.status_code == 201, beside.content


def test_a_keys_quota_per_hour_answers_429_and_other_keys_go_on(org, two_streets):
    lon, lat = inside(two_streets[0])
    tight = make_key("tight", "city_app", quota=2)
    other = make_key("roomy", "hotline")
    first = post(tight, lat=lat, long=lon)
    assert first.status_code == 201
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("2", "1")
    second = post(tight, lat=lat, long=lon, description="路灯不亮")
    assert second.status_code == 201 and second["X-RateLimit-Remaining"] == "0"
    refused = post(tight, lat=lat, long=lon, description="又一条")
    errors_of(refused, 429)
    assert refused["Retry-After"] == "3600"
    hotline = post(other, lat=lat, long=lon, description="井盖缺失")
    assert hotline.status_code == 201
    case = Case.objects.get(number=hotline.json()[0]["service_request_id"])
    assert case.source == "hotline" and case.public.channel == "hotline"
    assert Case.objects.count() == 3


def test_get_requests_pages_and_dates(key, two_streets):
    lon, lat = inside(two_streets[0])
    numbers = []
    for text in ("一", "二", "三"):
        made = post(key, lat=lat, long=lon, description=f"第{text}处暴露垃圾")
        numbers.append(made.json()[0]["service_request_id"])
    client = Client()
    first = client.get(f"{ROOT}/requests.json?page_size=2").json()
    second = client.get(f"{ROOT}/requests.json?page_size=2&page=2").json()
    assert [r["service_request_id"] for r in first + second] == numbers[::-1]
    chosen = client.get(f"{ROOT}/requests.json?service_request_id={numbers[0]},{numbers[2]}")
    assert {r["service_request_id"] for r in chosen.json()} == {numbers[0], numbers[2]}
    old = "start_date=2020-01-01T00:00:00%2B08:00&end_date=2020-03-01T00:00:00%2B08:00"
    assert client.get(f"{ROOT}/requests.json?{old}").json() == []
    discovery = client.get(f"{ROOT}/discovery.json").json()
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2/")


def test_a_question_or_complaint_needs_no_place_and_stays_off_the_map(key, settings):
    for kind in ("consultation", "complaint"):
        made = post(key, report_type=kind, description="垃圾分类的投放时间是几点？")
        assert made.status_code == 201, made.content
        number = made.json()[0]["service_request_id"]
        case = Case.objects.get(number=number)
        assert case.public.report_type == kind and case.public.located is False
        lon, lat = settings.PUBLIC_UNLOCATED_POINT
        assert abs(case.geom.x - lon) < 1e-9 and abs(case.geom.y - lat) < 1e-9
        (one,) = Client().get(f"{ROOT}/requests/{number}.json").json()
        assert one["lat"] is None and one["long"] is None and one["address"] is None
        on_map = Client().get("/api/v1/public/cases").json()["cases"]
        assert number not in [c["number"] for c in on_map]
    refused = post(key, report_type="report")  # a problem report needs its place
    assert "lat" in errors_of(refused, 400)[0]["description"]
    errors_of(post(key, report_type="rumour", lat=1, long=1), 400)


def test_unknown_paths_and_long_ids_are_open311_404s(db):
    client = Client()
    errors_of(client.get(f"{ROOT}/nothing.json"), 404)
    errors_of(client.get(f"{ROOT}/requests.html"), 404)
    errors_of(client.get(f"{ROOT}/nothing.xml"), 404, "xml")
    errors_of(client.get(f"{ROOT}/services/{'E' * 300}.xml"), 404, "xml")
    errors_of(client.get(f"{ROOT}/requests/{'9' * 300}.json"), 404)


def test_the_admin_lists_and_revokes_keys(org, admin_client, two_streets):
    from cases.models import ApiKey

    lon, lat = inside(two_streets[0])
    plain = make_key("leaky-app", "city_app")
    key = ApiKey.objects.get(name="leaky-app")
    listed = admin_client.get("/admin/cases/apikey/")
    assert listed.status_code == 200 and "leaky-app" in listed.content.decode()
    assert plain not in listed.content.decode()
    assert admin_client.get("/admin/cases/apikey/add/").status_code == 403
    done = admin_client.post(
        "/admin/cases/apikey/", {"action": "revoke", "_selected_action": [key.pk]}
    )
    assert done.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    errors_of(post(plain, lat=lat, long=lon), 403)
    assert admin_client.get("/admin/cases/conveniencepoint/").status_code == 200
