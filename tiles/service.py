"""Vector tiles for callers: resolve registry layers, apply scope and filters, build or reuse.

`vector_tile(request-ish inputs)` is what the view calls; `seed` (tasks.py) and the benchmark
call the same functions, so there is one path from a layer key to tile bytes.
"""

from __future__ import annotations

import io
import re
from contextlib import nullcontext
from dataclasses import dataclass

from cachetools import LRUCache
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from core.errors import BadInput, NotFound
from core.sqlparts import Part
from spatial.layers.source import MERCATOR_COLUMN, WEB_MERCATOR, Filters, LayerSource
from spatial.models import Layer
from tiles import cache, filters
from tiles import sql as tsql
from tiles.models import AreaCellSet

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
MAX_LAYERS = 16
AGGREGATES = {
    "hex": tsql.hexagon_bins_query,
    "bins": tsql.square_bins_query,
    # One label point per polygon, for area names on the map (any polygon layer).
    "labels": tsql.label_points_query,
}


@dataclass
class TileLayer:
    """A registry layer as one tile layer: itself, or an aggregate (`_hex`/`_bins`) or the
    label points (`_labels`) of it."""

    name: str
    layer: Layer
    aggregate: str = ""

    @property
    def tiling(self):
        return getattr(self.layer, "tiling", None)

    @property
    def filter_specs(self) -> list[dict]:
        return list(self.tiling.filters) if self.tiling else []


def check_address(z: int, x: int, y: int) -> None:
    """Raises BadInput unless z/x/y is a tile of the XYZ pyramid up to TILES_MAX_ZOOM."""
    if not 0 <= z <= settings.TILES_MAX_ZOOM:
        raise BadInput(f"zoom must be 0..{settings.TILES_MAX_ZOOM}, not {z}", field="z")
    n = 1 << z
    if not 0 <= x < n:
        raise BadInput(f"x must be 0..{n - 1} at zoom {z}, not {x}", field="x")
    if not 0 <= y < n:
        raise BadInput(f"y must be 0..{n - 1} at zoom {z}, not {y}", field="y")


_KEY = KEY_RE.pattern.strip("^$")
# `split_keys`'s rule for the OpenAPI document (repeats aside, which a pattern cannot see).
KEYS_SCHEMA = {
    "type": "string",
    "pattern": f"^ *{_KEY} *(, *{_KEY} *){{0,{MAX_LAYERS - 1}}}$",
}


def split_keys(text: str) -> list[str]:
    """Gives the layer names of a "a,b,c" path segment, refusing malformed or repeated ones."""
    names = [k.strip() for k in text.split(",")]
    if not names or len(names) > MAX_LAYERS:
        raise BadInput(f"give 1..{MAX_LAYERS} layer names", field="layers")
    for name in names:
        if not KEY_RE.match(name):
            raise BadInput(f"bad layer name {name[:70]!r}", field="layers")
    if len(set(names)) != len(names):
        raise BadInput("a layer is named twice", field="layers")
    return names


# key -> (digest of its registry rows, Layer with its tiling), least recently used dropped first.
_registry: LRUCache = LRUCache(maxsize=5000)

# One row per key: a digest of the layer's whole registry row and of its tiling row. Served by
# the unique index on spatial_layer.key; any change to either row (a version bump included)
# changes the digest.
REGISTRY_DIGEST_SQL = (
    "SELECT l.key, md5(l::text || coalesce(t::text, '')) FROM spatial_layer l "
    "LEFT JOIN tiles_layertiling t ON t.layer_id = l.id WHERE l.key = ANY(%s)"
)


def registry_rows(keys: set[str]) -> dict[str, Layer]:
    """Gives {key: Layer (with its tiling)} for the keys that exist, reusing this process's
    copies while their rows are unchanged: one small query instead of loading the rows with
    their JSON columns on every tile request."""
    with connection.cursor() as cur:
        cur.execute(REGISTRY_DIGEST_SQL, [sorted(keys)])
        digests = dict(cur.fetchall())
    found = {k: _registry.get(k) for k in digests}
    stale = [k for k, d in digests.items() if (found[k] or ("",))[0] != d]
    if stale:  # building an ORM query costs more than the digest query itself
        layers = list(Layer.objects.filter(key__in=stale).select_related("tiling"))
        _load_kept_areas(layers)
        for layer in layers:
            found[layer.key] = _registry[layer.key] = (digests[layer.key], layer)
    return {k: entry[1] for k, entry in found.items() if entry is not None}


