"""The coverage pass of the demo plans: a few cases re-planned so that every state and every
box of the demo positions has something, whatever the seed and count."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases.models import ManualEntry, Source, State

from .people import DemoPeople
from .plan import DIRECT, OPEN_RECENT, Plan, Planner

S = State
# With this many cases, every inspector and every handling department also gets open work.
EVERYONE_FROM = 300
NEEDS_VERIFICATION = (S.TO_VERIFY, S.VERIFYING, S.INVALID)
AFTER_HANDLING = (S.TO_CHECK, S.CHECKING, S.TO_CLOSE)
AGED = dt.timedelta(days=3)


def cover(planner: Planner, plans: list[Plan], people: DemoPeople, now: dt.datetime) -> int:
    """Re-plans a few cases (the newest for open states, the oldest for finished ones) until
    every state, a reworked case, an acceptor's phone verification and a case closed today
    are there — with `EVERYONE_FROM` cases or more, also open work for every inspector and
    handling department. Gives how many cases were re-planned."""
    coverage = _Coverage(planner, plans)
    newest, oldest = coverage.newest, coverage.newest[::-1]
    # Cases old enough to have been handled (a check comes after the department's hours).
    aged = [i for i in newest if now - plans[i].steps[0].at >= AGED]
    ensure = coverage.ensure
    acceptor = people.user_id("acceptor")
    for state in OPEN_RECENT:
        order = aged if state in AFTER_HANDLING else newest
        ensure(lambda p, s=state: p.final_state == s, order, target=state)
    ensure(
        lambda p: p.final_state == S.TO_REVIEW,  # the acceptor's 自行处置 box
        newest,
        target=S.TO_REVIEW,
        source=Source.INSPECTOR,
        self_handled=True,
    )
    for state in (S.CLOSED, S.NOT_ACCEPTED, S.INVALID, S.NOT_REGISTERED):
        ensure(lambda p, s=state: p.final_state == s, oldest, target=state)
    ensure(lambda p: any(s.action == "rework" for s in p.steps), oldest, target=S.CLOSED, reworks=1)
    ensure(
        lambda p: p.final_state == S.VERIFYING and p.steps[-1].args["inspector"] == acceptor,
        newest,
        target=S.VERIFYING,
        source=Source.HOTLINE,
        by_phone=True,
    )
    if len(plans) >= EVERYONE_FROM:
        for street in sorted(people.inspectors):
            ensure(
                lambda p, st=street: p.final_state == S.CHECKING and p.street == st,
                aged,
                target=S.CHECKING,
                source=Source.INSPECTOR,
                street=street,
            )
        for classes in _classes_by_department(people):
            codes = {c.pk for c in classes}
            ensure(
                lambda p, cs=codes: p.final_state == S.HANDLING and p.new.category.pk in cs,
                newest,
                target=S.HANDLING,
                category=planner.rng.choice(classes),
            )
    coverage.close_one_today(now)
    return coverage.replanned


def _classes_by_department(people: DemoPeople) -> list[list]:
    """The minor classes the citywide manual sends to each demo handling department."""
    routed = ManualEntry.objects.filter(area__isnull=True).select_related("category")
    by_department: dict[int, list] = {}
    for entry in routed.order_by("department_id", "category__kind", "category__code"):
        if entry.department_id in people.handlers:
            by_department.setdefault(entry.department_id, []).append(entry.category)
    return list(by_department.values())


class _Coverage:
    """The plans being covered: which are kept (they hold a requirement already met) and how
    many were re-planned (at most a quarter of them)."""

    def __init__(self, planner: Planner, plans: list[Plan]):
        self.planner, self.plans = planner, plans
        self.kept: set[int] = set()
        self.replanned = 0
        self.newest = sorted(range(len(plans)), key=lambda i: plans[i].steps[0].at, reverse=True)

    def _free(self, order: list[int], attempts: int = 40) -> list[int]:
        if self.replanned >= max(1, len(self.plans) // 4):
            return []
        return [i for i in order if i not in self.kept][:attempts]

    def _keep_holder(self, holds) -> bool:
        found = next((i for i, p in enumerate(self.plans) if holds(p)), None)
        if found is not None:
            self.kept.add(found)
        return found is not None

    def _replace(self, i: int, plan: Plan) -> None:
        self.plans[i] = plan
        self.kept.add(i)
        self.replanned += 1

    def ensure(self, holds, order: list[int], **force) -> None:
        """Keeps a plan for which `holds` is true, else re-plans one with `force` until it is."""
        if self._keep_holder(holds):
            return
        for i in self._free(order):
            old = self.plans[i]
            kwargs = {"source": old.new.source, "category": old.new.category}
            kwargs["reported_at"] = old.steps[0].at
            kwargs.update(force)
            if force.get("target") in NEEDS_VERIFICATION and kwargs["source"] in DIRECT:
                kwargs["source"] = Source.HOTLINE
            candidate = self.planner.plan(**kwargs)
            if holds(candidate):
                self._replace(i, candidate)
                return

    def close_one_today(self, now: dt.datetime) -> None:
        """Moves one closed case's life so that it closes earlier today, when none does."""
        today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        if now - today < dt.timedelta(minutes=20):
            return
        if self._keep_holder(lambda p: any(s.action == "close" and s.at >= today for s in p.steps)):
            return
        planner = self.planner
        for i in self._free(self.newest):
            old = self.plans[i]
            whole = planner.plan(
                source=old.new.source,
                category=old.new.category,
                reported_at=old.steps[0].at,
                target=S.CLOSED,
                reworks=0,
                whole=True,
            )
            close_at = today + (now - today) * planner.rng.uniform(0.3, 0.9)
            moved = whole.shifted(close_at - whole.steps[-1].at)
            if moved.final_state == S.CLOSED and moved.steps[0].at >= planner.window_start:
                self._replace(i, moved)
                return
