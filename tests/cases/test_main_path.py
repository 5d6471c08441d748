"""The main workflow over HTTP with the demo positions (spec 5.1.2, 5.1.3.1–5.1.3.2): an
inspector's report and a hotline case with verification, from report to close, with the
refusals a real day brings (wrong position, wrong state, another street, a stale version) and
the history they leave."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseEvent, Condition
from data.models import Category
from tests.cases.conftest import inside

pytestmark = pytest.mark.django_db


def report(client, lon, lat, **extra):
    body = {
        "source": "inspector",
        "kind": "event",
        "category": "0102",
        "description": "人行道上有一堆暴露垃圾",
        "lon": lon,
        "lat": lat,
        **extra,
    }
    return client.post("/api/v1/cases", body, content_type="application/json")


def act(client, case_id, name, version, **body):
    return client.post(
        f"/api/v1/cases/{case_id}/actions/{name}",
        {"version": version, **body},
        content_type="application/json",
    )


def condition_id(kind: str, category: str, which: str) -> int:
    found = Condition.objects.filter(
        category__kind=kind, category__code=category, kind=which
    ).first()
    assert found is not None, f"no {which} condition for {kind} {category}"
    return found.pk


def test_an_inspector_report_runs_from_report_to_close(as_user, two_streets):
    street, other = two_streets
    inspector = as_user(f"inspector-{street.code}")
    lon, lat = inside(street)

    made = report(inspector, lon, lat, address="某路口东南角")
    assert made.status_code == 201, made.content
    case = made.json()
    assert case["state"] == "reported" and case["version"] == 1
    assert case["number"].isdigit() and len(case["number"]) == 14
    assert case["placement"]["street"]["code"] == street.code
    assert case["category"] == {
        "code": "0102",
        "name": "暴露垃圾",
        "kind": "event",
        "major": "市容环境",
    }
    assert case["actions"] == []  # an inspector does not accept
    assert case["deadline_state"] == "normal" and case["deadline"]
    cid = case["id"]

    # Another street's inspector does not see it; a handler may not accept it.
    assert as_user(f"inspector-{other.code}").get(f"/api/v1/cases/{cid}").status_code == 404
    acceptor, leader = as_user("acceptor"), as_user("shiftleader")
    assert set(acceptor.get(f"/api/v1/cases/{cid}").json()["actions"]) == {
        "accept",
        "not_accept",
        "request_supplement",
    }
    refused = act(as_user("dispatcher"), cid, "accept", 1)
    assert refused.status_code == 403, refused.content
    assert refused.json()["error"]["code"] == "forbidden"

    stale = act(acceptor, cid, "accept", 7)
    assert stale.status_code == 409
    assert stale.json()["current"] == {"state": "reported", "version": 1}

    accepted = act(acceptor, cid, "accept", 1, opinion="属实，受理")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "to_register"  # inspectors' reports skip verification
    again = act(acceptor, cid, "accept", 2)
    assert again.status_code == 409
    assert again.json()["current"]["state"] == "to_register"

    no_condition = act(leader, cid, "register", 2)
    assert no_condition.status_code == 400
    assert no_condition.json()["error"]["field"] == "condition"
    wrong_condition = act(
        leader, cid, "register", 2, condition=condition_id("event", "0101", "register")
    )
    assert wrong_condition.status_code == 400
    registered = act(
        leader, cid, "register", 2, condition=condition_id("event", "0102", "register")
    )
    assert registered.status_code == 200, registered.content
    assert registered.json()["state"] == "to_dispatch"

    dispatched = act(as_user("dispatcher"), cid, "dispatch", 3)  # the manual's department
    assert dispatched.status_code == 200, dispatched.content
    body = dispatched.json()
    assert body["state"] == "handling"
    assert body["department"]["code"] == "H-huanwei"  # 暴露垃圾 → 环卫
    assert body["handling_deadline"] == body["deadline"]

    # Another department neither sees it nor may answer; the right one must give an opinion.
    assert as_user("dept-shizheng").get(f"/api/v1/cases/{cid}").status_code == 404
    handler = as_user("dept-huanwei")
    seen = handler.get(f"/api/v1/cases/{cid}").json()
    assert seen["reporter"] is None and seen["actions"] == ["feedback", "apply"]
    assert act(handler, cid, "feedback", 4).status_code == 400
    handled = act(handler, cid, "feedback", 4, opinion="已清运")
    assert handled.status_code == 200 and handled.json()["state"] == "to_check"

    sent = act(acceptor, cid, "request_check", 5)
    assert sent.status_code == 200, sent.content
    assert sent.json()["state"] == "checking"
    # The check goes back to the reporting inspector, who alone may answer it.
    assert act(as_user(f"inspector-{other.code}"), cid, "check", 6, passed=True).status_code == 404
    mine = inspector.get(f"/api/v1/cases/{cid}").json()
    assert mine["actions"] == ["check"]
    assert act(inspector, cid, "check", 6).status_code == 400  # passed is required
    checked = act(inspector, cid, "check", 6, passed=True, opinion="现场已清理")
    assert checked.status_code == 200 and checked.json()["state"] == "to_close"

    closed = act(leader, cid, "close", 7, condition=condition_id("event", "0102", "close"))
    assert closed.status_code == 200, closed.content
    assert closed.json()["state"] == "closed" and closed.json()["closed_at"]
    assert closed.json()["deadline_state"] == "none"

    history = acceptor.get(f"/api/v1/cases/{cid}/history").json()["events"]
    assert [(e["action"], e["from"], e["to"]) for e in history] == [
        ("report", "", "reported"),
        ("accept", "reported", "to_register"),
        ("register", "to_register", "to_dispatch"),
        ("dispatch", "to_dispatch", "handling"),
        ("feedback", "handling", "to_check"),
        ("request_check", "to_check", "checking"),
        ("check", "checking", "to_close"),
        ("close", "to_close", "closed"),
    ]
    assert [e["actor"] for e in history] == [
        f"inspector-{street.code}",
        "acceptor",
        "shiftleader",
        "dispatcher",
        "dept-huanwei",
        "acceptor",
        f"inspector-{street.code}",
        "shiftleader",
    ]
    assert history[1]["opinion"] == "属实，受理" and history[1]["position"] == "受理员"


def test_a_hotline_case_is_verified_and_reworked_after_a_failed_check(as_user, two_streets):
    street, _ = two_streets
    acceptor, leader = as_user("acceptor"), as_user("shiftleader")
    lon, lat = inside(street)
    made = report(
        acceptor,
        lon,
        lat,
        source="hotline",
        kind="component",
        category="0103",
        description="雨水井盖缺失，有行人踩空风险",
        reporter={"name": "王女士", "phone": "13800001234", "callback_wanted": True},
    )
    assert made.status_code == 201, made.content
    case = made.json()
    cid = case["id"]
    assert case["reporter"]["phone"] == "13800001234"

    assert act(acceptor, cid, "accept", 1).json()["state"] == "to_verify"
    assert act(leader, cid, "register", 2).status_code == 409  # not verified yet
    sent = act(acceptor, cid, "request_verify", 2)  # to an inspector covering the point
    assert sent.status_code == 200, sent.content
    history = acceptor.get(f"/api/v1/cases/{cid}/history").json()["events"]
    assert history[-1]["details"]["inspector"] == f"inspector-{street.code}"

    inspector = as_user(f"inspector-{street.code}")
    seen = inspector.get(f"/api/v1/cases/{cid}").json()
    assert seen["reporter"] is None  # the caller's name and phone stay in the centre
    assert seen["actions"] == ["verify"]
    verified = act(inspector, cid, "verify", 3, valid=True, opinion="现场确认井盖缺失")
    assert verified.status_code == 200 and verified.json()["state"] == "to_register"

    registered = act(
        leader,
        cid,
        "register",
        4,
        condition=condition_id("component", "0103", "register"),
        level="serious",
    )
    assert registered.status_code == 200 and registered.json()["level"] == "serious"
    dispatched = act(as_user("dispatcher"), cid, "dispatch", 5, department="H-shuiwu")
    assert dispatched.json()["department"]["code"] == "H-shuiwu"
    handler = as_user("dept-shuiwu")
    assert act(handler, cid, "feedback", 6, opinion="已加装临时盖板").json()["state"] == "to_check"
    # A hotline case's check goes to an inspector of the grid.
    assert act(acceptor, cid, "request_check", 7).json()["state"] == "checking"
    failed = act(inspector, cid, "check", 8, passed=False, opinion="仅临时盖板，未更换")
    assert failed.json()["state"] == "to_close"

    assert (
        act(
            leader, cid, "close", 9, condition=condition_id("component", "0103", "close")
        ).status_code
        == 409
    )
    assert act(leader, cid, "rework", 9).status_code == 400  # rework needs an opinion
    reworked = act(leader, cid, "rework", 9, opinion="请更换永久井盖")
    assert reworked.status_code == 200
    assert reworked.json()["state"] == "handling" and reworked.json()["rework_count"] == 1
    assert reworked.json()["department"]["code"] == "H-shuiwu"  # back to the same department

    assert act(handler, cid, "feedback", 10, opinion="已更换新井盖").status_code == 200
    assert act(acceptor, cid, "request_check", 11).status_code == 200
    assert act(inspector, cid, "check", 12, passed=True).status_code == 200
    closed = act(leader, cid, "close", 13, condition=condition_id("component", "0103", "close"))
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    actions = [e.action for e in CaseEvent.objects.filter(case_id=cid).order_by("at", "pk")]
    assert actions.count("feedback") == 2 and actions.count("check") == 2


def test_refused_reports_are_restorable_and_events_are_immutable(as_user, two_streets):
    street, _ = two_streets
    acceptor = as_user("acceptor")
    cid = report(acceptor, *inside(street), source="hotline").json()["id"]
    assert act(acceptor, cid, "not_accept", 1).status_code == 400  # a reason is required
    refused = act(acceptor, cid, "not_accept", 1, opinion="重复来电")
    assert refused.json()["state"] == "not_accepted" and refused.json()["actions"] == ["restore"]
    assert act(acceptor, cid, "restore", 2).json()["state"] == "reported"

    from django.db import connection, transaction
    from django.db.utils import InternalError

    event = CaseEvent.objects.filter(case_id=cid).first()
    assert event is not None
    for statement in (
        "UPDATE cases_caseevent SET opinion = 'x' WHERE id = %s",
        "DELETE FROM cases_caseevent WHERE id = %s",
    ):
        with pytest.raises(InternalError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [event.pk])


def test_bad_reports_get_400_with_the_field_and_write_nothing(as_user, two_streets):
    street, _ = two_streets
    inspector = as_user(f"inspector-{street.code}")
    lon, lat = inside(street)
    before = Case.objects.count()
    cases = [
        ({"lon": 10.0, "lat": 10.0}, "point"),
        ({"lon": "NaN"}, "lon"),
        ({"crs": "EPSG:99999"}, "crs"),
        ({"category": "9999"}, "category"),
        ({"category": "01"}, "category"),
        ({"source": "pigeon"}, "source"),
        ({"description": ""}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"component": "123"}, "component"),
        ({"level": "apocalyptic"}, "level"),
        ({"reporter": {"phone": "call me maybe"}}, "reporter"),  # message: reporter.phone
    ]
    for change, field in cases:
        point = (change.pop("lon", lon), change.pop("lat", lat))
        answer = report(inspector, *point, **change)
        assert answer.status_code == 400, (change, answer.content)
        error = answer.json()["error"]
        assert field in (error["field"] or ""), (change, error)
    assert Case.objects.count() == before


def test_boxes_and_the_list_follow_the_callers_position_and_area(as_user, two_streets):
    street, other = two_streets
    mine = as_user(f"inspector-{street.code}")
    for n in range(3):
        assert report(mine, *inside(street), description=f"垃圾 {n}").status_code == 201
    theirs = as_user(f"inspector-{other.code}")
    assert report(theirs, *inside(other)).status_code == 201

    boxes = {
        b["key"]: b["count"] for b in as_user("acceptor").get("/api/v1/cases/boxes").json()["boxes"]
    }
    assert boxes["to_accept"] == 4 and "to_dispatch" not in boxes
    inspector_boxes = {
        b["key"]: b["count"] for b in mine.get("/api/v1/cases/boxes").json()["boxes"]
    }
    assert inspector_boxes["my_reports"] == 3 and "to_accept" not in inspector_boxes

    listed = mine.get("/api/v1/cases?state=reported").json()
    assert listed["numberMatched"] == 3
    assert {f["properties"]["placement"]["street"]["code"] for f in listed["features"]} == {
        street.code
    }
    everything = as_user("acceptor").get(f"/api/v1/cases?area={other.code}&limit=1").json()
    assert everything["numberMatched"] == 1 and everything["numberReturned"] == 1
    found = as_user("acceptor").get("/api/v1/cases?q=垃圾 1").json()
    assert found["numberMatched"] == 1
    number = found["features"][0]["properties"]["number"]
    assert as_user("acceptor").get(f"/api/v1/cases?q={number}").json()["numberMatched"] == 1
    for bad in ("state=nope", "area=12", "bbox=1,2,3", "box=nope", "limit=abc", "since=yesterday"):
        answer = as_user("acceptor").get(f"/api/v1/cases?{bad}")
        assert answer.status_code == 400, bad
    assert as_user("dept-huanwei").get("/api/v1/cases").json()["numberMatched"] == 0
    assert as_user("gisadmin").get("/api/v1/cases").json()["numberMatched"] == 4
    from django.test import Client

    assert Client().get("/api/v1/cases").status_code == 401


def test_editing_a_field_outside_a_transition_is_recorded_with_old_and_new(as_user, two_streets):
    street, _ = two_streets
    cid = report(as_user("acceptor"), *inside(street)).json()["id"]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('citygrid.actor', 'acceptor', true)")
    Case.objects.filter(pk=cid).update(address="新地址", level="serious")
    changes = {(c.field, c.old, c.new, c.actor) for c in Case.objects.get(pk=cid).changes.all()}
    assert ("address", "", "新地址", "acceptor") in changes
    assert ("level", "routine", "serious", "acceptor") in changes
    assert Category.objects.filter(kind="event", code="0102").exists()


def test_nasty_action_requests_get_clear_errors_and_change_nothing(as_user, two_streets):
    acceptor = as_user("acceptor")
    cid = report(acceptor, *inside(two_streets[0]), source="hotline").json()["id"]
    answers = {
        "huge id": acceptor.post(
            f"/api/v1/cases/{10**20}/actions/accept",
            {"version": 1},
            content_type="application/json",
        ),
        "unknown action": act(acceptor, cid, "teleport", 1),
        "list body": acceptor.post(
            f"/api/v1/cases/{cid}/actions/accept", [1, 2], content_type="application/json"
        ),
        "version as text": act(acceptor, cid, "accept", "1"),
        "no version": acceptor.post(
            f"/api/v1/cases/{cid}/actions/accept", {}, content_type="application/json"
        ),
        "NUL opinion": act(acceptor, cid, "accept", 1, opinion="a\x00b"),
        "huge opinion": act(acceptor, cid, "accept", 1, opinion="x" * 2001),
        "not json": acceptor.post(
            f"/api/v1/cases/{cid}/actions/accept", "{", content_type="application/json"
        ),
    }
    for name, answer in answers.items():
        assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.content)
        assert answer.json()["error"]["message"], name
    assert answers["unknown action"].status_code == 404
    case = Case.objects.get(pk=cid)
    assert (case.state, case.version) == ("reported", 1)
    assert CaseEvent.objects.filter(case_id=cid).count() == 1


def test_every_box_count_matches_its_list(as_user, two_streets):
    street, other = two_streets
    inspector = as_user(f"inspector-{street.code}")
    acceptor = as_user("acceptor")
    made = [report(inspector, *inside(street), description=f"问题 {n}").json() for n in range(4)]
    made.append(report(acceptor, *inside(other), source="hotline").json())
    assert all(m.get("id") for m in made)
    assert act(acceptor, made[0]["id"], "accept", 1).status_code == 200
    assert act(acceptor, made[4]["id"], "accept", 1).status_code == 200
    assert act(acceptor, made[4]["id"], "request_verify", 2).status_code == 200
    for username in (
        "acceptor",
        "shiftleader",
        "dispatcher",
        f"inspector-{street.code}",
        f"inspector-{other.code}",
        "dept-huanwei",
        "leader",
    ):
        client = as_user(username)
        boxes = client.get("/api/v1/cases/boxes").json()["boxes"]
        assert boxes, username
        for box in boxes:
            listed = client.get(f"/api/v1/cases?box={box['key']}&limit=1").json()
            assert listed["numberMatched"] == box["count"], (username, box)
    other_boxes = {
        b["key"]: b["count"]
        for b in as_user(f"inspector-{other.code}").get("/api/v1/cases/boxes").json()["boxes"]
    }
    assert other_boxes["my_tasks"] == 1  # the verification task of the hotline case