def _load_kept_areas(layers: list[Layer]) -> None:
    """Sets `tiling.kept_areas` of each point layer with cells: the area digests whose area
    cells are kept (tiles.models.AreaCellSet). Read with the tiling row, whose
    `area_cells_version` changes with the sets, so the registry's digest says when to read
    them again."""
    sources = {}
    for layer in layers:
        tiling = getattr(layer, "tiling", None)
        if tiling is not None and tiling.cells_ready:
            tiling.kept_areas = frozenset()
            sources[f"{layer.schema_name}.{layer.table_name}"] = tiling
    if not sources:
        return
    kept = AreaCellSet.objects.filter(source__in=list(sources)).values_list("source", "digest")
    by_source: dict[str, set[str]] = {}
    for source, digest in kept:
        by_source.setdefault(source, set()).add(digest)
    for source, tiling in sources.items():
        tiling.kept_areas = frozenset(by_source.get(source, ()))


def resolve(names: list[str], scope, kinds: tuple[str, ...] | None = None) -> list[TileLayer]:
    """Gives the tile layers for `names` the caller may read, in order.

    Unknown names are 404, and so is a layer the caller may not read (no existence leak); in a
    composite an unreadable layer is left out, so one base-map URL serves every caller, and
    only a composite with nothing readable is 404.
    """
    return resolve_lazily(names, lambda: scope, kinds)[0]


def resolve_lazily(names: list[str], get_scope, kinds: tuple[str, ...] | None = None):
    """Gives (tile layers, scope) like `resolve`, calling `get_scope()` only when a layer is
    not public: public layers read the same rows for everyone, so a tile of public layers
    never pays for the caller's session, user and grants."""
    wanted: dict[str, tuple[str, str]] = {}
    for name in names:
        base, aggregate = name, ""
        for suffix in AGGREGATES:
            if name.endswith("_" + suffix):
                base, aggregate = name[: -len(suffix) - 1], suffix
        wanted[name] = (base, aggregate)
    rows = registry_rows(set(names) | {b for b, _ in wanted.values()})
    found: list[TileLayer] = []
    for name in names:
        if name in rows:
            found.append(TileLayer(name, rows[name]))
            continue
        base, aggregate = wanted[name]
        layer = rows.get(base)
        tiling = getattr(layer, "tiling", None) if layer else None
        if not aggregate or layer is None or not _derives(layer, tiling, aggregate):
            raise NotFound(f"no such layer: {name}", field="layers")
        found.append(TileLayer(name, layer, aggregate))
    for item in found:
        if kinds and item.layer.kind not in kinds:
            raise NotFound(f"layer {item.name} has no tiles of this format", field="layers")
    if all(t.layer.public for t in found):
        from accounts.scoping import ANONYMOUS

        return found, ANONYMOUS
    scope = get_scope()
    readable = [t for t in found if scope.can_read_layer(t.layer)]
    if not readable:
        # As OGC API and the registry answer: a layer the caller may not read does not exist
        # for them (401/403 here confirmed the key of a private layer).
        raise NotFound(f"no such layer: {found[0].name}", field="layers")
    return readable, scope


def _derives(layer: Layer, tiling, aggregate: str) -> bool:
    """Tells whether a layer has the derived tile layer `aggregate`: bins of point layers,
    label points of polygon layers."""
    if aggregate == "labels":
        gtype = (layer.geometry_type or "").lower()
        points = tiling is not None and tiling.points
        return "polygon" in gtype and not points and layer.kind != Layer.Kind.RASTER
    return tiling is not None and tiling.points


