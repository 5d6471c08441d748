"""The demo case history (`cases.demo`, `manage.py demo_cases`): cases made through the actions
as the demo people, in every state, with a consistent history inside the city, filling every
box of the demo positions, the same for the same seed."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from accounts.models import Person
from accounts.scoping import scope_for_user
from cases.demo import generate_demo_cases, plan_demo_cases, run
from cases.demo.people import DemoPeople
from cases.models import Case, CaseEvent, DeadlineState
from cases.queries import box_counts
from spatial.models import AdminArea

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 20, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Wednesday
# The states of the main path and its refusals (applications such as voiding come later).
MAIN_STATES = {
    "reported",
    "supplementing",
    "to_review",
    "not_accepted",
    "to_verify",
    "verifying",
    "invalid",
    "to_register",
    "not_registered",
    "to_dispatch",
    "handling",
    "to_check",
    "checking",
    "to_close",
    "closed",
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """The demo's photos (self-handled reports, supplementary collections) go to a scratch
    directory."""
    settings.MEDIA_ROOT = tmp_path


def boxes_of(username: str) -> dict[str, int]:
    user = Person.objects.get(user__username=username).user
    return {b["key"]: b["count"] for b in box_counts(scope_for_user(user), NOW)}


def test_a_generated_history_has_every_state_and_a_consistent_life_inside_the_city(org):
    summary = generate_demo_cases(count=150, days=60, seed=3, now=NOW)

    assert summary["failed"] == 0, summary["errors"]
    assert summary["cases"] == Case.objects.count() == 150
    assert set(summary["states"]) == MAIN_STATES
    assert summary["states"]["closed"] > 75  # older cases mostly run to the end
    assert summary["deadline_states"].get(DeadlineState.OVERDUE, 0) > 0
    assert summary["sources"]["inspector"] > summary["sources"]["hotline"] > 0

    cases = {c.pk: c for c in Case.objects.all()}
    events = CaseEvent.objects.order_by("case_id", "at", "pk")
    for case_id, rows in groupby(events, key=lambda e: e.case_id):
        rows = list(rows)
        case = cases[case_id]
        first = (rows[0].action, rows[0].from_state, rows[0].to_state)
        assert first == ("report", "", "to_review" if case.self_handled else "reported")
        assert rows[0].at == case.reported_at >= NOW - dt.timedelta(days=60)
        for before, after in zip(rows, rows[1:], strict=False):
            assert after.from_state == before.to_state, (case.number, before.action, after.action)
            assert after.at > before.at
        assert rows[-1].to_state == case.state and rows[-1].at <= NOW
        assert case.version == len(rows)

    city = AdminArea.objects.get(level=AdminArea.Level.DISTRICT).geom
    assert not Case.objects.exclude(geom__within=city).exists()
    assert not Case.objects.filter(street_code="").exists()
    # The demo positions each find something in every box but the warning one.
    for username in ("acceptor", "shiftleader", "dispatcher"):
        empty = [k for k, n in boxes_of(username).items() if n == 0 and k != "warning"]
        assert not empty, (username, empty)


def test_the_same_seed_plans_the_same_history(org):
    people = DemoPeople()

    def outline(seed: int) -> list:
        plans, _ = plan_demo_cases(people, 60, 30, seed, NOW)
        return [
            (
                p.new.category.code,
                p.new.lon,
                p.new.lat,
                [(s.action, s.actor, s.at) for s in p.steps],
            )
            for p in plans
        ]

    assert outline(7) == outline(7)
    assert outline(7) != outline(8)


def test_the_command_with_if_empty_does_nothing_the_second_time(org):
    call_command("demo_cases", count=20, days=10, seed=1, if_empty=True, verbosity=0)
    assert Case.objects.count() == 20
    events = CaseEvent.objects.count()
    call_command("demo_cases", count=20, days=10, seed=1, if_empty=True, verbosity=0)
    assert Case.objects.count() == 20 and CaseEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_number_each_day_in_report_order(org, monkeypatch):
    monkeypatch.setattr(run, "PARALLEL_FROM", 10)
    summary = generate_demo_cases(count=40, days=20, seed=5, now=NOW, workers=2)

    assert summary["failed"] == 0 and summary["cases"] == Case.objects.count() == 40
    numbers = list(Case.objects.order_by("reported_at").values_list("number", flat=True))
    for day, group in groupby(numbers, key=lambda n: n[:8]):
        sequence = [int(n[8:]) for n in group]
        assert sequence == list(range(1, len(sequence) + 1)), day
