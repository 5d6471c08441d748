"""Dispatch modes (派遣方式, spec 5.2.6, issue 20) over HTTP with the demo positions: forced
dispatch refuses the department's return; a parallel case waits in handling until the last of
its departments has fed back, each seeing it in its box until then, and a rework goes back to
the departments named; a multi-department case splits into department cases that each run to
close, the parent closing with the last; a re-dispatch is counted as a wrong dispatch with a new
clock; assisting departments at dispatch, one-click and automatic dispatch from the manual."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Department, Person
from accounts.scoping import scope_for_user
from cases import actions
from cases.models import (
    Case,
    CaseAssist,
    CaseDispatch,
    CaseEvent,
    ManualEntry,
    Notification,
)
from data.models import Category
from tests.cases.conftest import inside
from tests.cases.test_main_path import act, condition_id
from tests.cases.test_notifications import to_dispatch

pytestmark = pytest.mark.django_db


def case_of(client, cid: int) -> dict:
    answered = client.get(f"/api/v1/cases/{cid}")
    assert answered.status_code == 200, answered.content
    return answered.json()


def progress(client, cid: int) -> dict:
    answered = client.get(f"/api/v1/cases/{cid}/dispatches")
    assert answered.status_code == 200, answered.content
    return answered.json()


def box_ids(client, box: str = "handling") -> set[int]:
    answered = client.get("/api/v1/cases", {"box": box, "limit": 200})
    assert answered.status_code == 200, answered.content
    return {f["id"] for f in answered.json()["features"]}


def box_count(client, box: str = "handling") -> int:
    boxes = client.get("/api/v1/cases/boxes").json()["boxes"]
    return next(b["count"] for b in boxes if b["key"] == box)


def events_of(cid: int) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case_id=cid).order_by("at", "pk"))


def check_and_close(as_user, street, cid: int, version: int) -> int:
    """to_check → checking → to_close → closed by the demo centre and the reporting inspector;
    gives the version after."""
    assert act(as_user("acceptor"), cid, "request_check", version).status_code == 200
    inspector = as_user(f"inspector-{street.code}")
    assert act(inspector, cid, "check", version + 1, passed=True).status_code == 200
    closed = act(
        as_user("shiftleader"),
        cid,
        "close",
        version + 2,
        condition=condition_id("event", "0102", "close"),
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["state"] == "closed"
    return version + 3


# ---------------------------------------------------------------------------------------------
# Forced


def test_a_forced_case_is_not_returned_by_its_department(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    dispatched = act(as_user("dispatcher"), cid, "dispatch", 3, mode="forced")
    assert dispatched.status_code == 200, dispatched.content
    assert dispatched.json()["dispatch_mode"] == "forced"
    assert dispatched.json()["department"]["code"] == "H-huanwei"
    event = CaseEvent.objects.get(case_id=cid, action="dispatch")
    assert event.details == {"department": "H-huanwei", "mode": "forced"}

    handler = as_user("dept-huanwei")
    refused = handler.post(
        f"/api/v1/cases/{cid}/applications",
        {"kind": "return", "reason": "不属于我单位职责", "version": 4},
        content_type="application/json",
    )
    assert refused.status_code == 409, refused.content
    assert "强制派遣" in refused.json()["error"]["message"]
    assert refused.json()["current"] == {"state": "handling", "version": 4}
    assert Case.objects.get(pk=cid).state == "handling"
    # Other applications stay open to it (an extension, say): "apply" is still offered.
    assert "apply" in case_of(handler, cid)["actions"]
    # The centre's own return of a forced case is not taken at once: it goes up the chain.
    centre = as_user("dispatcher").post(
        f"/api/v1/cases/{cid}/applications",
        {"kind": "return", "reason": "派遣有误，收回重派", "version": 4},
        content_type="application/json",
    )
    assert centre.status_code == 201, centre.content
    assert centre.json()["state"] == "pending"
    assert Case.objects.get(pk=cid).state == "handling"

    # An ordinary dispatch of the same kind of case is returned at once (free return).
    other = to_dispatch(as_user, two_streets[0])
    assert act(as_user("dispatcher"), other, "dispatch", 3).status_code == 200
    returned = handler.post(
        f"/api/v1/cases/{other}/applications",
        {"kind": "return", "reason": "不属于我单位职责", "version": 4},
        content_type="application/json",
    )
    assert returned.status_code == 201, returned.content
    assert Case.objects.get(pk=other).state == "to_dispatch"


# ---------------------------------------------------------------------------------------------
# Parallel


def test_a_parallel_case_waits_for_the_last_department(as_user, two_streets):
    street = two_streets[0]
    cid = to_dispatch(as_user, street)
    dispatcher = as_user("dispatcher")
    one_only = act(dispatcher, cid, "dispatch", 3, mode="parallel", departments=["H-shizheng"])
    assert one_only.status_code == 400 and one_only.json()["error"]["field"] == "departments"
    unknown = act(dispatcher, cid, "dispatch", 3, mode="parallel", departments=["H-x", "H-y"])
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "departments"

    dispatched = act(
        dispatcher, cid, "dispatch", 3, mode="parallel", departments=["H-shizheng", "H-huanwei"]
    )
    assert dispatched.status_code == 200, dispatched.content
    body = dispatched.json()
    assert body["state"] == "handling" and body["dispatch_mode"] == "parallel"
    shares = progress(dispatcher, cid)["departments"]
    assert [s["department"]["code"] for s in shares] == ["H-shizheng", "H-huanwei"]
    # Each department's handlers are told (新派遣案件), nobody else's.
    told = Notification.objects.filter(case_id=cid, title__startswith="新派遣案件")
    assert set(told.values_list("recipient__username", flat=True)) == {
        "dept-shizheng",
        "dept-huanwei",
    }
    assert all(s["deadline"] and s["fed_back_at"] is None for s in shares)

    shizheng, huanwei, yuanlin = (
        as_user("dept-shizheng"),
        as_user("dept-huanwei"),
        as_user("dept-yuanlin"),
    )
    # Each department sees it, in its 处置中 box, and may feed back; a third one does not.
    for client in (shizheng, huanwei):
        assert case_of(client, cid)["actions"][0] == "feedback"
        assert cid in box_ids(client)
        assert box_count(client) == 1
    assert yuanlin.get(f"/api/v1/cases/{cid}").status_code == 404
    assert cid not in box_ids(yuanlin)
    assert act(yuanlin, cid, "feedback", 4, opinion="已处理").status_code == 404

    first = act(shizheng, cid, "feedback", 4, opinion="路面已修复")
    assert first.status_code == 200, first.content
    assert first.json()["state"] == "handling" and first.json()["version"] == 5
    # The check waits for the last department.
    early = act(as_user("acceptor"), cid, "request_check", 5)
    assert early.status_code == 409 and early.json()["current"]["state"] == "handling"
    again = act(shizheng, cid, "feedback", 5, opinion="再次反馈")
    assert again.status_code == 403 or again.status_code == 409
    # Fed back: out of its box, still readable; the other still has it.
    assert cid not in box_ids(shizheng) and box_count(shizheng) == 0
    assert "feedback" not in case_of(shizheng, cid)["actions"]
    assert cid in box_ids(huanwei)

    last = act(huanwei, cid, "feedback", 5, opinion="垃圾已清运")
    assert last.status_code == 200, last.content
    assert last.json()["state"] == "to_check"
    shares = {s["department"]["code"]: s for s in progress(huanwei, cid)["departments"]}
    assert shares["H-shizheng"]["feedback"] == "路面已修复"
    assert shares["H-huanwei"]["feedback"] == "垃圾已清运"
    assert shares["H-huanwei"]["overdue"] is False
    feedbacks = [e for e in events_of(cid) if e.action == "feedback"]
    assert [(e.from_state, e.to_state) for e in feedbacks] == [
        ("handling", "handling"),
        ("handling", "to_check"),
    ]
    assert feedbacks[0].details["waiting"] == ["H-huanwei"]

    # A failed check; the rework goes back to 环卫 only, its clock anew.
    assert act(as_user("acceptor"), cid, "request_check", 6).status_code == 200
    inspector = as_user(f"inspector-{street.code}")
    assert act(inspector, cid, "check", 7, passed=False, opinion="仍有垃圾").status_code == 200
    reworked = act(
        as_user("shiftleader"), cid, "rework", 8, opinion="垃圾未清净", departments=["H-huanwei"]
    )
    assert reworked.status_code == 200, reworked.content
    assert reworked.json()["state"] == "handling"
    shares = {s["department"]["code"]: s for s in progress(huanwei, cid)["departments"]}
    assert shares["H-huanwei"]["fed_back_at"] is None and shares["H-huanwei"]["rework_count"] == 1
    assert shares["H-shizheng"]["fed_back_at"] is not None
    assert shares["H-huanwei"]["dispatched_at"] > shares["H-shizheng"]["dispatched_at"]
    assert cid in box_ids(huanwei) and cid not in box_ids(shizheng)
    assert act(huanwei, cid, "feedback", 9, opinion="已清净").json()["state"] == "to_check"


def test_parallel_departments_are_timed_alone(org, as_user, two_streets):
    """Each share's deadline comes from the class limit from the dispatch; a share fed back
    after its deadline is marked overdue, the other not (超期只体现超期的单位)."""
    street = two_streets[0]
    inspector = Person.objects.get(user__username=f"inspector-{street.code}").user
    acceptor, leader, dispatcher = (
        scope_for_user(Person.objects.get(user__username=u).user)
        for u in ("acceptor", "shiftleader", "dispatcher")
    )
    category = Category.objects.get(kind="event", code="0102")
    # Monday 2026-06-01 09:00 local: a working day.
    start = dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.UTC)
    case = actions.do_report_case(
        scope_for_user(inspector),
        actions.NewCase(
            source="inspector",
            category=category,
            description="垃圾",
            lon=inside(street)[0],
            lat=inside(street)[1],
        ),
        at=start,
    )
    actions.do_accept_case(acceptor, case.pk, version=1, at=start)
    actions.do_register_case(
        leader,
        case.pk,
        version=2,
        condition=condition_id("event", "0102", "register"),
        at=start,
    )
    actions.do_dispatch_case(
        dispatcher,
        case.pk,
        version=3,
        mode="parallel",
        departments=["H-shizheng", "H-huanwei"],
        at=start,
    )
    rows = {r.department.code: r for r in CaseDispatch.objects.filter(case=case)}
    deadline = rows["H-huanwei"].deadline
    assert deadline == rows["H-shizheng"].deadline and deadline > start
    assert Case.objects.get(pk=case.pk).deadline == deadline

    shizheng = scope_for_user(Person.objects.get(user__username="dept-shizheng").user)
    huanwei = scope_for_user(Person.objects.get(user__username="dept-huanwei").user)
    actions.do_feedback_case(
        shizheng, case.pk, version=4, opinion="按时", at=deadline - dt.timedelta(minutes=1)
    )
    # Past the deadline the case is overdue: in 超期 for the department still handling it,
    # not for the one that fed back in time.
    admin = scope_for_user(Person.objects.get(user__username="admin").user)
    actions.do_refresh_deadline_states(admin, now=deadline + dt.timedelta(seconds=30))
    assert Case.objects.get(pk=case.pk).deadline_state == "overdue"
    assert case.pk in box_ids(as_user("dept-huanwei"), "overdue")
    assert box_count(as_user("dept-huanwei"), "overdue") == 1
    assert case.pk not in box_ids(as_user("dept-shizheng"), "overdue")
    assert box_count(as_user("dept-shizheng"), "overdue") == 0
    assert case.pk in box_ids(as_user("dispatcher"), "overdue")  # the centre sees it late
    actions.do_feedback_case(
        huanwei, case.pk, version=5, opinion="超时", at=deadline + dt.timedelta(minutes=1)
    )
    rows = {r.department.code: r for r in CaseDispatch.objects.filter(case=case)}
    assert rows["H-shizheng"].overdue is False and rows["H-huanwei"].overdue is True
    assert Case.objects.get(pk=case.pk).state == "to_check"


def test_a_parallel_case_takes_no_return_and_its_shares_are_redispatched(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    departments = ["H-shizheng", "H-huanwei"]
    dispatched = act(
        as_user("dispatcher"), cid, "dispatch", 3, mode="parallel", departments=departments
    )
    assert dispatched.status_code == 200, dispatched.content
    refused = as_user("dept-shizheng").post(
        f"/api/v1/cases/{cid}/applications",
        {"kind": "return", "reason": "不归我管", "version": 4},
        content_type="application/json",
    )
    assert refused.status_code == 409 and "并行派遣" in refused.json()["error"]["message"]

    # One department's share is re-dispatched (错派): the new one takes it with its own clock.
    dispatcher = as_user("dispatcher")
    assert "redispatch" in case_of(dispatcher, cid)["actions"]
    no_share = act(dispatcher, cid, "redispatch", 4, department="H-yuanlin", opinion="错派")
    assert no_share.status_code == 400 and no_share.json()["error"]["field"] == "replace"
    taken = act(
        dispatcher, cid, "redispatch", 4, department="H-huanwei", replace="H-shizheng", opinion="x"
    )
    assert taken.status_code == 400 and taken.json()["error"]["field"] == "department"
    moved = act(
        dispatcher,
        cid,
        "redispatch",
        4,
        department="H-yuanlin",
        replace="H-shizheng",
        opinion="路面归园林",
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["department"]["code"] == "H-yuanlin"  # the lead followed
    event = CaseEvent.objects.get(case_id=cid, action="redispatch")
    assert event.details["evaluation"] == "wrong_dispatch"
    assert (event.details["before"], event.details["department"]) == ("H-shizheng", "H-yuanlin")
    assert as_user("dept-shizheng").get(f"/api/v1/cases/{cid}").status_code == 404
    yuanlin = as_user("dept-yuanlin")
    assert case_of(yuanlin, cid)["actions"][0] == "feedback"
    shares = progress(yuanlin, cid)["departments"]
    assert [s["department"]["code"] for s in shares] == ["H-yuanlin", "H-huanwei"]
    assert shares[0]["dispatched_at"] > shares[1]["dispatched_at"]
    assert act(as_user("dept-huanwei"), cid, "feedback", 5, opinion="已清运").status_code == 200
    # A share fed back is not moved.
    late = act(
        dispatcher, cid, "redispatch", 6, department="H-shizheng", replace="H-huanwei", opinion="x"
    )
    assert late.status_code == 409
    assert act(yuanlin, cid, "feedback", 6, opinion="已补种").json()["state"] == "to_check"


# ---------------------------------------------------------------------------------------------
# Multi-department


def test_multi_department_cases_close_on_their_own_and_the_parent_follows(as_user, two_streets):
    street = two_streets[0]
    cid = to_dispatch(as_user, street)
    dispatcher = as_user("dispatcher")
    with_help = act(
        dispatcher,
        cid,
        "dispatch",
        3,
        mode="multi",
        departments=["H-shizheng", "H-huanwei"],
        assisting=["H-yuanlin"],
    )
    assert with_help.status_code == 400 and with_help.json()["error"]["field"] == "assisting"
    dispatched = act(
        dispatcher, cid, "dispatch", 3, mode="multi", departments=["H-shizheng", "H-huanwei"]
    )
    assert dispatched.status_code == 200, dispatched.content
    parent = dispatched.json()
    assert parent["state"] == "handling" and parent["dispatch_mode"] == "multi"
    assert parent["department"] is None and parent["deadline"] is None
    children = progress(dispatcher, cid)["children"]
    assert [c["number"] for c in children] == [f"{parent['number']}-1", f"{parent['number']}-2"]
    assert [c["department"]["code"] for c in children] == ["H-shizheng", "H-huanwei"]
    first, second = children[0]["id"], children[1]["id"]

    # The parent takes no action by hand; each department sees its own case only.
    held = act(as_user("shiftleader"), cid, "rework", 4, opinion="x")
    assert held.status_code == 409
    shizheng, huanwei = as_user("dept-shizheng"), as_user("dept-huanwei")
    assert shizheng.get(f"/api/v1/cases/{cid}").status_code == 404
    assert shizheng.get(f"/api/v1/cases/{second}").status_code == 404
    mine = case_of(shizheng, first)
    assert mine["state"] == "handling" and mine["parent"] == cid and mine["deadline"]
    assert mine["reporter"] is None
    told = Notification.objects.filter(title__startswith="新派遣案件")
    assert set(told.values_list("case_id", "recipient__username")) == {
        (first, "dept-shizheng"),
        (second, "dept-huanwei"),
    }
    assert cid not in box_ids(shizheng) and first in box_ids(shizheng)

    assert act(shizheng, first, "feedback", 1, opinion="已修复").status_code == 200
    check_and_close(as_user, street, first, 2)
    assert Case.objects.get(pk=cid).state == "handling"  # the other is still open

    assert act(huanwei, second, "feedback", 1, opinion="已清运").status_code == 200
    check_and_close(as_user, street, second, 2)
    closed = case_of(dispatcher, cid)
    assert closed["state"] == "closed" and closed["closed_at"]
    close = CaseEvent.objects.get(case_id=cid, action="close")
    assert close.actor.get_username() == "shiftleader"
    assert close.details == {
        "children": [f"{parent['number']}-1", f"{parent['number']}-2"],
        "automatic": True,
    }
    states = {c["number"]: c["state"] for c in progress(dispatcher, cid)["children"]}
    assert set(states.values()) == {"closed"}


# ---------------------------------------------------------------------------------------------
# Re-dispatch


def test_a_redispatch_is_counted_as_a_wrong_dispatch_with_a_new_clock(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    dispatcher = as_user("dispatcher")
    first = act(dispatcher, cid, "dispatch", 3, department="H-yuanlin").json()
    assert first["department"]["code"] == "H-yuanlin"
    assert "redispatch" in first["actions"]
    handler = as_user("dept-yuanlin")
    assert "redispatch" not in case_of(handler, cid)["actions"]
    assert (
        act(handler, cid, "redispatch", 4, department="H-huanwei", opinion="x").status_code == 403
    )
    no_reason = act(dispatcher, cid, "redispatch", 4, department="H-huanwei")
    assert no_reason.status_code == 400 and no_reason.json()["error"]["field"] == "opinion"
    same = act(dispatcher, cid, "redispatch", 4, department="H-yuanlin", opinion="错派")
    assert same.status_code == 400 and same.json()["error"]["field"] == "department"

    moved = act(dispatcher, cid, "redispatch", 4, department="H-huanwei", opinion="错派，应为环卫")
    assert moved.status_code == 200, moved.content
    body = moved.json()
    assert body["state"] == "handling" and body["department"]["code"] == "H-huanwei"
    assert body["deadline"] >= first["deadline"]
    event = CaseEvent.objects.get(case_id=cid, action="redispatch")
    assert event.details == {
        "before": "H-yuanlin",
        "department": "H-huanwei",
        "evaluation": "wrong_dispatch",
    }
    assert event.actor.get_username() == "dispatcher"
    # The new department's clock starts at the re-dispatch, not at the first dispatch.
    dispatch = CaseEvent.objects.get(case_id=cid, action="dispatch")
    assert Case.objects.get(pk=cid).stage_started_at == event.at > dispatch.at
    assert handler.get(f"/api/v1/cases/{cid}").status_code == 404
    assert case_of(as_user("dept-huanwei"), cid)["actions"][0] == "feedback"
    stale = act(dispatcher, cid, "redispatch", 4, department="H-shizheng", opinion="再改")
    assert stale.status_code == 409


# ---------------------------------------------------------------------------------------------
# Assisting, one-click, automatic


def test_assisting_departments_at_dispatch_see_the_case(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    dispatcher = as_user("dispatcher")
    itself = act(dispatcher, cid, "dispatch", 3, department="H-huanwei", assisting=["H-huanwei"])
    assert itself.status_code == 400 and itself.json()["error"]["field"] == "assisting"
    assert as_user("dept-yuanlin").get(f"/api/v1/cases/{cid}").status_code == 404

    done = act(dispatcher, cid, "dispatch", 3, department="H-huanwei", assisting=["H-yuanlin"])
    assert done.status_code == 200, done.content
    assert CaseAssist.objects.filter(case_id=cid, department__code="H-yuanlin").exists()
    helper = case_of(as_user("dept-yuanlin"), cid)
    assert "feedback" not in helper["actions"]  # it assists; the main department feeds back
    assert [a["code"] for a in progress(dispatcher, cid)["assisting"]] == ["H-yuanlin"]
    assert CaseEvent.objects.get(case_id=cid, action="dispatch").details == {
        "department": "H-huanwei",
        "assisting": ["H-yuanlin"],
    }


def test_one_click_dispatch_takes_the_manuals_departments(as_user, two_streets):
    entry = ManualEntry.objects.get(category__kind="event", category__code="0102", area=None)
    entry.assisting.add(Department.objects.get(code="H-shizheng"))
    cid = to_dispatch(as_user, two_streets[0])
    dispatcher = as_user("dispatcher")
    recommended = progress(dispatcher, cid)["recommended"]
    assert recommended["department"]["code"] == "H-huanwei"
    assert [d["code"] for d in recommended["assisting"]] == ["H-shizheng"]

    done = act(dispatcher, cid, "dispatch", 3, one_click=True)
    assert done.status_code == 200, done.content
    assert done.json()["department"]["code"] == "H-huanwei"
    assert CaseEvent.objects.get(case_id=cid, action="dispatch").details == {
        "department": "H-huanwei",
        "one_click": True,
        "assisting": ["H-shizheng"],
    }
    assert as_user("dept-shizheng").get(f"/api/v1/cases/{cid}").status_code == 200


def test_registration_dispatches_at_once_when_the_manual_says_so(as_user, two_streets):
    from tests.cases.test_main_path import report

    ManualEntry.objects.filter(category__code="0102", category__kind="event").update(
        auto_dispatch=True
    )
    street = two_streets[0]
    cid = report(as_user(f"inspector-{street.code}"), *inside(street)).json()["id"]
    assert act(as_user("acceptor"), cid, "accept", 1).status_code == 200
    registered = act(
        as_user("shiftleader"),
        cid,
        "register",
        2,
        condition=condition_id("event", "0102", "register"),
    )
    assert registered.status_code == 200, registered.content
    body = registered.json()
    assert body["state"] == "handling" and body["version"] == 4
    assert body["department"]["code"] == "H-huanwei" and body["handling_deadline"]
    dispatch = CaseEvent.objects.get(case_id=cid, action="dispatch")
    assert dispatch.actor.get_username() == "shiftleader"
    assert dispatch.details == {"department": "H-huanwei", "automatic": True}
    assert [e.action for e in events_of(cid)][-2:] == ["register", "dispatch"]
    assert case_of(as_user("dept-huanwei"), cid)["actions"][0] == "feedback"

    # Without the flag, registration leaves the case for the dispatcher.
    ManualEntry.objects.filter(category__code="0102", category__kind="event").update(
        auto_dispatch=False
    )
    other = report(as_user(f"inspector-{street.code}"), *inside(street)).json()["id"]
    assert act(as_user("acceptor"), other, "accept", 1).status_code == 200
    left = act(
        as_user("shiftleader"),
        other,
        "register",
        2,
        condition=condition_id("event", "0102", "register"),
    )
    assert left.json()["state"] == "to_dispatch"


# ---------------------------------------------------------------------------------------------
# A share's deadline state, as a property of its times


_moment = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1), timezones=st.just(dt.UTC)
)


@given(
    start=_moment,
    warning_after=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=5)),
    rest=st.timedeltas(min_value=dt.timedelta(seconds=1), max_value=dt.timedelta(days=5)),
    probes=st.lists(
        st.timedeltas(min_value=dt.timedelta(days=-1), max_value=dt.timedelta(days=12)),
        min_size=2,
        max_size=6,
    ),
    fed_back_after=st.one_of(
        st.none(), st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=12))
    ),
)
def test_a_share_moves_only_forward_from_normal_to_overdue_and_stops_at_its_feedback(
    start, warning_after, rest, probes, fed_back_after
):
    from cases.dispatching import deadline_state

    warning = start + warning_after
    row = CaseDispatch(
        dispatched_at=start,
        warning_at=warning,
        deadline=warning + rest,
        fed_back_at=None if fed_back_after is None else start + fed_back_after,
    )
    order = {"normal": 0, "warning": 1, "overdue": 2}
    states = [deadline_state(row, start + p) for p in sorted(probes)]
    assert [order[s] for s in states] == sorted(order[s] for s in states)
    for p, state in zip(sorted(probes), states, strict=True):
        moment = row.fed_back_at or start + p
        assert (state == "overdue") == (moment >= row.deadline)
        assert (state == "normal") == (moment < warning)
    if row.fed_back_at is not None:  # fed back: the state is the one it had then, for good
        assert len(set(states)) == 1


def test_a_parallel_case_reaches_its_departments_lists_and_no_one_elses(as_user, two_streets):
    """The shares are in the one visibility rule, so the list, the OGC items and the boxes of
    each department of a parallel case hold it, and another department's hold nothing."""
    cid = to_dispatch(as_user, two_streets[0])
    departments = ["H-shizheng", "H-huanwei"]
    dispatched = act(
        as_user("dispatcher"), cid, "dispatch", 3, mode="parallel", departments=departments
    )
    assert dispatched.status_code == 200, dispatched.content
    for username, sees in (
        ("dept-huanwei", True),
        ("dept-shizheng", True),
        ("dept-yuanlin", False),
    ):
        client = as_user(username)
        listed = client.get("/api/v1/cases", {"limit": 100}).json()["features"]
        assert (cid in {f["id"] for f in listed}) is sees, username
        items = client.get("/ogc/collections/cases/items", {"limit": 100})
        assert items.status_code == 200, items.content
        assert (cid in {f["id"] for f in items.json()["features"]}) is sees, username
        assert box_count(client) == (1 if sees else 0), username