def tile_source(item: TileLayer, scope, conditions: tuple[Part, ...] = ()) -> tsql.TileSource:
    """Gives the SQL builder's view of a tile layer for this caller and these filters: the
    layer's `LayerSource` condition in Web Mercator."""
    layer = item.layer
    source = LayerSource(layer, scope)
    if not source.has_mercator:
        raise NotFound(f"layer {item.name} has no {MERCATOR_COLUMN} column", field="layers")
    request = Filters(conditions=tuple(conditions))
    gtype = (layer.geometry_type or "").lower()
    area = source.area_only(request)
    return tsql.TileSource(
        name=item.name,
        table=source.table,
        id_column=layer.id_column if source.integer_id else None,
        columns=source.fields,
        where=source.where(request, srid=WEB_MERCATOR),
        simplify="point" not in gtype and not (item.tiling and item.tiling.points),
        unrestricted=source.unrestricted(request),
        area=area,
        area_digest=scope.area_digest if area is not None else "",
    )


def parse_request_filters(
    items: list[TileLayer], query: dict[str, list[str]]
) -> tuple[dict[str, tuple[Part, ...]], dict]:
    """Gives per layer name its filter conditions (SQL parts), and the canonical filter values;
    refuses names that no layer in the tile declares (400)."""
    declared: set[str] = set()
    for item in items:
        declared |= filters.declared_names(item.filter_specs)
    unknown = sorted(set(query) - declared)
    if unknown:
        allowed = ", ".join(sorted(declared)) or "none"
        raise BadInput(f"unknown filter {unknown[0]!r}; allowed: {allowed}", field=unknown[0])
    per_layer: dict[str, tuple[Part, ...]] = {}
    canonical: dict = {}
    for item in items:
        conditions, canon = filters.parse_filters(item.filter_specs, query)
        per_layer[item.name] = tuple(conditions)
        canonical.update(canon)
    return per_layer, canonical


def layer_query(
    item: TileLayer, source: tsql.TileSource, z: int, x: int, y: int, area_cells: bool = True
):
    """Gives the query (a `Part`) of one tile layer at z/x/y, or None outside its zooms.
    `area_cells=False` keeps a scoped cluster tile off its area's cells even if this process
    believes them kept."""
    layer, tiling = item.layer, item.tiling
    if z < layer.min_zoom or z > layer.max_zoom:
        return None
    if item.aggregate:
        return AGGREGATES[item.aggregate](source, z, x, y, tiling.bin_cell_px if tiling else 0)
    if tiling is not None and tiling.points and z < tiling.cluster_below_zoom:
        if tiling.cells_ready and (source.unrestricted or source.area is not None):
            within = None
            if not source.unrestricted:
                # The area's own cells when this process's registry knows them kept.
                kept = area_cells and _area_cells_kept(item, source)
                within = (source.table, source.area, source.area_digest if kept else "")
            fast = tsql.cell_clusters_query(
                item.name,
                f"{layer.schema_name}.{layer.table_name}",
                z,
                x,
                y,
                tiling.cluster_cell_px,
                within=within,
            )
            if fast is not None:
                return fast
        return tsql.clusters_query(source, z, x, y, tiling.cluster_cell_px)
    return tsql.features_query(source, z, x, y, settings.TILES_SIMPLIFY_PX)


def _area_cells_kept(item: TileLayer, source: tsql.TileSource) -> bool:
    """Whether this process's registry knows the caller's area cells of the layer kept."""
    return bool(source.area_digest) and source.area_digest in getattr(item.tiling, "kept_areas", ())


def build(items: list[TileLayer], scope, per_layer: dict, z: int, x: int, y: int) -> bytes:
    """Gives the encoded tile (b"" when empty) in one query over every layer.

    A scoped cluster tile whose area cell set was dropped after this process read which are
    kept (tiles.sql.AREA_CELLS_MISSING) is built again without them, and the registry entries
    of its layers are forgotten so the next request reads the sets again.
    """
    sources = [tile_source(item, scope, per_layer.get(item.name, ())) for item in items]

    def query(area_cells: bool):
        parts = [layer_query(i, s, z, x, y, area_cells) for i, s in zip(items, sources)]
        parts = [part for part in parts if part is not None]
        return tsql.combine(parts) if parts else None

    first = query(area_cells=True)
    if first is None:
        return b""
    if not any(_area_cells_kept(i, s) for i, s in zip(items, sources)):
        return fetch(first)
    try:
        # A savepoint inside a transaction, so that the failure does not end it.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            return fetch(first)
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) != tsql.AREA_CELLS_MISSING:
            raise
    for item in items:
        _registry.pop(item.layer.key, None)
    return fetch(query(area_cells=False))


