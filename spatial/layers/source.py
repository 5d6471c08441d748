"""Gives one served layer as a row source (图层数据源): its table, visible columns, fixed filter
and the caller's scope, and the WHERE condition of a request, built one way for every reader —
OGC API items, identify, export and vector tiles (`tiles.service`).

`LayerSource(layer, scope).where(filters, srid)` gives a `core.sqlparts.Part` (SQL + values
together): the admin's fixed filter (`Layer.filter_sql`), the caller's scope
(`Scope.layer_condition` on the geometry column of that SRID: the layer's own for 4326, the
`geom_mercator` copy for 3857), then the request's id, bbox, datetime and property filters and
any conditions already parsed by the caller (a tile layer's declared filters). Identifiers are
quoted, values are bound.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from cachetools import LRUCache, cached
from psycopg2 import sql

from core.sqlparts import Part, bind, join
from spatial.models import Layer

from .registry import column_types

MERCATOR_COLUMN = "geom_mercator"
WGS84, WEB_MERCATOR = 4326, 3857
INTEGER_TYPES = {"smallint", "integer", "bigint"}


@dataclass(frozen=True)
class Filters:
    """What a request narrows a layer's features by. `bbox` is in the SRID the condition is
    built for; `conditions` are parsed conditions of the caller's own (tile filters)."""

    bbox: tuple[float, float, float, float] | None = None
    datetime: tuple[datetime | None, datetime | None] | None = None
    properties: dict | None = None
    fid: int | None = None
    conditions: tuple[Part, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.bbox or self.datetime or self.properties or self.conditions) and (
            self.fid is None
        )


# Layers are few and their columns change only with the table, whose writes bump `version`;
# the id is in the key because a rolled-back test can reuse a table name and a version.
@cached(
    LRUCache(maxsize=1024),
    key=lambda layer: (layer.pk, layer.schema_name, layer.table_name, layer.version),
    lock=threading.Lock(),
)
def table_columns(layer: Layer) -> dict[str, str]:
    """Gives {column: PostgreSQL data type} of the layer's table (cached per layer version)."""
    return column_types(layer)


def visible_fields(layer: Layer) -> list[tuple[str, str]]:
    """Gives (name, PostgreSQL type) of the layer's declared, visible fields that its table has."""
    types = table_columns(layer)
    return [(name, types[name]) for name in visible_columns(layer, types)]


def visible_columns(layer: Layer, types: dict[str, str]) -> list[str]:
    """Gives the layer's declared, visible fields that its table has, in declared order."""
    names: list[str] = []
    for field in layer.fields or []:
        name = field.get("name") if isinstance(field, dict) else None
        if (
            name
            and name in types
            and name not in names
            and not name.startswith("__")
            and field.get("visible", True)
        ):
            names.append(name)
    return names


class LayerSource:
    """One registry layer as one caller reads it."""

    def __init__(self, layer: Layer, scope):
        self.layer = layer
        self.scope = scope
        self.table = sql.Identifier(layer.schema_name or "public", layer.table_name)
        self.types = table_columns(layer)
        self.columns = visible_columns(layer, self.types)
        self.id = sql.Identifier(layer.id_column)
        self.fixed = (
            Part(sql.SQL("({})").format(sql.SQL(layer.filter_sql))) if layer.filter_sql else None
        )
        self._scope: dict[int, object] = {}

    @property
    def fields(self) -> list[tuple[str, str]]:
        """Gives (name, PostgreSQL type) of the visible columns."""
        return [(name, self.types[name]) for name in self.columns]

    @property
    def integer_id(self) -> bool:
        """Whether the id column is an integer (what a vector tile's feature id must be)."""
        return self.types.get(self.layer.id_column) in INTEGER_TYPES

    @property
    def has_mercator(self) -> bool:
        return MERCATOR_COLUMN in self.types

    def geometry(self, srid: int = WGS84) -> sql.Identifier:
        """Gives the geometry column in `srid`: the layer's own (4326) or its Web Mercator copy."""
        if srid == WEB_MERCATOR:
            return sql.Identifier(MERCATOR_COLUMN)
        if srid != WGS84:
            raise ValueError(f"a layer source has SRID 4326 or 3857, not {srid}")
        return sql.Identifier(self.layer.geometry_column)

    def scope_condition(self, srid: int = WGS84):
        """Gives the caller's `AreaCondition` on this layer's geometry in `srid`."""
        if srid not in self._scope:
            self._scope[srid] = self.scope.layer_condition(self.layer, self.geometry(srid), srid)
        return self._scope[srid]

    def unrestricted(self, filters: Filters | None = None) -> bool:
        """Whether the condition keeps every row of the table: no fixed filter, a caller who
        sees everything and no request filters."""
        return (
            self.fixed is None
            and self.scope_condition(WEB_MERCATOR).unrestricted
            and (filters is None or filters.empty)
        )

    def area_only(self, filters: Filters | None = None):
        """Gives the caller's area geometry (a `Part`, in Web Mercator) when it is the only
        restriction on the rows: no fixed filter, no request filters, a caller limited to their
        areas. None otherwise (unrestricted callers included)."""
        if self.fixed is not None or not (filters is None or filters.empty):
            return None
        condition = self.scope_condition(WEB_MERCATOR)
        if condition.unrestricted or condition.empty:
            return None
        return condition.area

    def cache_key(self) -> str:
        """Gives the cache-key fragment of the caller's view of this layer: callers with the
        same fragment see the same rows."""
        return self.scope.layer_key(self.layer)

    def where(self, filters: Filters | None = None, srid: int = WGS84) -> Part:
        """Gives the WHERE condition (SQL + values) of the caller's rows that match `filters`."""
        filters = filters or Filters()
        geom = self.geometry(srid)
        parts: list = [self.fixed] if self.fixed else []
        area = self.scope_condition(srid)
        if not area.unrestricted:
            parts.append(area)
        if filters.fid is not None:
            parts.append(bind("{id} = {fid}", id=self.id, fid=filters.fid))
        if filters.bbox:
            # Served by the GiST index on the geometry column.
            box = bind(
                "ST_MakeEnvelope({minx}, {miny}, {maxx}, {maxy}, {srid})",
                **dict(zip(("minx", "miny", "maxx", "maxy"), map(float, filters.bbox))),
                srid=sql.Literal(srid),
            )
            parts.append(bind("{g} && {box} AND ST_Intersects({g}, {box})", g=geom, box=box))
        if filters.datetime and self.layer.datetime_column:
            column = sql.Identifier(self.layer.datetime_column)
            start, end = filters.datetime
            if start is not None:
                parts.append(bind("{c} >= {v}", c=column, v=start))
            if end is not None:
                parts.append(bind("{c} <= {v}", c=column, v=end))
        for name, value in (filters.properties or {}).items():
            parts.append(bind("{c}::text = {v}", c=sql.Identifier(name), v=value))
        parts += filters.conditions
        return join(parts)

    def filterable(self) -> set[str]:
        """Gives the declared, visible fields that the table has: the names a request may filter
        by (a hidden field filters nothing: filtering by it would reveal its values)."""
        return set(self.columns)
