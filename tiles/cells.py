"""Point cells (聚合格网): per-cell counts of a point table, kept exact by statement triggers.

A z12 tile of a million-point layer covers most of the city; counting its rows on every cold
request costs a scan of hundreds of thousands of points. The cells hold, per 2^18-grid cell
(about 150 m), the count and coordinate sums of the table's points, so a cluster tile of an
unfiltered, unscoped request (the wall screen) reads a few thousand cell rows instead.

The triggers run in the writing statement's transaction (AFTER ... REFERENCING NEW/OLD TABLE),
so cells never disagree with the table, and a rolled-back write rolls back its cells.
"""

from __future__ import annotations

from django.db import connection, transaction
from psycopg2 import sql

from tiles.sql import CELL, MERCATOR_COLUMN, WORLD


# (ix, iy, x, y) of each point row of `rows`; ix/iy count from the top-left like XYZ tiles.
_CELLS_OF = """
SELECT floor(({x} + {w}) / {c})::bigint AS ix, floor(({w} - {y}) / {c})::bigint AS iy,
       count(*) AS n, sum({x}) AS sx, sum({y}) AS sy
FROM (SELECT (ST_XMin(g) + ST_XMax(g)) / 2 AS x, (ST_YMin(g) + ST_YMax(g)) / 2 AS y
      FROM (SELECT {geom} AS g FROM {rows}) AS r WHERE g IS NOT NULL AND NOT ST_IsEmpty(g)) AS p
GROUP BY 1, 2
"""

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION citygrid_pointcells_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  src text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  cells text := %(cells)s;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    EXECUTE format(
      'INSERT INTO tiles_pointcell (source, ix, iy, n, sx, sy) '
      'SELECT $1, ix, iy, -n, -sx, -sy FROM (' || replace(cells, '{rows}', 'old_rows') || ') AS c '
      'ON CONFLICT (source, ix, iy) DO UPDATE SET n = tiles_pointcell.n + EXCLUDED.n, '
      'sx = tiles_pointcell.sx + EXCLUDED.sx, sy = tiles_pointcell.sy + EXCLUDED.sy')
      USING src;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    EXECUTE format(
      'INSERT INTO tiles_pointcell (source, ix, iy, n, sx, sy) '
      'SELECT $1, ix, iy, n, sx, sy FROM (' || replace(cells, '{rows}', 'new_rows') || ') AS c '
      'ON CONFLICT (source, ix, iy) DO UPDATE SET n = tiles_pointcell.n + EXCLUDED.n, '
      'sx = tiles_pointcell.sx + EXCLUDED.sx, sy = tiles_pointcell.sy + EXCLUDED.sy')
      USING src;
  END IF;
  DELETE FROM tiles_pointcell WHERE source = src AND n <= 0;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION citygrid_pointcells_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM tiles_pointcell WHERE source = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  RETURN NULL;
END $$;
"""


def _cells_select(rows: str) -> str:
    return _CELLS_OF.format(
        x="x", y="y", w=repr(WORLD), c=repr(CELL), geom=f'"{MERCATOR_COLUMN}"', rows=rows
    )


def install_point_cells(schema: str, table: str) -> int:
    """Installs the cell triggers on schema.table and rebuilds its cells; gives the cell count."""
    source = f"{schema}.{table}"
    target = sql.Identifier(schema, table)
    with transaction.atomic(), connection.cursor() as cur:
        cells = _cells_select("{rows}")
        cur.execute(FUNCTION_SQL.replace("%(cells)s", "$q$" + cells + "$q$"))
        for op, when, fn in (
            ("ins", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
            ("upd", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("del", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
        ):
            name = sql.Identifier(f"citygrid_pointcells_{op}")
            cur.execute(
                sql.SQL("DROP TRIGGER IF EXISTS {} ON {}")
                .format(name, target)
                .as_string(cur.cursor)
            )
            cur.execute(
                sql.SQL(
                    "CREATE TRIGGER {} AFTER "
                    + when
                    + " ON {} "
                    + fn
                    + " FOR EACH STATEMENT EXECUTE FUNCTION citygrid_pointcells_apply()"
                )
                .format(name, target)
                .as_string(cur.cursor)
            )
        name = sql.Identifier("citygrid_pointcells_trunc")
        cur.execute(
            sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(name, target).as_string(cur.cursor)
        )
        cur.execute(
            sql.SQL(
                "CREATE TRIGGER {} AFTER TRUNCATE ON {} FOR EACH STATEMENT "
                "EXECUTE FUNCTION citygrid_pointcells_truncate()"
            )
            .format(name, target)
            .as_string(cur.cursor)
        )
        # Lines and polygons of a point layer, on their own: scoped cluster tiles read them
        # apart from the cells (tiles.sql.cell_clusters_query), the points never.
        cur.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {} ON {} USING gist ({}) WHERE ST_Dimension({}) > 0"
            )
            .format(
                sql.Identifier(f"{table[:40]}_nonpoint_merc"),
                target,
                sql.Identifier(MERCATOR_COLUMN),
                sql.Identifier(MERCATOR_COLUMN),
            )
            .as_string(cur.cursor)
        )
        cur.execute("DELETE FROM tiles_pointcell WHERE source = %s", [source])
        rebuild = _cells_select(target.as_string(cur.cursor))
        cur.execute(
            "INSERT INTO tiles_pointcell (source, ix, iy, n, sx, sy) "
            f"SELECT %s, ix, iy, n, sx, sy FROM ({rebuild}) AS c",
            [source],
        )
        cur.execute("SELECT count(*) FROM tiles_pointcell WHERE source = %s", [source])
        return cur.fetchone()[0]
