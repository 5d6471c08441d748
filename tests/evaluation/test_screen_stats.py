"""The wall screen's numbers over HTTP (/api/v1/screen/…): census by area with drill-down, the
cases behind a count, sources, hours, the case index with year-on-year and period-on-period,
scoped to the caller's areas; periods as calendar arithmetic; bad input naming its field.

Scenario (hand-counted; times in Asia/Shanghai), streets A and B of the test city:

    a1  A  inspector  2026-03-10 09:30  accepted 09:40, registered 10:00, dispatched 10:10
    a2  A  hotline    2026-03-10 14:20  accepted 14:30
    a3  A  inspector  2026-03-11 09:05  (reported only)
    a4  A  inspector  2026-02-20 10:00  accepted 2026-03-10 11:00
    b1  B  inspector  2026-03-10 09:50  accepted 10:05, registered 10:20
    y1  A  inspector  2025-03-10 10:00  accepted 2025-03-10 10:30   (a year before)

and a1 marked overdue. The period is 2026-03-10 .. 2026-03-11 (both days).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.scoping import scope_for_user
from cases import actions
from cases.models import Case, Condition
from data.models import Category
from evaluation.statistics import period_of
from tests.cases import conftest as case_fixtures
from tests.cases.conftest import inside

pytestmark = pytest.mark.django_db
# The case fixtures (the demo organization, signed-in clients, two streets), used here too.
org, as_user, two_streets = case_fixtures.org, case_fixtures.as_user, case_fixtures.two_streets
TZ = ZoneInfo("Asia/Shanghai")
PERIOD = "period=custom&from=2026-03-10&to=2026-03-11"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def scenario(org, two_streets):
    street_a, street_b = two_streets
    acceptor = scope_for_user(org["acceptor"].user)
    leader = scope_for_user(org["shiftleader"].user)
    dispatcher = scope_for_user(org["dispatcher"].user)
    garbage = Category.objects.get(kind="event", code="0102")
    condition = Condition.objects.filter(category=garbage, kind="register").first()

    def report(street, source, when, text):
        lon, lat = inside(street)
        reporter = actions.Reporter(name="王女士", phone="13800001234")
        new = actions.NewCase(source, garbage, text, lon, lat, reporter=reporter)
        return actions.do_report_case(acceptor, new, at=at(when))

    a1 = report(street_a, "inspector", "2026-03-10 09:30", "甲一")
    actions.do_accept_case(acceptor, a1.pk, version=1, at=at("2026-03-10 09:40"))
    actions.do_register_case(
        leader, a1.pk, version=2, condition=condition.pk, at=at("2026-03-10 10:00")
    )
    actions.do_dispatch_case(dispatcher, a1.pk, version=3, at=at("2026-03-10 10:10"))
    a2 = report(street_a, "hotline", "2026-03-10 14:20", "甲二")
    actions.do_accept_case(acceptor, a2.pk, version=1, at=at("2026-03-10 14:30"))
    a3 = report(street_a, "inspector", "2026-03-11 09:05", "甲三")
    a4 = report(street_a, "inspector", "2026-02-20 10:00", "甲四")
    actions.do_accept_case(acceptor, a4.pk, version=1, at=at("2026-03-10 11:00"))
    b1 = report(street_b, "inspector", "2026-03-10 09:50", "乙一")
    actions.do_accept_case(acceptor, b1.pk, version=1, at=at("2026-03-10 10:05"))
    actions.do_register_case(
        leader, b1.pk, version=2, condition=condition.pk, at=at("2026-03-10 10:20")
    )
    y1 = report(street_a, "inspector", "2025-03-10 10:00", "去年")
    actions.do_accept_case(acceptor, y1.pk, version=1, at=at("2025-03-10 10:30"))
    Case.objects.exclude(pk=a1.pk).update(deadline_state="normal")
    Case.objects.filter(pk=a1.pk).update(deadline_state="overdue")
    made = {"a1": a1, "a2": a2, "a3": a3, "a4": a4, "b1": b1, "y1": y1}
    states = {k: Case.objects.get(pk=c.pk).state for k, c in made.items()}
    assert states == {
        "a1": "handling",
        "a2": "to_verify",
        "a3": "reported",
        "a4": "to_register",
        "b1": "to_dispatch",
        "y1": "to_register",
    }
    return {"a": street_a, "b": street_b, **{k: c.pk for k, c in made.items()}}


def get(client, path: str) -> dict:
    answer = client.get(path)
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_census_drills_down_from_district_to_street_and_lists_each_cell(scenario, as_user):
    leader = as_user("leader")
    district = get(leader, f"/api/v1/screen/census?{PERIOD}")
    assert district["level"] == "district" and district["next_level"] == "street"
    assert len(district["areas"]) == 1
    row = district["areas"][0]
    assert row["code"] == scenario["a"].parent.code
    assert {k: row[k] for k in ("reported", "registered", "closed", "open", "overdue")} == {
        "reported": 4,
        "registered": 2,
        "closed": 0,
        "open": 4,
        "overdue": 1,
    }
    streets = get(leader, f"/api/v1/screen/census?{PERIOD}&level=street&parent={row['code']}")
    by_code = {r["code"]: r for r in streets["areas"]}
    assert by_code[scenario["a"].code]["reported"] == 3
    assert by_code[scenario["a"].code]["registered"] == 1
    assert by_code[scenario["b"].code]["reported"] == 1
    assert by_code[scenario["b"].code]["registered"] == 1

    # Each count lists exactly its cases.
    cell = f"/api/v1/screen/cases?{PERIOD}&level=street&code={scenario['a'].code}"
    reported = get(leader, cell)
    assert reported["count"] == 3
    assert {c["id"] for c in reported["cases"]} == {scenario[k] for k in ("a1", "a2", "a3")}
    registered = get(leader, cell + "&measure=registered")
    assert [c["id"] for c in registered["cases"]] == [scenario["a1"]]
    overdue = get(leader, f"/api/v1/screen/cases?{PERIOD}&measure=overdue")
    assert [c["id"] for c in overdue["cases"]] == [scenario["a1"]]
    assert "reporter" not in reported["cases"][0]
    assert "13800001234" not in str(reported)


def test_an_inspector_counts_only_their_street(scenario, as_user):
    inspector_a = as_user(f"inspector-{scenario['a'].code}")
    district = get(inspector_a, f"/api/v1/screen/census?{PERIOD}")
    assert [r["reported"] for r in district["areas"]] == [3]
    inspector_b = as_user(f"inspector-{scenario['b'].code}")
    other = get(
        inspector_b, f"/api/v1/screen/cases?{PERIOD}&level=street&code={scenario['a'].code}"
    )
    assert other["count"] == 0 and other["cases"] == []
    sources = get(inspector_b, f"/api/v1/screen/sources?{PERIOD}")["sources"]
    assert [(s["source"], s["reported"]) for s in sources] == [("inspector", 1)]


def test_sources_stages_and_hours(scenario, as_user):
    leader = as_user("leader")
    sources = {s["source"]: s for s in get(leader, f"/api/v1/screen/sources?{PERIOD}")["sources"]}
    assert {k: v["reported"] for k, v in sources.items()} == {
        "inspector": 3,
        "hotline": 1,
    }
    assert sources["inspector"]["stages"]["handle"] == 1
    assert sources["inspector"]["stages"]["accept"] == 1
    assert sources["hotline"]["stages"]["accept"] == 1
    assert sources["inspector"]["stages"]["dispatch"] == 1
    stage_cell = get(leader, f"/api/v1/screen/cases?{PERIOD}&source=inspector&stage=accept")
    assert [c["id"] for c in stage_cell["cases"]] == [scenario["a3"]]

    hot = get(leader, f"/api/v1/screen/hot?{PERIOD}")
    hours = {h["hour"]: h["reported"] for h in hot["by_hour"] if h["reported"]}
    assert hours == {9: 3, 14: 1}
    at_nine = get(leader, f"/api/v1/screen/cases?{PERIOD}&hour=9")
    assert {c["id"] for c in at_nine["cases"]} == {scenario[k] for k in ("a1", "a3", "b1")}
    assert hot["by_type"][0]["code"] == "0102" and hot["by_type"][0]["reported"] == 4
    assert {r["code"]: r["reported"] for r in hot["by_area"]} == {
        scenario["a"].code: 3,
        scenario["b"].code: 1,
    }


def test_case_index_counts_stage_events_with_year_and_period_before(scenario, as_user):
    leader = as_user("leader")
    index = get(leader, f"/api/v1/screen/index?{PERIOD}")
    stages = {s["action"]: s["count"] for s in index["stages"]}
    assert stages == {"accept": 4, "register": 2, "dispatch": 1, "feedback": 0, "check": 0}
    assert index["index"] == 7
    assert index["year_before"] == 1 and index["year_on_year_pct"] == 600.0
    assert index["period_before"] == 0 and index["month_on_month_pct"] is None
    assert index["slice"] == "hour" and len(index["trend"]) == 48
    by_hour = {t["at"][:16]: t["index"] for t in index["trend"] if t["index"]}
    assert by_hour == {
        "2026-03-10T09:00": 1,
        "2026-03-10T10:00": 4,
        "2026-03-10T11:00": 1,
        "2026-03-10T14:00": 1,
    }
    assert sum(t["year_before"] for t in index["trend"]) == 1
    assert sum(t["reported"] for t in index["trend"]) == 4


def test_flows_go_from_street_to_the_handling_department(scenario, as_user):
    leader = as_user("leader")
    lines = get(leader, f"/api/v1/screen/flows?{PERIOD}")["lines"]
    assert [(line["from"]["code"], line["to"]["code"], line["count"]) for line in lines] == [
        (scenario["a"].code, "H-huanwei", 1)
    ]
    case = Case.objects.get(pk=scenario["a1"])
    assert lines[0]["to"]["at"] == [round(case.geom.x, 6), round(case.geom.y, 6)]


@pytest.mark.parametrize(
    "query, field",
    [
        ("period=decade", "period"),
        ("period=custom&from=2026-03-10", "to"),
        ("period=custom&from=2026-03-10&to=2026-03-01", "to"),
        ("period=custom&from=2020-01-01&to=2026-01-01", "from"),
        ("period=custom&from=yesterday&to=2026-03-01", "from"),
        ("source=pigeon", "source"),
        ("category=abc", "category"),
        ("area=12", "area"),
        ("level=street", "code"),
        ("hour=24", "hour"),
        ("measure=everything", "measure"),
        ("limit=0", "limit"),
    ],
)
def test_bad_input_names_its_field(org, as_user, query, field):
    answer = as_user("leader").get(f"/api/v1/screen/cases?{query}")
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["field"] == field


def test_anonymous_callers_get_nothing(org, client):
    for path in ("census", "cases", "index", "sources", "hot", "hotspots", "flows"):
        assert client.get(f"/api/v1/screen/{path}").status_code in (401, 403), path


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    st.sampled_from(["today", "week", "month", "year"]),
)
def test_a_calendar_period_holds_now_and_follows_the_one_before(moment, kind):
    now = moment.replace(tzinfo=TZ)
    period = period_of({"period": kind}, now=now)
    assert period.start <= now < period.end
    before = period.previous()
    assert before.end == period.start and before.start < before.end
    start = period.start.astimezone(TZ)
    assert (start.hour, start.minute) == (0, 0)
    if kind == "week":
        assert start.weekday() == 0 and period.end - period.start == dt.timedelta(days=7)
    if kind in ("month", "year"):
        assert start.day == 1 and before.start.astimezone(TZ).day == 1
    if kind == "year":
        assert start.month == 1
    last_year = period.year_before()
    assert last_year.start.astimezone(TZ).year == start.year - 1
