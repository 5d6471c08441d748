"""Feature collections that are not registry layers, registered by the app that owns them.

The OGC API serves every registry layer as a collection. An app built on spatial (cases) adds
a collection of its own by registering an object with this shape from its `AppConfig.ready`,
so spatial never imports it. A registered collection is listed and served only to callers it
says may read it; to anyone else it does not exist (404, as an unreadable layer). Its key
takes precedence over a registry layer of the same key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Collection(Protocol):
    """What the OGC views need of a collection that is not a layer."""

    key: str

    def readable(self, scope) -> bool:
        """Whether the caller may see the collection at all."""

    def describe(self, scope) -> dict:
        """Gives ``title`` and ``description`` (and optionally ``extent``) of the collection."""

    def reserved(self) -> set[str]:
        """Gives the query parameter names its items take besides the OGC ones."""

    def page(self, scope, query: Mapping[str, str], limit: int, offset: int):
        """Gives (number matched, GeoJSON features) of a page of the caller's items; `query`
        holds every query parameter (bbox and datetime included), others refused by the
        view; `BadInput` for a bad value."""

    def feature(self, scope, fid: int) -> dict | None:
        """Gives one of the caller's features as GeoJSON, or None."""


_registered: dict[str, Collection] = {}


def register(collection: Collection) -> None:
    """Adds (or replaces) the collection under its key."""
    _registered[collection.key] = collection


def readable(scope) -> list[Collection]:
    """Gives the registered collections the caller may read, by key."""
    return [c for _, c in sorted(_registered.items()) if c.readable(scope)]


def find(key: str, scope) -> Collection | None:
    """Gives the registered collection `key` if the caller may read it."""
    found = _registered.get(key)
    return found if found is not None and found.readable(scope) else None


def is_registered(key: str) -> bool:
    """Whether a collection is registered under `key` (whoever may read it)."""
    return key in _registered
