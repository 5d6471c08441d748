"""Actions: every write is a `do_*` function taking the acting scope first, made with `@action`.

One shape for every state change, whoever calls it (an HTTP view, a Celery task, beat or a
management command with `system_scope("command:…")`)::

    @action("layers.edit", permission=perms.LAYERS_EDIT, target=lambda layer, **_: layer.key)
    def do_edit_layer(scope, layer, changes): ...

The decorator checks the permission, runs the write and appends the operation log row (操作日志)
in one transaction, then publishes the event on the verb's channel (``layers`` for
``layers.edit``) after commit. A refusal (`ApiError`: not signed in, not allowed, bad input,
conflict) is logged as a failure: by the HTTP middleware for requests (after it rolls the
request back), by the action itself elsewhere, in a transaction of its own.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

from core import events
from core.context import current_origin
from core.errors import ApiError

from .models import OperationLog

F = TypeVar("F", bound=Callable[..., Any])


def action(
    verb: str,
    *,
    permission: str | None,
    target: Callable[..., object] | None = None,
    details: Callable[..., dict] | None = None,
) -> Callable[[F], F]:
    """Makes `fn(scope, *args, **kwargs)` an action named `verb` (``<channel>.<what>``):
    `permission` is required of the scope (None: the function checks its own), `target`
    and `details` give what the log row names, from the same arguments."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def run(scope, *args, **kwargs):
            started = time.perf_counter()
            name = str(target(*args, **kwargs)) if target else ""
            info = details(*args, **kwargs) if details else {}
            origin = current_origin()
            origin.attempted = verb
            try:
                if permission:
                    scope.require(permission)
                with transaction.atomic():
                    result = fn(scope, *args, **kwargs)
                    row = log_action(scope, verb, name, info, started)
            except ApiError as exc:
                if origin.via != OperationLog.Via.HTTP:
                    with transaction.atomic():
                        log_action(scope, verb, name, info, started, failure=exc)
                raise
            origin.logged.append(row.pk)
            events.publish(
                verb.split(".", 1)[0],
                {"type": verb, "target": name, "actor": scope.actor_name},
            )
            return result

        def require(scope) -> None:
            """Checks the action's permission up front (a view's early 403, before it loads
            what the action needs); a refusal is logged under the action's verb."""
            current_origin().attempted = verb
            if permission:
                scope.require(permission)

        run.verb = verb  # type: ignore[attr-defined]
        run.require = require  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return decorate


def log_action(
    scope,
    verb: str,
    target: str,
    details: dict,
    started: float,
    failure: ApiError | None = None,
) -> OperationLog:
    """Appends one operation log row for an action (success, or `failure`)."""
    origin = current_origin()
    user = scope.user if not scope.is_anonymous else None
    return OperationLog.objects.create(
        user=user,
        username=scope.actor_name[:150] if not scope.is_anonymous else "",
        positions=",".join(scope.position_names)[:256],
        via=origin.via,
        method=origin.method[:8],
        path=origin.path[:512],
        action=verb[:128],
        target=target[:256],
        status=failure.status if failure else 200,
        outcome=OperationLog.Outcome.FAILURE if failure else OperationLog.Outcome.SUCCESS,
        message=failure.message[:512] if failure else "",
        details=_jsonable(details),
        ip=origin.ip,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )


def _jsonable(value):
    """Gives `value` with anything jsonb cannot hold as text: files and models as their text,
    a NUL (in a key or a text of a body the view ignores) as U+FFFD."""
    if isinstance(value, dict):
        return {_text(str(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    return _text(str(value))


def _text(value: str) -> str:
    return value.replace("\x00", "\ufffd")
