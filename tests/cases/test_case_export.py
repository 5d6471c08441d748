"""Exporting a case list to Excel: the caller's cases only, the list's filters, reporter columns
only for the centre, photos as thumbnails, and a job for a long list (a real Celery worker)."""

from __future__ import annotations

import io
import time

import pytest
from openpyxl import load_workbook

from cases.export import HEADERS, REPORTER_HEADERS
from cases.models import Case
from tests.cases.scattered import scatter_cases

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The smallest PNG there is: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6300010000050001a5f645400000000049454e44ae426082"
)


@pytest.fixture
def scattered(org, two_streets):
    return scatter_cases(org, two_streets)


def sheet_of(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    book = load_workbook(io.BytesIO(content))
    return book["案件"]


def rows_of(sheet) -> list[dict]:
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[0])
    return [dict(zip(header, row)) for row in values[1:]]


def listed(client, **query) -> dict:
    response = client.get("/api/v1/cases", {"limit": 1000, **query})
    assert response.status_code == 200, response.content
    return response.json()


def numbers(client, **query) -> set[str]:
    return {f["properties"]["number"] for f in listed(client, **query)["features"]}


def test_anonymous_callers_get_401(client, scattered):
    response = client.get("/api/v1/cases/export.xlsx")
    assert response.status_code == 401


def test_an_inspector_exports_their_street_without_reporters(as_user, two_streets, scattered):
    inspector = as_user(f"inspector-{two_streets[0].code}")
    sheet = sheet_of(inspector.get("/api/v1/cases/export.xlsx"))
    header = [c.value for c in sheet[1]]
    assert header == HEADERS
    rows = rows_of(sheet)
    assert len(rows) == listed(inspector)["numberMatched"] == len(scattered.in_a)
    assert {r["任务号"] for r in rows} == numbers(inspector)
    assert {r["街道"] for r in rows} == {two_streets[0].name}
    first = Case.objects.select_related("category__parent").get(pk=scattered.components[0])
    row = next(r for r in rows if r["任务号"] == first.number)
    assert row["类型"] == "部件" and row["小类"] == first.category.name
    assert row["大类"] == first.category.parent.name and row["状态"] == "待受理"
    assert row["上报时间"] is not None and row["地址"] == first.address


def test_a_handling_department_exports_only_its_cases(as_user, scattered):
    handler = as_user("dept-huanwei")
    sheet = sheet_of(handler.get("/api/v1/cases/export.xlsx"))
    header = [c.value for c in sheet[1]]
    assert not set(REPORTER_HEADERS) & set(header)
    rows = rows_of(sheet)
    expected = set(Case.objects.filter(pk__in=scattered.huanwei).values_list("number", flat=True))
    assert {r["任务号"] for r in rows} == expected == numbers(handler)
    assert {r["处置部门"] for r in rows} == {"环境卫生服务中心"}
    assert all(r["处置时限"] is not None for r in rows)


def test_the_centre_sees_reporters_and_the_filters_apply(as_user, two_streets, scattered):
    acceptor = as_user("acceptor")
    rows = rows_of(sheet_of(acceptor.get("/api/v1/cases/export.xlsx")))
    assert len(rows) == listed(acceptor)["numberMatched"] == 13
    hotline = Case.objects.get(pk=scattered.hotline)
    row = next(r for r in rows if r["任务号"] == hotline.number)
    assert row["举报人"] == "王女士" and row["联系电话"] == "13800001234"
    assert row["来源"] == "12345热线"
    for query in (
        {"category": "0103"},
        {"state": "handling"},
        {"area": two_streets[1].code},
        {"q": "街道乙"},
    ):
        filtered = rows_of(sheet_of(acceptor.get("/api/v1/cases/export.xlsx", query)))
        assert {r["任务号"] for r in filtered} == numbers(acceptor, **query), query
        assert len(filtered) == listed(acceptor, **query)["numberMatched"] > 0, query
    bad = acceptor.get("/api/v1/cases/export.xlsx", {"deadline_state": "late"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "deadline_state"


def test_photos_are_embedded_as_thumbnails(as_user, scattered, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    acceptor = as_user("acceptor")
    number = Case.objects.get(pk=scattered.hotline).number
    for name in ("a.png", "b.png"):
        upload = io.BytesIO(PNG)
        upload.name = name
        sent = acceptor.post(f"/api/v1/cases/{scattered.hotline}/media", {"file": upload})
        assert sent.status_code == 201, sent.content
    without = sheet_of(acceptor.get("/api/v1/cases/export.xlsx", {"q": number}))
    assert len(without._images) == 0
    sheet = sheet_of(acceptor.get("/api/v1/cases/export.xlsx", {"q": number, "photos": "1"}))
    header = [c.value for c in sheet[1]]
    assert header[-3:] == ["照片1", "照片2", "照片3"]
    assert len(rows_of(sheet)) == 1 and len(sheet._images) == 2
    anchors = {image.anchor._from.col for image in sheet._images}
    assert anchors == {len(header) - 3, len(header) - 2}  # 0-based columns 照片1, 照片2


def test_a_list_above_the_limit_is_refused(as_user, scattered, settings):
    settings.CASES_EXPORT_MAX = 5
    response = as_user("acceptor").get("/api/v1/cases/export.xlsx")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def wait_for_job(client, url: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"the export job did not finish: {job}")


def test_a_long_list_becomes_a_job_on_celery(as_user, two_streets, celery_worker, settings, org):
    scattered = scatter_cases(org, two_streets)
    settings.CASES_EXPORT_DIRECT = 4
    inspector = as_user(f"inspector-{two_streets[0].code}")
    started = inspector.get("/api/v1/cases/export.xlsx", {"state": "reported"})
    assert started.status_code == 202, started.content
    job = started.json()
    assert job["kind"] == "cases_export" and job["rows_total"] == 6
    assert job["status_url"] == f"/api/v1/jobs/{job['id']}"
    done = wait_for_job(inspector, job["status_url"])
    assert done["state"] == "succeeded", done
    assert done["report"]["rows"] == 6 and done["rows_done"] == 6
    result_url = f"/api/v1/cases/exports/{job['id']}"
    rows = rows_of(sheet_of(inspector.get(result_url)))
    assert {r["任务号"] for r in rows} == numbers(inspector, state="reported")
    assert len(rows) == listed(inspector, state="reported")["numberMatched"]
    assert {r["街道"] for r in rows} == {two_streets[0].name}
    assert len(rows) < len(scattered.in_a)  # three were dispatched
    # Nobody else downloads it.
    assert as_user("acceptor").get(result_url).status_code == 404
