"""Gives a layer's features as SQL built one way for every reader (OGC API items, identify,
export): the layer's fixed filter, the caller's scope (`Scope.layer_condition`) and the request's
bbox, datetime and property filters, all as bound parameters and quoted identifiers."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils.dateparse import parse_date, parse_datetime
from psycopg2 import sql

from spatial.models import Layer
from core.errors import BadInput

from .registry import base_condition, column_types, table_of

MAX_LIMIT = 10_000


def existing_columns(layer: Layer) -> dict[str, str]:
    """Gives {column: data type} of the layer's table."""
    return column_types(layer)


def field_columns(layer: Layer, visible_only: bool = True) -> list[str]:
    """Gives the layer's declared (and by default visible) fields that its table has."""
    present = existing_columns(layer)
    names = []
    for field in layer.fields:
        name = field.get("name")
        if (
            name in present
            and name not in names
            and (field.get("visible", True) or not visible_only)
        ):
            names.append(name)
    return names


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """Gives (minx, miny, maxx, maxy) from `bbox=` (4 or 6 numbers, CRS84)."""
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise BadInput("bbox must be 4 numbers: minlon,minlat,maxlon,maxlat", "bbox") from None
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BadInput("bbox must be 4 numbers: minlon,minlat,maxlon,maxlat", field="bbox")
    minx, miny, maxx, maxy = values
    if miny > maxy or not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise BadInput("bbox latitudes must be within -90..90 and ordered", field="bbox")
    return minx, miny, maxx, maxy


def _instant(text: str, field: str = "datetime") -> datetime | None:
    if text in ("", ".."):
        return None
    value = parse_datetime(text)
    if value is None:
        day = parse_date(text)
        if day is not None:
            value = datetime(day.year, day.month, day.day)
    if value is None:
        raise BadInput("datetime must be RFC 3339 (an instant or start/end, .. for open)", field)
    return value


def parse_datetime_range(text: str | None) -> tuple[datetime | None, datetime | None] | None:
    """Gives (start, end) from `datetime=` (instant, or start/end with `..` for open ends)."""
    if not text:
        return None
    if "/" in text:
        start, end = text.split("/", 1)
        return _instant(start), _instant(end)
    moment = _instant(text)
    return moment, moment


@dataclass
class Filters:
    """What a request narrows a layer's features by."""

    bbox: tuple[float, float, float, float] | None = None
    datetime: tuple | None = None
    properties: dict | None = None
    fid: int | None = None


class FeatureQuery:
    """Builds the SQL that reads one layer's features for one caller."""

    def __init__(self, layer: Layer, scope):
        self.layer = layer
        self.scope = scope
        self.geom = sql.Identifier(layer.geometry_column)
        self.id = sql.Identifier(layer.id_column)
        self.columns = field_columns(layer)

    def where(self, filters: Filters) -> tuple[sql.Composable, list]:
        """Gives the WHERE condition and its parameters."""
        parts: list[sql.Composable] = [base_condition(self.layer)]
        params: list = []
        condition, scope_params = self.scope.layer_condition(self.layer, self.geom)
        parts.append(condition)
        params += scope_params
        if filters.fid is not None:
            parts.append(sql.SQL("{} = %s").format(self.id))
            params.append(filters.fid)
        if filters.bbox:
            # Served by the GiST index on the layer's geom column.
            parts.append(
                sql.SQL(
                    "{g} && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
                    "ST_Intersects({g}, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
                ).format(g=self.geom)
            )
            params += [*filters.bbox, *filters.bbox]
        if filters.datetime and self.layer.datetime_column:
            column = sql.Identifier(self.layer.datetime_column)
            start, end = filters.datetime
            if start is not None:
                parts.append(sql.SQL("{} >= %s").format(column))
                params.append(start)
            if end is not None:
                parts.append(sql.SQL("{} <= %s").format(column))
                params.append(end)
        for name, value in (filters.properties or {}).items():
            parts.append(sql.SQL("{}::text = %s").format(sql.Identifier(name)))
            params.append(value)
        return sql.SQL(" AND ").join(parts), params

    def count(self, filters: Filters) -> int:
        """Gives the number of matching features."""
        where, params = self.where(filters)
        with connection.cursor() as cur:
            cur.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE {}").format(table_of(self.layer), where),
                params,
            )
            return cur.fetchone()[0]

    def _select(self, geometry: sql.Composable) -> sql.Composable:
        cols = [sql.Identifier(c) for c in self.columns]
        return sql.SQL(", ").join([self.id, geometry, *cols])

    def features(self, filters: Filters, limit: int, offset: int = 0) -> list[dict]:
        """Gives GeoJSON features, ordered by id, one page."""
        where, params = self.where(filters)
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT %s OFFSET %s").format(
            self._select(sql.SQL("ST_AsGeoJSON({}, 7)").format(self.geom)),
            table_of(self.layer),
            where,
            self.id,
        )
        with connection.cursor() as cur:
            cur.execute(query, [*params, limit, offset])
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
        where, params = self.where(filters)
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}").format(
            self._select(sql.SQL("ST_AsBinary({})").format(self.geom)),
            table_of(self.layer),
            where,
            self.id,
        )
        with connection.cursor() as cur:
            cur.execute(query, params)
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
    """Gives {column: value} for query parameters naming the layer's declared fields;
    `BadInput` for any other unknown parameter."""
    declared = {f["name"] for f in layer.fields} & set(existing_columns(layer))
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
