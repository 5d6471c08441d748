"""Who is online nearest to a point (在线监督员): a kernel registry, as `core.workload` is.

Cases sends verification and check tasks automatically (`cases.autosend`) to an inspector who is
online, nearest first by road; whether a person is online and where they stand is tracking's
knowledge, and cases may not import tracking (docs/architecture.md §1). Tracking registers its
finder in `TrackingConfig.ready` (`tracking.nearest.nearest_online_user`); cases asks here.
Without tracking nobody is online.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

NearestOnline = Callable[[float, float, list[int]], "int | None"]
_finder: NearestOnline | None = None


def register_nearest_online(finder: NearestOnline) -> None:
    """Sets the finder: (lon, lat WGS84, candidate user ids) → the user id of the candidate
    online nearest to the point, or None."""
    global _finder
    _finder = finder


def nearest_online(lon: float, lat: float, user_ids: Iterable[int]) -> int | None:
    """Gives the user among `user_ids` who is online nearest to (`lon`, `lat`), or None."""
    users = sorted(set(user_ids))
    if not users or _finder is None:
        return None
    return _finder(lon, lat, users)
