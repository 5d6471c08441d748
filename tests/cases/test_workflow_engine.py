"""The workflow engine (a pure state machine) and the default definitions loaded as data."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts import permissions as perms
from cases.workflow import NoTransition, Transition, machine
from cases.workflows import DEFAULTS

TERMINAL = {"not_registered", "invalid", "closed", "void"}


def default(key: str):
    return machine(key, DEFAULTS[key]["transitions"])


def test_a_machine_answers_which_actions_leave_a_state_for_which_permissions():
    m = machine(
        "t",
        [
            ("accept", "", "new", "open", "a"),
            ("refuse", "", "new", "refused", "a"),
            ("verify", "yes", "open", "done", "b"),
            ("verify", "no", "open", "new", "b"),
        ],
    )
    assert m.allowed("new", {"a"}) == ["accept", "refuse"]
    assert m.allowed("new", {"b"}) == []
    assert m.allowed("open", {"b"}) == ["verify"]  # once, whatever the outcomes
    assert m.step("open", "verify", "no") == Transition("verify", "open", "new", "b", "no")
    assert m.takes_outcome("verify") and not m.takes_outcome("accept")
    with pytest.raises(NoTransition):
        m.step("open", "verify")  # the outcome is part of the edge
    with pytest.raises(NoTransition):
        m.step("done", "accept")
    assert m.terminal("done") and m.terminal("refused") and not m.terminal("new")


def test_an_edge_may_leave_a_state_once():
    with pytest.raises(ValueError):
        machine("t", [("a", "", "x", "y", "p"), ("a", "", "x", "z", "p")])


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_default_workflow_can_end_from_every_state(key):
    m = default(key)
    assert m.reachable(DEFAULTS[key].get("initial_state", "reported")) == m.states
    for state in m.states - TERMINAL - {"not_accepted"}:
        assert "closed" in m.reachable(state), state
    assert {s for s in m.states if m.terminal(s)} == TERMINAL & m.states


def test_inspectors_reports_skip_verification_and_hotline_cases_do_not():
    direct, verified = default("direct"), default("verified")
    assert direct.step("reported", "accept").target == "to_register"
    assert "verifying" not in direct.states
    assert verified.step("reported", "accept").target == "to_verify"
    assert verified.step("verifying", "verify", "no").target == "invalid"
    # Only inspectors answer verification and check tasks; only the centre registers.
    assert verified.allowed("verifying", {perms.CASES_ACCEPT}) == []
    assert verified.allowed("verifying", {perms.CASES_REPORT}) == ["verify"]
    assert verified.allowed("to_register", {perms.CASES_ACCEPT}) == []
    assert direct.allowed("handling", {perms.CASES_HANDLE}) == ["feedback"]


@pytest.mark.django_db
def test_the_defaults_are_loaded_per_source_after_migrate():
    from cases.models import Source, Workflow
    from cases.workflows import choose

    assert Workflow.objects.count() >= len(Source.values)
    for source in Source.values:
        chosen = choose("event", source)
        assert chosen is not None, source
        first = chosen.machine.step("reported", "accept").target
        assert first == ("to_register" if source in ("inspector", "survey") else "to_verify")


@pytest.mark.django_db
def test_beat_marks_warnings_then_overdue_cases_once(org, two_streets):
    from accounts.scoping import scope_for_user, system_scope
    from cases.actions import NewCase, do_accept_case, do_refresh_deadline_states, do_report_case
    from cases.models import Case
    from data.models import Category
    from tests.cases.conftest import inside

    acceptor = scope_for_user(org["acceptor"].user)
    category = Category.objects.get(kind="event", code="0102")
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    made = [
        do_report_case(
            acceptor,
            NewCase("hotline", category, f"case {n}", *inside(two_streets[0])),
            at=start,
        )
        for n in range(3)
    ]
    do_accept_case(acceptor, made[2].pk, version=1, at=start)  # a new stage, a new clock
    # The acceptance stage allows 15 natural minutes; 80% of it (12 min) is the warning time.
    assert Case.objects.get(pk=made[0].pk).deadline == start + dt.timedelta(minutes=15)
    changed = do_refresh_deadline_states(system_scope("beat"), start + dt.timedelta(minutes=13))
    assert {i for i, _, state in changed if state == "warning"} == {
        made[0].pk,
        made[1].pk,
        made[2].pk,
    }
    changed = do_refresh_deadline_states(system_scope("beat"), start + dt.timedelta(minutes=16))
    assert {i for i, _, state in changed if state == "overdue"} == {
        made[0].pk,
        made[1].pk,
        made[2].pk,
    }
    assert do_refresh_deadline_states(system_scope("beat"), start + dt.timedelta(hours=2)) == []
    assert Case.objects.get(pk=made[0].pk).deadline_state == "overdue"
