"""Rules of automatic tasks as data and the grid task pool (自动派发规则, 网格任务池; spec
5.3.1-5.3.2) over HTTP: a rule sending verification to the pool, the grid's inspectors told and
seeing it in 任务池, the first claim wins (the second 409, an inspector of another street 403),
an unclaimed task answered by nobody; nobody online falling back to the pool; the filters of a
rule (source, class with a major covering its minors, area, urgency) choosing which cases; the
refusals of bad rules."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import permissions as perms
from cases.models import Case, CaseEvent, CaseTask, Notification
from tests.cases.test_auto_tasks import accept, add_rule
from tests.cases.test_nearby import around, fix, hotline  # noqa: F401 (around is a fixture)
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def claim(client, cid, task_id):
    return client.post(f"/api/v1/cases/{cid}/tasks/{task_id}/claim")


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def test_a_pooled_verification_is_claimed_once_by_an_inspector_of_the_grid(
    around,  # noqa: F811
    as_user,
    django_capture_on_commit_callbacks,
):
    along, a = around["along"], around["a"]
    add_rule(as_user, "verify", target="pool")
    second = make_person(
        "insp-second", permissions=[perms.CASES_READ, perms.CASES_REPORT], areas=[a], name="二号"
    )
    first_client, second_client = as_user(f"inspector-{a.code}"), signed_in(second)
    stranger = as_user(f"inspector-{around['b'].code}")
    acceptor = as_user("acceptor")
    cid = hotline(acceptor, along(0.5))["id"]
    assert Case.objects.get(pk=cid).grid_code  # the case lies in a responsibility grid
    with django_capture_on_commit_callbacks(execute=True):
        accept(acceptor, cid)
    case = Case.objects.get(pk=cid)
    assert case.state == "verifying"
    task = CaseTask.objects.get(case_id=cid)
    assert task.assignee_id is None and task.pool_grid == case.grid_code
    told = set(
        Notification.objects.filter(case_id=cid, title__startswith="任务池新核实任务").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {f"inspector-{a.code}", "insp-second"}

    listed = first_client.get("/api/v1/cases/task-pool")
    assert listed.status_code == 200
    assert [(t["case"], t["task"], t["kind"]) for t in listed.json()["tasks"]] == [
        (cid, task.pk, "verify")
    ]
    assert stranger.get("/api/v1/cases/task-pool").json()["tasks"] == []
    boxes = {b["key"]: b["count"] for b in first_client.get("/api/v1/cases/boxes").json()["boxes"]}
    assert boxes["my_pool"] == 1 and boxes["my_verify"] == 0

    # Nobody answers a task still in the pool.
    unclaimed = first_client.post(
        f"/api/v1/cases/{cid}/actions/verify",
        {"version": case.version, "valid": True, "opinion": "属实"},
        content_type="application/json",
    )
    assert unclaimed.status_code == 403, unclaimed.content

    assert claim(stranger, cid, task.pk).status_code == 404  # not their area: unseen
    won = claim(second_client, cid, task.pk)
    assert won.status_code == 200, won.content
    lost = claim(first_client, cid, task.pk)
    assert lost.status_code == 409 and "二号" in lost.json()["error"]["message"]
    assert claim(second_client, cid, 999999).status_code == 404
    assert CaseTask.objects.get(pk=task.pk).assignee.username == "insp-second"
    assert first_client.get("/api/v1/cases/task-pool").json()["tasks"] == []
    event = CaseEvent.objects.get(case_id=cid, action="claim_task")
    assert event.details["inspector"] == "insp-second"

    answered = second_client.post(
        f"/api/v1/cases/{cid}/actions/verify",
        {"version": case.version, "valid": True, "opinion": "属实"},
        content_type="application/json",
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["state"] == "to_register"


def test_nobody_online_puts_the_task_into_the_pool_when_the_rule_says_so(
    around,  # noqa: F811
    as_user,
    django_capture_on_commit_callbacks,
):
    along, a = around["along"], around["a"]
    add_rule(as_user, "verify", target="nearest", none_online="pool")
    acceptor = as_user("acceptor")
    fix(f"inspector-{a.code}", along(0.55), ago_s=3600)  # offline
    cid = hotline(acceptor, along(0.5))["id"]
    with django_capture_on_commit_callbacks(execute=True):
        accept(acceptor, cid)
    task = CaseTask.objects.get(case_id=cid)
    assert task.assignee_id is None and task.pool_grid
    assert "任务池" in CaseEvent.objects.get(case_id=cid, action="request_verify").opinion
    # Online, the same rule sends the next one to the inspector.
    fix(f"inspector-{a.code}", along(0.55))
    other = hotline(acceptor, along(0.45))["id"]
    with django_capture_on_commit_callbacks(execute=True):
        accept(acceptor, other)
    assert CaseTask.objects.get(case_id=other).assignee.username == f"inspector-{a.code}"


def test_a_rules_filters_choose_the_cases(
    around,  # noqa: F811
    as_user,
    django_capture_on_commit_callbacks,
):
    along, a, b = around["along"], around["a"], around["b"]
    fix(f"inspector-{a.code}", along(0.55))
    acceptor = as_user("acceptor")
    # Public reports of the major class 01 in street a, urgent ones only.
    add_rule(
        as_user,
        "verify",
        sources=["public"],
        categories=["01"],
        area_codes=[a.code],
        urgent_only=True,
    )

    def accepted(source, category="0102", urgent=True) -> bool:
        cid = hotline(acceptor, along(0.5), source=source, category=category, urgent=urgent)["id"]
        with django_capture_on_commit_callbacks(execute=True):
            accept(acceptor, cid)
        return CaseTask.objects.filter(case_id=cid).exists()

    assert accepted("public") is True  # 0102 lies under 01
    assert accepted("hotline") is False  # another source
    assert accepted("public", urgent=False) is False
    assert accepted("public", category="0201") is False  # another major class
    assert b.code != a.code


def test_bad_rules_are_refused_with_the_field(as_user):
    leader = as_user("shiftleader")

    def post(**fields):
        body = {"name": "规则", "kind": "verify", **fields}
        return leader.post("/api/v1/cases/auto-task-rules", body, content_type="application/json")

    for fields, field in [
        ({"kind": "dispatch"}, "kind"),
        ({"hours": [["25:00", "08:00"]]}, "hours"),
        ({"hours": [["08:00"]]}, "hours"),
        ({"categories": ["9999"]}, "categories"),
        ({"area_codes": ["12ab"]}, "area_codes"),
        ({"target": "everyone"}, "target"),
        ({"sources": ["sms"]}, "sources"),
    ]:
        answer = post(**fields)
        assert answer.status_code == 400, (fields, answer.content)
        assert answer.json()["error"]["field"].startswith(field), answer.json()
    assert (
        as_user("acceptor")
        .post(
            "/api/v1/cases/auto-task-rules",
            {"name": "x", "kind": "verify"},
            content_type="application/json",
        )
        .status_code
        == 403
    )
    made = post()
    assert made.status_code == 201
    listed = leader.get("/api/v1/cases/auto-task-rules").json()["rules"]
    assert [r["id"] for r in listed] == [made.json()["id"]]
    assert leader.delete(f"/api/v1/cases/auto-task-rules/{made.json()['id']}").status_code == 204
    assert leader.delete(f"/api/v1/cases/auto-task-rules/{made.json()['id']}").status_code == 404
