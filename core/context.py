"""Where the current work came from: an HTTP request, a Celery task, a command or the system.

Set once by whoever starts the work (the HTTP middleware, `core.jobs.run_job`, a command) and
read by the operation log, so an action does not need to be told how it was called.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Origin:
    """How the current work came: ``via`` is http, task, command or system; an HTTP origin
    carries its method, path and client address, and collects the operation-log rows its
    actions wrote (so the request is not logged twice)."""

    via: str = "system"
    method: str = ""
    path: str = ""
    ip: str | None = None
    logged: list[int] = field(default_factory=list)
    attempted: str = ""


_origin: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("origin", default=None)


def current_origin() -> Origin:
    """Gives the origin of the current work (``system`` when nobody set one)."""
    return _origin.get() or Origin()


@contextmanager
def origin(value: Origin) -> Iterator[Origin]:
    """Makes `value` the current origin for the duration of the block."""
    token = _origin.set(value)
    try:
        yield value
    finally:
        _origin.reset(token)
