"""Gives a layer's features for OGC API items, identify and export: pages of GeoJSON features,
counts and WKB rows, read through the layer's one row source (`spatial.layers.source`)."""

from __future__ import annotations

import json
import math
from datetime import datetime

from django.db import connection
from psycopg2 import sql

from core.errors import BadInput
from core.sqlparts import bind
from spatial.models import Layer

from .source import Filters, LayerSource, table_columns, visible_columns

__all__ = [
    "MAX_LIMIT",
    "FeatureQuery",
    "Filters",
    "property_filters",
]

MAX_LIMIT = 10_000


class FeatureQuery:
    """Reads one layer's features for one caller, through its `LayerSource`."""

    def __init__(self, layer: Layer, scope):
        self.source = LayerSource(layer, scope)
        self.layer = layer
        self.scope = scope
        self.geom = self.source.geometry()
        self.id = self.source.id
        self.columns = self.source.columns

    def count(self, filters: Filters) -> int:
        """Gives the number of matching features."""
        query = bind(
            "SELECT count(*) FROM {table} WHERE {where}",
            table=self.source.table,
            where=self.source.where(filters),
        )
        with connection.cursor() as cur:
            cur.execute(*query)
            return cur.fetchone()[0]

    def _select(self, geometry: sql.Composable) -> sql.Composable:
        cols = [sql.Identifier(c) for c in self.columns]
        return sql.SQL(", ").join([self.id, geometry, *cols])

    def features(self, filters: Filters, limit: int, offset: int = 0) -> list[dict]:
        """Gives GeoJSON features, ordered by id, one page."""
        query = bind(
            "SELECT {select} FROM {table} WHERE {where} ORDER BY {id} LIMIT {limit} OFFSET {offset}",
            select=self._select(sql.SQL("ST_AsGeoJSON({}, 7)").format(self.geom)),
            table=self.source.table,
            where=self.source.where(filters),
            id=self.id,
            limit=limit,
            offset=offset,
        )
        with connection.cursor() as cur:
            cur.execute(*query)
            rows = cur.fetchall()
        return [self._feature(row) for row in rows]

    def _feature(self, row) -> dict:
        fid, geometry, *values = row
        return {
            "type": "Feature",
            "id": fid,
            "geometry": json.loads(geometry) if geometry else None,
            "properties": {c: _jsonable(v) for c, v in zip(self.columns, values)},
        }

    def rows_wkb(self, filters: Filters):
        """Gives (id, WKB, *columns) rows for export, streamed with a server-side cursor."""
        query = bind(
            "SELECT {select} FROM {table} WHERE {where} ORDER BY {id}",
            select=self._select(sql.SQL("ST_AsBinary({})").format(self.geom)),
            table=self.source.table,
            where=self.source.where(filters),
            id=self.id,
        )
        with connection.cursor() as cur:
            cur.execute(*query)
            while batch := cur.fetchmany(10_000):
                yield from batch


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (int, float, str, bool, list, dict)) or value is None:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    return str(value)


def property_filters(layer: Layer, query: dict, reserved: set[str]) -> dict:
    """Gives {column: value} for query parameters naming the layer's declared, visible fields
    (a hidden field filters nothing: filtering by it would reveal its values); `BadInput` for
    any other parameter."""
    declared = set(visible_columns(layer, table_columns(layer)))
    filters = {}
    for name, value in query.items():
        if name in reserved:
            continue
        if name not in declared:
            raise BadInput(
                f"unknown parameter {name!r}; filterable fields: {', '.join(sorted(declared))}",
                field=name,
            )
        filters[name] = value
    return filters
