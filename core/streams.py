"""Live streams (Server-Sent Events), served by the stream server so that an open stream never
ties up a synchronous worker.

`make run` starts two servers over the same Django project: gunicorn (WSGI, threads) for pages
and the API, and uvicorn (ASGI, one event loop) for the streams, on ``CITYGRID_STREAM_PORT``
(default: the web port + 1). A stream is an async view: it authenticates once, subscribes to
an event channel (`core.events.asubscribe`) and, for each event, asks the app's `visible`
function (run in a thread: it may query) what the caller may see of it — nothing, or the
payload to send. Streams end after `LIFETIME_S` (the browser's EventSource reconnects by
itself), so a changed scope or a restarted server is picked up within minutes.

Pages on the web port open the stream on the stream port: same host, other port, so the
session cookie goes along (``withCredentials``), and the answer carries CORS headers for
origins on the same host.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse

from . import events
from .errors import ApiError


class Misdirected(ApiError):
    """421: a stream asked of the WSGI server; the stream server answers it."""

    status, code = 421, "misdirected"


KEEPALIVE_S = 15.0
LIFETIME_S = 300.0


def stream_origin(request: HttpRequest) -> str:
    """The origin of the stream server as a page served by `request` reaches it."""
    configured = getattr(settings, "CITYGRID_STREAM_URL", "")
    if configured:
        return configured.rstrip("/")
    host = (
        request.get_host().rsplit(":", 1)[0]
        if "]" not in request.get_host()
        else (request.get_host().rsplit("]", 1)[0] + "]")
    )
    return f"{request.scheme}://{host}:{settings.CITYGRID_STREAM_PORT}"


def _allowed_origin(request: HttpRequest) -> str | None:
    """The request's Origin when it is a page of the same host (any port)."""
    origin = request.headers.get("Origin")
    if not origin:
        return None
    own_host = request.get_host().rsplit(":", 1)[0]
    return origin if urlsplit(origin).hostname == own_host.strip("[]") else None


def require_asgi(request: HttpRequest) -> None:
    """Refuses a stream asked of the WSGI server, which would hold a thread for it."""
    if "wsgi.version" in request.META:
        raise Misdirected(
            "streams are served by the stream server on port "
            f"{settings.CITYGRID_STREAM_PORT}, not here"
        )


def _frame(event: str, data: dict, ident: int) -> str:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {ident}\nevent: {event}\ndata: {body}\n\n"


async def _frames(
    channel: str, visible: Callable[[dict], dict | None], lifetime_s: float
) -> AsyncIterator[str]:
    check = sync_to_async(visible, thread_sensitive=False)
    subscription = events.asubscribe(channel, timeout_s=1.0)
    await anext(subscription)  # subscribed: nothing published from here on is missed
    yield f"retry: 3000\n: connected to {channel}\n\n"
    ident, ends = 0, time.monotonic() + lifetime_s
    last_sent = time.monotonic()
    try:
        async for message in subscription:
            now = time.monotonic()
            if now >= ends:
                yield "event: bye\ndata: {}\n\n"
                return
            if message is not None:
                shown = await check(message)
                if shown is not None:
                    ident += 1
                    last_sent = now
                    yield _frame(str(message.get("type", "message")), shown, ident)
                    continue
            if now - last_sent >= KEEPALIVE_S:
                last_sent = now
                yield ": keep-alive\n\n"
    finally:
        await subscription.aclose()  # the client left or the lifetime ended: unsubscribe


def sse_response(
    request: HttpRequest,
    channel: str,
    visible: Callable[[dict], dict | None],
    lifetime_s: float = LIFETIME_S,
) -> StreamingHttpResponse:
    """The SSE response of `channel`, each event passed through `visible` first."""
    response = StreamingHttpResponse(
        _frames(channel, visible, lifetime_s), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    origin = _allowed_origin(request)
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    return response
