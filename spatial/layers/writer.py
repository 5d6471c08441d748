"""Gives managed layer tables (schema `layers`): a new table filled with COPY, then swapped in
for the old one in one short transaction, so readers see the old layer or the new one, never
half of either."""

from __future__ import annotations

from typing import TYPE_CHECKING

import io
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from django.db import connection, transaction
from psycopg2 import sql

from spatial.layers_core import install_version_trigger

if TYPE_CHECKING:  # annotations only: the functions import them when run
    import pandas as pd

SCHEMA = "layers"
COPY_CHUNK = 100_000
PG_TYPES = {
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "datetime": "timestamptz",
    "string": "text",
    # json, not jsonb: psycopg2 hands json values to every reader (OGC items, identify, export)
    # as lists and dicts, while Django keeps jsonb as raw text for its JSONField.
    "json": "json",
}


@dataclass
class Column:
    """One typed attribute column: its SQL name, the file's name, and its field type."""

    name: str
    source: str
    type: str


def field_type(series: pd.Series) -> str:
    """Gives the registry field type (string|integer|number|boolean|datetime|json) of a column:
    json where a value is a list or an object (nested GeoJSON properties, GDAL list fields)."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_object_dtype(dtype) and series.map(_is_nested).any():
        return "json"
    return "string"


def _is_nested(value) -> bool:
    return isinstance(value, (list, tuple, dict, np.ndarray))


def _plain(value):
    """Gives `value` as JSON-ready Python (arrays as lists, NaN and infinities as null)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _json_text(value) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"))


def _escaped(text: pd.Series) -> pd.Series:
    """Gives text with COPY's special characters (backslash, tab, newlines) escaped."""
    return (
        text.str.replace("\\", "\\\\", regex=False)
        .str.replace("\t", "\\t", regex=False)
        .str.replace("\n", "\\n", regex=False)
        .str.replace("\r", "\\r", regex=False)
    )


def _copy_text(series: pd.Series, kind: str) -> pd.Series:
    """Gives a column as PostgreSQL COPY text values (\\N for NULL), vectorised."""
    import pandas as pd

    null = series.isna().to_numpy().copy()  # a list or an object is never NULL here
    if kind == "boolean":
        text = pd.Series(np.where(series.fillna(False).astype(bool), "t", "f"), index=series.index)
    elif kind == "integer":
        text = series.astype("Int64").astype("string")
    elif kind == "number":
        text = series.astype("float64").map(repr)
    elif kind == "datetime":
        values = pd.to_datetime(series, errors="coerce", utc=True)
        null |= values.isna().to_numpy()
        text = values.astype("string")
    elif kind == "json":
        text = _escaped(series.where(~null, None).map(_json_text).astype("string"))
    else:
        text = _escaped(series.astype("string"))
    text = text.astype(object)
    text[null] = "\\N"
    return text.reset_index(drop=True)


def ensure_schema() -> None:
    """Creates the `layers` schema if it does not exist."""
    with connection.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))


def staging_name(table: str) -> str:
    """Gives a fresh name for the table a re-import fills before the swap."""
    return f"{table[:30]}__new_{uuid.uuid4().hex[:8]}"


def create_table(table: str, columns: list[Column], geometry_type: str) -> None:
    """Creates an empty managed table: id, typed columns, geom (4326), geom_mercator (3857)."""
    gtype = sql.SQL(geometry_type)
    defs = [sql.SQL("id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY")]
    defs += [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(PG_TYPES[c.type])) for c in columns
    ]
    defs.append(sql.SQL("geom geometry({}, 4326) NOT NULL").format(gtype))
    defs.append(
        sql.SQL(
            "geom_mercator geometry({}, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED"
        ).format(gtype)
    )
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE TABLE {} ({})").format(
                sql.Identifier(SCHEMA, table), sql.SQL(", ").join(defs)
            )
        )


