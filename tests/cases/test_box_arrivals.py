"""The boxes' "new arrival" counts (新到) over HTTP: per person and box, the cases that came into
the box since the person last opened its list — a case entering the box's state, reaching its
warning time or deadline — kept server-side, so a console opened in the morning shows what
came overnight."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.scoping import system_scope
from cases.actions import do_refresh_deadline_states
from cases.models import BoxVisit, Case
from cases.queries import ARRIVALS_LOOKBACK
from tests.cases.test_main_path import act
from tests.cases.test_notifications import to_dispatch

pytestmark = pytest.mark.django_db


def boxes(client) -> dict[str, dict]:
    answer = client.get("/api/v1/cases/boxes")
    assert answer.status_code == 200, answer.content
    return {b["key"]: b for b in answer.json()["boxes"]}


def open_box(client, key: str) -> list[int]:
    answer = client.get("/api/v1/cases", {"box": key})
    assert answer.status_code == 200, answer.content
    return [f["id"] for f in answer.json()["features"]]


def test_a_box_counts_what_came_in_since_its_list_was_last_opened(as_user, two_streets):
    dispatcher, leader = as_user("dispatcher"), as_user("shiftleader")
    first = to_dispatch(as_user, two_streets[0])
    assert open_box(dispatcher, "to_dispatch") == [first]  # seen: the evening before
    assert boxes(dispatcher)["to_dispatch"] | {"title": "待派遣"} == {
        "key": "to_dispatch",
        "title": "待派遣",
        "count": 1,
        "new": 0,
    }

    # Overnight two more arrive; the morning's boxes show them as new beside the count.
    later = [to_dispatch(as_user, two_streets[1]), to_dispatch(as_user, two_streets[0])]
    morning = boxes(dispatcher)["to_dispatch"]
    assert (morning["count"], morning["new"]) == (3, 2)
    # The shift leader never opened the box: all three are new to them (within the lookback).
    assert boxes(leader)["to_dispatch"]["new"] == 3
    assert BoxVisit.objects.filter(box="to_dispatch").count() == 1

    # Opening the list makes them seen; dispatching one leaves the box without a new arrival
    # and brings it into 处置中, new there for the dispatcher who has not opened 处置中.
    assert sorted(open_box(dispatcher, "to_dispatch")) == sorted([first, *later])
    assert boxes(dispatcher)["to_dispatch"]["new"] == 0
    assert act(dispatcher, later[0], "dispatch", 3).status_code == 200
    after = boxes(dispatcher)
    assert (after["to_dispatch"]["count"], after["to_dispatch"]["new"]) == (2, 0)
    assert (after["handling"]["count"], after["handling"]["new"]) == (1, 1)
    assert boxes(leader)["to_dispatch"]["new"] == 2


def test_warning_and_overdue_boxes_count_the_cases_whose_time_came_since(as_user, two_streets):
    dispatcher = as_user("dispatcher")
    cid = to_dispatch(as_user, two_streets[0])
    assert act(dispatcher, cid, "dispatch", 3).status_code == 200
    case = Case.objects.get(pk=cid)
    open_box(dispatcher, "warning")
    open_box(dispatcher, "overdue")
    assert (boxes(dispatcher)["warning"]["new"], boxes(dispatcher)["overdue"]["new"]) == (0, 0)

    # Its warning time comes after the boxes were opened (its limit shortened, as a custom
    # deadline would): new in 预警; then its deadline: new in 超期 too.
    opened = BoxVisit.objects.get(user__username="dispatcher", box="warning").seen_at
    Case.objects.filter(pk=cid).update(
        warning_at=opened + dt.timedelta(milliseconds=1), deadline=opened + dt.timedelta(seconds=1)
    )
    beat = system_scope("beat")
    do_refresh_deadline_states(beat, opened + dt.timedelta(milliseconds=500))
    seen = boxes(dispatcher)
    assert (seen["warning"]["count"], seen["warning"]["new"]) == (1, 1)
    assert (seen["overdue"]["count"], seen["overdue"]["new"]) == (0, 0)
    open_box(dispatcher, "warning")
    assert boxes(dispatcher)["warning"]["new"] == 0
    do_refresh_deadline_states(beat, opened + dt.timedelta(seconds=2))
    assert Case.objects.get(pk=case.pk).deadline_state == "overdue"
    seen = boxes(dispatcher)
    assert (seen["overdue"]["count"], seen["overdue"]["new"]) == (1, 1)
    assert (seen["warning"]["count"], seen["warning"]["new"]) == (0, 0)


def test_a_box_left_unopened_longer_than_the_lookback_counts_from_it(as_user, two_streets):
    dispatcher = as_user("dispatcher")
    old, fresh = to_dispatch(as_user, two_streets[0]), to_dispatch(as_user, two_streets[1])
    long_ago = timezone.now() - ARRIVALS_LOOKBACK - dt.timedelta(days=2)
    Case.objects.filter(pk=old).update(stage_started_at=long_ago + dt.timedelta(days=1))
    open_box(dispatcher, "to_dispatch")
    BoxVisit.objects.filter(box="to_dispatch").update(seen_at=long_ago)
    got = boxes(dispatcher)["to_dispatch"]
    assert (got["count"], got["new"]) == (2, 1)  # the old one entered before the lookback
    assert Case.objects.get(pk=fresh).stage_started_at > timezone.now() - ARRIVALS_LOOKBACK


def test_the_new_count_is_the_cases_entered_after_the_later_of_visit_and_lookback(
    as_user, two_streets
):
    """A property of the window arithmetic: for any stage starts and any visit (or none), the
    box's `new` is the number of its cases whose stage started after the later of the visit
    and the lookback's start — counted here in Python from the generated times."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from accounts.models import Person
    from accounts.scoping import scope_for_user
    from cases import queries

    ids = [to_dispatch(as_user, two_streets[i % 2]) for i in range(4)]
    user = Person.objects.get(user__username="dispatcher").user
    scope = scope_for_user(user)
    box = queries.BOX_KEYS["to_dispatch"]
    now = timezone.now()
    minutes = st.integers(min_value=-6 * 24 * 60, max_value=0)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(starts=st.lists(minutes, min_size=4, max_size=4), visit=st.none() | minutes)
    def check(starts, visit):
        for pk, offset in zip(ids, starts, strict=True):
            Case.objects.filter(pk=pk).update(stage_started_at=now + dt.timedelta(minutes=offset))
        BoxVisit.objects.filter(user=user).delete()
        if visit is not None:
            BoxVisit.objects.create(
                user=user, box="to_dispatch", seen_at=now + dt.timedelta(minutes=visit)
            )
        floor = -ARRIVALS_LOOKBACK.total_seconds() / 60
        since = floor if visit is None else max(visit, floor)
        expected = sum(1 for offset in starts if offset > since)
        assert queries.arrivals(scope, [box], now) == {"to_dispatch": expected}

    check()
