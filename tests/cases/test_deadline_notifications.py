"""Deadline notices (issue 20): beat's refresh moving cases into warning (预警) or overdue (超期)
tells who acts on each — the handling department's handlers, the centre's people of a centre
stage in the case's areas, the inspector of an open task — exactly once per case and
transition, in the refresh's transaction, delivered by the real Celery worker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Person
from accounts.scoping import system_scope
from cases.actions import do_refresh_deadline_states
from cases.models import Case, Notification
from tests.cases.test_main_path import act
from tests.cases.test_notifications import handlers_of, notices, to_dispatch, wait_until

pytestmark = pytest.mark.django_db

BEAT = system_scope("beat")


def users(*names: str) -> set[int]:
    return set(Person.objects.filter(user__username__in=names).values_list("user_id", flat=True))


def told(cid: int, kind: str = "deadline") -> list[tuple[int, str]]:
    rows = Notification.objects.filter(case_id=cid, kind=kind).order_by("id")
    return [(n.recipient_id, n.title) for n in rows]


def handling_case(as_user, street) -> Case:
    cid = to_dispatch(as_user, street)
    assert act(as_user("dispatcher"), cid, "dispatch", 3).status_code == 200
    case = Case.objects.get(pk=cid)
    assert case.state == "handling" and case.warning_at < case.deadline
    return case


def test_warning_then_overdue_tell_the_handlers_once_each_through_the_worker(
    as_user, two_streets, celery_worker
):
    case = handling_case(as_user, two_streets[0])
    handlers = handlers_of("H-huanwei")
    at_warning = case.warning_at + dt.timedelta(seconds=1)

    changed = do_refresh_deadline_states(BEAT, at_warning)
    assert [(i, s) for i, _, s in changed] == [(case.pk, "warning")]
    assert sorted(told(case.pk)) == sorted((u, f"案件预警 {case.number}") for u in handlers)
    # A second run at the same or a later time before the deadline tells nobody again.
    assert do_refresh_deadline_states(BEAT, at_warning) == []
    assert do_refresh_deadline_states(BEAT, case.deadline - dt.timedelta(seconds=1)) == []
    assert len(told(case.pk)) == len(handlers)

    do_refresh_deadline_states(BEAT, case.deadline + dt.timedelta(seconds=1))
    do_refresh_deadline_states(BEAT, case.deadline + dt.timedelta(hours=1))
    titles = [t for _, t in told(case.pk)]
    assert titles.count(f"案件超期 {case.number}") == len(handlers)
    assert len(titles) == 2 * len(handlers)
    # Nobody else hears of it: not the centre, not another department.
    everyone = set(
        Notification.objects.filter(kind="deadline").values_list("recipient_id", flat=True)
    )
    assert everyone == handlers

    # Woken by the refresh's commit, the worker delivers them; the handler reads both.
    rows = Notification.objects.filter(case_id=case.pk, kind="deadline")
    wait_until(lambda: not rows.filter(sent_at__isnull=True).exists())
    assert set(rows.values_list("attempts", flat=True)) == {1}
    mine = [n for n in notices(as_user("dept-huanwei"))["notifications"] if n["kind"] == "deadline"]
    assert [n["title"] for n in mine] == [f"案件超期 {case.number}", f"案件预警 {case.number}"]
    assert "暴露垃圾" in mine[0]["body"] and "处置时限" in mine[0]["body"]


def test_a_centre_stage_tells_the_people_acting_on_it_in_the_case_area(as_user, two_streets):
    cid = to_dispatch(as_user, two_streets[0])
    case = Case.objects.get(pk=cid)
    assert case.state == "to_dispatch" and case.deadline is not None
    do_refresh_deadline_states(BEAT, case.deadline + dt.timedelta(seconds=1))
    # Dispatch is the dispatcher's and the shift leader's (cases.dispatch, every district).
    assert {u for u, _ in told(cid)} == users("dispatcher", "shiftleader")
    assert {t for _, t in told(cid)} == {f"案件超期 {case.number}"}


def test_a_centre_person_outside_the_case_area_is_not_told(as_user, two_streets):
    from accounts.areas import set_person_areas

    street, other = two_streets
    dispatcher = Person.objects.get(user__username="dispatcher")
    set_person_areas(dispatcher, [other])  # no longer the case's district or street
    cid = to_dispatch(as_user, street)
    case = Case.objects.get(pk=cid)
    do_refresh_deadline_states(BEAT, case.deadline + dt.timedelta(seconds=1))
    assert {u for u, _ in told(cid)} == users("shiftleader")


def test_a_rolled_back_refresh_leaves_neither_the_state_nor_a_notice(as_user, two_streets):
    case = handling_case(as_user, two_streets[0])
    with pytest.raises(RuntimeError), transaction.atomic():
        do_refresh_deadline_states(BEAT, case.deadline + dt.timedelta(seconds=1))
        assert told(case.pk)
        raise RuntimeError("the beat's transaction failed after the refresh")
    assert told(case.pk) == []
    assert Case.objects.get(pk=case.pk).deadline_state == "normal"


def test_one_refresh_of_many_cases_writes_its_notices_in_one_statement(as_user, two_streets):
    cases = [handling_case(as_user, two_streets[i % 2]) for i in range(3)]
    latest = max(c.deadline for c in cases) + dt.timedelta(seconds=1)
    with CaptureQueriesContext(connection) as seen:
        changed = do_refresh_deadline_states(BEAT, latest)
    assert len(changed) == 3
    inserts = [
        q["sql"] for q in seen.captured_queries if "INSERT INTO cases_notification" in q["sql"]
    ]
    assert len(inserts) == 1
    assert Notification.objects.filter(kind="deadline").count() == 3 * len(handlers_of("H-huanwei"))


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_move_the_case_and_tell_its_handlers_once(as_user, two_streets):
    import threading

    from django.db import connections

    case = handling_case(as_user, two_streets[0])
    at = case.deadline + dt.timedelta(seconds=1)
    start = threading.Barrier(2)
    results: list[list] = []

    def refresh():
        try:
            start.wait(timeout=10)
            results.append(do_refresh_deadline_states(BEAT, at))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(len(r) for r in results) == [0, 1]
    assert sorted(told(case.pk)) == sorted(
        (u, f"案件超期 {case.number}") for u in handlers_of("H-huanwei")
    )
