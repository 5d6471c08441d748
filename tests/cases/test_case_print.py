"""Printing to PDF (打印): a case sheet with and without its history, a filtered list, scoped to
the caller (404 for a case they do not see), the reporter's phone only for the centre, and a job
on a real Celery worker for a long list. The PDFs are read back with pypdf."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image
from pypdf import PdfReader

from accounts.scoping import scope_for_user
from cases import actions
from cases.models import Case, CaseEvent, Condition
from data.models import Category
from tests.cases.conftest import inside
from tests.cases.scattered import scatter_cases
from tests.tiles.test_map_page import ROOT

ARTIFACTS = ROOT / "var" / "test-artifacts"

pytestmark = pytest.mark.django_db

PDF = "application/pdf"
PHONE = "13912345678"


@pytest.fixture
def scattered(org, two_streets):
    return scatter_cases(org, two_streets)


@pytest.fixture
def dispatched_hotline(org, two_streets) -> Case:
    """A case reported with the reporter's name and phone, accepted, registered and dispatched
    to 环卫 (the handling department then sees it), by the centre's people."""
    acceptor = scope_for_user(org["acceptor"].user)
    leader = scope_for_user(org["shiftleader"].user)
    dispatcher = scope_for_user(org["dispatcher"].user)
    garbage = Category.objects.get(kind="event", code="0102")
    lon, lat = inside(two_streets[0])
    new = actions.NewCase(
        "inspector",
        garbage,
        "人行道垃圾堆积，影响通行",
        lon,
        lat,
        address="学院路东侧",
        reporter=actions.Reporter(name="李先生", phone=PHONE),
    )
    case = actions.do_report_case(acceptor, new)
    condition = Condition.objects.filter(category=garbage, kind="register").first()
    actions.do_accept_case(acceptor, case.pk, version=1, opinion="予以受理")
    actions.do_register_case(leader, case.pk, version=2, condition=condition.pk)
    actions.do_dispatch_case(dispatcher, case.pk, version=3, opinion="请按时限处置")
    return Case.objects.select_related("department").get(pk=case.pk)


def png(colour: str) -> io.BytesIO:
    """A small PNG of one colour (two photos of different colours are two images in the PDF)."""
    data = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(data, "PNG")
    data.seek(0)
    data.name = f"{colour}.png"
    return data


def pdf_text(response, keep_as: str | None = None) -> tuple[PdfReader, str]:
    """The PDF of a response and its text, all pages; kept under var/test-artifacts as
    `keep_as` when given, to look at."""
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == PDF
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content.startswith(b"%PDF-")
    if keep_as:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / keep_as).write_bytes(content)
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, text.replace(" ", "")


def listed(client, **query) -> dict:
    response = client.get("/api/v1/cases", {"limit": 1000, **query})
    assert response.status_code == 200, response.content
    return response.json()


def test_anonymous_callers_get_401(client, scattered):
    assert client.get(f"/api/v1/cases/{scattered.hotline}/print.pdf").status_code == 401
    assert client.get("/api/v1/cases/print.pdf").status_code == 401


def test_the_centre_prints_a_case_sheet_with_its_history(as_user, dispatched_hotline):
    case = dispatched_hotline
    events = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert events == ["report", "accept", "register", "dispatch"]
    acceptor = as_user("acceptor")
    sheet = acceptor.get(f"/api/v1/cases/{case.pk}/print.pdf", {"history": "1"})
    reader, text = pdf_text(sheet, keep_as="case-sheet.pdf")
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    for expected in (
        "城市运行管理服务平台",
        "打印时间",
        "案件处理单",
        case.number,
        "监督员上报",
        "暴露垃圾",
        "人行道垃圾堆积，影响通行",
        "学院路东侧",
        case.street_name,
        "环境卫生服务中心",
        "李先生",
        PHONE,
        "办理经过",
        "予以受理",
        "请按时限处置",
        "第1页/共",
    ):
        assert expected in text, expected
    for event in ("上报", "受理", "立案", "派遣"):
        assert event in text
    # The history table names the people, not only their user names.
    leader = case.events.get(action="register").actor.person
    assert leader.name and leader.name != leader.user.get_username()
    assert leader.name in text

    _, without = pdf_text(acceptor.get(f"/api/v1/cases/{case.pk}/print.pdf"))
    assert case.number in without and "案件处理单" in without
    assert "办理经过" not in without and "请按时限处置" not in without


