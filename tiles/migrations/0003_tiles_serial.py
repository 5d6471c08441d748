"""`tiles_serial(bytea)`: the marker that keeps a tile query out of parallel plans.

A tile is small work that PostgreSQL sometimes plans in parallel; starting workers and merging
their partial MVTs cost a dense z15 components tile 12 ms of its 17 (5.5 ms serial). The
planner decides whether a statement may run in parallel from every function it names, before
it inlines any: one PARALLEL UNSAFE function keeps the whole statement serial. Wrapping the
tile's bytea in this identity function does that inside the one statement, so the tile can be
fetched by `COPY ... TO STDOUT (FORMAT binary)`, which a `SET LOCAL` before it would have to
share a transaction with (tiles.service.fetch).
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION tiles_serial(tile bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL UNSAFE
AS $$ SELECT tile $$;
COMMENT ON FUNCTION tiles_serial(bytea) IS
  'Gives its argument; PARALLEL UNSAFE, so a tile query that names it is planned serial';
"""


class Migration(migrations.Migration):
    dependencies = [("tiles", "0002_layertiling_cells_ready_pointcell")]

    operations = [migrations.RunSQL(CREATE, "DROP FUNCTION tiles_serial(bytea)")]
