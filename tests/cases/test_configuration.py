"""Configuration through the API (业务配置): a calendar's holidays and make-up days set one by
one and from a spreadsheet (all rows or none), the same days exported, the deadline moving with
them, and the workflow definitions as a table."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.test import Client
from openpyxl import Workbook, load_workbook

from accounts import permissions as perms
from cases import calendars
from cases.models import CalendarDay, WorkCalendar
from tests import factories

pytestmark = pytest.mark.django_db
FRIDAY_EVENING = "2026-12-04T17:50:00+08:00"  # after hours: the next working moment is Monday
DEADLINE = "/api/v1/calendar/deadline"


@pytest.fixture(autouse=True)
def fresh_calendars():
    WorkCalendar.objects.all().delete()
    calendars.clear_cache()
    yield
    calendars.clear_cache()


@pytest.fixture
def editor() -> Client:
    client = Client()
    client.force_login(factories.make_person("config-editor", permissions=[perms.CONFIG_EDIT]).user)
    return client


def deadline(client) -> str:
    calendars.clear_cache()
    answer = client.get(DEADLINE, {"start": FRIDAY_EVENING, "hours": "2"})
    assert answer.status_code == 200, answer.content
    return answer.json()["deadline"]


def sheet(rows: list[list]) -> io.BytesIO:
    book = Workbook()
    book.active.append(["日期", "是否工作日", "工作时段", "备注"])
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "days.xlsx"
    return out


def test_a_holiday_set_and_dropped_moves_the_deadline(editor):
    assert deadline(editor) == "2026-12-07T10:30:00+08:00"  # Monday, 2 working hours in
    put = editor.put(
        "/api/v1/calendars/default/days/2026-12-07",
        json.dumps({"working": False, "note": "测试假日"}),
        content_type="application/json",
    )
    assert put.status_code == 200, put.content
    assert put.json() == {
        "date": "2026-12-07",
        "working": False,
        "periods": None,
        "note": "测试假日",
    }
    assert deadline(editor) == "2026-12-08T10:30:00+08:00"  # Tuesday
    listed = editor.get("/api/v1/calendars").json()["calendars"]
    assert listed[0]["key"] == "default" and listed[0]["days"][0]["date"] == "2026-12-07"
    assert editor.delete("/api/v1/calendars/default/days/2026-12-07").status_code == 204
    assert deadline(editor) == "2026-12-07T10:30:00+08:00"
    assert editor.delete("/api/v1/calendars/default/days/2026-12-07").status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"working": "no"}, "working"),
        ({}, "working"),
        ({"working": True, "periods": [["8:00", "12:00"]]}, "periods"),
        ({"working": True, "periods": "08:00-12:00"}, "periods"),
    ],
)
def test_bad_days_are_refused_naming_the_field(editor, body, field):
    answer = editor.put(
        "/api/v1/calendars/default/days/2026-12-07",
        json.dumps(body),
        content_type="application/json",
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["field"] == field
    assert not CalendarDay.objects.exists()


def test_only_config_editors_write_and_a_bad_date_or_calendar_is_named(editor):
    reader = Client()
    reader.force_login(factories.make_person("config-reader", permissions=[perms.CASES_READ]).user)
    body = json.dumps({"working": False})
    assert (
        reader.put(
            "/api/v1/calendars/default/days/2026-12-07", body, content_type="application/json"
        ).status_code
        == 403
    )
    bad = editor.put(
        "/api/v1/calendars/default/days/2026-13-07", body, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "date"
    none = editor.put(
        "/api/v1/calendars/nope/days/2026-12-07", body, content_type="application/json"
    )
    assert none.status_code == 404 and none.json()["error"]["field"] == "key"
    assert Client().get("/api/v1/calendars").status_code == 401


def test_a_sheet_sets_the_days_and_the_export_gives_them_back(editor):
    upload = sheet(
        [
            [dt.date(2026, 12, 7), "否", "", "测试假日"],
            ["2026-12-12", "是", "08:30-12:00、13:30-17:30", "调休"],
        ]
    )
    answer = editor.post("/api/v1/calendars/default/days.xlsx", {"file": upload})
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"rows": 2, "created": 2, "updated": 0}
    assert deadline(editor) == "2026-12-08T10:30:00+08:00"
    exported = editor.get("/api/v1/calendars/default/days.xlsx")
    assert exported.status_code == 200
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("日期", "是否工作日", "工作时段", "备注")
    assert [(r[0].date(), r[1], r[2], r[3]) for r in rows[1:]] == [
        (dt.date(2026, 12, 7), "否", None, "测试假日"),
        (dt.date(2026, 12, 12), "是", "08:30-12:00、13:30-17:30", "调休"),
    ]


@pytest.mark.parametrize(
    "rows, says",
    [
        ([["2026-12-07", "否", "", ""], ["2026-12-40", "否", "", ""]], "row 3"),
        ([["2026-12-07", "也许", "", ""]], "row 2"),
        ([["2026-12-07", "是", "8-12", ""]], "row 2"),
        ([["2026-12-07", "否", "", ""], ["2026-12-07", "是", "", ""]], "appears twice"),
        ([], "no day"),
    ],
)
def test_a_bad_sheet_is_refused_whole(editor, rows, says):
    answer = editor.post("/api/v1/calendars/default/days.xlsx", {"file": sheet(rows)})
    assert answer.status_code == 400, answer.content
    error = answer.json()["error"]
    assert error["field"] == "file" and says in error["message"], error
    assert not CalendarDay.objects.exists()


def test_a_file_that_is_no_workbook_is_refused(editor):
    fake = io.BytesIO(b"date,working\n2026-12-07,no\n")
    fake.name = "days.xlsx"
    answer = editor.post("/api/v1/calendars/default/days.xlsx", {"file": fake})
    assert answer.status_code == 400 and answer.json()["error"]["field"] == "file"


def test_the_workflows_read_as_a_table(editor):
    from cases.workflows import load_default_workflows

    load_default_workflows()
    flows = editor.get("/api/v1/workflows").json()["workflows"]
    assert flows, "the default workflows exist"
    flow = flows[0]
    assert flow["stages"] and flow["transitions"]
    edge = flow["transitions"][0]
    assert edge["source_name"] and edge["target_name"] and edge["permission_name"]
