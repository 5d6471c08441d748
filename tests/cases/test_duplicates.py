"""Duplicate cases (重复案件, spec 5.2.4) over HTTP: a case reported within 30 days after a closed
case of the same class in the same unit grid (or within a class's distance) cannot be
registered until the shift leader links it to the earlier case (it then goes on to registration:
the problem is handled again) or dismisses the suspicion; day 30 against day 31, the same grid
against the neighbouring one, the same road, a class not checked, link, dismiss and a
department's appeal upheld (unlink) with their events, and the statistics."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.db import connection
from pyproj import Geod

from accounts.models import Department, Person
from accounts.scoping import scope_for_user
from cases import actions, duplicates
from cases.models import Case, CaseEvent, Condition, DuplicateRule
from data.models import Category
from tests.cases.conftest import inside

pytestmark = pytest.mark.django_db
GEOD = Geod(ellps="WGS84")
DAY = dt.timedelta(days=1)


def category(code: str) -> Category:
    return Category.objects.get(kind="event", code=code)


def unit_grid_pair(street) -> tuple[str, tuple, str, tuple]:
    """A unit grid holding a point of the street and a neighbouring one (sharing a border),
    each with a point well inside it."""
    lon, lat = inside(street)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.code, ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom)),
                   b.code, ST_X(ST_PointOnSurface(b.geom)), ST_Y(ST_PointOnSurface(b.geom))
            FROM spatial_unitgrid a JOIN spatial_unitgrid b
              ON b.id <> a.id AND ST_Intersects(a.geom, b.geom)
            WHERE ST_Intersects(a.geom, ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.02))
            ORDER BY a.id, b.id LIMIT 1
            """,
            [lon, lat],
        )
        row = cursor.fetchone()
    assert row is not None, "the test city has no neighbouring unit grids near the street"
    return row[0], (row[1], row[2]), row[3], (row[4], row[5])


@pytest.fixture
def place(as_user, two_streets):
    street = two_streets[0]
    grid, point, neighbour, neighbour_point = unit_grid_pair(street)
    return {
        "grid": grid,
        "point": point,
        "neighbour": neighbour,
        "neighbour_point": neighbour_point,
        "inspector": Person.objects.get(user__username=f"inspector-{street.code}").user,
        "reporter": as_user(f"inspector-{street.code}"),
        "acceptor": as_user("acceptor"),
        "leader": as_user("shiftleader"),
    }


def closed_case(user, point, code: str, closed_at: dt.datetime) -> Case:
    """An earlier case of the class at the point, closed at `closed_at` (setup: the workflow
    to close is tested elsewhere; here only its closure time matters)."""
    case = actions.do_report_case(
        scope_for_user(user),
        actions.NewCase(
            source="inspector",
            category=category(code),
            description="道路破损",
            lon=point[0],
            lat=point[1],
        ),
        at=closed_at - 2 * DAY,
    )
    Case.objects.filter(pk=case.pk).update(state="closed", closed_at=closed_at)
    return Case.objects.get(pk=case.pk)


