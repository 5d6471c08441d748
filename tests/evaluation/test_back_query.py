"""Every number back-queries to its cases (反查): the list and map of the cases behind a count
or a rate, scoped; the table as an Excel file; the periodic report as a Celery job."""

from __future__ import annotations

import io
import time

import pytest
from openpyxl import load_workbook

from tests.evaluation.conftest import PERIOD, client_of

pytestmark = pytest.mark.django_db


def behind(username: str, query: str) -> dict:
    got = client_of(username).get(f"/api/v1/evaluation/indicators/cases?{query}&{PERIOD}")
    assert got.status_code == 200, got.content
    return got.json()


def names(body: dict, week) -> set[str]:
    by_id = {v: k for k, v in week.cases.items()}
    return {by_id[f["id"]] for f in body["features"]}


def test_a_count_and_a_rate_list_their_cases(week):
    a = week.street_a.code
    on_time = behind("leader", f"subject=area&indicator=handled_on_time&key={a}")
    assert names(on_time, week) == {"C1", "C3", "C4", "C7"}
    assert on_time["numberMatched"] == 4
    feature = on_time["features"][0]
    assert feature["geometry"]["type"] == "Point" and len(feature["geometry"]["coordinates"]) == 2
    assert feature["properties"]["number"]
    page = behind("leader", f"subject=area&indicator=handled_on_time&key={a}&limit=2&offset=1")
    ids = sorted(week.cases[n] for n in ("C1", "C3", "C4", "C7"))
    assert [f["id"] for f in page["features"]] == ids[1:3]
    assert (page["numberMatched"], page["numberReturned"]) == (4, 2)
    rate = behind("leader", f"subject=area&indicator=on_time_handle_rate&key={a}")
    assert names(rate, week) == {"C1", "C3", "C4", "C7"}
    below = behind("leader", f"subject=area&indicator=on_time_handle_rate&key={a}&part=denominator")
    assert names(below, week) == {"C1", "C2", "C3", "C4", "C7", "C8"}
    assert names(behind("leader", "subject=area&indicator=reports"), week) == {
        "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C12"
    }  # fmt: skip


def test_departments_and_positions_list_their_cases(week):
    assert names(behind("leader", "subject=department&indicator=wrong_dispatches&key=H-huanwei"), week) == {"C4"}  # fmt: skip
    assert names(behind("leader", "subject=department&indicator=overdue_in_progress"), week) == {"C0", "C8"}  # fmt: skip
    missed = behind(
        "leader", f"subject=inspector&indicator=missed_reports&key={week.inspector_a.pk}"
    )
    assert names(missed, week) == {"C4"}
    late = behind("leader", "subject=dispatcher&indicator=accurate_rate&part=denominator")
    assert names(late, week) == {"C0", "C1", "C2", "C3", "C4", "C7", "C8"}


def test_the_back_query_follows_the_scope(week):
    a, b = week.street_a.code, week.street_b.code
    assert behind(f"inspector-{b}", f"subject=area&indicator=reports&key={a}")["features"] == []
    assert names(behind(f"inspector-{b}", "subject=area&indicator=reports"), week) == {"C9"}
    # A handling department is not shown the reporter of a public case.
    public = behind("dept-shizheng", "subject=area&indicator=public_reports")
    assert names(public, week) == {"C4"}
    assert (
        "reporter" not in public["features"][0]["properties"]
        or not public["features"][0]["properties"]["reporter"]
    )


@pytest.mark.parametrize(
    "query, field",
    [
        ("indicator=nothing", "indicator"),
        ("subject=area", "indicator"),
        ("indicator=reports&part=x", "part"),
    ],
)
def test_bad_back_queries_are_json_errors(week, query, field):
    got = client_of("leader").get(f"/api/v1/evaluation/indicators/cases?{query}")
    assert got.status_code == 400 and got.json()["error"]["field"] == field


def test_the_table_exports_to_excel_with_its_definitions(week):
    got = client_of("leader").get(f"/api/v1/evaluation/indicators.xlsx?subject=department&{PERIOD}")
    assert got.status_code == 200, got.content
    book = load_workbook(io.BytesIO(got.content))
    assert book.sheetnames == ["部门评价", "指标说明"]
    sheet = list(book["部门评价"].values)
    headers = sheet[1]
    assert headers[:4] == ("编码", "名称", "接收数", "处理中数") and headers[-2:] == (
        "综合指标值",
        "等级",
    )
    huanwei = next(r for r in sheet if r[0] == "H-huanwei")
    assert huanwei[2] == 7 and huanwei[-1] == "E"
    assert sheet[-1][1] == "合计" and sheet[-1][2] == 9
    assert any(r[2] == "漏报率" for r in book["指标说明"].values) is False  # departments only


def test_a_monthly_report_is_a_celery_job_a_leader_opens(week, celery_worker):
    leader = client_of("leader")
    started = leader.post(
        "/api/v1/evaluation/reports", {"kind": "month", "date": "2025-03-05"}, "application/json"
    )
    assert started.status_code == 202, started.content
    job = started.json()
    status_url = job["status_url"]
    for _ in range(150):
        job = leader.get(status_url).json()
        if job["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert job["state"] == "succeeded", job
    got = leader.get(f"/api/v1/evaluation/reports/{job['id']}")
    assert got.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(got.streaming_content)))
    assert book.sheetnames == [
        "区区域评价", "街道区域评价", "部门评价", "监督员岗位评价", "受理员岗位评价",
        "值班长岗位评价", "派遣员岗位评价", "指标说明",
    ]  # fmt: skip
    streets = {r[0]: r for r in book["街道区域评价"].values}
    assert streets[week.street_a.code][2] == 10  # March: the week and C13 of Monday 03-10
    assert client_of("acceptor").get(f"/api/v1/evaluation/reports/{job['id']}").status_code == 404
    bad = leader.post("/api/v1/evaluation/reports", {"kind": "decade"}, "application/json")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "kind"


def test_the_cases_behind_a_number_export_to_excel(week, settings):
    a = week.street_a.code
    got = client_of("leader").get(
        f"/api/v1/evaluation/indicators/cases.xlsx?indicator=closed&key={a}&{PERIOD}"
    )
    assert got.status_code == 200, got.content
    sheet = list(load_workbook(io.BytesIO(got.content))["案件"].values)
    numbers = {r[0] for r in sheet[1:]}
    by_name = {n: c for n, c in week.cases.items()}
    from cases.models import Case

    expected = set(
        Case.objects.filter(pk__in=[by_name[n] for n in ("C1", "C2", "C7")]).values_list(
            "number", flat=True
        )
    )
    assert sheet[0][0] == "任务号" and numbers == expected
    settings.CASES_EXPORT_DIRECT = 2
    too_many = client_of("leader").get(
        f"/api/v1/evaluation/indicators/cases.xlsx?indicator=closed&key={a}&{PERIOD}"
    )
    assert too_many.status_code == 413
