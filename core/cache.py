"""The shared cache (Redis): the Django cache backend of the project, and reads and writes
that fail soft.

The backend is Django's Redis cache with one client per server.

Django's `RedisCacheClient` makes a new `redis.Redis` for every cache call, and building one
registers some 170 response callbacks: on a tile served from the cache that was 11% of the
request's Python time (bench/README.md "Serving path vs tipg"). A `redis.Redis` is only a
front to its connection pool and is safe to share between threads, so each server's client is
made once and reused. Pools are Django's own (one per server), and redis-py resets a pool in a
forked process, so a client made before gunicorn forks is still right in each worker.

The cache only saves work: `read` and `write` give nothing and do nothing while Redis fails.
The failure is logged once per outage, and the cache is not tried again for
`CACHE_RETRY_SECONDS`, so a Redis that does not answer costs one wait, not one per call. The
outage is remembered per process for every user of the cache (tiles, TileJSON bounds, the hot
spots' weights): they share one Redis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")


class ReusedClients(RedisCacheClient):
    """Django's Redis cache client, keeping one `redis.Redis` per server."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:  # as Django's `_get_connection_pool` makes them
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    """`CACHES` backend: Django's Redis cache with `ReusedClients`."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClients


class Outage:
    """Whether Redis failed the cache, and when to try it again (monotonic seconds)."""

    down = False
    retry_at = 0.0


def read(name: str):
    """Gives the value cached under `name`, or None when there is none or Redis fails."""
    return fail_soft(lambda: cache.get(name), None)


def write(name: str, value, timeout: float) -> None:
    """Caches `value` under `name` for `timeout` seconds, or nothing when Redis fails."""
    fail_soft(lambda: cache.set(name, value, timeout=timeout), None)


def fail_soft(operation: Callable[[], T], fallback: T) -> T:
    """Gives the operation's result, or `fallback` while Redis fails (logged once an outage)."""
    now = time.monotonic()
    if Outage.down and now < Outage.retry_at:
        return fallback
    try:
        result = operation()
    except (RedisError, OSError) as exc:
        if not Outage.down:
            log.error("cache unavailable (Redis), serving without it: %s", exc)
        Outage.down, Outage.retry_at = True, now + settings.CACHE_RETRY_SECONDS
        return fallback
    if Outage.down:
        Outage.down = False
        log.warning("cache available again (Redis)")
    return result