def test_a_department_prints_its_case_without_the_reporter(as_user, dispatched_hotline, scattered):
    case = dispatched_hotline
    handler = as_user("dept-huanwei")
    seen = handler.get(f"/api/v1/cases/{case.pk}")
    assert seen.status_code == 200 and seen.json()["reporter"] is None
    _, text = pdf_text(handler.get(f"/api/v1/cases/{case.pk}/print.pdf", {"history": "1"}))
    assert case.number in text and "办理经过" in text
    assert PHONE not in text and "李先生" not in text and "联系电话" not in text
    # A case it does not see (not dispatched to it) is not there for it.
    other = Case.objects.get(pk=scattered.in_b[0])
    assert other.department_id is None
    missing = handler.get(f"/api/v1/cases/{other.pk}/print.pdf")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert as_user("acceptor").get(f"/api/v1/cases/{other.pk}/print.pdf").status_code == 200


def test_a_sheet_shows_the_photos_as_thumbnails(as_user, scattered, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    acceptor = as_user("acceptor")
    url = f"/api/v1/cases/{scattered.hotline}/print.pdf"
    reader, text = pdf_text(acceptor.get(url))
    assert text.count("无照片") == 2 and not reader.pages[0].images
    assert "处置前" in text and "处置后" in text and "核查" not in text
    for colour in ("red", "blue"):
        upload = png(colour)
        sent = acceptor.post(f"/api/v1/cases/{scattered.hotline}/media", {"file": upload})
        assert sent.status_code == 201, sent.content
    reader, text = pdf_text(acceptor.get(url), keep_as="case-sheet-photos.pdf")
    assert text.count("无照片") == 1  # after handling: none yet
    assert len(reader.pages[0].images) == 2


def test_a_list_prints_the_callers_cases_with_the_filters(as_user, two_streets, scattered):
    acceptor = as_user("acceptor")
    cover = Category.objects.get(kind="component", code="0103")
    for query, words in (
        ({}, "全部案件"),
        ({"state": "handling"}, "状态：处置中"),
        ({"area": two_streets[1].code}, f"区域：{two_streets[1].name}"),
        ({"kind": "component", "category": "0103"}, f"类别：0103{cover.name}"),
    ):
        expected = {f["properties"]["number"] for f in listed(acceptor, **query)["features"]}
        assert expected, query
        reader, text = pdf_text(acceptor.get("/api/v1/cases/print.pdf", query), "case-list.pdf")
        page = reader.pages[0]
        assert round(float(page.mediabox.width)) == 842  # A4 landscape
        assert "案件列表" in text and words in text and f"共{len(expected)}件" in text
        everything = set(Case.objects.values_list("number", flat=True))
        assert {n for n in everything if n in text} == expected, query
    # A handling department's list holds its cases only, without reporters.
    handler = as_user("dept-huanwei")
    mine = {f["properties"]["number"] for f in listed(handler)["features"]}
    assert len(mine) == len(scattered.huanwei) == 3
    _, text = pdf_text(handler.get("/api/v1/cases/print.pdf"))
    everything = set(Case.objects.values_list("number", flat=True))
    assert {n for n in everything if n in text} == mine
    assert "13800001234" not in text
    bad = acceptor.get("/api/v1/cases/print.pdf", {"deadline_state": "late"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "deadline_state"


def test_a_list_above_the_limit_is_refused(as_user, scattered, settings):
    settings.CASES_PRINT_MAX = 5
    response = as_user("acceptor").get("/api/v1/cases/print.pdf")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and "13" in error["message"]


def wait_for_job(client, url: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"the print job did not finish: {job}")


def test_a_long_list_becomes_a_job_on_celery(as_user, two_streets, celery_worker, settings, org):
    scatter_cases(org, two_streets)
    settings.CASES_PRINT_DIRECT = 4
    inspector = as_user(f"inspector-{two_streets[0].code}")
    expected = {f["properties"]["number"] for f in listed(inspector)["features"]}
    assert len(expected) == 9
    started = inspector.get("/api/v1/cases/print.pdf")
    assert started.status_code == 202, started.content
    job = started.json()
    assert job["kind"] == "cases_print" and job["rows_total"] == 9
    done = wait_for_job(inspector, job["status_url"])
    assert done["state"] == "succeeded", done
    assert done["report"]["rows"] == 9
    result_url = f"/api/v1/cases/prints/{job['id']}"
    _, text = pdf_text(inspector.get(result_url))
    everything = set(Case.objects.values_list("number", flat=True))
    assert {n for n in everything if n in text} == expected
    # Nobody else downloads it.
    assert as_user("acceptor").get(result_url).status_code == 404
