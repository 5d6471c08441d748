"""The writes of the tile package, one action per verb (see `accounts.oplog.action`)."""

from __future__ import annotations

from accounts import permissions as perms
from accounts.oplog import action
from core.models import Job

from .tasks import start_seed


@action(
    "tiles.seed",
    permission=perms.LAYERS_EDIT,
    target=lambda layers, zmin, zmax, bbox=None: layers,
    details=lambda layers, zmin, zmax, bbox=None: {"zmin": zmin, "zmax": zmax, "bbox": bbox},
)
def do_seed_tiles(scope, layers: str, zmin: int, zmax: int, bbox: list[float] | None = None) -> Job:
    """Gives the queued job building `layers`' tiles of zooms `zmin`..`zmax` in `bbox` into
    the tile cache (预生成切片), as the caller sees them (public layers' tiles are shared)."""
    return start_seed(layers, zmin, zmax, bbox, scope=scope)
