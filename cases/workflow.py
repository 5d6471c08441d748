"""The workflow engine: a small table-driven state machine, pure (no database).

A `Machine` holds the transitions of one workflow definition (`cases.models.Workflow`, loaded by
`cases.workflows`). It answers two questions: which actions leave a state for someone holding
some permissions, and where an action (with its outcome, for verify and check) leads. Guards
that need the case itself (the task's assignee, the handling department) live in
`cases.actions`; the engine knows only states, actions and permissions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

# Actions whose outcome picks the target: verify (valid or not) and check (passed or not).
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Transition:
    """One edge: `action` (with `outcome`, or "") moves a case from `source` to `target`; the
    actor needs `permission`."""

    action: str
    source: str
    target: str
    permission: str
    outcome: str = ""


class NoTransition(Exception):
    """The action does not leave this state in this workflow (or the outcome is missing)."""

    def __init__(self, state: str, action: str, outcome: str = ""):
        super().__init__(f"{action!r} cannot be taken in state {state!r}")
        self.state, self.action, self.outcome = state, action, outcome


@dataclass(frozen=True)
class Machine:
    """The transitions of one workflow."""

    key: str
    transitions: tuple[Transition, ...]

    def __post_init__(self):
        seen = set()
        for t in self.transitions:
            edge = (t.action, t.outcome, t.source)
            if edge in seen:
                raise ValueError(f"{self.key}: {t.action}/{t.outcome} leaves {t.source} twice")
            seen.add(edge)

    @property
    def states(self) -> frozenset[str]:
        return frozenset(s for t in self.transitions for s in (t.source, t.target))

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(t.action for t in self.transitions)

    def leaving(self, state: str) -> list[Transition]:
        """The transitions out of `state`, in definition order."""
        return [t for t in self.transitions if t.source == state]

    def takes_outcome(self, action: str) -> bool:
        """Whether `action` needs an outcome (``yes``/``no``)."""
        return any(t.outcome for t in self.transitions if t.action == action)

    def step(self, state: str, action: str, outcome: str = "") -> Transition:
        """The transition `action` (with `outcome`) takes from `state`; `NoTransition` if none."""
        for t in self.transitions:
            if t.source == state and t.action == action and t.outcome == outcome:
                return t
        raise NoTransition(state, action, outcome)

    def allowed(self, state: str, permissions: Collection[str]) -> list[str]:
        """The action names someone holding `permissions` may take from `state` (each once)."""
        names: list[str] = []
        for t in self.leaving(state):
            if t.permission in permissions and t.action not in names:
                names.append(t.action)
        return names

    def terminal(self, state: str) -> bool:
        """Whether nothing leaves `state`."""
        return not self.leaving(state)

    def reachable(self, start: str) -> frozenset[str]:
        """Every state reachable from `start` (itself included)."""
        seen, frontier = {start}, [start]
        while frontier:
            state = frontier.pop()
            for t in self.leaving(state):
                if t.target not in seen:
                    seen.add(t.target)
                    frontier.append(t.target)
        return frozenset(seen)


def machine(key: str, rows: Iterable[tuple[str, str, str, str, str]]) -> Machine:
    """Builds a machine from ``(action, outcome, source, target, permission)`` rows."""
    return Machine(
        key,
        tuple(Transition(a, s, t, p, o) for a, o, s, t, p in rows),
    )
