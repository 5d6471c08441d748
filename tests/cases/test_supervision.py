"""Supervision (督办, issue 20) over HTTP: a leader presses the handling department of a case in
handling with a note and a time to reply by, its handlers are notified, one of them replies
once; the case's state and version do not move; and the refusals (a position that does not
supervise, a case not in handling, a past time, another department, a second reply)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, Notification
from tests.cases.test_main_path import act
from tests.cases.test_notifications import handlers_of, to_dispatch

pytestmark = pytest.mark.django_db


def supervise(client, cid: int, note: str = "请尽快处置", hours: float = 4):
    deadline = timezone.now() + dt.timedelta(hours=hours)
    return client.post(
        f"/api/v1/cases/{cid}/supervisions",
        {"note": note, "deadline": deadline.isoformat()},
        content_type="application/json",
    )


def reply(client, sid: int, text: str = "已安排人员处置"):
    return client.post(
        f"/api/v1/supervisions/{sid}/reply", {"reply": text}, content_type="application/json"
    )


def handling(as_user, street) -> int:
    cid = to_dispatch(as_user, street)
    assert act(as_user("dispatcher"), cid, "dispatch", 3).status_code == 200  # to 环卫
    return cid


def test_a_leader_supervises_and_the_department_replies_once(as_user, two_streets):
    cid = handling(as_user, two_streets[0])
    leader, handler = as_user("leader"), as_user("dept-huanwei")
    version = Case.objects.get(pk=cid).version

    made = supervise(leader, cid)
    assert made.status_code == 201, made.content
    row = made.json()
    assert row["by"] == "leader" and row["department"]["code"] == "H-huanwei"
    assert row["reply"] == "" and row["replied_at"] is None
    case = Case.objects.get(pk=cid)
    assert (case.state, case.version) == ("handling", version)
    event = CaseEvent.objects.get(case_id=cid, action="supervise")
    assert (event.from_state, event.to_state, event.opinion) == (
        "handling",
        "handling",
        "请尽快处置",
    )
    assert event.details["supervision"] == row["id"]
    told = Notification.objects.filter(event=event, kind="supervision")
    assert set(told.values_list("recipient_id", flat=True)) == handlers_of("H-huanwei")

    assert reply(as_user("dept-shizheng"), row["id"]).status_code in (403, 404)
    assert reply(leader, row["id"]).status_code == 403
    answered = reply(handler, row["id"])
    assert answered.status_code == 200, answered.content
    assert answered.json()["replied_by"] == "dept-huanwei" and answered.json()["replied_at"]
    assert CaseEvent.objects.filter(case_id=cid, action="reply_supervision").count() == 1
    again = reply(handler, row["id"], "再次回复")
    assert again.status_code == 409 and again.json()["current"]["state"] == "handling"

    listed = handler.get(f"/api/v1/cases/{cid}/supervisions").json()["supervisions"]
    assert [(s["id"], s["reply"]) for s in listed] == [(row["id"], "已安排人员处置")]
    # The handler feeds back at the version they saw before the supervision: not moved.
    assert act(handler, cid, "feedback", version, opinion="已清运").status_code == 200


def test_supervision_refusals(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    leader = as_user("leader")
    not_handling = supervise(leader, cid)
    assert not_handling.status_code == 409 and not_handling.json()["current"]["state"] == (
        "to_dispatch"
    )
    assert act(as_user("dispatcher"), cid, "dispatch", 3).status_code == 200
    assert supervise(as_user("dispatcher"), cid).status_code == 403
    past = supervise(leader, cid, hours=-1)
    assert past.status_code == 400 and past.json()["error"]["field"] == "deadline"
    blank = supervise(leader, cid, note=" ")
    assert blank.status_code == 400 and blank.json()["error"]["field"] == "note"
    assert reply(as_user("dept-huanwei"), 999999).status_code == 404
    assert not CaseEvent.objects.filter(case_id=cid, action="supervise").exists()
