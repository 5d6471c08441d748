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

from tiles.sql import AREA_CELLS_MISSING, CELL, MERCATOR_COLUMN, WORLD


# (ix, iy, x, y) of each point row of `rows`; ix/iy count from the top-left like XYZ tiles.
_CELLS_OF = """
SELECT floor(({x} + {w}) / {c})::bigint AS ix, floor(({w} - {y}) / {c})::bigint AS iy,
       count(*) AS n, sum({x}) AS sx, sum({y}) AS sy
FROM (SELECT (ST_XMin(g) + ST_XMax(g)) / 2 AS x, (ST_YMin(g) + ST_YMax(g)) / 2 AS y
      FROM (SELECT {geom} AS g FROM {rows}) AS r WHERE g IS NOT NULL AND NOT ST_IsEmpty(g)) AS p
GROUP BY 1, 2
"""

# The rows of `rows` in each area cell set's area (tiles.models.AreaCellSet), as cells of that
# set. One LATERAL per set, so the area tests of one set run together and PostGIS prepares the
# set's area once per statement.
_AREA_CELLS_OF = """
SELECT s.id AS cellset_id, c.ix, c.iy, c.n, c.sx, c.sy
FROM tiles_areacellset AS s CROSS JOIN LATERAL ({cells}) AS c
WHERE s.source = $1
"""
# The rows a person scoped to the area sees (accounts.scoping, `area_condition`): those sharing
# a point with it, lines and polygons only touching its border left out.
_IN_AREA = (
    "(SELECT * FROM {rows} AS r WHERE r.{geom} && s.area AND ST_Intersects(r.{geom}, s.area)"
    " AND (ST_Dimension(r.{geom}) = 0 OR NOT ST_Touches(r.{geom}, s.area))) AS f"
)

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION citygrid_pointcells_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  src text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
  cells text := %(cells)s;
  area_cells text := %(area_cells)s;
  sets boolean := EXISTS (SELECT 1 FROM tiles_areacellset WHERE source = src);
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    EXECUTE format(
      'INSERT INTO tiles_pointcell (source, ix, iy, n, sx, sy) '
      'SELECT $1, ix, iy, -n, -sx, -sy FROM (' || replace(cells, '{rows}', 'old_rows') || ') AS c '
      'ON CONFLICT (source, ix, iy) DO UPDATE SET n = tiles_pointcell.n + EXCLUDED.n, '
      'sx = tiles_pointcell.sx + EXCLUDED.sx, sy = tiles_pointcell.sy + EXCLUDED.sy')
      USING src;
    IF sets THEN
      EXECUTE
        'INSERT INTO tiles_areacell (cellset_id, ix, iy, n, sx, sy) '
        'SELECT cellset_id, ix, iy, -n, -sx, -sy FROM ('
        || replace(area_cells, '{rows}', 'old_rows') || ') AS c '
        'ON CONFLICT (cellset_id, ix, iy) DO UPDATE SET n = tiles_areacell.n + EXCLUDED.n, '
        'sx = tiles_areacell.sx + EXCLUDED.sx, sy = tiles_areacell.sy + EXCLUDED.sy'
        USING src;
    END IF;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    EXECUTE format(
      'INSERT INTO tiles_pointcell (source, ix, iy, n, sx, sy) '
      'SELECT $1, ix, iy, n, sx, sy FROM (' || replace(cells, '{rows}', 'new_rows') || ') AS c '
      'ON CONFLICT (source, ix, iy) DO UPDATE SET n = tiles_pointcell.n + EXCLUDED.n, '
      'sx = tiles_pointcell.sx + EXCLUDED.sx, sy = tiles_pointcell.sy + EXCLUDED.sy')
      USING src;
    IF sets THEN
      EXECUTE
        'INSERT INTO tiles_areacell (cellset_id, ix, iy, n, sx, sy) '
        'SELECT cellset_id, ix, iy, n, sx, sy FROM ('
        || replace(area_cells, '{rows}', 'new_rows') || ') AS c '
        'ON CONFLICT (cellset_id, ix, iy) DO UPDATE SET n = tiles_areacell.n + EXCLUDED.n, '
        'sx = tiles_areacell.sx + EXCLUDED.sx, sy = tiles_areacell.sy + EXCLUDED.sy'
        USING src;
    END IF;
  END IF;
  DELETE FROM tiles_pointcell WHERE source = src AND n <= 0;
  IF sets THEN
    DELETE FROM tiles_areacell WHERE n <= 0
      AND cellset_id IN (SELECT id FROM tiles_areacellset WHERE source = src);
  END IF;
  RETURN NULL;
END $$;

