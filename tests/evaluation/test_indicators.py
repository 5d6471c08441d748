"""The evaluation indicators (spec 5.1.5) over HTTP against a hand-counted week of cases built
through the real actions (tests/evaluation/scenario.py: overdue, rework, return, hold and
re-dispatch among them); every expectation below is counted by hand from that module's doc."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Person
from tests.evaluation.conftest import PERIOD, client_of, rows, table

pytestmark = pytest.mark.django_db


def test_area_numbers_per_street_equal_the_hand_count(week):
    body = table("leader", "subject=area&level=street")
    found = rows(body)
    a, b = week.street_a.code, week.street_b.code
    assert set(found) == {a, b}, found.keys()  # C0 (before) and C13 (after) are no reports
    assert found[a]["values"] == {
        "reports": 9,  # C1-C8, C12
        "inspector_reports": 6,  # C1 C2 C3 C6 C7 C8
        "public_reports": 3,  # C4 C5 C12
        "public_valid_reports": 2,  # C4 C12 (C5 invalid)
        "valid_reports": 7,
        "valid_rate": 0.7778,
        "registered": 6,  # all valid but C12
        "register_rate": 0.8571,
        "due_handling": 6,
        "handled": 5,  # C8 is still in handling after its return
        "handle_rate": 0.8333,
        "handled_on_time": 4,  # C2 late; C7 on time thanks to its hold; C3's last round
        "on_time_handle_rate": 0.6667,
        "due_close": 6,
        "closed": 3,  # C1 C2 C7
        "close_rate": 0.5,
        "closed_on_time": 2,  # C1 C7
        "on_time_close_rate": 0.3333,
        "reworked": 1,  # C3
        "rework_rate": 0.2,
    }
    assert found[a]["name"] == week.street_a.name
    assert found[b]["values"]["reports"] == 1 and found[b]["values"]["valid_reports"] == 1
    assert found[b]["values"]["registered"] == 0 and found[b]["values"]["handle_rate"] is None
    assert body["total"]["values"]["reports"] == 10 and body["total"]["values"]["valid_rate"] == 0.8

    from cases.models import Case

    reported = [week.cases[n] for n in week.cases if n not in ("C0", "C13")]
    for level, column in [("community", "community_code"), ("grid", "unit_grid_code")]:
        snapshot = list(Case.objects.filter(pk__in=reported).values_list(column, flat=True))
        assert len(snapshot) == 10 and all(snapshot)
        found = rows(table("leader", f"subject=area&level={level}"))
        assert {k: v["values"]["reports"] for k, v in found.items()} == {
            code: snapshot.count(code) for code in set(snapshot)
        }

    district = rows(table("leader", "subject=area&level=district"))
    assert list(district) == [week.street_a.parent.code]
    assert district[week.street_a.parent.code]["values"]["reports"] == 10


def test_department_numbers_equal_the_hand_count(week):
    found = rows(table("leader", "subject=department"))
    assert set(found) == {"H-huanwei", "H-shizheng"}
    assert found["H-huanwei"]["values"] == {
        "received": 7,  # C0 (reported before, dispatched Monday) C1 C2 C3 C4 C7 C8
        "in_progress": 1,  # C0
        "overdue_in_progress": 1,  # C0, deadline Monday 17:00
        "handled": 4,  # C1 C2 C3 C7 (C4 re-dispatched, C8 returned)
        "handled_on_time": 3,  # not C2
        "on_time_handle_rate": 0.4286,
        "closed": 3,  # C1 C2 C7
        "close_rate": 0.4286,
        "closed_overdue": 1,  # C2
        "overdue_close_rate": 0.3333,
        "reworked": 1,  # C3
        "rework_rate": 0.25,
        "wrong_dispatches": 1,  # C4
        "returned": 1,  # C8
    }
    assert found["H-shizheng"]["values"] == {
        "received": 2,  # C4 by re-dispatch, C8 after its return
        "in_progress": 1,  # C8
        "overdue_in_progress": 1,  # C8, deadline Wednesday 12:00
        "handled": 1,  # C4
        "handled_on_time": 1,
        "on_time_handle_rate": 0.5,
        "closed": 0,
        "close_rate": 0.0,
        "closed_overdue": 0,
        "overdue_close_rate": None,
        "reworked": 0,
        "rework_rate": 0.0,
        "wrong_dispatches": 0,
        "returned": 0,
    }


def test_position_numbers_equal_the_hand_count(week):
    inspectors = rows(table("leader", "subject=inspector"))
    a, b = str(week.inspector_a.pk), str(week.inspector_b.pk)
    assert inspectors[a]["values"] == {
        "reports": 6,
        "valid_reports": 5,  # not C6
        "valid_rate": 0.8333,
        "missed_reports": 1,  # C4, over 50 m from every report of theirs; C12 is covered by C8
        "found": 6,
        "missed_rate": 0.1667,
        "verify_tasks": 3,  # C4 C5 C12
        "verified_on_time": 2,  # C5 late
        "on_time_verify_rate": 0.6667,
        "check_tasks": 4,  # C1 C2 C3 C7
        "checked_on_time": 3,  # C2 late
        "on_time_check_rate": 0.75,
    }
    assert inspectors[b]["values"]["reports"] == 1
    assert inspectors[b]["values"]["missed_rate"] == 0.0

    people = {p.user.get_username(): str(p.pk) for p in Person.objects.select_related("user")}
    acceptor = rows(table("leader", "subject=acceptor"))
    # 9 accepts (C9 late), 1 refusal, 3 verifications and 4 checks asked.
    assert acceptor[people["acceptor"]]["values"] == {
        "acts": 17,
        "acts_on_time": 16,
        "on_time_rate": 0.9412,
    }
    leader = rows(table("leader", "subject=shift_leader"))
    # 6 registrations (C8 late), 3 closes, 1 rework.
    assert leader[people["shiftleader"]]["values"] == {
        "acts": 10,
        "acts_on_time": 9,
        "on_time_rate": 0.9,
    }
    dispatcher = rows(table("leader", "subject=dispatcher"))
    # 8 dispatches (C0 late: waiting since Friday) and C4's re-dispatch; C4's first dispatch
    # (re-dispatched) and C8's first (returned) were wrong.
    assert dispatcher[people["dispatcher"]]["values"] == {
        "acts": 9,
        "acts_on_time": 8,
        "on_time_rate": 0.8889,
        "accurate": 7,
        "accurate_rate": 0.7778,
    }


def test_numbers_follow_the_callers_scope(week):
    b = week.street_b
    mine = rows(table(f"inspector-{b.code}", "subject=area"))
    assert list(mine) == [b.code] and mine[b.code]["values"]["reports"] == 1
    # A department sees the cases dispatched to it now: C4 and C8 for 市政.
    theirs = rows(table("dept-shizheng", "subject=area"))
    assert list(theirs) == [week.street_a.code]
    assert theirs[week.street_a.code]["values"]["reports"] == 2
    assert set(rows(table("dept-shizheng", "subject=department"))) == {"H-huanwei", "H-shizheng"}
    assert Client().get(f"/api/v1/evaluation/indicators?{PERIOD}").status_code in (401, 403)


def test_people_see_their_own_position_row_unless_they_judge_people(week):
    b = week.street_b.code
    # Inspector B sees the inspectors of their street (one: themself) and nobody's acts.
    assert list(rows(table(f"inspector-{b}", "subject=inspector"))) == [str(week.inspector_b.pk)]
    assert rows(table(f"inspector-{b}", "subject=dispatcher")) == {}
    acceptor = Person.objects.get(user__username="acceptor")
    assert list(rows(table("acceptor", "subject=acceptor"))) == [str(acceptor.pk)]
    assert rows(table("acceptor", "subject=dispatcher")) == {}
    assert len(rows(table("evaluator", "subject=dispatcher"))) == 1  # an evaluator judges people
    got = client_of("acceptor").get(
        f"/api/v1/evaluation/indicators/cases?subject=dispatcher&indicator=acts&{PERIOD}"
    )
    assert got.status_code == 200 and got.json()["numberMatched"] == 0


def test_a_period_reads_only_the_events_before_its_end(week):
    """Monday only: C1 C2 C3 C7 reported; C3 fed back again on Tuesday, C7 closed Tuesday."""
    got = client_of("leader").get(
        "/api/v1/evaluation/indicators?subject=area&from=2025-03-03&to=2025-03-03"
    )
    values = rows(got.json())[week.street_a.code]["values"]
    assert values["reports"] == 4 and values["registered"] == 4
    assert values["handled"] == 2  # C1 C2; C3 in rework at midnight, C7 not fed back
    assert values["closed"] == 2 and values["closed_on_time"] == 1  # C1 (C2 late)
    assert values["reworked"] == 0  # C3 is not handled (its rework round is open)


@pytest.mark.parametrize(
    "query, field",
    [
        ("subject=nobody", "subject"),
        ("level=planet", "level"),
        ("from=2025-03-09&to=2025-03-01", "from"),
        ("from=2020-01-01&to=2025-01-01", "from"),
        ("from=yesterday", "from"),
    ],
)
def test_bad_input_is_a_json_error(week, query, field):
    got = client_of("leader").get(f"/api/v1/evaluation/indicators?{query}")
    assert got.status_code == 400, got.content
    assert got.json()["error"]["field"] == field


def test_the_definitions_are_one_table(week):
    got = client_of("leader").get("/api/v1/evaluation/indicators/definitions?subject=inspector")
    found = {i["code"]: i for i in got.json()["indicators"]}
    assert found["missed_rate"]["name"] == "漏报率"
    assert (found["missed_rate"]["numerator"], found["missed_rate"]["denominator"]) == (
        "missed_reports",
        "found",
    )


def test_the_documented_table_is_the_table_in_code():
    """docs/evaluation.md prints `evaluation.definitions.INDICATORS` row for row."""
    from pathlib import Path

    from evaluation.definitions import INDICATORS

    text = Path(__file__).resolve().parents[2].joinpath("docs/evaluation.md").read_text()
    documented = [line for line in text.splitlines() if line.startswith("| ") and "` |" in line]
    rows = [r for r in documented if r.split("|")[1].strip() in {i.subject for i in INDICATORS}]
    assert len(rows) == len(INDICATORS)
    for row, indicator in zip(rows, INDICATORS):
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert cells[:4] == [
            indicator.subject,
            f"`{indicator.code}`",
            indicator.name,
            indicator.definition,
        ], row


def test_a_parallel_dispatch_gives_each_department_its_share(city, db):
    """One case dispatched in parallel (并行派遣) to 环卫 and 市政 on Monday 2025-03-03: 环卫 feeds
    back at 11:00 (the case waits for 市政), 市政 never: 环卫 handled its share, 市政's is in
    progress; the case itself is not handled (its last round has no feedback into 待核查)."""
    import datetime as dt

    from accounts.demo import build_demo_organization
    from cases.categories import load_demo_manual
    from spatial.models import AdminArea
    from tests.evaluation.scenario import one_parallel_case

    build_demo_organization()
    load_demo_manual()
    street = AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("code").first()
    case_id = one_parallel_case(street, dt.datetime(2025, 3, 3, 9, 0, tzinfo=_shanghai()))
    found = rows(table("leader", "subject=department"))
    assert set(found) == {"H-huanwei", "H-shizheng"}
    huanwei, shizheng = found["H-huanwei"]["values"], found["H-shizheng"]["values"]
    assert (huanwei["received"], huanwei["handled"], huanwei["in_progress"]) == (1, 1, 0)
    assert (shizheng["received"], shizheng["handled"], shizheng["in_progress"]) == (1, 0, 1)
    area = rows(table("leader", "subject=area"))[street.code]["values"]
    assert (area["due_handling"], area["handled"]) == (1, 0)
    got = client_of("leader").get(
        "/api/v1/evaluation/indicators/cases?subject=department&indicator=in_progress"
        f"&key=H-shizheng&{PERIOD}"
    )
    assert [f["id"] for f in got.json()["features"]] == [case_id]


def _shanghai():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")
