"""Timed dispatch (定时派遣, issue 20 §dispatch modes) over HTTP and beat: a dispatcher sets the
time and department; beat's run dispatches the case then, as the dispatcher, and not before;
an edited time is kept, a cancelled one never runs, a case dispatched by hand meanwhile leaves
the timed dispatch failed with the reason; the refusals (a past time, a wrong state, a position
that does not dispatch); and once through the real Celery worker."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, ScheduledDispatch
from cases.tasks import run_scheduled_dispatches
from tests.cases.test_main_path import act
from tests.cases.test_notifications import to_dispatch, wait_until

pytestmark = pytest.mark.django_db
PATH = "/api/v1/cases/{}/scheduled-dispatch"


def schedule(client, cid: int, version: int, run_at: dt.datetime, **body):
    return client.post(
        PATH.format(cid),
        {"version": version, "run_at": run_at.isoformat(), **body},
        content_type="application/json",
    )


def edit(client, cid: int, version: int, **body):
    return client.patch(
        PATH.format(cid), {"version": version, **body}, content_type="application/json"
    )


def cancel(client, cid: int, version: int):
    return client.delete(f"{PATH.format(cid)}?version={version}")


def beat(now: dt.datetime) -> dict:
    return run_scheduled_dispatches(now=now)


def actions_of(cid: int) -> list[str]:
    return list(
        CaseEvent.objects.filter(case_id=cid).order_by("at", "pk").values_list("action", flat=True)
    )


def test_beat_dispatches_at_the_set_time_as_the_dispatcher(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    dispatcher = as_user("dispatcher")
    run_at = timezone.now() + dt.timedelta(hours=1)

    made = schedule(dispatcher, cid, 3, run_at, department="H-shizheng", opinion="夜间派遣")
    assert made.status_code == 201, made.content
    row = made.json()
    assert row["state"] == "scheduled" and row["department"]["code"] == "H-shizheng"
    assert row["created_by"] == "dispatcher" and row["case_version"] == 4
    case = dispatcher.get(f"/api/v1/cases/{cid}").json()
    assert case["state"] == "to_dispatch" and case["version"] == 4
    event = CaseEvent.objects.get(case_id=cid, action="schedule_dispatch")
    assert (event.from_state, event.to_state) == ("to_dispatch", "to_dispatch")
    assert dispatcher.get(PATH.format(cid)).json()["id"] == row["id"]

    # A second timed dispatch of the same case: edit or cancel the first.
    assert schedule(dispatcher, cid, 4, run_at).status_code == 409

    assert beat(run_at - dt.timedelta(seconds=1)) == {"ran": 0}
    assert Case.objects.get(pk=cid).state == "to_dispatch"

    assert beat(run_at) == {"ran": 1}
    case = dispatcher.get(f"/api/v1/cases/{cid}").json()
    assert case["state"] == "handling" and case["department"]["code"] == "H-shizheng"
    dispatch = CaseEvent.objects.get(case_id=cid, action="dispatch")
    assert dispatch.actor.get_username() == "dispatcher" and dispatch.at == run_at
    assert dispatch.opinion == "夜间派遣"
    assert dispatch.details == {"department": "H-shizheng", "scheduled_dispatch": row["id"]}
    done = dispatcher.get(PATH.format(cid)).json()
    assert done["state"] == "done" and done["done_at"] and done["error"] == ""
    assert as_user("dept-shizheng").get(f"/api/v1/cases/{cid}").status_code == 200

    assert beat(run_at + dt.timedelta(minutes=5)) == {"ran": 0}  # it ran once
    assert edit(dispatcher, cid, case["version"], run_at=run_at.isoformat()).status_code == 409
    assert cancel(dispatcher, cid, case["version"]).status_code == 409


def test_an_edited_time_and_department_are_kept(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    dispatcher = as_user("dispatcher")
    first = timezone.now() + dt.timedelta(hours=1)
    later = first + dt.timedelta(hours=1)
    assert schedule(dispatcher, cid, 3, first).json()["department"]["code"] == "H-huanwei"

    assert edit(dispatcher, cid, 3, run_at=later.isoformat()).status_code == 409  # stale
    past = timezone.now() - dt.timedelta(minutes=1)
    refused = edit(dispatcher, cid, 4, run_at=past.isoformat())
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "run_at"
    edited = edit(dispatcher, cid, 4, run_at=later.isoformat(), department="H-shizheng")
    assert edited.status_code == 200, edited.content
    assert edited.json()["case_version"] == 5
    assert edited.json()["department"]["code"] == "H-shizheng"
    assert "edit_scheduled_dispatch" in actions_of(cid)

    assert beat(first) == {"ran": 0}
    assert Case.objects.get(pk=cid).state == "to_dispatch"
    assert beat(later) == {"ran": 1}
    case = Case.objects.select_related("department").get(pk=cid)
    assert case.state == "handling" and case.department.code == "H-shizheng"


def test_a_cancelled_timed_dispatch_never_runs(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    dispatcher = as_user("dispatcher")
    run_at = timezone.now() + dt.timedelta(minutes=30)
    assert schedule(dispatcher, cid, 3, run_at).status_code == 201

    assert cancel(dispatcher, cid, 3).status_code == 409  # stale
    assert as_user("acceptor").delete(f"{PATH.format(cid)}?version=4").status_code == 403
    cancelled = cancel(dispatcher, cid, 4)
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["state"] == "cancelled" and cancelled.json()["case_version"] == 5

    assert beat(run_at + dt.timedelta(hours=1)) == {"ran": 0}
    case = Case.objects.get(pk=cid)
    assert case.state == "to_dispatch" and case.department_id is None
    assert cancel(dispatcher, cid, 5).status_code == 409
    assert edit(dispatcher, cid, 5, run_at=run_at.isoformat()).status_code == 409
    # Cancelled, it may be set again.
    assert schedule(dispatcher, cid, 5, run_at).status_code == 201


def test_a_hand_dispatch_before_the_time_leaves_the_timed_one_failed(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    dispatcher = as_user("dispatcher")
    run_at = timezone.now() + dt.timedelta(hours=2)
    assert schedule(dispatcher, cid, 3, run_at, department="H-shizheng").status_code == 201
    assert act(dispatcher, cid, "dispatch", 4).status_code == 200  # the manual's: 环卫
    before = Case.objects.get(pk=cid)

    assert beat(run_at) == {"ran": 1}  # run, and failed: never raised
    row = ScheduledDispatch.objects.get(case_id=cid)
    assert row.state == "failed" and "dispatch cannot be taken" in row.error
    shown = dispatcher.get(PATH.format(cid)).json()
    assert shown["state"] == "failed" and shown["error"] == row.error
    after = Case.objects.select_related("department").get(pk=cid)
    assert after.version == before.version and after.department.code == "H-huanwei"
    assert actions_of(cid).count("dispatch") == 1


def test_the_refusals(as_user, two_streets):
    street = two_streets[0]
    cid = to_dispatch(as_user, street)
    dispatcher = as_user("dispatcher")
    soon = timezone.now() + dt.timedelta(hours=1)

    past = schedule(dispatcher, cid, 3, timezone.now() - dt.timedelta(seconds=1))
    assert past.status_code == 400 and past.json()["error"]["field"] == "run_at"
    missing = dispatcher.post(PATH.format(cid), {"version": 3}, content_type="application/json")
    assert missing.status_code == 400
    unknown = schedule(dispatcher, cid, 3, soon, department="nope")
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "department"
    assert schedule(as_user("acceptor"), cid, 3, soon).status_code == 403
    assert schedule(as_user(f"inspector-{street.code}"), cid, 3, soon).status_code in (403, 404)
    assert schedule(as_user(f"inspector-{two_streets[1].code}"), cid, 3, soon).status_code == 404
    assert dispatcher.get(PATH.format(cid)).status_code == 404  # none set

    reported = to_dispatch(as_user, street)
    assert act(dispatcher, reported, "dispatch", 3).status_code == 200
    wrong = schedule(dispatcher, reported, 4, soon)
    assert wrong.status_code == 409
    assert wrong.json()["current"] == {"state": "handling", "version": 4}
    assert not ScheduledDispatch.objects.exists()
    assert Case.objects.get(pk=cid).version == 3


def test_the_worker_runs_the_beat_task(as_user, two_streets, celery_worker):
    cid = to_dispatch(as_user, two_streets[0])
    run_at = timezone.now() + dt.timedelta(seconds=1)
    assert schedule(as_user("dispatcher"), cid, 3, run_at).status_code == 201
    time.sleep(max(0.0, (run_at - timezone.now()).total_seconds()) + 0.1)

    run_scheduled_dispatches.delay()
    wait_until(lambda: Case.objects.get(pk=cid).state == "handling")
    row = ScheduledDispatch.objects.get(case_id=cid)
    assert row.state == "done"
    assert CaseEvent.objects.get(case_id=cid, action="dispatch").actor.get_username() == (
        "dispatcher"
    )
