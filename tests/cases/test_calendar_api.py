"""The work calendar as a client sees it: GET /api/v1/calendar/deadline, calendars stored in
the database (default row, seasons, day overrides) and their admin pages."""

from __future__ import annotations

import datetime as dt

import pytest

from cases import calendars
from cases.models import CalendarDay, SeasonalHours, WorkCalendar

pytestmark = pytest.mark.django_db
URL = "/api/v1/calendar/deadline"
FRIDAY_EVENING = "2026-12-04T17:50:00+08:00"


@pytest.fixture(autouse=True)
def no_stored_calendars():
    """Each test starts without calendar rows and with an empty per-process cache."""
    WorkCalendar.objects.all().delete()
    calendars.clear_cache()
    yield
    calendars.clear_cache()


def error_of(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]


def test_an_anonymous_caller_gets_the_deadline_in_working_hours(client):
    response = client.get(URL, {"start": FRIDAY_EVENING, "hours": "2"})
    assert response.status_code == 200
    assert response.json() == {
        "deadline": "2026-12-07T10:30:00+08:00",
        "start": FRIDAY_EVENING,
        "amount": 2.0,
        "unit": "working_hours",
        "zone": None,
        "calendar": "default",
    }


def test_a_start_without_offset_is_beijing_time_and_any_offset_is_answered_in_it(client):
    body = client.get(URL, {"start": "2026-12-04T17:50", "hours": "2"}).json()
    assert body["deadline"] == "2026-12-07T10:30:00+08:00"
    body = client.get(URL, {"start": "2026-12-04T09:50:00Z", "hours": "2"}).json()
    assert body["start"] == FRIDAY_EVENING and body["deadline"] == "2026-12-07T10:30:00+08:00"
    # An unencoded "+" arrives as a space; it still means the offset.
    body = client.get(f"{URL}?start=2026-12-04T17:50:00+08:00&hours=2").json()
    assert body["deadline"] == "2026-12-07T10:30:00+08:00"


def test_national_day_is_skipped(client):
    body = client.get(URL, {"start": "2026-09-30T16:30:00+08:00", "hours": "4"}).json()
    assert body["deadline"] == "2026-10-08T11:30:00+08:00"


@pytest.mark.parametrize(
    ("name", "value", "unit", "deadline"),
    [
        # 17:50 is after work: one working day from Monday 08:30.
        ("days", "1", "working_days", "2026-12-08T08:30:00+08:00"),
        ("natural_days", "1", "natural_days", "2026-12-05T17:50:00+08:00"),
        ("natural_hours", "0.25", "natural_hours", "2026-12-04T18:05:00+08:00"),
        ("hours", "0", "working_hours", FRIDAY_EVENING),
    ],
)
def test_each_unit(client, name, value, unit, deadline):
    body = client.get(URL, {"start": FRIDAY_EVENING, name: value}).json()
    assert (body["unit"], body["deadline"]) == (unit, deadline)


def test_working_days_keep_the_clock_time(client):
    body = client.get(URL, {"start": "2026-12-04T15:00:00+08:00", "days": "2"}).json()
    assert body["deadline"] == "2026-12-08T15:00:00+08:00"  # Friday + Monday, Tuesday


def test_the_zone_is_echoed(client):
    body = client.get(URL, {"start": FRIDAY_EVENING, "hours": "2", "zone": "core"}).json()
    assert body["zone"] == "core" and body["deadline"] == "2026-12-07T10:30:00+08:00"


def test_the_default_calendar_row_and_its_overrides_apply(client):
    row = calendars.ensure_default_calendar()
    assert calendars.ensure_default_calendar().pk == row.pk  # idempotent
    assert (row.key, row.name, row.is_default) == ("default", "默认工作日历", True)
    assert row.periods == [["08:30", "12:00"], ["13:30", "17:30"]]
    assert WorkCalendar.objects.count() == 1
    query = {"start": FRIDAY_EVENING, "hours": "2"}
    assert client.get(URL, query).json()["deadline"] == "2026-12-07T10:30:00+08:00"
    # Saving an override drops the cached calendar at once.
    CalendarDay.objects.create(calendar=row, date=dt.date(2026, 12, 7), working=False)
    assert client.get(URL, query).json()["deadline"] == "2026-12-08T10:30:00+08:00"
    CalendarDay.objects.create(
        calendar=row, date=dt.date(2026, 12, 5), working=True, periods=[["09:00", "10:00"]]
    )
    assert client.get(URL, query).json()["deadline"] == "2026-12-08T09:30:00+08:00"


