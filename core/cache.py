"""The Django cache backend of the project: Django's Redis cache, one client per server.

Django's `RedisCacheClient` makes a new `redis.Redis` for every cache call, and building one
registers some 170 response callbacks: on a tile served from the cache that was 11% of the
request's Python time (bench/README.md "Serving path vs tipg"). A `redis.Redis` is only a
front to its connection pool and is safe to share between threads, so each server's client is
made once and reused. Pools are Django's own (one per server), and redis-py resets a pool in a
forked process, so a client made before gunicorn forks is still right in each worker.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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
