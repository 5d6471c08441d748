"""The tile cache: keys from layer versions, the caller's scope and the request's parameters.

A key names exactly what a tile depends on: each layer's `version` (bumped by a trigger on any
write to its table), the scope fragment of each layer (`pub` for public layers, whose rows are
the same for everyone, else the caller's `Scope.key`), the tile address, the format and the
canonical filter values. The same string, hashed, is the HTTP `ETag`, so a conditional request
is answered 304 without building or reading the tile. Tiles live in the Django cache (Redis);
an empty tile is stored as an empty bytes value.

The cache only saves work: when Redis fails, tiles are built and served without it. The
failure is logged once per outage, and the cache is not tried again for
`TILES_CACHE_RETRY_SECONDS`, so a Redis that does not answer costs one wait, not one per tile.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Outage:
    """Whether Redis failed the cache, and when to try it again (monotonic seconds)."""

    down = False
    retry_at = 0.0


def tile_key(
    parts: list[tuple[str, int, str]], address: str, fmt: str, filters: dict | None = None
) -> str:
    """Gives the cache key (and ETag value) of a tile: `parts` are (layer name, version, scope
    fragment) of every layer in it, `address` is "z/x/y"."""
    text = json.dumps(
        [fmt, address, sorted(parts), sorted((filters or {}).items())], ensure_ascii=False
    )
    return hashlib.sha1(text.encode()).hexdigest()


def enabled() -> bool:
    """Whether the server-side cache is on (CITYGRID_TILES_CACHE=0 turns it off for cold runs)."""
    return bool(settings.TILES_CACHE_ENABLED)


def get(key: str) -> bytes | None:
    """Gives the cached tile bytes (b"" for a cached empty tile) or None."""
    if not enabled():
        return None
    return read("tile:" + key)


def put(key: str, data: bytes) -> None:
    """Stores a built tile under its key."""
    if enabled():
        write("tile:" + key, data, settings.TILES_CACHE_SECONDS)


def read(name: str):
    """Gives the value cached under `name`, or None when there is none or Redis fails."""
    return _fail_soft(lambda: cache.get(name), None)


def write(name: str, value, timeout: float) -> None:
    """Caches `value` under `name` for `timeout` seconds, or nothing when Redis fails."""
    _fail_soft(lambda: cache.set(name, value, timeout=timeout), None)


def _fail_soft(operation: Callable[[], T], fallback: T) -> T:
    """Gives the operation's result, or `fallback` while Redis fails (logged once an outage)."""
    now = time.monotonic()
    if _Outage.down and now < _Outage.retry_at:
        return fallback
    try:
        result = operation()
    except (RedisError, OSError) as exc:
        if not _Outage.down:
            log.error("tile cache unavailable, serving tiles without it: %s", exc)
        _Outage.down, _Outage.retry_at = True, now + settings.TILES_CACHE_RETRY_SECONDS
        return fallback
    if _Outage.down:
        _Outage.down = False
        log.warning("tile cache available again")
    return result
