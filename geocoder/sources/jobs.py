"""Address-source loads as jobs (core.jobs, the one progress mechanism): the file copied into
its own work directory, a Job row, and the body that reads, builds and replaces the source in
one transaction. Started by `geocoder.actions.do_load_addresses`."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from django.db import transaction

from core.errors import BadInput, NotFound
from core.jobs import JobRun, dispatch, new_job
from core.models import Job
from geocoder import dictionary
from geocoder.models import AddressSource
from spatial.layers import files, readers, transform

from . import build, fields, read, store

JOB_KIND = "address_load"
EXTENT_CHECKS = ("city", "china", "off")
KINDS = tuple(AddressSource.Kind.values)


@dataclass
class LoadOptions:
    """What the caller chose for one load (the command's flags, the API's form fields)."""

    source: str = ""
    kind: str = ""
    mapping: str | dict = ""
    crs: str = ""
    layer: str = ""
    format: str = ""
    x: str = ""
    y: str = ""
    wkt: str = ""
    extent_check: str = "city"

    def validate(self, file_name: str = "") -> LoadOptions:
        """Gives the options checked (BadInput naming the field) before any work starts."""
        if not self.kind:
            self.kind = "osm" if file_name.lower().endswith((".osm", ".pbf")) else "doors"
        if self.kind not in KINDS:
            raise BadInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
        if not self.source:
            self.source = Path(file_name).name.split(".")[0][:64]
        self.source = self.source.strip()
        if not self.source or len(self.source) > 64 or "/" in self.source:
            raise BadInput("source must be a name of 1-64 characters without '/'", "source")
        if isinstance(self.mapping, str):
            self.mapping = fields.parse_mapping(self.mapping)
        if self.mapping and self.kind == "osm":
            raise BadInput("--map is for tables; OSM tags are read as they are", field="map")
        if self.crs:
            transform.resolve_source_crs(None, self.crs, "geojson")
        if self.format:
            readers.detect_format(Path("x"), self.format)
        if self.extent_check not in EXTENT_CHECKS:
            raise BadInput(
                f"extent_check must be one of {', '.join(EXTENT_CHECKS)}", "extent_check"
            )
        return self


def start_load(upload, name: str | None, options: LoadOptions, scope, sync: bool = False) -> Job:
    """Gives the job loading `upload` (an uploaded file, or a local path when `name` is None)
    as the address source `options.source`; run now when `sync`, else queued after commit."""
    if upload is None:
        raise BadInput("upload the file in the multipart field 'file'", field="file")
    options.validate(name or str(upload))
    path, work_dir = files.receive(upload, name)
    job = new_job(
        JOB_KIND,
        scope,
        {
            "path": str(path),
            "work_dir": str(work_dir),
            "file_name": name or path.name,
            "options": asdict(options),
        },
    )
    from geocoder.tasks import load_addresses

    return dispatch(job, load_addresses, sync=sync)


def run_load(run: JobRun) -> dict:
    """Reads the job's file, builds its address records and replaces the source's rows with
    them in one transaction (the body `core.jobs.run_job` runs); gives the report. A load
    that fails, or loads nothing, leaves the previous version in place."""
    params = run.job.params
    options = LoadOptions(**params["options"]).validate(params["file_name"])
    started = time.monotonic()
    path, work_dir = Path(params["path"]), Path(params["work_dir"])
    try:
        if options.kind == "osm":
            got = read.read_osm(path, work_dir, asdict(options))
        else:
            got = read.read_table(path, work_dir, asdict(options))
    finally:
        files.remove_work_dir(work_dir)
    recs = build.records(options.kind, got.features, dictionary.gazetteer())
    total = len(recs.roads) + len(recs.doors) + len(recs.named)  # what store.replace counts
    run.progress(0, total)
    with transaction.atomic():
        source, _ = AddressSource.objects.select_for_update().get_or_create(
            name=options.source, defaults={"kind": options.kind}
        )
        written = store.replace(source, recs, run.progress)
        if not any(written.counts.values()):
            first = "; ".join(f"row {r['row']}: {r['reason']}" for r in written.refused[:3])
            raise BadInput(
                f"no row of the file could be loaded ({len(written.refused)} refused"
                + (f"; {first}" if first else "")
                + "); the source is unchanged",
                field="file",
            )
        meta = {
            "kind": options.kind,
            "file_name": params["file_name"],
            "options": {k: v for k, v in asdict(options).items() if v and k != "source"},
        }
        store.finish(source, written, recs, run.scope, meta)
    run.progress(total, total)
    return {
        **describe(source),
        "format": got.format,
        "crs": got.crs,
        "columns": got.columns,
        "seconds": round(time.monotonic() - started, 2),
    }


def describe(source: AddressSource) -> dict:
    """Gives a source as JSON-ready data."""
    return {
        "source": source.name,
        "kind": source.kind,
        "version": source.version,
        "file_name": source.file_name,
        "counts": source.counts,
        "loaded": source.loaded,
        "refused": source.refused,
        "skipped": source.skipped,
        "refusals": source.refusals,
        "loaded_at": source.loaded_at.isoformat() if source.loaded_at else None,
        "loaded_by": source.loaded_by_name,
    }


def get_source(name: str) -> AddressSource:
    """Gives the source named `name`, or `NotFound`."""
    source = AddressSource.objects.filter(name=name).first()
    if source is None:
        raise NotFound(f"no address source named {name!r}", field="name")
    return source


def delete_source(source: AddressSource) -> int:
    """Deletes a source and every row it loaded; gives how many rows went."""
    with transaction.atomic():
        deleted = store.delete_rows(source)
        source.delete()
    transaction.on_commit(dictionary.invalidate)
    dictionary.invalidate()
    return deleted
