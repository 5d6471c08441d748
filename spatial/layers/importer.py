"""Gives imported layers: one file read, converted to EPSG:4326, checked and written either as a
managed layer (new table + atomic swap) or into core geography, with progress and a report in
the job (core.models.Job)."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from shapely.errors import GEOSException
from django.db import connection, transaction
from django.db.models import F
from django.utils.text import slugify

from spatial.models import Layer
from core.errors import BadInput, Conflict
from core.jobs import JobRun

from . import core_targets, geometry, grid_sets, offsets, readers, registry, transform, writer

log = logging.getLogger(__name__)
JOB_KIND = "layer_import"
EXTENT_CHECKS = ("city", "china", "off")
RESERVED_KEYS = {"import", "all"}


@dataclass
class ImportOptions:
    """What the caller chose for one import (the command's flags, the API's form fields)."""

    target: str = "managed"
    key: str = ""
    title: str = ""
    crs: str = ""
    mapping: dict = field(default_factory=dict)
    layer: str = ""
    format: str = ""
    x: str = ""
    y: str = ""
    wkt: str = ""
    public: bool = False
    invalid: str = "repair"
    mixed: str = "refuse"
    extent_check: str = "city"
    purpose: str = ""
    group: str = ""
    level: str = ""
    create_parents: bool = False
    district_code: str = ""
    district_name: str = ""

    def validate(self) -> ImportOptions:
        """Gives the options checked (BadInput naming the field) before any work starts."""
        if self.target != "managed" and self.target not in core_targets.TARGETS:
            raise BadInput(
                f"--as must be one of {', '.join(core_targets.TARGETS)} (or omitted for a "
                "managed layer)",
                field="target",
            )
        if self.crs:
            transform.resolve_source_crs(None, self.crs, "geojson")
        if self.invalid not in geometry.INVALID_MODES:
            raise BadInput(f"invalid must be one of {', '.join(geometry.INVALID_MODES)}", "invalid")
        if self.mixed not in geometry.MIXED_MODES:
            raise BadInput(f"mixed must be one of {', '.join(geometry.MIXED_MODES)}", "mixed")
        if self.extent_check not in EXTENT_CHECKS:
            raise BadInput(
                f"extent_check must be one of {', '.join(EXTENT_CHECKS)}", "extent_check"
            )
        if self.format:
            readers.detect_format(Path("x"), self.format)
        if self.key and (slugify(self.key) != self.key.lower() or len(self.key) > 40):
            raise BadInput(
                "key must be a slug (a-z, 0-9, - and _) of at most 40 characters", field="key"
            )
        if self.key in RESERVED_KEYS:
            raise BadInput(f"key {self.key!r} is reserved; choose another", field="key")
        if self.purpose and self.purpose not in Layer.Purpose.values:
            raise BadInput(f"unknown purpose {self.purpose!r}", field="purpose")
        if self.target != "managed" and self.key:
            raise BadInput("--key names a managed layer; core targets have fixed layers", "key")
        if isinstance(self.mapping, str):
            self.mapping = core_targets.parse_mapping(self.mapping)
        if self.mapping and self.target == "managed":
            raise BadInput("--map is for core targets (--as ...)", field="map")
        self._validate_grid_set()
        self.key = self.key.lower()
        return self

    def _validate_grid_set(self) -> None:
        if self.target != "admin_areas" and (
            self.level or self.create_parents or self.district_code or self.district_name
        ):
            raise BadInput(
                "--level, --create-parents, --district-code and --district-name are for "
                "--as admin_areas",
                field="target",
            )
        if self.level and self.level not in grid_sets.ADMIN_LEVELS:
            raise BadInput(f"level must be one of {', '.join(grid_sets.ADMIN_LEVELS)}", "level")
        if self.district_code and not re.fullmatch(r"\d{6}", self.district_code):
            raise BadInput(
                "district_code must be a 6-digit GB/T 2260 code such as 330106", "district_code"
            )


def run_import(run: JobRun) -> dict:
    """Runs the import a job describes (the body `core.jobs.run_job` runs); gives the report.
    A failure leaves the database as it was."""
    params = run.job.params
    options = ImportOptions(**params["options"])
    started = time.monotonic()
    options.validate()
    report = _import(run, Path(params["path"]), Path(params["work_dir"]), options)
    report["seconds"] = round(time.monotonic() - started, 2)
    return report


def _import(run: JobRun, path: Path, work_dir: Path, options: ImportOptions) -> dict:
    clock = _Clock()
    fmt = readers.detect_format(path, options.format or None)
    try:
        source = readers.read_source(
            path,
            work_dir,
            fmt,
            layer=options.layer or None,
            x=options.x or None,
            y=options.y or None,
            wkt=options.wkt or None,
        )
    except GEOSException as exc:
        # GEOS refuses some geometries GDAL reads (a polygon ring that does not end where it
        # starts, for one), whichever reader built them.
        raise BadInput(
            f"the file holds a geometry that cannot be read: {exc} (a polygon ring must end at "
            "its first point and have at least four points)",
            field="file",
        ) from exc
    src_crs = transform.resolve_source_crs(source.declared_crs, options.crs or None, fmt)
    frame = source.frame
    run.progress(0, len(frame))
    clock.mark("read")
    prepared = geometry.prepare(
        np.asarray(frame.geometry.array, dtype=object), options.invalid, options.mixed
    )
    keep = prepared.keep
    clock.mark("prepare")
    converted = transform.to_wgs84(prepared.geoms[keep], src_crs)
    if options.extent_check != "off":
        box = transform.city_box() if options.extent_check == "city" else None
        transform.check_extent(prepared.geoms[keep], converted, src_crs, box)
    transform.check_finite(converted, src_crs)
    clock.mark("convert")
    converted, read_as, offset_check = offsets.apply(
        prepared.geoms[keep], converted, src_crs, options.crs or None
    )
    clock.mark("offset_check")
    attributes = frame.drop(columns=frame.geometry.name)[keep].reset_index(drop=True)
    report = {
        **prepared.report,
        "format": fmt,
        "source_layer": source.layer,
        "crs": read_as,
        "geometry_type": prepared.geometry_type,
        "refused": prepared.refused,
        "offset_check": offset_check,
    }
    invalid_kept = int(np.isin(np.flatnonzero(keep), prepared.invalid_rows).sum())
    if options.target == "managed":
        report.update(
            _write_managed(
                run, options, path, attributes, converted, prepared.geometry_type, invalid_kept
            )
        )
    else:
        report.update(_write_core(options, attributes, converted, prepared.geometry_type))
        run.progress(report["rows_written"], report["rows_written"])
    clock.mark("write")
    report["timings_s"] = clock.laps
    return report


class _Clock:
    """Gives the seconds each import phase took (for the report and the benchmark)."""

    def __init__(self):
        self.last = time.monotonic()
        self.laps: dict[str, float] = {}

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = round(now - self.last, 3)
        self.last = now


def layer_key_for(options: ImportOptions, path: Path) -> str:
    """Gives the managed layer's key: the caller's, or one made from the file name."""
    if options.key:
        return options.key
    stem = path.name.split(".")[0]
    return (slugify(stem)[:40].strip("-_") or f"layer-{int(time.time())}").lower()


def free_table_name(key: str) -> str:
    """Gives a table name for a new managed layer that no other layer uses: keys differ where
    table names cannot (``a-b`` and ``a_b`` both make ``a_b``), so a second layer gets
    ``a_b_2``, never the first layer's table. (A table no layer names is a leftover of a
    deleted layer's database and is replaced.)"""
    base = key.replace("-", "_")[:50]
    name, n = base, 1
    while Layer.objects.filter(table_name=name).exists():
        n += 1
        name = f"{base}_{n}"
    return name