# The binary COPY stream: signature, flags, header extension length (then the extension).
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER = len(_COPY_SIGNATURE) + 8


def fetch(query: Part) -> bytes:
    """Runs a tile query (`tiles.sql.combine`: one row, one bytea) and gives its bytes, b""
    when the tile is empty.

    The bytea comes back as it is stored, through `COPY (query) TO STDOUT (FORMAT binary)`: a
    SELECT through psycopg2 sends a bytea as hex text, twice its size, that the driver then
    decodes, which cost a 360 KB z12 unit grid tile 2 ms of its 30 (bench/README.md "Serving
    path vs tipg"). One statement, one round trip, as a SELECT would be.
    """
    text, params = query
    buffer = io.BytesIO()
    with connection.cursor() as cur:
        select = cur.cursor.mogrify(text.as_string(cur.cursor), params).decode()
        # Django's errors, as for `execute` (a lost connection is its OperationalError).
        with connection.wrap_database_errors:
            cur.copy_expert(f"COPY ({select}) TO STDOUT (FORMAT binary)", buffer)
    return copy_bytea(buffer.getbuffer())


def copy_bytea(stream: memoryview | bytes) -> bytes:
    """Gives the bytea of the one row of one column in a binary COPY stream (b"" for NULL or
    empty); raises ValueError for any other stream."""
    if bytes(stream[: len(_COPY_SIGNATURE)]) != _COPY_SIGNATURE:
        raise ValueError("not a binary COPY stream")
    at = _COPY_HEADER + int.from_bytes(stream[_COPY_HEADER - 4 : _COPY_HEADER], "big")
    if int.from_bytes(stream[at : at + 2], "big", signed=True) != 1:
        raise ValueError("a tile query gives one row of one column")
    size = int.from_bytes(stream[at + 2 : at + 6], "big", signed=True)
    if size > len(stream) - at - 6:
        raise ValueError("binary COPY stream cut short")
    return bytes(stream[at + 6 : at + 6 + size]) if size > 0 else b""


def tile_etag(items: list[TileLayer], scope, z: int, x: int, y: int, fmt: str, canon: dict) -> str:
    """Gives the cache key / ETag of a tile for this caller: each layer's version and the
    caller's view of it (`Scope.layer_key`, the one cache-key rule for a layer's rows)."""
    parts = [(i.name, i.layer.version, scope.layer_key(i.layer)) for i in items]
    return cache.tile_key(parts, f"{z}/{x}/{y}", fmt, canon)


def vector_tile(
    names_text: str,
    z: int,
    x: int,
    y: int,
    query: dict[str, list[str]],
    get_scope,
    if_none_match: str | None = None,
) -> tuple[str, bytes | None, list[TileLayer]]:
    """Gives (etag, tile bytes, layers in the tile) for the caller; bytes is None when
    `if_none_match` matches.

    Served from the cache when a tile with the same layer versions, scope and filters was
    built before; built in one query otherwise.
    """
    check_address(z, x, y)
    items, scope = resolve_lazily(
        split_keys(names_text), get_scope, kinds=(Layer.Kind.CORE, Layer.Kind.MANAGED)
    )
    per_layer, canon = parse_request_filters(items, query)
    etag = tile_etag(items, scope, z, x, y, "mvt", canon)
    if if_none_match and etag in if_none_match:
        return etag, None, items
    data = cache.get(etag)
    if data is None:
        data = build(items, scope, per_layer, z, x, y)
        cache.put(etag, data)
    return etag, data, items