def test_a_named_calendar_with_summer_hours(client):
    summer = WorkCalendar.objects.create(
        key="summer", name="夏季作息", periods=[["08:30", "12:00"], ["13:30", "17:30"]]
    )
    SeasonalHours.objects.create(
        calendar=summer,
        name="夏季",
        start="06-01",
        end="09-30",
        periods=[["08:30", "12:00"], ["14:00", "18:00"]],
    )
    query = {"start": "2026-07-01T11:00:00+08:00", "hours": "2", "calendar": "summer"}
    body = client.get(URL, query).json()
    assert (body["deadline"], body["calendar"]) == ("2026-07-01T15:00:00+08:00", "summer")
    # The default calendar (no row is marked default: the built-in one) keeps 13:30.
    del query["calendar"]
    assert client.get(URL, query).json()["deadline"] == "2026-07-01T14:30:00+08:00"
    # Loaded through `calendar_for`, the row keeps its warning ratio.
    assert calendars.calendar_for("summer").warning_ratio == 0.8


def test_ensure_default_calendar_leaves_another_default_alone():
    WorkCalendar.objects.create(
        key="city", name="市级", is_default=True, periods=[["09:00", "17:00"]]
    )
    row = calendars.ensure_default_calendar()
    assert row.key == "default" and not row.is_default


def test_without_rows_the_default_calendar_is_built_in():
    calendar = calendars.default_calendar()
    assert calendar.key == "default"
    assert calendar.periods_on(dt.date(2026, 12, 4)) == ((30600, 43200), (48600, 63000))
    assert not calendar.is_working_day(dt.date(2026, 10, 1))
    assert calendars.default_calendar() is calendar  # cached


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"hours": "2"}, "start"),
        ({"start": "", "hours": "2"}, "start"),
        ({"start": "next friday", "hours": "2"}, "start"),
        ({"start": "2026-13-01T08:00:00+08:00", "hours": "2"}, "start"),
        ({"start": FRIDAY_EVENING}, "hours"),
        ({"start": FRIDAY_EVENING, "hours": "2", "days": "1"}, "days"),
        ({"start": FRIDAY_EVENING, "natural_days": "1", "natural_hours": "1"}, "natural_hours"),
        ({"start": FRIDAY_EVENING, "hours": ""}, "hours"),
        ({"start": FRIDAY_EVENING, "hours": "-1"}, "hours"),
        ({"start": FRIDAY_EVENING, "hours": "NaN"}, "hours"),
        ({"start": FRIDAY_EVENING, "hours": "inf"}, "hours"),
        ({"start": FRIDAY_EVENING, "hours": "1e400"}, "hours"),
        ({"start": FRIDAY_EVENING, "hours": "1e9"}, "hours"),
        ({"start": FRIDAY_EVENING, "days": "1.5"}, "days"),
        ({"start": FRIDAY_EVENING, "days": "99999999999999999999999"}, "days"),
        ({"start": FRIDAY_EVENING, "natural_days": "1e6"}, "natural_days"),
        ({"start": "9999-12-01T00:00:00+08:00", "natural_days": "365"}, "natural_days"),
        ({"start": "9999-12-01T00:00:00+08:00", "hours": "2000"}, "hours"),
        ({"start": FRIDAY_EVENING, "hours": "2", "zone": "downtown"}, "zone"),
        ({"start": FRIDAY_EVENING, "hours": "2", "calendar": "nowhere"}, "calendar"),
        ({"start": FRIDAY_EVENING, "hours": "2", "calendar": "x" * 33}, "calendar"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, query, field):
    error = error_of(client.get(URL, query))
    assert (error["code"], error["field"]) == ("bad_input", field), error


def test_the_route_is_documented(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/calendar/deadline"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"start", "hours", "days", "natural_days", "natural_hours", "zone", "calendar"} <= names
    assert "deadline" in document["components"]["schemas"]["Deadline"]["properties"]


def test_the_admin_lists_calendars_and_refuses_malformed_periods(admin_client):
    row = calendars.ensure_default_calendar()
    for model in ("workcalendar", "seasonalhours", "calendarday"):
        assert admin_client.get(f"/admin/cases/{model}/").status_code == 200
    page = admin_client.post(
        f"/admin/cases/workcalendar/{row.pk}/change/",
        {
            "key": "default",
            "name": "默认工作日历",
            "periods": '[["13:30", "12:00"]]',
            "use_official_holidays": "on",
            "is_default": "on",
            "warning_ratio": "0.8",
            "seasons-TOTAL_FORMS": "0",
            "seasons-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 200 and "not working periods" in page.content.decode()
    row.refresh_from_db()
    assert row.periods == [["08:30", "12:00"], ["13:30", "17:30"]]
