"""Automatic assignment of incoming cases to acceptors (案件智能分配, spec 5.2.5) over HTTP:
balanced and sequential rounds counted by hand, maximum loads, urgent cases and classes first,
hand-over (交班) giving the cases to the others on duty, returned cases going back to their
acceptor outside the load, areas respected, the boxes an acceptor sees, assigning by hand and
the refusals."""

from __future__ import annotations

import pytest
from django.test import Client
from pyproj import Geod

from accounts import permissions as perms
from cases.models import Case, CaseEvent
from spatial.models import AdminArea
from tests.cases.conftest import inside
from tests.cases.test_field_paths import photo
from tests.factories import make_person

pytestmark = pytest.mark.django_db
GEOD = Geod(ellps="WGS84")
ACCEPT = [perms.CASES_READ, perms.CASES_ACCEPT]


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


@pytest.fixture
def world(org, two_streets, django_capture_on_commit_callbacks):
    """Three acceptors of the whole city (A, B, C in that seat order), one of the second street
    only (D), an inspector, the shift leader; every acceptor's seat exists, off duty."""
    districts = list(AdminArea.objects.filter(level=AdminArea.Level.DISTRICT))
    people = {
        name: make_person(f"acc-{name}", permissions=ACCEPT, areas=districts, name=f"受理员{name}")
        for name in "ABC"
    }
    people["D"] = make_person("acc-D", permissions=ACCEPT, areas=[two_streets[1]], name="受理员D")
    inspector = make_person(
        "insp-x", permissions=[perms.CASES_READ, perms.CASES_REPORT], areas=districts
    )
    leader = signed_in(org["shiftleader"].user.person)
    for order, name in enumerate("ABCD"):
        answer = leader.put(
            f"/api/v1/cases/assignment/seats/{people[name].user.pk}",
            {"auto_assign": True, "position": order},
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.content
    return {
        "people": people,
        "clients": {name: signed_in(p) for name, p in people.items()},
        "inspector": signed_in(inspector),
        "inspector_id": inspector.user.pk,
        "leader": leader,
        "streets": two_streets,
        "commit": django_capture_on_commit_callbacks,
    }


def rules(world, **changes):
    body = {"mode": "balanced", "max_load": 2, "returned_to_acceptor": True, **changes}
    with world["commit"](execute=True):
        answer = world["leader"].put(
            "/api/v1/cases/assignment", body, content_type="application/json"
        )
    assert answer.status_code == 200, answer.content
    return answer.json()


def duty(world, name, on=True):
    with world["commit"](execute=True):
        answer = world["clients"][name].post(
            "/api/v1/cases/assignment/duty", {"on_duty": on}, content_type="application/json"
        )
    assert answer.status_code == 200, answer.content
    return answer.json()


_step = [0]


def report(world, street=0, category="0102", urgent=False) -> int:
    """An inspector's report at a fresh point of the street (12 m apart: never similar)."""
    _step[0] += 1
    lon, lat = inside(world["streets"][street])
    lon, lat, _ = GEOD.fwd(lon, lat, 90.0, 12.0 * (_step[0] % 8))
    with world["commit"](execute=True):
        made = world["inspector"].post(
            "/api/v1/cases",
            {
                "source": "inspector",
                "kind": "event",
                "category": category,
                "description": "路边暴露垃圾",
                "lon": lon,
                "lat": lat,
                "urgent": urgent,
            },
            content_type="application/json",
        )
    assert made.status_code == 201, made.content
    case_id = made.json()["id"]
    assert Case.objects.get(pk=case_id).street_code == world["streets"][street].code
    return case_id


def acceptor_of(case_id) -> str | None:
    user_id = Case.objects.get(pk=case_id).acceptor_id
    if user_id is None:
        return None
    return Case.objects.get(pk=case_id).acceptor.username.removeprefix("acc-")


def act(world, name, case_id, action, **body):
    version = Case.objects.get(pk=case_id).version
    with world["commit"](execute=True):
        client = world["clients"][name] if name in world["clients"] else world[name]
        answer = client.post(
            f"/api/v1/cases/{case_id}/actions/{action}",
            {"version": version, **body},
            content_type="application/json",
        )
    assert answer.status_code == 200, answer.content
    return answer.json()


def box_ids(client, box) -> set[int]:
    answer = client.get("/api/v1/cases", {"box": box, "limit": 100})
    assert answer.status_code == 200, answer.content
    return {f["id"] for f in answer.json()["features"]}


def loads(world) -> dict[str, int]:
    answer = world["leader"].get("/api/v1/cases/assignment/seats")
    assert answer.status_code == 200
    return {s["username"].removeprefix("acc-"): s["load"] for s in answer.json()["seats"]}


def test_balanced_rounds_fill_the_emptiest_seat_up_to_the_maximum(world):
    rules(world, mode="balanced", max_load=2)
    for name in "ABC":
        duty(world, name)
    cases = [report(world) for _ in range(7)]
    assert Case.objects.filter(pk__in=cases).count() == 7
    # Counted by hand: loads 0,0,0 → A, B, C; then 1,1,1 → A, B, C; all full at 2 → waits.
    assert [acceptor_of(c) for c in cases] == ["A", "B", "C", "A", "B", "C", None]
    assert loads(world) == {"A": 2, "B": 2, "C": 2, "D": 0}
    assert box_ids(world["leader"], "to_assign") == {cases[6]}
    # A acceptance moves the first case out of 待受理: A has room again and gets the seventh.
    act(world, "A", cases[0], "accept")
    assert acceptor_of(cases[6]) == "A"
    assert loads(world)["A"] == 2
    event = CaseEvent.objects.filter(case_id=cases[6], action="assign").get()
    assert event.details["acceptor_name"] == "受理员A" and event.details["mode"] == "balanced"


def test_hand_over_gives_the_cases_to_the_others_on_duty(world):
    rules(world, mode="balanced", max_load=2)
    for name in "ABC":
        duty(world, name)
    cases = [report(world) for _ in range(5)]
    assert [acceptor_of(c) for c in cases] == ["A", "B", "C", "A", "B"]
    handed = duty(world, "B", on=False)
    assert handed["handed_over"] == 2 and handed["seat"]["on_duty"] is False
    # B's two cases: A holds 2 (full), C holds 1 → C takes the older one, the other waits.
    assert acceptor_of(cases[1]) == "C"
    assert acceptor_of(cases[4]) is None
    assert CaseEvent.objects.filter(case_id=cases[4], action="hand_over").count() == 1
    # A higher maximum: the waiting one goes to A (loads 2 and 2, A first in order).
    rules(world, mode="balanced", max_load=3)
    assert acceptor_of(cases[4]) == "A"


def test_sequential_rounds_take_turns_and_skip_full_seats(world):
    rules(world, mode="sequential", max_load=2)
    for name in "ABC":
        duty(world, name)
    first = [report(world) for _ in range(4)]
    assert [acceptor_of(c) for c in first] == ["A", "B", "C", "A"]
    # Loads A2 B1 C1, the turn after A: B (2), then C (2); everyone full, the seventh waits.
    more = [report(world) for _ in range(3)]
    assert [acceptor_of(c) for c in more] == ["B", "C", None]


def test_urgent_cases_then_the_first_classes_go_before_older_ones(world):
    rules(world, mode="balanced", max_load=2, first=["0103"])
    old = report(world)
    urgent = report(world, urgent=True)
    first_class = report(world, category="0103")
    later = report(world)
    assert {acceptor_of(c) for c in (old, urgent, first_class, later)} == {None}
    duty(world, "A")
    assert box_ids(world["clients"]["A"], "to_accept") == {urgent, first_class}
    duty(world, "B")
    assert acceptor_of(old) == "B" and acceptor_of(later) == "B"


def test_a_seat_gets_only_cases_of_its_areas(world):
    rules(world, mode="balanced", max_load=5)
    duty(world, "D")  # the second street only
    elsewhere = report(world, street=0)
    own = report(world, street=1)
    assert acceptor_of(elsewhere) is None
    assert acceptor_of(own) == "D"
    duty(world, "A")
    assert acceptor_of(elsewhere) == "A"


def test_a_returned_case_goes_back_to_its_acceptor_outside_the_load(world):
    rules(world, mode="balanced", max_load=1)
    duty(world, "A")
    case_id = report(world)
    assert acceptor_of(case_id) == "A"
    act(
        world,
        "A",
        case_id,
        "request_supplement",
        inspector=world["inspector_id"],
        opinion="补拍近景",
    )
    assert Case.objects.get(pk=case_id).state == "supplementing"
    waiting = report(world)
    assert acceptor_of(waiting) == "A"  # the seat was free while the case was out
    stored = world["inspector"].post(f"/api/v1/cases/{case_id}/media", {"file": photo("n.png")})
    assert stored.status_code == 201, stored.content
    act(world, "inspector", case_id, "supplement", opinion="已补拍")
    back = Case.objects.get(pk=case_id)
    assert back.state == "reported" and back.acceptor.username == "acc-A"
    assert back.acceptor_returned is True
    assert loads(world)["A"] == 1  # the new one only
    assert box_ids(world["clients"]["A"], "to_accept") == {case_id, waiting}


def test_an_acceptor_with_a_seat_sees_only_their_own_cases(world):
    rules(world, mode="balanced", max_load=1)
    duty(world, "A")
    duty(world, "B")
    a_case, b_case, waiting = report(world), report(world), report(world)
    assert (acceptor_of(a_case), acceptor_of(b_case), acceptor_of(waiting)) == ("A", "B", None)
    assert box_ids(world["clients"]["A"], "to_accept") == {a_case}
    counts = {
        b["key"]: b["count"]
        for b in world["clients"]["A"].get("/api/v1/cases/boxes").json()["boxes"]
    }
    assert counts["to_accept"] == 1 and "to_assign" not in counts
    leader_counts = {
        b["key"]: b["count"] for b in world["leader"].get("/api/v1/cases/boxes").json()["boxes"]
    }
    assert leader_counts["to_assign"] == 1
    # Assignment off: no 待分配, and every acceptor sees every case of their areas again.
    rules(world, mode="off")
    assert box_ids(world["clients"]["A"], "to_accept") >= {a_case, b_case, waiting}
    keys = {b["key"] for b in world["leader"].get("/api/v1/cases/boxes").json()["boxes"]}
    assert "to_assign" not in keys


def test_assigning_by_hand_and_the_refusals(world):
    rules(world, mode="balanced", max_load=1)
    case_id = report(world, street=0)
    case = Case.objects.get(pk=case_id)
    assert case.acceptor_id is None
    leader, a_client = world["leader"], world["clients"]["A"]
    people = world["people"]

    def assign(client, user_id, version=None):
        return client.post(
            f"/api/v1/cases/{case_id}/assign",
            {"acceptor": user_id, "version": version or Case.objects.get(pk=case_id).version},
            content_type="application/json",
        )

    assert assign(a_client, people["A"].user.pk).status_code == 403
    outside = assign(leader, people["D"].user.pk)  # D works in the other street
    assert outside.status_code == 400 and outside.json()["error"]["field"] == "acceptor"
    assert assign(leader, 999999).json()["error"]["field"] == "acceptor"
    assert assign(leader, people["B"].user.pk, version=99).status_code == 409
    done = assign(leader, people["B"].user.pk)
    assert done.status_code == 200, done.content
    assert done.json()["acceptor"] == people["B"].user.pk
    assert CaseEvent.objects.get(case_id=case_id, action="assign").details["manual"] is True
    act(world, "B", case_id, "accept")
    late = assign(leader, people["A"].user.pk)
    assert late.status_code == 409  # 待立案 is not an acceptor stage

    no_seat = make_person("acc-E", permissions=ACCEPT, areas=[world["streets"][0]])
    answer = signed_in(no_seat).post(
        "/api/v1/cases/assignment/duty", {"on_duty": True}, content_type="application/json"
    )
    assert answer.status_code == 404 and answer.json()["error"]["field"] == "seat"
    inspector_seat = leader.put(
        f"/api/v1/cases/assignment/seats/{world['inspector_id']}",
        {},
        content_type="application/json",
    )
    assert inspector_seat.status_code == 400 and inspector_seat.json()["error"]["field"] == "user"
    zero = leader.put(
        f"/api/v1/cases/assignment/seats/{people['A'].user.pk}",
        {"max_load": 0},
        content_type="application/json",
    )
    assert zero.status_code == 400 and zero.json()["error"]["field"] == "max_load"
    bad_mode = leader.put(
        "/api/v1/cases/assignment",
        {"mode": "random", "max_load": 2, "returned_to_acceptor": True},
        content_type="application/json",
    )
    assert bad_mode.status_code == 400 and bad_mode.json()["error"]["field"] == "mode"
    unknown_class = leader.put(
        "/api/v1/cases/assignment",
        {"mode": "balanced", "max_load": 2, "returned_to_acceptor": True, "first": ["9999"]},
        content_type="application/json",
    )
    assert unknown_class.status_code == 400 and unknown_class.json()["error"]["field"] == "first"
    assert (
        a_client.put(
            "/api/v1/cases/assignment",
            {"mode": "off", "max_load": 2, "returned_to_acceptor": True},
            content_type="application/json",
        ).status_code
        == 403
    )