def _write_managed(
    run: JobRun, options, path, attributes, geoms, geometry_type, invalid_kept
) -> dict:
    key = layer_key_for(options, path)
    existing = Layer.objects.filter(key=key).first()
    if existing and existing.kind != Layer.Kind.MANAGED:
        raise Conflict(f"{key!r} is a {existing.kind} layer; choose another key", field="key")
    table = existing.table_name if existing else free_table_name(key)
    names = readers.column_names(list(attributes.columns))
    columns = [
        writer.Column(name, source, writer.field_type(attributes[source]))
        for name, source in zip(names, attributes.columns)
    ]
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"layer-import:{key}"])
        if not cur.fetchone()[0]:
            raise Conflict(f"layer {key!r} is being imported right now", field="key")
    staging = writer.staging_name(table)
    run.leaves(table=f"{writer.SCHEMA}.{staging}")
    try:
        writer.ensure_schema()
        writer.drop_leftover_staging(table)
        writer.create_table(staging, columns, geometry_type)
        writer.copy_rows(
            staging,
            columns,
            attributes,
            geoms,
            progress=run.progress,
        )
        repaired = dropped = 0
        if invalid_kept:
            repaired, dropped = writer.repair_invalid(staging, geometry_type)
        writer.finish_table(staging)
        with transaction.atomic():
            writer.swap_in(staging, table)
            layer = _register(existing, key, table, options, path, columns, geometry_type)
        registry.refresh_stats(layer)
    except BaseException:
        writer.drop_table(staging)
        raise
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"layer-import:{key}"])
    layer.refresh_from_db()
    return {
        "layer": key,
        "table": f"{writer.SCHEMA}.{table}",
        "rows_written": layer.feature_count,
        "repaired": repaired,
        "dropped_after_repair": dropped,
        "replaced": existing is not None,
    }


