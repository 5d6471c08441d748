"""Inspectors' tasks and the self-handling path over HTTP (issue 20, spec 5.1.1.2, 5.1.2.2,
5.1.2.22): a supplementary collection (补采) asked by the centre lands in the inspector's box
待补采, is answered with photos and returns the case to the asker's box; an overdue one shows
in the inspector's 超期任务 and answers late; a self-handled report (自行处置) needs photos
before and after, waits in the acceptor's 自行处置 box and is archived, or is sent into the
normal path and dispatched; a failed check's reason goes with the rework."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.scoping import scope_for_user, system_scope
from cases import actions
from cases.models import Case, CaseEvent, CaseMedia, CaseTask, Notification
from tests.cases.conftest import inside
from tests.cases.test_main_path import act, condition_id, report

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def boxes(client) -> dict[str, int]:
    return {b["key"]: b["count"] for b in client.get("/api/v1/cases/boxes").json()["boxes"]}


def listed(client, query: str) -> list[int]:
    page = client.get(f"/api/v1/cases?{query}").json()
    return [f["id"] for f in page["features"]]


def photo(name: str = "scene.png", content: bytes = PNG, content_type: str = "image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def upload(client, cid: int, name: str = "scene.png"):
    return client.post(f"/api/v1/cases/{cid}/media", {"file": photo(name)})


def tasks(client, cid: int) -> list[dict]:
    answer = client.get(f"/api/v1/cases/{cid}/tasks")
    assert answer.status_code == 200, answer.content
    return answer.json()["tasks"]


def test_a_supplement_is_asked_answered_with_photos_and_returns_to_the_asker(as_user, two_streets):
    street, other = two_streets
    inspector = as_user(f"inspector-{street.code}")
    stranger = as_user(f"inspector-{other.code}")
    acceptor, leader = as_user("acceptor"), as_user("shiftleader")
    cid = report(inspector, *inside(street)).json()["id"]
    assert boxes(acceptor)["to_accept"] == 1

    # The centre's picker: the inspectors whose areas hold the case, the reporter first.
    picked = acceptor.get(f"/api/v1/cases/{cid}/inspectors")
    assert picked.status_code == 200, picked.content
    people = picked.json()["inspectors"]
    assert people and people[0]["username"] == f"inspector-{street.code}" and people[0]["reporter"]
    assert f"inspector-{other.code}" not in {p["username"] for p in people}
    assert inspector.get(f"/api/v1/cases/{cid}/inspectors").status_code == 403
    assert "request_supplement" in acceptor.get(f"/api/v1/cases/{cid}").json()["actions"]

    no_note = act(acceptor, cid, "request_supplement", 1, inspector=people[0]["id"])
    assert no_note.status_code == 400 and no_note.json()["error"]["field"] == "opinion"
    asked = act(
        acceptor, cid, "request_supplement", 1, inspector=people[0]["id"], opinion="请补拍近景"
    )
    assert asked.status_code == 200, asked.content
    assert asked.json()["state"] == "supplementing" and asked.json()["state_name"] == "补采中"

    # The case left the acceptor's 待受理 for 补采中 and is in the inspector's 待补采.
    centre = boxes(acceptor)
    assert (centre["to_accept"], centre["supplementing"]) == (0, 1)
    assert "my_supplement" not in centre  # the centre's positions have no inspector boxes
    mine = boxes(inspector)
    assert (mine["my_supplement"], mine["my_tasks"], mine["my_overdue_tasks"]) == (1, 1, 0)
    assert listed(inspector, "box=my_supplement") == [cid]
    assert boxes(stranger)["my_supplement"] == 0
    assert inspector.get(f"/api/v1/cases/{cid}").json()["actions"] == ["supplement"]
    (task,) = tasks(inspector, cid)
    assert (task["kind"], task["kind_name"], task["note"]) == ("supplement", "补采", "请补拍近景")
    assert task["return_state"] == "reported" and task["overdue"] is False
    created, deadline = (dt.datetime.fromisoformat(task[k]) for k in ("created_at", "deadline"))
    assert deadline - created == dt.timedelta(hours=1)  # the stage's 1 natural hour
    notice = Notification.objects.get(case_id=cid, recipient__username=people[0]["username"])
    assert notice.title.startswith("补采任务")

    # Only the task's inspector answers, with a text and the photos uploaded first.
    assert act(stranger, cid, "supplement", 2, opinion="x").status_code == 404
    refused = act(acceptor, cid, "supplement", 2, opinion="x")
    assert refused.status_code == 403, refused.content
    no_photo = act(inspector, cid, "supplement", 2, opinion="已补拍")
    assert no_photo.status_code == 400 and no_photo.json()["error"]["field"] == "media"
    assert upload(stranger, cid).status_code == 404
    stored = upload(inspector, cid, "near.png")
    assert stored.status_code == 201 and stored.json()["stage"] == "supplement"
    no_text = act(inspector, cid, "supplement", 2)
    assert no_text.status_code == 400 and no_text.json()["error"]["field"] == "opinion"
    answered = act(inspector, cid, "supplement", 2, opinion="已补拍近景，井盖破损明显")
    assert answered.status_code == 200, answered.content
    assert answered.json()["state"] == "reported"

    event = CaseEvent.objects.get(case_id=cid, action="supplement")
    assert event.details["media"] == [stored.json()["id"]] and event.details["late"] is False
    assert CaseMedia.objects.get(pk=stored.json()["id"]).event_id == event.pk
    (task,) = tasks(acceptor, cid)
    assert task["done_at"] and task["answer"] == "已补拍近景，井盖破损明显"
    centre = boxes(acceptor)
    assert (centre["to_accept"], centre["supplementing"]) == (1, 0)
    assert listed(acceptor, "box=to_accept") == [cid]
    assert boxes(inspector)["my_supplement"] == 0
    told = Notification.objects.filter(case_id=cid, recipient__username="acceptor")
    assert [n.title[:5] for n in told] == ["补采已上报"]

    # At registration the shift leader asks (the acceptor may not); back to 待立案.
    assert act(acceptor, cid, "accept", 3).json()["state"] == "to_register"
    assert act(acceptor, cid, "request_supplement", 4, opinion="补拍").status_code == 403
    again = act(leader, cid, "request_supplement", 4, opinion="请补充位置描述")
    assert again.status_code == 200 and again.json()["state"] == "supplementing"
    assert boxes(leader)["supplementing"] == 1 and boxes(leader)["to_register"] == 0
    assert upload(inspector, cid, "far.png").status_code == 201
    back = act(inspector, cid, "supplement", 5, opinion="位置在路口东侧")
    assert back.status_code == 200 and back.json()["state"] == "to_register"
    history = [e["action"] for e in acceptor.get(f"/api/v1/cases/{cid}/history").json()["events"]]
    assert history == [
        "report",
        "request_supplement",
        "supplement",
        "accept",
        "request_supplement",
        "supplement",
    ]


def test_an_overdue_supplement_task_shows_in_the_inspectors_box_and_answers_late(
    org, as_user, two_streets
):
    street = two_streets[0]
    inspector = as_user(f"inspector-{street.code}")
    cid = report(inspector, *inside(street)).json()["id"]
    asked_at = timezone.now() - dt.timedelta(hours=2)
    acceptor = scope_for_user(org["acceptor"].user)
    actions.do_request_supplement_case(acceptor, cid, version=1, opinion="补拍", at=asked_at)
    task = CaseTask.objects.get(case_id=cid)
    assert task.deadline == asked_at + dt.timedelta(hours=1)

    changed = actions.do_refresh_deadline_states(system_scope("beat"), timezone.now())
    assert (cid, Case.objects.get(pk=cid).number, "overdue") in changed
    mine = boxes(inspector)
    assert mine["my_overdue_tasks"] == 1 and mine["my_supplement"] == 1
    assert listed(inspector, "box=my_overdue_tasks") == [cid]
    assert cid in listed(as_user("acceptor"), "box=overdue")
    (shown,) = tasks(inspector, cid)
    assert shown["overdue"] is True
    assert inspector.get(f"/api/v1/cases/{cid}").json()["deadline_state"] == "overdue"

    assert upload(inspector, cid).status_code == 201
    late = act(inspector, cid, "supplement", 2, opinion="已补拍")
    assert late.status_code == 200 and late.json()["deadline_state"] == "normal"  # 待受理 anew
    assert CaseEvent.objects.get(case_id=cid, action="supplement").details["late"] is True
    assert boxes(inspector)["my_overdue_tasks"] == 0
    (shown,) = tasks(inspector, cid)
    assert shown["overdue"] is True  # answered after its deadline


def self_handled(client, street, **files):
    lon, lat = inside(street)
    body = {
        "kind": "event",
        "category": "0102",
        "description": "路边少量暴露垃圾，已随手清理",
        "lon": str(lon),
        "lat": str(lat),
        "address": "某路口",
        **files,
    }
    return client.post("/api/v1/cases/self-handled", body)


def test_a_self_handled_report_needs_both_photos_and_is_archived(as_user, two_streets):
    street = two_streets[0]
    inspector = as_user(f"inspector-{street.code}")
    acceptor = as_user("acceptor")
    before = Case.objects.count()

    missing_after = self_handled(inspector, street, before=photo())
    assert missing_after.status_code == 400 and missing_after.json()["error"]["field"] == "after"
    missing_before = self_handled(inspector, street, after=photo())
    assert missing_before.status_code == 400
    assert missing_before.json()["error"]["field"] == "before"
    lying = self_handled(inspector, street, before=photo(content=b"MZ not png"), after=photo())
    assert lying.status_code == 400 and lying.json()["error"]["field"] == "before"
    assert self_handled(as_user("dept-huanwei"), street, before=photo()).status_code == 403
    assert Case.objects.count() == before and not CaseMedia.objects.exists()

    made = self_handled(
        inspector,
        street,
        before=[photo("a.png"), photo("b.jpg", JPEG, "image/jpeg")],
        after=photo("c.png"),
    )
    assert made.status_code == 201, made.content
    case = made.json()
    cid = case["id"]
    assert (case["state"], case["state_name"], case["self_handled"]) == (
        "to_review",
        "待审核",
        True,
    )
    assert case["source"] == "inspector" and case["deadline_state"] == "normal"
    media = inspector.get(f"/api/v1/cases/{cid}/media").json()["media"]
    assert sorted(m["stage"] for m in media) == ["report", "report", "self_handled"]
    report_event = CaseEvent.objects.get(case_id=cid, action="report")
    assert report_event.details == {"source": "inspector", "self_handled": True}
    assert set(CaseMedia.objects.filter(case_id=cid).values_list("event", flat=True)) == {
        report_event.pk
    }

    centre = boxes(acceptor)
    assert (centre["to_review"], centre["to_accept"]) == (1, 0)
    assert listed(acceptor, "box=to_review") == [cid]
    assert set(acceptor.get(f"/api/v1/cases/{cid}").json()["actions"]) == {
        "archive",
        "send_to_register",
    }
    assert inspector.get(f"/api/v1/cases/{cid}").json()["actions"] == []
    assert act(inspector, cid, "archive", 1).status_code == 403

    archived = act(acceptor, cid, "archive", 1, opinion="现场已处理，归档")
    assert archived.status_code == 200, archived.content
    body = archived.json()
    assert (body["state"], body["self_handled"]) == ("closed", True) and body["closed_at"]
    assert boxes(acceptor)["to_review"] == 0
    assert listed(acceptor, "self_handled=true&state=closed") == [cid]  # counted as such
    assert cid not in listed(acceptor, "self_handled=false")
    assert cid in listed(acceptor, "box=closed_today")
    assert act(acceptor, cid, "send_to_register", 2, opinion="x").status_code == 409


def test_a_self_handled_case_not_really_fixed_runs_the_normal_path(as_user, two_streets):
    street = two_streets[0]
    inspector = as_user(f"inspector-{street.code}")
    acceptor, leader = as_user("acceptor"), as_user("shiftleader")
    cid = self_handled(inspector, street, before=photo(), after=photo()).json()["id"]

    no_reason = act(acceptor, cid, "send_to_register", 1)
    assert no_reason.status_code == 400 and no_reason.json()["error"]["field"] == "opinion"
    sent = act(acceptor, cid, "send_to_register", 1, opinion="照片显示仍有垃圾，转立案")
    assert sent.status_code == 200 and sent.json()["state"] == "to_register"
    registered = act(
        leader, cid, "register", 2, condition=condition_id("event", "0102", "register")
    )
    assert registered.status_code == 200 and registered.json()["state"] == "to_dispatch"
    dispatched = act(as_user("dispatcher"), cid, "dispatch", 3)
    assert dispatched.status_code == 200, dispatched.content
    assert dispatched.json()["state"] == "handling"
    assert dispatched.json()["department"]["code"] == "H-huanwei"
    handler = as_user("dept-huanwei")
    assert act(handler, cid, "feedback", 4, opinion="已清运").status_code == 200

    # The check goes to the reporting inspector; a failed check's reason goes with the rework.
    assert act(acceptor, cid, "request_check", 5).status_code == 200
    failed = act(inspector, cid, "check", 6, passed=False, opinion="墙角仍有垃圾")
    assert failed.status_code == 200 and failed.json()["state"] == "to_close"
    reworked = act(leader, cid, "rework", 7, opinion="请彻底清理墙角")
    assert reworked.status_code == 200 and reworked.json()["state"] == "handling"
    history = handler.get(f"/api/v1/cases/{cid}/history").json()["events"]
    assert [e["action"] for e in history] == [
        "report",
        "send_to_register",
        "register",
        "dispatch",
        "feedback",
        "request_check",
        "check",
        "rework",
    ]
    rework = history[-1]
    assert rework["opinion"] == "请彻底清理墙角"
    assert rework["details"] == {
        "rework": 1,
        "check_opinion": "墙角仍有垃圾",
        "checked_by": f"inspector-{street.code}",
    }
    told = Notification.objects.filter(case_id=cid, event__action="rework")
    assert told.exists() and all("请彻底清理墙角" in n.body for n in told)
    case = Case.objects.get(pk=cid)
    assert case.self_handled and case.rework_count == 1


def test_a_self_handled_case_left_unreviewed_tells_the_acceptor(as_user, two_streets):
    street = two_streets[0]
    inspector = as_user(f"inspector-{street.code}")
    cid = self_handled(inspector, street, before=photo(), after=photo()).json()["id"]
    deadline = Case.objects.get(pk=cid).deadline
    assert deadline is not None

    changed = actions.do_refresh_deadline_states(
        system_scope("beat"), deadline + dt.timedelta(minutes=1)
    )
    assert [(c[0], c[2]) for c in changed] == [(cid, "overdue")]
    told = Notification.objects.filter(case_id=cid, kind="deadline")
    assert {n.recipient.username for n in told} >= {"acceptor"}
    assert all(n.title.startswith("案件超期") for n in told)
    assert boxes(as_user("acceptor"))["overdue"] == 1


def test_the_self_handling_workflow_is_data_in_the_admin(admin_client):
    listed = admin_client.get("/admin/cases/workflow/?self_handled__exact=1")
    assert listed.status_code == 200
    assert b"self-handled-inspector" in listed.content and b"direct-inspector" not in listed.content
    from cases.models import Workflow

    row = Workflow.objects.get(key="self-handled-inspector")
    assert (row.self_handled, row.initial_state, row.source) == (True, "to_review", "inspector")
    page = admin_client.get(f"/admin/cases/workflow/{row.pk}/change/")
    assert page.status_code == 200 and b"send_to_register" in page.content
