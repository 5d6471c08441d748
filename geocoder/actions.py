"""The writes of the geocoder, one action per verb (see `accounts.oplog.action`)."""

from __future__ import annotations

from accounts import permissions as perms
from accounts.oplog import action
from core.models import Job

from . import batch


@action(
    "geocoder.batch",
    permission=perms.GEOCODE_BATCH,
    target=lambda upload, **_: getattr(upload, "name", ""),
)
def do_geocode_batch(scope, upload, sync: bool = False) -> Job:
    """Gives the job geocoding an uploaded CSV of addresses (批量地理编码) as the caller."""
    return batch.start_batch(upload, None if scope.is_anonymous else scope.user, sync=sync)
