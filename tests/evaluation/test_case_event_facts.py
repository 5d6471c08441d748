"""The per-case projection of the event facts (`CaseEventFacts`): the trigger folds every event
the actions append, `manage.py case_event_facts` finds a row that differs from its events and
writes the rows again. Expectations are the hand-written times of tests/evaluation/scenario.py."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from evaluation.models import CaseEventFacts, ShareEvent
from tests.evaluation.scenario import t

pytestmark = pytest.mark.django_db


def _c3(week) -> CaseEventFacts:
    return CaseEventFacts.objects.get(case_id=week.cases["C3"])


def test_the_trigger_folds_each_event_of_a_reworked_case(week):
    """C3: accepted Mon 10:05, registered 10:10, dispatched 10:12, fed back 15:00, failed check,
    rework 15:35, fed back Tue 10:00 (waits for check)."""
    facts = _c3(week)
    assert facts.valid_at == t(3, 10, 5) and facts.registered_at == t(3, 10, 10)
    assert facts.dispatched_at == t(3, 10, 12)
    assert facts.start_times == [t(3, 10, 12), t(3, 15, 35)] and facts.last_start == t(3, 15, 35)
    assert facts.feedback_times == [t(3, 15), t(4, 10)] and facts.last_feedback == t(4, 10)
    assert facts.rework_times == [t(3, 15, 35)]
    assert facts.closed_at is None and facts.voided_at is None
    assert facts.last_event_at == t(4, 10)
    # C6 not accepted: no validity, no handling; C0 and C13 have rows too (every case with events)
    c6 = CaseEventFacts.objects.get(case_id=week.cases["C6"])
    assert c6.valid_at is None and c6.start_times == [] and c6.last_event_at == t(4, 9, 25)
    assert CaseEventFacts.objects.filter(case_id__in=week.cases.values()).count() == len(week.cases)


def test_the_check_finds_a_row_that_differs_and_the_rebuild_mends_it(week, capsys):
    call_command("case_event_facts", "--check")
    assert "agree" in capsys.readouterr().out
    c3, c7 = week.cases["C3"], week.cases["C7"]
    with connection.cursor() as cursor:  # what a restore without the trigger would leave
        cursor.execute("DELETE FROM evaluation_caseeventfacts WHERE case_id = %s", [c7])
        cursor.execute(
            "UPDATE evaluation_caseeventfacts SET feedback_times = '{}' WHERE case_id = %s", [c3]
        )
    with pytest.raises(CommandError) as refused:
        call_command("case_event_facts", "--check")
    assert str(refused.value).startswith("2 cases differ") and str(c3) in str(refused.value)

    call_command("case_event_facts", "--rebuild")
    assert "rebuilt" in capsys.readouterr().out
    call_command("case_event_facts", "--check")
    assert _c3(week).feedback_times == [t(3, 15), t(4, 10)]
    assert CaseEventFacts.objects.get(case_id=c7).closed_at == t(4, 16, 40)


def test_the_share_events_of_a_returned_and_a_re_dispatched_case(week):
    """C8: dispatched Wed 09:42 to 环卫, returned 10:00 by 环卫, dispatched 10:10 to 市政.
    C4: dispatched Tue 09:45 to 环卫, re-dispatched 10:00 to 市政, 市政 fed back 11:00."""
    c8 = ShareEvent.objects.filter(case_id=week.cases["C8"]).order_by("at", "kind")
    assert [(s.kind, s.code, s.at) for s in c8] == [
        ("received", "H-huanwei", t(5, 9, 42)),
        ("returned", "H-huanwei", t(5, 10)),
        ("received", "H-shizheng", t(5, 10, 10)),
    ]
    c4 = ShareEvent.objects.filter(case_id=week.cases["C4"]).order_by("at", "kind")
    rows = [(s.kind, s.code, s.any_share, s.at) for s in c4]
    assert rows[:3] == [
        ("received", "H-huanwei", False, t(4, 9, 45)),
        ("moved", "H-huanwei", False, t(4, 10)),
        ("received", "H-shizheng", False, t(4, 10)),
    ]
    # 市政's feedback names no department (one handling department): it concerns every share
    assert rows[3] == ("fed", "", True, t(4, 11)) and len(rows) == 4


def test_the_check_finds_a_lost_share_event_and_the_rebuild_mends_it(week):
    c8 = week.cases["C8"]
    returned = ShareEvent.objects.get(case_id=c8, kind="returned")
    returned.delete()
    with pytest.raises(CommandError) as refused:
        call_command("case_event_facts", "--check")
    assert str(refused.value) == f"1 cases differ from their events (e.g. {c8})"
    call_command("case_event_facts", "--rebuild")
    call_command("case_event_facts", "--check")
    assert ShareEvent.objects.get(case_id=c8, kind="returned").at == t(5, 10)
