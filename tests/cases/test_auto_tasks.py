"""Automatic verification tasks (自动派发核实, spec 5.3.1; cases.autosend) over HTTP: with a
rule of automatic tasks (`AutoTaskRule`) on, accepting a hotline case sends its verification to the online inspector
nearest by road among those of its grid (the street's inspector online, not a nearer one of
another street), as the system actor after the commit; nobody online leaves it to the centre
with a notice; off without a rule."""

from __future__ import annotations

import pytest

from cases.models import Case, CaseEvent, CaseTask, Notification
from tests.cases.test_nearby import around, fix, hotline  # noqa: F401 (around is a fixture)

pytestmark = pytest.mark.django_db


def add_rule(as_user, kind: str, **fields) -> dict:
    """A rule of automatic tasks, added by the shift leader through the API."""
    made = as_user("shiftleader").post(
        "/api/v1/cases/auto-task-rules",
        {"name": f"自动{kind}", "kind": kind, **fields},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    return made.json()


def change_rule(as_user, rule: dict, **fields) -> dict:
    body = {k: v for k, v in {**rule, **fields}.items() if k != "id"}
    changed = as_user("shiftleader").put(
        f"/api/v1/cases/auto-task-rules/{rule['id']}", body, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    return changed.json()


def accept(client, cid):
    answer = client.post(
        f"/api/v1/cases/{cid}/actions/accept", {"version": 1}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_the_grids_online_inspector_gets_the_verification(
    around,  # noqa: F811
    as_user,
    django_capture_on_commit_callbacks,
):
    add_rule(as_user, "verify")
    along, a, b = around["along"], around["a"], around["b"]
    acceptor = as_user("acceptor")
    cid = hotline(acceptor, along(0.5))["id"]
    fix(f"inspector-{a.code}", along(0.8))
    fix(f"inspector-{b.code}", along(0.52))  # nearer, but not of the case's grid
    with django_capture_on_commit_callbacks(execute=True):
        accept(acceptor, cid)
    task = CaseTask.objects.get(case_id=cid, kind="verify")
    assert task.assignee.get_username() == f"inspector-{a.code}"
    assert task.requested_by is None  # the system actor
    case = Case.objects.get(pk=cid)
    assert case.state == "verifying" and case.version == 3
    events = acceptor.get(f"/api/v1/cases/{cid}/history").json()["events"]
    assert events[-1]["action"] == "request_verify"
    assert "自动派发核实" in events[-1]["opinion"]


def test_nobody_online_leaves_it_to_the_centre_with_a_notice(
    around,  # noqa: F811
    as_user,
    django_capture_on_commit_callbacks,
):
    add_rule(as_user, "verify")
    add_rule(as_user, "check")
    along, a = around["along"], around["a"]
    acceptor = as_user("acceptor")
    cid = hotline(acceptor, along(0.5))["id"]
    fix(f"inspector-{a.code}", along(0.55), ago_s=3600)  # offline
    with django_capture_on_commit_callbacks(execute=True):
        accept(acceptor, cid)
    assert Case.objects.get(pk=cid).state == "to_verify"
    assert not CaseTask.objects.filter(case_id=cid).exists()
    told = Notification.objects.filter(case_id=cid, title__startswith="无在线监督员")
    assert "acceptor" in {n.recipient.get_username() for n in told}


def test_off_without_a_rule(around, as_user, django_capture_on_commit_callbacks):  # noqa: F811
    along, a = around["along"], around["a"]
    acceptor = as_user("acceptor")
    cid = hotline(acceptor, along(0.5))["id"]
    fix(f"inspector-{a.code}", along(0.55))
    with django_capture_on_commit_callbacks(execute=True):
        accept(acceptor, cid)
    assert Case.objects.get(pk=cid).state == "to_verify"
    assert not CaseTask.objects.filter(case_id=cid).exists()


def test_an_inspectors_report_is_checked_by_its_reporter_when_online(
    around,  # noqa: F811
    as_user,
    django_capture_on_commit_callbacks,
):
    """5.3.2: the check of an inspector's own report goes to that inspector when online."""
    from tests.cases.test_main_path import act, condition_id, report

    add_rule(as_user, "check")
    along, a = around["along"], around["a"]
    reporter = as_user(f"inspector-{a.code}")
    made = report(reporter, *along(0.5))
    assert made.status_code == 201, made.content
    cid = made.json()["id"]
    fix(f"inspector-{a.code}", along(0.9))
    assert act(as_user("acceptor"), cid, "accept", 1).json()["state"] == "to_register"
    leader = as_user("shiftleader")
    registered = act(
        leader, cid, "register", 2, condition=condition_id("event", "0102", "register")
    )
    assert registered.status_code == 200, registered.content
    dispatched = act(as_user("dispatcher"), cid, "dispatch", 3, department="H-huanwei")
    assert dispatched.status_code == 200, dispatched.content
    with django_capture_on_commit_callbacks(execute=True):
        fed = act(as_user("dept-huanwei"), cid, "feedback", 4, opinion="已清理")
    assert fed.json()["state"] == "to_check"  # the answer before the automatic task
    task = CaseTask.objects.get(case_id=cid, kind="check")
    assert task.assignee.get_username() == f"inspector-{a.code}"
    assert Case.objects.get(pk=cid).state == "checking"
    last = CaseEvent.objects.filter(case_id=cid).order_by("at", "pk").last()
    assert last.action == "request_check" and "上报监督员在线" in last.opinion


def test_outside_the_hours_the_task_waits_for_the_centre(
    around,  # noqa: F811
    as_user,
    django_capture_on_commit_callbacks,
):
    from django.utils import timezone

    now = timezone.localtime()
    in_two, in_three = ((now.hour + 2) % 24, (now.hour + 3) % 24)
    rule = add_rule(as_user, "verify", hours=[[f"{in_two:02d}:00", f"{in_three:02d}:00"]])
    along, a = around["along"], around["a"]
    acceptor = as_user("acceptor")
    fix(f"inspector-{a.code}", along(0.55))
    first = hotline(acceptor, along(0.5))["id"]
    with django_capture_on_commit_callbacks(execute=True):
        accept(acceptor, first)
    assert Case.objects.get(pk=first).state == "to_verify"
    assert not CaseTask.objects.filter(case_id=first).exists()
    # A window holding now (across midnight when it must) sends it.
    change_rule(as_user, rule, hours=[[f"{(now.hour - 1) % 24:02d}:00", f"{in_two:02d}:00"]])
    second = hotline(acceptor, along(0.5))["id"]
    with django_capture_on_commit_callbacks(execute=True):
        accept(acceptor, second)
    assert CaseTask.objects.get(case_id=second).assignee.get_username() == f"inspector-{a.code}"
