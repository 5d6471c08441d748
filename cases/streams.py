"""The live case stream: ``GET /api/v1/cases/stream`` (SSE, on the stream server).

Every case event (`cases.actions` publishes one per `CaseEvent` on the ``case-events``
channel) reaches the callers who see the case (`cases.visibility`, one query per event), as
``event: case`` with the case id, number, action and states; never reporter data. Consoles use
it to refresh their boxes and lists when something arrives.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest

from accounts import permissions as perms
from accounts.scoping import scope_for
from core.errors import ApiError, api_error_response
from core.streams import require_asgi, sse_response

from . import visibility

CHANNEL = "case-events"
FIELDS = ("type", "case", "number", "action", "from", "to", "at")


async def case_stream(request: HttpRequest):
    """Streams the events of the cases the caller sees."""
    try:
        scope = await sync_to_async(scope_for)(request)
        scope.require(perms.CASES_READ)
        require_asgi(request)
    except ApiError as exc:
        return api_error_response(exc)

    def visible(message: dict) -> dict | None:
        case_id = message.get("case")
        if not isinstance(case_id, int):
            return None
        if not visibility.visible_cases(scope).filter(pk=case_id).exists():
            return None
        return {k: message[k] for k in FIELDS if k in message}

    return sse_response(request, CHANNEL, visible)