def report_and_accept(place, point, code: str) -> dict:
    """An inspector's report over HTTP, accepted: it waits for registration (待立案)."""
    made = place["reporter"].post(
        "/api/v1/cases",
        {
            "source": "inspector",
            "kind": "event",
            "category": code,
            "description": "又有暴露垃圾",
            "lon": point[0],
            "lat": point[1],
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    case = made.json()
    accepted = act(place["acceptor"], case["id"], "accept", case["version"])
    assert accepted.status_code == 200, accepted.content
    return accepted.json()


def act(client, case_id, name, version, **body):
    return client.post(
        f"/api/v1/cases/{case_id}/actions/{name}",
        {"version": version, **body},
        content_type="application/json",
    )


def register(client, case: dict, code: str):
    condition = Condition.objects.filter(
        category__kind="event", category__code=code, kind="register"
    ).first()
    assert condition is not None
    return act(client, case["id"], "register", case["version"], condition=condition.pk)


def reported_at(case: dict) -> dt.datetime:
    return Case.objects.get(pk=case["id"]).reported_at


def checked(code: str, **rule) -> DuplicateRule:
    return DuplicateRule.objects.create(category=category(code), **rule)


def test_day_30_blocks_registration_and_day_31_does_not(place):
    checked("0102")
    case = report_and_accept(place, place["point"], "0102")
    assert case["state"] == "to_register", case
    at = reported_at(case)
    recent = closed_case(
        place["inspector"], place["point"], "0102", at - 30 * DAY + dt.timedelta(minutes=1)
    )
    old = closed_case(place["inspector"], place["point"], "0102", at - 31 * DAY)
    assert recent.unit_grid_code == old.unit_grid_code == place["grid"]
    assert Case.objects.get(pk=case["id"]).unit_grid_code == place["grid"]

    refused = register(place["leader"], case, "0102")
    assert refused.status_code == 409, refused.content
    error = refused.json()
    assert error["error"]["code"] == "duplicate"
    assert (
        recent.number in error["error"]["message"] and old.number not in error["error"]["message"]
    )
    assert error["current"]["duplicates"] == [recent.pk]
    assert Case.objects.get(pk=case["id"]).state == "to_register"

    seen = place["leader"].get(f"/api/v1/cases/{case['id']}/duplicates").json()
    assert seen["checked"] is True and seen["status"] == "suspected" and seen["may_decide"]
    assert [d["number"] for d in seen["duplicates"]] == [recent.number]


def test_the_period_holds_closures_after_30_days_before_the_report_up_to_it(place):
    checked("0102")
    case = report_and_accept(place, place["point"], "0102")
    at = reported_at(case)
    edge = closed_case(place["inspector"], place["point"], "0102", at - 30 * DAY)
    inside_edge = closed_case(
        place["inspector"], place["point"], "0102", at - 30 * DAY + dt.timedelta(seconds=1)
    )
    later = closed_case(place["inspector"], place["point"], "0102", at + dt.timedelta(seconds=1))
    same_time = closed_case(place["inspector"], place["point"], "0102", at)
    found = duplicates.find_duplicates(Case.objects.get(pk=case["id"]))
    assert set(found) == {inside_edge.pk, same_time.pk}
    assert edge.pk not in found and later.pk not in found


def test_a_neighbouring_grid_and_a_class_not_checked_do_not_block(place):
    checked("0102")
    in_neighbour = report_and_accept(place, place["neighbour_point"], "0102")
    at = reported_at(in_neighbour)
    earlier = closed_case(place["inspector"], place["point"], "0102", at - 2 * DAY)
    assert earlier.unit_grid_code == place["grid"] != place["neighbour"]
    assert Case.objects.get(pk=in_neighbour["id"]).unit_grid_code == place["neighbour"]
    assert register(place["leader"], in_neighbour, "0102").status_code == 200

    # 0101 has no rule: a closed 0101 case in the same grid the day before does not count.
    unchecked = report_and_accept(place, place["point"], "0101")
    closed_case(place["inspector"], place["point"], "0101", reported_at(unchecked) - DAY)
    seen = place["leader"].get(f"/api/v1/cases/{unchecked['id']}/duplicates").json()
    assert seen == {
        "checked": False,
        "status": "none",
        "duplicate_of": None,
        "duplicates": [],
        "may_decide": False,
        "may_unlink": False,
    }
    assert register(place["leader"], unchecked, "0101").status_code == 200

    # A class checked by distance: the neighbouring grid's case counts within 1 km.
    checked("0101", metres=1000.0, days=7)
    across = report_and_accept(place, place["neighbour_point"], "0101")
    _, _, metres = GEOD.inv(*place["point"], *place["neighbour_point"])
    assert metres < 1000
    seen = place["leader"].get(f"/api/v1/cases/{across['id']}/duplicates").json()
    assert seen["status"] == "suspected" and seen["checked"] is True
    assert register(place["leader"], across, "0101").status_code == 409


def test_linking_marks_the_case_a_repeat_and_registration_proceeds(place):
    checked("0102")
    case = report_and_accept(place, place["point"], "0102")
    earlier = closed_case(place["inspector"], place["point"], "0102", reported_at(case) - 3 * DAY)
    other = report_and_accept(place, place["neighbour_point"], "0102")
    before = duplicates.linked_count()

    # The acceptor may not judge duplicates; a case that is not a suspect cannot be named.
    assert act(place["acceptor"], case["id"], "link_duplicate", case["version"],
               duplicate=earlier.pk).status_code == 403  # fmt: skip
    wrong = act(
        place["leader"], case["id"], "link_duplicate", case["version"], duplicate=other["id"]
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "duplicate"

    linked = act(place["leader"], case["id"], "link_duplicate", case["version"],
                 duplicate=earlier.pk)  # fmt: skip
    assert linked.status_code == 200, linked.content
    assert linked.json()["state"] == "to_register"
    assert linked.json()["duplicate_of"] == earlier.pk
    stored = Case.objects.get(pk=case["id"])
    assert stored.duplicate_of_id == earlier.pk
    assert duplicates.linked_count() == before + 1

    mine = CaseEvent.objects.get(case_id=case["id"], action="link_duplicate")
    assert mine.details["duplicate_of"] == earlier.pk and earlier.number in mine.opinion
    theirs = CaseEvent.objects.get(case=earlier, action="duplicate_linked")
    assert theirs.details["duplicate"] == case["id"]
    seen = place["leader"].get(f"/api/v1/cases/{case['id']}/duplicates").json()
    assert seen["status"] == "linked" and seen["duplicate_of"]["number"] == earlier.number
    assert not seen["may_decide"] and seen["may_unlink"]
    again = act(place["leader"], case["id"], "link_duplicate", linked.json()["version"],
                duplicate=earlier.pk)  # fmt: skip
    assert again.status_code == 409
    # The repeat is registered (the link lifted the block) and goes to dispatch.
    registered = register(place["leader"], linked.json(), "0102")
    assert registered.status_code == 200, registered.content
    assert registered.json()["state"] == "to_dispatch"


def test_an_appeal_upheld_takes_the_link_back(place):
    checked("0102")
    case = report_and_accept(place, place["point"], "0102")
    earlier = closed_case(place["inspector"], place["point"], "0102", reported_at(case) - DAY)
    linked = act(place["leader"], case["id"], "link_duplicate", case["version"],
                 duplicate=earlier.pk).json()  # fmt: skip
    assert linked["duplicate_of"] == earlier.pk
    no_reason = act(place["leader"], case["id"], "unlink_duplicate", linked["version"])
    assert no_reason.status_code == 400 and no_reason.json()["error"]["field"] == "opinion"
    assert act(place["acceptor"], case["id"], "unlink_duplicate", linked["version"],
               opinion="x").status_code == 403  # fmt: skip
    assert act(place["leader"], case["id"], "unlink_duplicate", 1,
               opinion="x").status_code == 409  # fmt: skip
    undone = act(place["leader"], case["id"], "unlink_duplicate", linked["version"],
                 opinion="部门申诉成立：位置已更正")  # fmt: skip
    assert undone.status_code == 200, undone.content
    assert undone.json()["duplicate_of"] is None
    stored = Case.objects.get(pk=case["id"])
    assert stored.duplicate_of_id is None and stored.duplicate_dismissed is True
    event = CaseEvent.objects.get(case_id=case["id"], action="unlink_duplicate")
    assert event.details["duplicate_of"] == earlier.pk and event.opinion.startswith("部门申诉")
    seen = place["leader"].get(f"/api/v1/cases/{case['id']}/duplicates").json()
    assert seen["status"] == "dismissed" and not seen["may_unlink"]
    assert act(place["leader"], case["id"], "unlink_duplicate", undone.json()["version"],
               opinion="再次").status_code == 409  # fmt: skip


def test_the_same_road_replaces_the_unit_grid_when_the_rule_says_so(place):
    checked("0102", same_road=True)
    case = report_and_accept(place, place["point"], "0102")
    road_name = Case.objects.get(pk=case["id"]).road_name
    assert road_name  # the placement names the nearest road
    # An earlier closed case on the same road, far along it: a suspect; on another road: not.
    earlier = closed_case(place["inspector"], place["neighbour_point"], "0102",
                          reported_at(case) - DAY)  # fmt: skip
    Case.objects.filter(pk=earlier.pk).update(road_name=road_name, unit_grid_code="elsewhere")
    other = closed_case(place["inspector"], place["point"], "0102", reported_at(case) - DAY)
    Case.objects.filter(pk=other.pk).update(road_name=road_name + "辅路")
    found = place["leader"].get(f"/api/v1/cases/{case['id']}/duplicates").json()
    assert [d["id"] for d in found["duplicates"]] == [earlier.pk]


def test_the_statistics_count_links_and_dismissals_by_class_and_department(place):
    checked("0102")
    checked("0103")
    first = report_and_accept(place, place["point"], "0102")
    earlier = closed_case(place["inspector"], place["point"], "0102", reported_at(first) - DAY)
    Case.objects.filter(pk=earlier.pk).update(department=Department.objects.get(code="H-huanwei"))
    act(place["leader"], first["id"], "link_duplicate", first["version"], duplicate=earlier.pk)
    second = report_and_accept(place, place["neighbour_point"], "0103")
    closed_case(place["inspector"], place["neighbour_point"], "0103", reported_at(second) - DAY)
    act(place["leader"], second["id"], "dismiss_duplicate", second["version"], opinion="不是复发")
    report_and_accept(place, place["point"], "0104")  # never suspected: not counted

    by_class = place["leader"].get("/api/v1/cases/duplicates/statistics?by=category").json()
    rows = {r["code"]: (r["linked"], r["dismissed"]) for r in by_class["rows"]}
    assert rows == {"0102": (1, 0), "0103": (0, 1)}
    assert (by_class["total"]["linked"], by_class["total"]["dismissed"]) == (1, 1)
    by_dept = place["leader"].get("/api/v1/cases/duplicates/statistics?by=department").json()
    assert {r["code"]: r["linked"] for r in by_dept["rows"]} == {"H-huanwei": 1, "": 0}
    bad = place["leader"].get("/api/v1/cases/duplicates/statistics?by=weather")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "by"
    backwards = place["leader"].get(
        "/api/v1/cases/duplicates/statistics?since=2026-01-02T00:00:00%2B08:00"
        "&until=2026-01-01T00:00:00%2B08:00"
    )
    assert backwards.status_code == 400


def test_dismissing_needs_a_reason_and_lets_registration_proceed(place):
    checked("0102")
    case = report_and_accept(place, place["point"], "0102")
    earlier = closed_case(place["inspector"], place["point"], "0102", reported_at(case) - DAY)
    assert register(place["leader"], case, "0102").status_code == 409

    no_reason = act(place["leader"], case["id"], "dismiss_duplicate", case["version"])
    assert no_reason.status_code == 400 and no_reason.json()["error"]["field"] == "opinion"
    dismissed = act(place["leader"], case["id"], "dismiss_duplicate", case["version"],
                    opinion="同一地点的另一处垃圾，不是复发")  # fmt: skip
    assert dismissed.status_code == 200, dismissed.content
    case = dismissed.json()
    event = CaseEvent.objects.get(case_id=case["id"], action="dismiss_duplicate")
    assert event.details["duplicates"] == [earlier.pk] and event.opinion.startswith("同一地点")
    seen = place["leader"].get(f"/api/v1/cases/{case['id']}/duplicates").json()
    assert seen["status"] == "dismissed" and not seen["may_decide"]
    again = act(place["leader"], case["id"], "dismiss_duplicate", case["version"], opinion="再次")
    assert again.status_code == 409

    registered = register(place["leader"], case, "0102")
    assert registered.status_code == 200, registered.content
    assert registered.json()["state"] == "to_dispatch"


@pytest.fixture
def new_and_closed(place):
    """A case waiting for registration and an earlier closed case in its unit grid."""
    checked("0102")
    case = report_and_accept(place, place["point"], "0102")
    earlier = closed_case(place["inspector"], place["point"], "0102", reported_at(case) - DAY)
    return Case.objects.get(pk=case["id"]), earlier


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=st.integers(-3 * 86_400, 33 * 86_400))
def test_a_closure_counts_exactly_within_the_30_days_before_the_report(new_and_closed, before):
    """Property: a closure `before` seconds before the report is found exactly when it lies in
    (report - 30 days, report], counted here in whole seconds."""
    case, earlier = new_and_closed
    Case.objects.filter(pk=earlier.pk).update(
        closed_at=case.reported_at - dt.timedelta(seconds=before)
    )
    expected = 0 <= before < 30 * 86_400
    assert (earlier.pk in duplicates.find_duplicates(case)) is expected
