"""The per-case projection of the event facts (`CaseEventFacts`): the trigger folds every event
the actions append, `manage.py case_event_facts` finds a row that differs from its events and
writes the rows again. Expectations are the hand-written times of tests/evaluation/scenario.py."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from evaluation.models import CaseEventFacts
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