def copy_rows(
    table: str,
    columns: list[Column],
    frame: pd.DataFrame,
    geoms: np.ndarray,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Loads rows with COPY in chunks (geometry as EWKB hex); gives the number of rows loaded."""
    import pandas as pd

    names = [c.name for c in columns] + ["geom"]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(SCHEMA, table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    total = len(geoms)
    done = 0
    with connection.cursor() as cur:
        raw = cur.cursor
        copy_sql = statement.as_string(raw.connection)
        for start in range(0, total, COPY_CHUNK):
            stop = min(start + COPY_CHUNK, total)
            part = frame.iloc[start:stop]
            texts = [_copy_text(part[c.source], c.type) for c in columns]
            ewkb = shapely.to_wkb(geoms[start:stop], hex=True, include_srid=True)
            texts.append(pd.Series(ewkb, dtype=object))
            lines = texts[0].str.cat(texts[1:], sep="\t") if len(texts) > 1 else texts[0]
            buffer = io.StringIO("\n".join(lines.tolist()) + "\n")
            raw.copy_expert(copy_sql, buffer)
            done = stop
            if progress:
                progress(done)
    return done


def repair_invalid(table: str, geometry_type: str) -> tuple[int, int]:
    """Repairs invalid geometries with ST_MakeValid, keeping the layer's type; gives (repaired,
    dropped) where dropped rows had nothing of that type left after repair."""
    dims = {"MultiPoint": 1, "Point": 1, "MultiLineString": 2, "MultiPolygon": 3}
    target = sql.Identifier(SCHEMA, table)
    with connection.cursor() as cur:
        if geometry_type in dims:
            cur.execute(
                sql.SQL(
                    "UPDATE {} SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), %s)) "
                    "WHERE NOT ST_IsValid(geom)"
                ).format(target),
                [dims[geometry_type]],
            )
        else:
            cur.execute(
                sql.SQL(
                    "UPDATE {} SET geom = ST_MakeValid(geom) WHERE NOT ST_IsValid(geom)"
                ).format(target)
            )
        repaired = cur.rowcount
        cur.execute(sql.SQL("DELETE FROM {} WHERE ST_IsEmpty(geom)").format(target))
        dropped = cur.rowcount
    return repaired, dropped


def finish_table(table: str) -> None:
    """Adds the GiST indexes and statistics a served layer needs."""
    target = sql.Identifier(SCHEMA, table)
    with connection.cursor() as cur:
        for column in ("geom", "geom_mercator"):
            cur.execute(
                sql.SQL("CREATE INDEX {} ON {} USING gist ({})").format(
                    sql.Identifier(f"{table}_{column}_gist"), target, sql.Identifier(column)
                )
            )
        cur.execute(sql.SQL("ANALYZE {}").format(target))


def swap_in(staging: str, table: str) -> None:
    """Replaces `layers.table` by `layers.staging` (renames + drop, caller's transaction)."""
    assert transaction.get_connection().in_atomic_block
    old = f"{table[:30]}__old_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cur:
        if table_exists(table):
            cur.execute(
                sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                    sql.Identifier(SCHEMA, table), sql.Identifier(old)
                )
            )
        cur.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(SCHEMA, staging), sql.Identifier(table)
            )
        )
        if table_exists(old):
            cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(SCHEMA, old)))
        for suffix in ("geom_gist", "geom_mercator_gist", "pkey"):
            cur.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    sql.Identifier(SCHEMA, f"{staging}_{suffix}"),
                    sql.Identifier(f"{table}_{suffix}"),
                )
            )
    install_version_trigger(SCHEMA, table)


def table_exists(table: str, schema: str = SCHEMA) -> bool:
    """Whether `schema.table` exists."""
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}"."{table}"'])
        return bool(cur.fetchone()[0])


def drop_table(table: str) -> None:
    """Drops `layers.table` if it exists."""
    with connection.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, table)))


def drop_leftover_staging(table: str) -> None:
    """Drops staging tables a crashed earlier import of the same layer left behind."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND "
            "(tablename LIKE %s OR tablename LIKE %s)",
            [SCHEMA, f"{table[:30]}\\_\\_new\\_%", f"{table[:30]}\\_\\_old\\_%"],
        )
        for (name,) in cur.fetchall():
            drop_table(name)
