"""The live tracking stream: ``GET /api/v1/tracking/stream`` (SSE, on the stream server).

Position and alarm changes (published by `tracking.actions` on the ``tracking`` channel after
their transaction commits) reach the callers who see the tracker (`tracking.queries.
visible_condition`), as ``event: position`` and ``event: alarm``. Which trackers a caller sees is
read once when the stream opens and again every `REFRESH_S`, not per event: at thousands of
positions a second a query per event and listener would cost more than the ingest itself.
Served like every stream by `core.streams` (uvicorn, so an open stream holds no web thread).
"""

from __future__ import annotations

import time

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpRequest
from django.views.decorators.http import require_GET

from accounts.scoping import Scope, scope_for
from core.errors import ApiError, api_error_response
from core.sqlparts import bind
from core.streams import require_asgi, sse_response

from . import queries

CHANNEL = "tracking"
REFRESH_S = 30.0
TYPES = ("position", "alarm")


def visible_trackers(scope: Scope) -> set[int]:
    """Gives the ids of the trackers the caller sees now."""
    query = bind(
        "SELECT tr.id" + queries.TRACKERS_FROM + "WHERE {visible}",
        visible=queries.visible_condition(scope),
    )
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return {row[0] for row in cursor.fetchall()}


def stream_filter(scope: Scope):
    """Gives the `visible` function of a caller's stream: the message, or None to skip it."""
    seen = {"at": 0.0, "ids": set()}

    def visible(message: dict) -> dict | None:
        if message.get("type") not in TYPES or not isinstance(message.get("tracker"), int):
            return None
        if time.monotonic() - seen["at"] > REFRESH_S:
            seen["ids"], seen["at"] = visible_trackers(scope), time.monotonic()
        return message if message["tracker"] in seen["ids"] else None

    return visible


@require_GET
async def tracking_stream(request: HttpRequest):
    """Streams the position and alarm changes of the trackers the caller sees."""
    try:
        scope = await sync_to_async(scope_for, thread_sensitive=False)(request)
        scope.require_signed_in()
        require_asgi(request)
    except ApiError as exc:
        return api_error_response(exc)
    return sse_response(request, CHANNEL, stream_filter(scope))
