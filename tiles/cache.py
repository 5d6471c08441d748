"""The tile cache: keys from layer versions, the caller's scope and the request's parameters.

A key names exactly what a tile depends on: each layer's `version` (bumped by a trigger on any
write to its table), the scope fragment of each layer (`pub` for public layers, whose rows are
the same for everyone, else the caller's `Scope.key`), the tile address, the format and the
canonical filter values. The same string, hashed, is the HTTP `ETag`, so a conditional request
is answered 304 without building or reading the tile. Tiles live in the Django cache (Redis);
an empty tile is stored as an empty bytes value.

The cache only saves work: when Redis fails, tiles are built and served without it
(`core.cache.read` and `write`: logged once per outage, Redis tried again after
`CACHE_RETRY_SECONDS`).
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings

from core.cache import read, write


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
