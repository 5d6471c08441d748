"""The writes of the geocoder, one action per verb (see `accounts.oplog.action`)."""

from __future__ import annotations

from dataclasses import asdict

from accounts import permissions as perms
from accounts.oplog import action
from core.models import Job

from . import batch
from .models import AddressSource
from .sources import jobs as source_jobs
from .sources.jobs import LoadOptions


@action(
    "geocoder.batch",
    permission=perms.GEOCODE_BATCH,
    target=lambda upload, **_: getattr(upload, "name", ""),
)
def do_geocode_batch(scope, upload, sync: bool = False) -> Job:
    """Gives the job geocoding an uploaded CSV of addresses (批量地理编码) as the caller."""
    return batch.start_batch(upload, None if scope.is_anonymous else scope.user, sync=sync)


@action(
    "geocoder.load_addresses",
    permission=perms.LAYERS_IMPORT,
    target=lambda upload, name, options, **_: options.source or name or str(upload),
    details=lambda upload, name, options, **_: asdict(options),
)
def do_load_addresses(
    scope, upload, name: str | None, options: LoadOptions, sync: bool = False
) -> Job:
    """Gives the job loading a file (an upload, or a local path when `name` is None) as the
    named address source (地址数据源), replacing its previous version; queued after commit,
    or run now when `sync`. The job runs as the caller."""
    return source_jobs.start_load(upload, name, options, scope, sync=sync)


@action(
    "geocoder.delete_source",
    permission=perms.LAYERS_IMPORT,
    target=lambda source: source.name,
    details=lambda source: {"version": source.version, "loaded": source.loaded},
)
def do_delete_address_source(scope, source: AddressSource) -> int:
    """Deletes an address source and every address it loaded; gives how many rows went."""
    return source_jobs.delete_source(source)
