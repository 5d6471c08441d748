"""Ingest counters: batches and fixes per local day, in Redis (``<prefix>:tracking:ingest:<day>``).

Ingest is a data stream, not a series of operations: at thousands of batches a second an
operation-log row per batch would make the log mostly fixes, cost a row per batch and bury the
operations the log exists for. Each batch instead adds to these counters once its transaction
commits; a counter lost with Redis loses statistics only, never a fix (the fixes are the record).
"""

from __future__ import annotations

import logging
from functools import cache

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)
KEEP_S = 40 * 86400


@cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def key(day=None) -> str:
    day = day or timezone.localdate()
    return f"{settings.CITYGRID_EVENTS_PREFIX}:tracking:ingest:{day:%Y%m%d}"


def count_batch(accepted: int, duplicates: int, flagged: int) -> None:
    """Adds one batch to today's counters after the transaction commits."""
    name = key()

    def send() -> None:
        try:
            pipe = _client().pipeline(transaction=False)
            pipe.hincrby(name, "batches", 1)
            pipe.hincrby(name, "accepted", accepted)
            pipe.hincrby(name, "duplicates", duplicates)
            pipe.hincrby(name, "flagged", flagged)
            pipe.expire(name, KEEP_S)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("ingest counters dropped: %s", exc)

    transaction.on_commit(send)


def read(day=None) -> dict[str, int]:
    """Gives a day's counters (zeros when Redis is away)."""
    try:
        raw = _client().hgetall(key(day))
    except redis.RedisError:
        raw = {}
    return {
        name: int(raw.get(name.encode(), 0))
        for name in ("batches", "accepted", "duplicates", "flagged")
    }
