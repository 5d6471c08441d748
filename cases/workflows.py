"""Workflow definitions as data: the defaults loaded after migrate, and the per-process cache of
`Machine`s the actions read.

Three definitions ship: ``direct`` for inspectors' reports and surveys (accept → register: an
inspector saw the problem, so no verification) and ``verified`` for hotline, public, video,
leader and media cases (accept → verification by an inspector → register). After registration
both share dispatch → handling → check → close, with rework back to handling. Both let the
centre ask an inspector for a supplementary collection (补采) while a case waits for acceptance
or registration; the answer returns the case to the state it was asked from. ``self-handled``
is for an inspector's report of a problem already fixed on the spot (自行处置): it starts in
``to_review`` (待审核), where the acceptor archives it (closed as self-handled) or sends it to
registration, and from there it runs the shared path.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from accounts import permissions as perms

from .models import LimitUnit, Source, State, Workflow, WorkflowStage, WorkflowTransition
from .workflow import NO, YES, Machine, machine

S = State
ACCEPT, REGISTER = perms.CASES_ACCEPT, perms.CASES_REGISTER
DISPATCH, HANDLE, REPORT = perms.CASES_DISPATCH, perms.CASES_HANDLE, perms.CASES_REPORT

# (action, outcome, source, target, permission) after registration, shared by both workflows.
_AFTER_REGISTRATION = [
    ("register", "", S.TO_REGISTER, S.TO_DISPATCH, REGISTER),
    ("not_register", "", S.TO_REGISTER, S.NOT_REGISTERED, REGISTER),
    ("dispatch", "", S.TO_DISPATCH, S.HANDLING, DISPATCH),
    ("feedback", "", S.HANDLING, S.TO_CHECK, HANDLE),
    ("request_check", "", S.TO_CHECK, S.CHECKING, ACCEPT),
    ("check", YES, S.CHECKING, S.TO_CLOSE, REPORT),
    ("check", NO, S.CHECKING, S.TO_CLOSE, REPORT),
    ("close", "", S.TO_CLOSE, S.CLOSED, REGISTER),
    ("rework", "", S.TO_CLOSE, S.HANDLING, REGISTER),
    *[  # taken only through an approved application (cases.applications)
        ("return", "", S.HANDLING, S.TO_DISPATCH, REGISTER),
        *[
            ("void", "", s, S.VOID, REGISTER)
            for s in (S.TO_DISPATCH, S.HANDLING, S.TO_CHECK, S.CHECKING, S.TO_CLOSE)
        ],
    ],
]
# Transitions added to the defaults after their first release; migration 0004 adds them to
# the definitions already in a database.
APPLICATION_TRANSITIONS = [t for t in _AFTER_REGISTRATION if t[0] in ("return", "void")]
# Supplementary collection (补采): asked from acceptance or registration; the answer's outcome
# is the state it was asked from, where it returns. Migration 0010 adds these to stored
# definitions.
SUPPLEMENT_TRANSITIONS = [
    ("request_supplement", "", S.REPORTED, S.SUPPLEMENTING, ACCEPT),
    ("request_supplement", "", S.TO_REGISTER, S.SUPPLEMENTING, REGISTER),
    ("supplement", S.REPORTED, S.SUPPLEMENTING, S.REPORTED, REPORT),
    ("supplement", S.TO_REGISTER, S.SUPPLEMENTING, S.TO_REGISTER, REPORT),
]
_ACCEPTANCE = [
    ("not_accept", "", S.REPORTED, S.NOT_ACCEPTED, ACCEPT),
    ("restore", "", S.NOT_ACCEPTED, S.REPORTED, ACCEPT),
]

# Stage limits: the centre works around the clock, so its stages count natural hours; the
# handling stage takes its limit from the registration condition (`cases.categories`).
_STAGES = [
    (S.REPORTED, "0.25", LimitUnit.NATURAL_HOURS),
    (S.TO_VERIFY, "0.25", LimitUnit.NATURAL_HOURS),
    (S.VERIFYING, "1", LimitUnit.NATURAL_HOURS),
    (S.SUPPLEMENTING, "1", LimitUnit.NATURAL_HOURS),
    (S.TO_REVIEW, "0.25", LimitUnit.NATURAL_HOURS),
    (S.TO_REGISTER, "0.25", LimitUnit.NATURAL_HOURS),
    (S.TO_DISPATCH, "0.25", LimitUnit.NATURAL_HOURS),
    (S.HANDLING, None, ""),
    (S.TO_CHECK, "0.25", LimitUnit.NATURAL_HOURS),
    (S.CHECKING, "1", LimitUnit.NATURAL_HOURS),
    (S.TO_CLOSE, "0.25", LimitUnit.NATURAL_HOURS),
]

DEFAULTS = {
    "direct": {
        "name": "直接立案流程（监督员上报、专项普查）",
        "sources": [Source.INSPECTOR, Source.SURVEY],
        "transitions": [
            ("accept", "", S.REPORTED, S.TO_REGISTER, ACCEPT),
            *_ACCEPTANCE,
            *SUPPLEMENT_TRANSITIONS,
            *_AFTER_REGISTRATION,
        ],
    },
    "verified": {
        "name": "核实后立案流程（热线、公众、视频、领导交办、媒体）",
        "sources": [Source.HOTLINE, Source.PUBLIC, Source.VIDEO, Source.LEADER, Source.MEDIA],
        "transitions": [
            ("accept", "", S.REPORTED, S.TO_VERIFY, ACCEPT),
            *_ACCEPTANCE,
            ("request_verify", "", S.TO_VERIFY, S.VERIFYING, ACCEPT),
            ("verify", YES, S.VERIFYING, S.TO_REGISTER, REPORT),
            ("verify", NO, S.VERIFYING, S.INVALID, REPORT),
            *SUPPLEMENT_TRANSITIONS,
            *_AFTER_REGISTRATION,
        ],
    },
    "self-handled": {
        "name": "自行处置流程（监督员自行处置上报）",
        "sources": [Source.INSPECTOR],
        "self_handled": True,
        "initial_state": S.TO_REVIEW,
        "transitions": [
            ("archive", "", S.TO_REVIEW, S.CLOSED, ACCEPT),
            ("send_to_register", "", S.TO_REVIEW, S.TO_REGISTER, ACCEPT),
            *_AFTER_REGISTRATION,
        ],
    },
}


def load_default_workflows(sender=None, using="default", **kwargs) -> int:
    """Creates the default workflows, one per source (idempotent: existing definitions, which
    an administrator may have edited, are left as they are). Gives how many were created."""
    created = 0
    with transaction.atomic(using=using):
        for key, spec in DEFAULTS.items():
            for source in spec["sources"]:
                wf_key = f"{key}-{source}"
                if Workflow.objects.using(using).filter(key=wf_key).exists():
                    continue
                workflow = Workflow.objects.using(using).create(
                    key=wf_key,
                    name=spec["name"],
                    source=source,
                    self_handled=spec.get("self_handled", False),
                    initial_state=spec.get("initial_state", S.REPORTED),
                    priority=10,
                )
                WorkflowTransition.objects.using(using).bulk_create(
                    WorkflowTransition(
                        workflow=workflow,
                        action=a,
                        outcome=o,
                        source=s,
                        target=t,
                        permission=p,
                    )
                    for a, o, s, t, p in spec["transitions"]
                )
                states = {s for _, _, s, _, _ in spec["transitions"]}
                states.add(spec.get("initial_state", S.REPORTED))
                WorkflowStage.objects.using(using).bulk_create(
                    WorkflowStage(
                        workflow=workflow,
                        state=state,
                        amount=Decimal(amount) if amount else None,
                        unit=unit,
                        from_category=amount is None,
                    )
                    for state, amount, unit in _STAGES
                    if state in states
                )
                created += 1
    _cache.clear()
    return created


@dataclass(frozen=True)
class StageLimit:
    """The limit of a workflow stage: an amount and unit, or from the class (`from_category`)."""

    amount: Decimal | None
    unit: str
    from_category: bool


@dataclass(frozen=True)
class Definition:
    """A loaded workflow: its row id, machine, stage limits and the state a case starts in."""

    id: int
    key: str
    machine: Machine
    stages: dict[str, StageLimit]
    initial: str = State.REPORTED


class _Cache:
    """Loaded definitions by workflow id, kept for a few seconds (definitions change rarely;
    an edit in the admin reaches every process within `SECONDS`)."""

    SECONDS = 10.0

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._by_id: dict[int, Definition] = {}
        self._choices: list[tuple[int, str, str, bool, int]] = []

    def clear(self) -> None:
        with self._lock:
            self._loaded_at = 0.0

    def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at < self.SECONDS:
            return
        by_id: dict[int, Definition] = {}
        choices = []
        workflows = Workflow.objects.filter(active=True).prefetch_related("transitions", "stages")
        for wf in workflows:
            rows = [
                (t.action, t.outcome, t.source, t.target, t.permission)
                for t in wf.transitions.all()
            ]
            stages = {
                s.state: StageLimit(s.amount, s.unit, s.from_category) for s in wf.stages.all()
            }
            by_id[wf.pk] = Definition(
                wf.pk, wf.key, machine(wf.key, rows), stages, wf.initial_state
            )
            choices.append((wf.priority, wf.kind, wf.source, wf.self_handled, wf.pk))
        choices.sort(key=lambda c: (-c[0], c[4]))
        with self._lock:
            self._by_id, self._choices = by_id, choices
            self._loaded_at = time.monotonic()

    def get(self, workflow_id: int) -> Definition:
        self._fresh()
        found = self._by_id.get(workflow_id)
        if found is None:  # made or re-activated since the last load
            self.clear()
            self._fresh()
            found = self._by_id[workflow_id]
        return found

    def choose(self, kind: str, source: str, self_handled: bool = False) -> Definition | None:
        self._fresh()
        for _, wf_kind, wf_source, wf_self_handled, pk in self._choices:
            if (
                wf_kind in ("", kind)
                and wf_source in ("", source)
                and wf_self_handled == self_handled
            ):
                return self._by_id[pk]
        return None


_cache = _Cache()


def definition(workflow_id: int) -> Definition:
    """The loaded workflow with this id."""
    return _cache.get(workflow_id)


def choose(kind: str, source: str, self_handled: bool = False) -> Definition | None:
    """The active workflow for a case of `kind` from `source`, self-handled (自行处置) or not
    (highest priority first)."""
    return _cache.choose(kind, source, self_handled)


def clear_cache() -> None:
    _cache.clear()
