"""Applications and approvals over HTTP (spec 5.1.3.3–5.1.3.10): a handling department applies
for an extension, a hold, a return, a void, a transfer or assistance; the authorizer chain of
each kind answers level by level; denial may forbid a new application; the applicant may
withdraw; the rules (non-extendable classes, the extension cap, restricted returns) refuse; a
hold's automatic release moves the deadline by exactly the working time held."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cases.models import Application, Case, CaseRules
from data.models import Category
from tests.cases.conftest import inside
from tests.cases.test_main_path import act, condition_id, report

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def handling_case(as_user, street) -> dict:
    """A 暴露垃圾 case reported, accepted, registered and dispatched to 环卫 (H-huanwei)."""
    made = report(as_user(f"inspector-{street.code}"), *inside(street))
    assert made.status_code == 201, made.content
    cid = made.json()["id"]
    assert act(as_user("acceptor"), cid, "accept", 1).status_code == 200
    registered = act(
        as_user("shiftleader"),
        cid,
        "register",
        2,
        condition=condition_id("event", "0102", "register"),
    )
    assert registered.status_code == 200, registered.content
    dispatched = act(as_user("dispatcher"), cid, "dispatch", 3)
    assert dispatched.json()["department"]["code"] == "H-huanwei"
    return dispatched.json()


def apply(client, case: dict, kind: str, **body):
    fresh = client.get(f"/api/v1/cases/{case['id']}").json()
    return client.post(
        f"/api/v1/cases/{case['id']}/applications",
        {"version": fresh["version"], "kind": kind, "reason": "现场条件不具备", **body},
        content_type="application/json",
    )


def answer(client, app_id: int, decision: str = "approve", **body):
    return client.post(
        f"/api/v1/applications/{app_id}/answer",
        {"decision": decision, **body},
        content_type="application/json",
    )


def case_of(client, case: dict) -> dict:
    return client.get(f"/api/v1/cases/{case['id']}").json()


def history(client, case: dict) -> list[tuple[str, str, str]]:
    events = client.get(f"/api/v1/cases/{case['id']}/history").json()["events"]
    return [(e["action"], e["from"], e["to"]) for e in events]


def test_an_extension_is_answered_by_the_shift_leader_who_may_change_the_time(as_user, two_streets):
    case = handling_case(as_user, two_streets[0])
    handler, leader = as_user("dept-huanwei"), as_user("shiftleader")
    assert "apply" in case_of(handler, case)["actions"]
    before = case_of(handler, case)["deadline"]

    made = apply(handler, case, "extension", amount="8", unit="working_hours")
    assert made.status_code == 201, made.content
    app = made.json()
    assert app["state"] == "pending" and app["next"]["level"] == 1
    assert app["extension_share"]["extended"] == 0 and app["extension_share"]["allowed"] >= 1
    # One pending application per case; the applicant does not answer it.
    assert apply(handler, case, "hold").status_code == 409
    assert answer(handler, app["id"]).status_code == 403
    assert answer(as_user("dispatcher"), app["id"]).status_code == 403
    # The shift leader sees it in the to-answer list and halves the time asked.
    listed = leader.get("/api/v1/applications?state=pending").json()["applications"]
    assert [a["id"] for a in listed] == [app["id"]] and listed[0]["may_answer"]
    done = answer(leader, app["id"], amount="4", unit="working_hours", opinion="同意延期4小时")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "approved"
    assert done.json()["steps"][0]["changes"] == {"amount": "4.00", "unit": "working_hours"}
    after = case_of(handler, case)
    assert after["deadline"] > before and after["handling_deadline"] == after["deadline"]
    assert history(leader, case)[-2:] == [
        ("apply_extension", "handling", "handling"),
        ("approve_extension", "handling", "handling"),
    ]
    # Answered: no second answer.
    assert answer(leader, app["id"]).status_code == 409
    assert leader.get("/api/v1/applications").json()["applications"] == []


def test_a_long_extension_needs_the_leader_too_and_one_person_answers_one_level(
    as_user, two_streets
):
    case = handling_case(as_user, two_streets[0])
    handler, shift, leader = as_user("dept-huanwei"), as_user("shiftleader"), as_user("leader")
    app = apply(handler, case, "extension", amount="5", unit="working_days").json()
    assert app["next"]["level"] == 1
    first = answer(shift, app["id"], opinion="同意")
    assert first.status_code == 200 and first.json()["state"] == "pending"
    assert first.json()["next"]["level"] == 2 and first.json()["next"]["opinion_required"]
    # The shift leader also holds cases.supervise, but answered level 1 already.
    assert answer(shift, app["id"]).status_code == 403
    assert answer(leader, app["id"]).status_code == 400  # level 2 needs an opinion
    final = answer(leader, app["id"], opinion="特殊情况，同意")
    assert final.status_code == 200 and final.json()["state"] == "approved"
    assert [s["level"] for s in final.json()["steps"]] == [1, 2]
    assert ("answer_extension", "handling", "handling") in history(shift, case)


def test_deny_with_forbid_reapply_and_withdraw(as_user, two_streets):
    case = handling_case(as_user, two_streets[0])
    handler, leader = as_user("dept-huanwei"), as_user("shiftleader")
    first = apply(handler, case, "extension", amount="2").json()
    withdrawn = handler.post(
        f"/api/v1/applications/{first['id']}/withdraw", {}, content_type="application/json"
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert answer(leader, first["id"]).status_code == 409  # withdrawn before the answer
    again = apply(handler, case, "extension", amount="2").json()
    assert (
        as_user("dept-shizheng")
        .post(f"/api/v1/applications/{again['id']}/withdraw", {}, content_type="application/json")
        .status_code
        == 404
    )  # another department does not even see it
    denied = answer(leader, again["id"], "deny", opinion="时限充足", forbid_reapply=True)
    assert denied.status_code == 200 and denied.json()["state"] == "denied"
    refused = apply(handler, case, "extension", amount="2")
    assert refused.status_code == 409 and refused.json()["current"]["state"] == "handling"
    assert apply(handler, case, "hold", hold_mode="hours", hold_hours="2").status_code == 201
    actions = [a for a, _, _ in history(leader, case)]
    assert actions[-4:] == [
        "withdraw_extension",
        "apply_extension",
        "deny_extension",
        "apply_hold",
    ]


def test_non_extendable_classes_and_the_extension_cap_refuse(as_user, two_streets):
    street = two_streets[0]
    first, second = handling_case(as_user, street), handling_case(as_user, street)
    handler, leader = as_user("dept-huanwei"), as_user("shiftleader")
    rules = CaseRules.objects.get(pk=1)
    rules.non_extendable.add(Category.objects.get(kind="event", code="01"))  # the major class
    assert apply(handler, first, "extension", amount="2").status_code == 409
    rules.non_extendable.clear()

    rules.extension_cap = "0.5"  # 2 cases at 环卫: one may be extended
    rules.save()
    app = apply(handler, first, "extension", amount="2").json()
    assert answer(leader, app["id"]).json()["state"] == "approved"
    refused = apply(handler, second, "extension", amount="2")
    assert refused.status_code == 409, refused.content
    assert "cap" in refused.json()["error"]["message"]
    # The case already extended may be extended again.
    assert apply(handler, first, "extension", amount="1").status_code == 201
    rules.extension_cap = None
    rules.save()
    assert apply(handler, second, "extension").status_code == 400  # no amount


def test_a_hold_pauses_the_clock_until_released_by_hand(as_user, two_streets):
    case = handling_case(as_user, two_streets[0])
    handler, leader = as_user("dept-huanwei"), as_user("shiftleader")
    assert apply(handler, case, "hold", hold_mode="until").status_code == 400  # no time
    app = apply(handler, case, "hold", hold_mode="hours", hold_hours="2").json()
    assert app["next"]["level"] == 1
    assert answer(leader, app["id"]).json()["state"] == "approved"
    held = case_of(handler, case)
    assert held["held_since"] and held["hold_until"] and held["deadline_state"] == "none"
    assert held["actions"] == ["release"]
    assert act(handler, case["id"], "feedback", held["version"], opinion="x").status_code == 409
    released = handler.post(
        f"/api/v1/cases/{case['id']}/release",
        {"version": held["version"]},
        content_type="application/json",
    )
    assert released.status_code == 200, released.content
    body = released.json()
    assert body["held_since"] is None and body["deadline_state"] == "normal"
    assert body["deadline"] >= held["deadline"]
    assert "feedback" in body["actions"]
    assert history(leader, case)[-1] == ("release_hold", "handling", "handling")


def test_a_hold_is_released_at_its_time_with_the_deadline_moved_by_the_working_time_held(
    as_user, two_streets
):
    """Held Monday 2025-03-03 10:00 until Tuesday 10:00: 2 + 4 + 1.5 = 7.5 working hours
    (08:30–12:00, 13:30–17:30). A deadline on Wednesday 11:00 moves to Thursday 11:00
    (Wednesday 11:00–12:00 and 13:30–17:30 give 5 h, Thursday 08:30–11:00 the last 2.5 h); a
    warning time on Wednesday 09:00 to Thursday 09:00."""
    from accounts.scoping import scope_for_user
    from cases.applications import do_answer_application, do_apply
    from cases.tasks import release_holds

    case = handling_case(as_user, two_streets[0])
    monday = dt.datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)
    tuesday = monday + dt.timedelta(days=1)
    deadline = dt.datetime(2025, 3, 5, 11, 0, tzinfo=SHANGHAI)
    Case.objects.filter(pk=case["id"]).update(
        deadline=deadline, handling_deadline=deadline, warning_at=deadline - dt.timedelta(hours=2)
    )
    from accounts.models import Person

    users = {
        name: Person.objects.get(user__username=name).user
        for name in ("dept-huanwei", "shiftleader")
    }
    app = do_apply(
        scope_for_user(users["dept-huanwei"]),
        case["id"],
        version=case["version"],
        kind="hold",
        reason="等待管线单位配合",
        hold_mode="until",
        hold_until=tuesday,
        at=monday,
    )
    do_answer_application(
        scope_for_user(users["shiftleader"]), app.pk, decision="approve", at=monday
    )
    held = Case.objects.get(pk=case["id"])
    assert held.held_since == monday and held.hold_until == tuesday

    assert release_holds(now=tuesday - dt.timedelta(minutes=1)) == {"released": 0}
    assert release_holds(now=tuesday + dt.timedelta(minutes=5)) == {"released": 1}
    released = Case.objects.get(pk=case["id"])
    assert released.held_since is None and released.hold_until is None
    assert released.deadline == dt.datetime(2025, 3, 6, 11, 0, tzinfo=SHANGHAI)
    assert released.handling_deadline == released.deadline
    assert released.warning_at == dt.datetime(2025, 3, 6, 9, 0, tzinfo=SHANGHAI)
    event = released.events.order_by("-pk").first()  # dated at hold_until
    assert event.action == "release_hold" and event.details["automatic"] is True
    assert event.details["held_seconds"] == 7.5 * 3600
    assert release_holds(now=tuesday + dt.timedelta(hours=1)) == {"released": 0}


def test_a_transfer_is_approved_by_the_receiving_department_only(as_user, two_streets):
    case = handling_case(as_user, two_streets[0])
    handler, other = as_user("dept-huanwei"), as_user("dept-shizheng")
    assert other.get(f"/api/v1/cases/{case['id']}").status_code == 404
    assert apply(handler, case, "transfer").status_code == 400  # no department
    assert apply(handler, case, "transfer", department="H-huanwei").status_code == 400
    app = apply(handler, case, "transfer", department="H-shizheng").json()
    assert answer(as_user("shiftleader"), app["id"]).status_code == 403
    assert answer(as_user("dept-shuiwu"), app["id"]).status_code == 404
    # The receiving department sees the case and the application it answers.
    assert other.get(f"/api/v1/cases/{case['id']}").status_code == 200
    listed = other.get("/api/v1/applications").json()["applications"]
    assert [a["id"] for a in listed] == [app["id"]]
    done = answer(other, app["id"], opinion="属我部门职责，同意")
    assert done.status_code == 200 and done.json()["state"] == "approved"
    moved = case_of(other, case)
    assert moved["department"]["code"] == "H-shizheng" and "feedback" in moved["actions"]
    assert handler.get(f"/api/v1/cases/{case['id']}").status_code == 404


def test_a_transfer_may_be_withdrawn_by_the_sender(as_user, two_streets):
    case = handling_case(as_user, two_streets[0])
    handler, other = as_user("dept-huanwei"), as_user("dept-shizheng")
    app = apply(handler, case, "transfer", department="H-shizheng").json()
    gone = handler.post(
        f"/api/v1/applications/{app['id']}/withdraw", {}, content_type="application/json"
    )
    assert gone.status_code == 200 and gone.json()["state"] == "withdrawn"
    assert other.get(f"/api/v1/cases/{case['id']}").status_code == 404
    assert case_of(handler, case)["department"]["code"] == "H-huanwei"


def test_a_return_goes_back_to_dispatch_at_once_unless_restricted(as_user, two_streets):
    street = two_streets[0]
    handler, leader = as_user("dept-huanwei"), as_user("shiftleader")
    free = handling_case(as_user, street)
    taken = apply(handler, free, "return")
    assert taken.status_code == 201 and taken.json()["state"] == "approved"
    back = case_of(leader, free)
    assert back["state"] == "to_dispatch" and back["department"] is None
    assert "dispatch" in back["actions"]
    event = leader.get(f"/api/v1/cases/{free['id']}/history").json()["events"][-1]
    assert (event["action"], event["to"]) == ("return", "to_dispatch")
    assert event["details"]["department"] == "H-huanwei"
    assert event["details"]["evaluation"] == "returned"
    assert handler.get(f"/api/v1/cases/{free['id']}").status_code == 404

    # An extended case needs the shift leader's approval, with an opinion.
    restricted = handling_case(as_user, street)
    ext = apply(handler, restricted, "extension", amount="1").json()
    assert answer(leader, ext["id"]).json()["state"] == "approved"
    app = apply(handler, restricted, "return").json()
    assert app["state"] == "pending"
    assert case_of(leader, restricted)["state"] == "handling"
    assert answer(leader, app["id"]).status_code == 400  # opinion required
    done = answer(leader, app["id"], opinion="确非本部门职责")
    assert done.json()["state"] == "approved"
    assert history(leader, restricted)[-1] == ("approve_return", "handling", "to_dispatch")
    assert Application.objects.filter(case_id=restricted["id"]).count() == 2


def test_a_void_ends_the_case(as_user, two_streets):
    case = handling_case(as_user, two_streets[0])
    handler, leader = as_user("dept-huanwei"), as_user("shiftleader")
    app = apply(handler, case, "void").json()
    denied_level = answer(as_user("dispatcher"), app["id"], opinion="x")
    assert denied_level.status_code == 403
    assert answer(leader, app["id"], opinion="重复案件，作废").json()["state"] == "approved"
    void = case_of(leader, case)
    assert void["state"] == "void" and void["deadline_state"] == "none"
    assert void["actions"] == []
    assert apply(leader, case, "void").status_code == 409


def test_assistance_lets_the_assisting_department_see_the_case(as_user, two_streets):
    case = handling_case(as_user, two_streets[0])
    handler, other = as_user("dept-huanwei"), as_user("dept-shizheng")
    app = apply(handler, case, "assist", department="H-shizheng").json()
    assert other.get(f"/api/v1/cases/{case['id']}").status_code == 404  # not before approval
    assert answer(as_user("shiftleader"), app["id"]).json()["state"] == "approved"
    seen = other.get(f"/api/v1/cases/{case['id']}")
    assert seen.status_code == 200 and seen.json()["department"]["code"] == "H-huanwei"
    assert "feedback" not in seen.json()["actions"]  # the main department feeds back
    assert apply(handler, case, "assist", department="H-shizheng").status_code == 409
    listed = handler.get(f"/api/v1/cases/{case['id']}/applications").json()["applications"]
    assert [a["kind"] for a in listed] == ["assist"]
