"""Marks routes that anonymous callers may use.

Every route is private (401 for anonymous callers) unless its view is marked `@public`.
A test walks the whole URL configuration and fails for any unmarked route that answers an
anonymous caller with 2xx, so a new endpoint cannot forget access control. A public route
may still filter what it returns to the caller's scope (public layers only, for instance).
"""

from typing import TypeVar

V = TypeVar("V")


def public(view: V) -> V:
    """Marks a view function or view class as reachable without signing in."""
    view.citygrid_public = True  # type: ignore[attr-defined]
    return view


def is_public(callback) -> bool:
    """Whether a resolved URL callback belongs to a view marked `@public`."""
    if getattr(callback, "citygrid_public", False):
        return True
    for attr in ("view_class", "cls"):
        owner = getattr(callback, attr, None)
        if owner is not None and getattr(owner, "citygrid_public", False):
            return True
    return False