def _register(existing, key, table, options, path, columns, geometry_type) -> Layer:
    """Creates or updates the registry entry, keeping aliases/visibility of kept fields."""
    previous = {f["name"]: f for f in (existing.fields if existing else [])}
    fields = [
        {
            "name": c.name,
            "type": c.type,
            "alias": previous.get(c.name, {}).get("alias") or str(c.source),
            "visible": previous.get(c.name, {}).get("visible", True),
        }
        for c in columns
    ]
    values = {
        "kind": Layer.Kind.MANAGED,
        "schema_name": writer.SCHEMA,
        "table_name": table,
        "geometry_column": "geom",
        "id_column": "id",
        "geometry_type": geometry_type,
        "fields": fields,
        "filter_sql": "",
    }
    if existing is None:
        values.update(
            title=options.title or path.stem,
            public=options.public,
            purpose=options.purpose,
            group=options.group,
        )
        return Layer.objects.create(key=key, **values)
    for name, value in values.items():
        setattr(existing, name, value)
    if options.title:
        existing.title = options.title
    existing.save(update_fields=[*values, "title", "updated_at"])
    Layer.objects.filter(pk=existing.pk).update(version=F("version") + 1)
    return existing


def _write_core(options, attributes, geoms, geometry_type) -> dict:
    target = core_targets.TARGETS[options.target]
    family = geometry.FAMILY.get(geometry_type.removeprefix("Multi"), "")
    if target.family and family != target.family:
        raise BadInput(
            f"--as {target.key} needs {target.family} geometries; the file has {geometry_type}",
            field="target",
        )
    columns = core_targets.mapped_columns(target, options.mapping, list(attributes.columns))
    data = core_targets.frame_for(target, attributes, columns)
    skipped = {}
    if target.key == "roads":
        # A road segment is known by its name: unnamed ways (footpaths in an OSM extract) are
        # left out and counted rather than refusing the file.
        named = (data["name"].fillna("") != "").to_numpy()
        skipped["skipped_unnamed"] = int((~named).sum())
        if not named.any():
            raise BadInput("no row has a road name; map one with --map name=COLUMN", "map")
        data, geoms = data[named].reset_index(drop=True), geoms[named]
    data = core_targets.validate(target, data)
    sets = grid_sets.SetOptions(
        options.level, options.create_parents, options.district_code, options.district_name
    )
    with transaction.atomic():
        counts = {**core_targets.write(target, data, geoms, sets), **skipped}
    for layer in Layer.objects.filter(key__in=target.layer_keys):
        registry.refresh_stats(layer)
    return {"target": target.key, "layers": list(target.layer_keys), **counts}


def options_dict(options: ImportOptions) -> dict:
    """Gives the options as JSON-ready data for Job.params."""
    return asdict(options)
