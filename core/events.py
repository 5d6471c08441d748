"""Events: what changed, published to Redis pub/sub once the change is committed.

Actions and jobs call `publish(channel, payload)`; the live streams (SSE) that come next
subscribe with `subscribe(channel)`. Publishing waits for the surrounding transaction to
commit, so nobody hears of a change that was rolled back. An event is a notification, not a
record: the operation log and the rows themselves are the record, so a publish that fails
(Redis down) is logged and dropped and never fails the write.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from functools import cache

import redis
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def forget_connection() -> None:
    """Drops this process's Redis client, so a forked child opens its own instead of sharing
    its parent's socket."""
    _client.cache_clear()


def channel_name(channel: str) -> str:
    """Gives the Redis channel of `channel`, under this installation's prefix."""
    return f"{settings.CITYGRID_EVENTS_PREFIX}:{channel}"


def publish(channel: str, payload: dict) -> None:
    """Publishes `payload` (JSON-ready, ``at`` added) on `channel` after the current transaction
    commits (at once outside a transaction)."""
    message = json.dumps(
        {**payload, "at": timezone.now().isoformat()}, cls=DjangoJSONEncoder, ensure_ascii=False
    )
    name = channel_name(channel)

    def send() -> None:
        try:
            _client().publish(name, message)
        except redis.RedisError as exc:
            log.warning("event on %s dropped: %s", name, exc)

    transaction.on_commit(send)


def subscribe(channel: str, timeout_s: float = 1.0) -> Iterator[dict | None]:
    """Yields the events published on `channel` from now on, and None every `timeout_s` without
    one (so a stream can send a keep-alive or notice its client left)."""
    pubsub = _client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel_name(channel))
    try:
        while True:
            message = pubsub.get_message(timeout=timeout_s)
            yield json.loads(message["data"]) if message else None
    finally:
        pubsub.close()


async def asubscribe(channel: str, timeout_s: float = 1.0) -> AsyncIterator[dict | None]:
    """`subscribe` for async code (the stream server): yields None once subscribed, then the
    events published on `channel` from then on, and None every `timeout_s` without one."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel_name(channel))
    try:
        yield None
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout_s)
            yield json.loads(message["data"]) if message else None
    finally:
        await pubsub.aclose()
        await client.aclose()