-- Named by a scoped tile that reads an area cell set its process believes kept
-- (tiles.sql._cells_within): when the set is gone, the tile fails instead of coming out empty,
-- and tiles.service.build takes the recount path. VOLATILE, so the planner never runs it to
-- estimate a condition; the query names it in a sub-select, whose value the index still takes.
CREATE OR REPLACE FUNCTION tiles_area_cells_missing(digest text, source text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $f$
BEGIN
  RAISE EXCEPTION 'no area cells of % for area %', source, digest USING ERRCODE = '%(missing)s';
END $f$;

CREATE OR REPLACE FUNCTION citygrid_pointcells_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  src text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
BEGIN
  DELETE FROM tiles_pointcell WHERE source = src;
  DELETE FROM tiles_areacell
    WHERE cellset_id IN (SELECT id FROM tiles_areacellset WHERE source = src);
  RETURN NULL;
END $$;
"""


def _cells_select(rows: str) -> str:
    return _CELLS_OF.format(
        x="x", y="y", w=repr(WORLD), c=repr(CELL), geom=f'"{MERCATOR_COLUMN}"', rows=rows
    )


def _area_cells_select(rows: str) -> str:
    inside = _IN_AREA.format(rows=rows, geom=f'"{MERCATOR_COLUMN}"')
    return _AREA_CELLS_OF.format(cells=_cells_select(inside))


def install_point_cells(schema: str, table: str) -> int:
    """Installs the cell triggers on schema.table and rebuilds its cells; gives the cell count."""
    source = f"{schema}.{table}"
    target = sql.Identifier(schema, table)
    with transaction.atomic(), connection.cursor() as cur:
        cells = _cells_select("{rows}")
        area_cells = _area_cells_select("{rows}")
        cur.execute(
            FUNCTION_SQL.replace("%(cells)s", "$q$" + cells + "$q$")
            .replace("%(area_cells)s", "$q$" + area_cells + "$q$")
            .replace("%(missing)s", AREA_CELLS_MISSING)
        )
        # Area cell sets stay exact only while the triggers run: a table that had none (new,
        # or dropped and created again) has its sets built afresh by `sync_area_cells`.
        cur.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass"
            " AND tgname LIKE 'citygrid\\_pointcells\\_%%'",
            [target.as_string(cur.cursor)],
        )
        if cur.fetchone()[0] < 4:
            _drop_area_cells(cur, "source = %s", [source])
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


def _drop_area_cells(cur, where: str, params: list) -> int:
    """Deletes the area cell sets matching `where` (on tiles_areacellset) with their cells;
    gives how many sets went."""
    cur.execute(
        "DELETE FROM tiles_areacell WHERE cellset_id IN"
        f" (SELECT id FROM tiles_areacellset WHERE {where})",
        params,
    )
    cur.execute(f"DELETE FROM tiles_areacellset WHERE {where} RETURNING source", params)
    dropped = [source for (source,) in cur.fetchall()]
    for source in set(dropped):
        _bump(cur, source)
    return len(dropped)


# The tilings of the layers whose table is `source`: their area cell sets changed.
_BUMP_SQL = """
UPDATE tiles_layertiling AS t SET area_cells_version = t.area_cells_version + 1
FROM spatial_layer AS l
WHERE l.id = t.layer_id AND l.schema_name || '.' || l.table_name = %s
"""


def _bump(cur, source: str) -> None:
    """Tells every process's tile registry that `source`'s area cell sets changed (in the
    transaction that changed them: a reader sees the sets and the new version together)."""
    cur.execute(_BUMP_SQL, [source])


def build_area_cells(digest: str, source: str, area) -> int:
    """Builds (or builds again) the cells of point table `source` ("schema.table") inside
    `area` (a GEOS geometry in Web Mercator, the shape whose digest is `digest`); gives the
    number of cells.

    Writes to the table wait while it is counted (SHARE lock, readers go on): a write that
    committed before is in the count, one after it finds the set and is added by the
    triggers. 0.08 s for a street of 40k rows (bench/README.md "Area cells").
    """
    schema, table = source.split(".", 1)
    target = sql.Identifier(schema, table)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(target).as_string(cur.cursor))
        cur.execute(
            "INSERT INTO tiles_areacellset (digest, source, area, built_at)"
            " VALUES (%s, %s, ST_GeomFromEWKB(%s), now())"
            " ON CONFLICT (digest, source) DO UPDATE"
            " SET area = EXCLUDED.area, built_at = EXCLUDED.built_at RETURNING id",
            [digest, source, area.ewkb],
        )
        (cellset,) = cur.fetchone()
        cur.execute("DELETE FROM tiles_areacell WHERE cellset_id = %s", [cellset])
        rows = _IN_AREA.format(rows=target.as_string(cur.cursor), geom=f'"{MERCATOR_COLUMN}"')
        cur.execute(
            "INSERT INTO tiles_areacell (cellset_id, ix, iy, n, sx, sy)"
            f" SELECT s.id, c.ix, c.iy, c.n, c.sx, c.sy FROM tiles_areacellset AS s"
            f" CROSS JOIN LATERAL ({_cells_select(rows)}) AS c WHERE s.id = %s",
            [cellset],
        )
        cells = cur.rowcount
        _bump(cur, source)
        return cells


def sync_area_cells() -> dict:
    """Keeps an area cell set for every (area in use, point table with cells): builds the sets
    missing, drops those of areas nobody holds and of tables without cells; gives what it did.

    Run by beat every minute (tiles.tasks.sync_area_cells) and after migrate. Until a new
    area's set is built, that area's scoped tiles recount the cells across its border: slower,
    never different.
    """
    from accounts.areas import area_digests_in_use, area_of_digest
    from tiles.models import AreaCellSet, LayerTiling

    digests = area_digests_in_use()
    tilings = LayerTiling.objects.filter(cells_ready=True, layer__public=False)
    sources = {
        f"{t.layer.schema_name}.{t.layer.table_name}" for t in tilings.select_related("layer")
    }
    have = set(AreaCellSet.objects.values_list("digest", "source"))
    stale = [(d, s) for d, s in have if d not in digests or s not in sources]
    with transaction.atomic(), connection.cursor() as cur:
        for digest, source in stale:
            _drop_area_cells(cur, "digest = %s AND source = %s", [digest, source])
    built = 0
    for digest in sorted(digests):
        missing = sorted(s for s in sources if (digest, s) not in have)
        area = area_of_digest(digest) if missing else None
        for source in missing if area is not None else ():
            build_area_cells(digest, source, area)
            built += 1
    return {"built": built, "dropped": len(stale), "sets": len(have) - len(stale) + built}
