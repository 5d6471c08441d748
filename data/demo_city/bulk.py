"""Bulk writing for the demo city: reprojection of metric shapely geometries to EPSG:4326
EWKB, PostgreSQL COPY with ids drawn from each table's own sequence (so rows can refer to each
other before they are written), upserts by code, and the bulk path that rebuilds a big table's
indexes and foreign keys after the COPY."""

from __future__ import annotations

import csv
import io

import numpy as np
import shapely
from psycopg2 import sql

from . import metric_transformers

NULL = "\\N"
COPY_CHUNK_ROWS = 100_000


class BulkWriter:
    """Reprojection and COPY helpers bound to one database cursor."""

    def __init__(self, cursor, metric_srid: int) -> None:
        self.cursor = cursor
        _, inv = metric_transformers(metric_srid)
        self._inv = inv

    def to_4326(self, geoms, multi: bool = False) -> list[str]:
        """EWKB hex of the metric geometries in EPSG:4326 (None stays None)."""
        arr = np.array(list(geoms), dtype=object)
        present = np.array([g is not None for g in arr], dtype=bool)
        out = np.full(len(arr), None, dtype=object)
        if present.any():
            geo = arr[present]
            if multi:
                geo = np.array(
                    [
                        g
                        if g.geom_type == "MultiPolygon"
                        else shapely.MultiPolygon(
                            [g] if g.geom_type == "Polygon" else list(g.geoms)
                        )
                        for g in geo
                    ],
                    dtype=object,
                )
            geo = shapely.transform(geo, self._project)
            geo = shapely.set_srid(geo, 4326)
            out[present] = shapely.to_wkb(geo, hex=True, include_srid=True)
        return list(out)

    def _project(self, xy: np.ndarray) -> np.ndarray:
        lon, lat = self._inv.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    def ids(self, model, n: int) -> list[int]:
        """`n` fresh ids from the model table's id sequence."""
        if n == 0:
            return []
        self.cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, n],
        )
        return [r[0] for r in self.cursor.fetchall()]

    def copy(self, model, columns: list[str], rows, bulk: bool = False) -> int:
        """COPYs `rows` (tuples in `columns` order; None is NULL) into the model's table.

        With `bulk`, and only when the table is empty, its foreign keys and the indexes that
        back no constraint are dropped first and added again afterwards, in the same
        transaction: a GiST index built in one sorted pass, and a foreign key validated by one
        join, are several times faster than row-by-row maintenance and checks. `model` may
        also be a plain table name."""
        table = model if isinstance(model, str) else model._meta.db_table
        rebuild: list[str] = []
        if bulk:
            self.cursor.execute(
                sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
            )
            if self.cursor.fetchone()[0]:
                self._check_pending()
                rebuild = self._drop_foreign_keys(table) + self._drop_plain_indexes(table)
        stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL {})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.Literal(NULL),
        )
        statement = stmt.as_string(self.cursor.connection)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        count = 0
        for row in rows:
            w.writerow([NULL if v is None else v for v in row])
            count += 1
            if count % COPY_CHUNK_ROWS == 0:  # bounded memory: one COPY per chunk
                self._send(statement, buf)
                buf = io.StringIO()
                w = csv.writer(buf, lineterminator="\n")
        self._send(statement, buf)
        if rebuild:
            self._check_pending()
            for statement in rebuild:
                self.cursor.execute(statement)
        return count

    def ids_by_code(self, model, codes: list[str]) -> tuple[dict[str, int], set[str]]:
        """An id for each code: the existing row's, else a fresh one; and the existing codes."""
        self.cursor.execute(
            sql.SQL("SELECT code, id FROM {} WHERE code = ANY(%s)").format(
                sql.Identifier(model._meta.db_table)
            ),
            [codes],
        )
        existing = dict(self.cursor.fetchall())
        fresh = iter(self.ids(model, len(codes) - len(existing)))
        return {c: existing[c] if c in existing else next(fresh) for c in codes}, set(existing)

    def upsert(self, model, columns: list[str], rows: list[tuple], existing: set[str]) -> int:
        """Writes rows whose ``columns`` start with id and code: COPY for new codes, one
        UPDATE from a temporary table for the codes in `existing`."""
        self.copy(model, columns, [r for r in rows if r[1] not in existing])
        old = [r for r in rows if r[1] in existing]
        if old:
            table = sql.Identifier(model._meta.db_table)
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            self.cursor.execute(
                sql.SQL(
                    "CREATE TEMP TABLE demo_upsert ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
                ).format(cols, table)
            )
            self.copy("demo_upsert", columns, old)
            sets = sql.SQL(", ").join(
                sql.SQL("{} = t.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in columns[1:]
            )
            self.cursor.execute(
                sql.SQL("UPDATE {} SET {} FROM demo_upsert t WHERE {}.id = t.id").format(
                    table, sets, table
                )
            )
            self.cursor.execute("DROP TABLE demo_upsert")
        return len(rows)

    def _send(self, statement: str, buf: io.StringIO) -> None:
        if buf.tell():
            buf.seek(0)
            self.cursor.copy_expert(statement, buf)

    def _check_pending(self) -> None:
        """Runs the deferred foreign-key checks queued so far (a violation fails here rather
        than at commit): ALTER TABLE and CREATE INDEX refuse to run while any are pending."""
        self.cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _drop_foreign_keys(self, table: str) -> list[str]:
        """Drops the table's foreign keys; gives the statements that add them back."""
        self.cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [table],
        )
        found = self.cursor.fetchall()
        ident = sql.Identifier(table)
        readd = []
        for name, definition in found:
            self.cursor.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(ident, sql.Identifier(name))
            )
            readd.append(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ")
                .format(ident, sql.Identifier(name))
                .as_string(self.cursor.connection)
                + definition
            )
        return readd

    def _drop_plain_indexes(self, table: str) -> list[str]:
        """Drops the table's indexes that back no constraint; gives their CREATE statements."""
        self.cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
            "current_schema() AND i.tablename = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname) ORDER BY i.indexname",
            [table],
        )
        found = self.cursor.fetchall()
        for name, _ in found:
            self.cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        return [definition for _, definition in found]


def pg_array(values: list[str]) -> str:
    """A PostgreSQL array literal of text values."""
    quoted = ['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]
    return "{" + ",".join(quoted) + "}"
