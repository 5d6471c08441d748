"""The fix table, partitioned by day (declarative partitioning; Django cannot create it).

``tracking_fix`` is ``PARTITION BY RANGE (t)`` with one partition per local day
(``tracking_fix_pYYYYMMDD``) and a default partition catching fixes of days that have none (a
phone with a wild clock, a batch older than the oldest partition). Its primary key
``(tracker_id, t)`` is the idempotency key of ingest (``ON CONFLICT DO NOTHING``) and the index
playback reads; it contains the partition key, as PostgreSQL requires of a unique constraint on
a partitioned table. No foreign key to the tracker: ingest checks the tracker, and a per-row FK
check would cost every insert.

``tracking_ensure_partition(day, zone)`` creates a day's partition (moving that day's rows out
of the default partition first, which would otherwise refuse the new partition); `tracking.
partitions` calls it for the days ahead and drops the partitions past the retention.
"""

from django.db import migrations

CREATE = """
CREATE TABLE tracking_fix (
    tracker_id bigint NOT NULL,
    t timestamptz NOT NULL,
    geom geometry(Point, 4326) NOT NULL,
    accuracy real,
    speed real,
    heading real,
    battery smallint,
    flag varchar(16),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tracker_id, t)
) PARTITION BY RANGE (t);
CREATE TABLE tracking_fix_default PARTITION OF tracking_fix DEFAULT;

CREATE FUNCTION tracking_ensure_partition(day date, zone text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    name text := 'tracking_fix_p' || to_char(day, 'YYYYMMDD');
    lo timestamptz := day::timestamp AT TIME ZONE zone;
    hi timestamptz := (day + 1)::timestamp AT TIME ZONE zone;
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM tracking_fix_default WHERE t >= lo AND t < hi) THEN
        EXECUTE format('CREATE TABLE %I (LIKE tracking_fix INCLUDING DEFAULTS)', name);
        EXECUTE format(
            'WITH moved AS (DELETE FROM tracking_fix_default WHERE t >= %L AND t < %L '
            'RETURNING *) INSERT INTO %I SELECT * FROM moved', lo, hi, name);
        EXECUTE format(
            'ALTER TABLE tracking_fix ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
            name, lo, hi);
    ELSE
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF tracking_fix FOR VALUES FROM (%L) TO (%L)',
            name, lo, hi);
    END IF;
    RETURN true;
END
$$;

SELECT tracking_ensure_partition(d::date, 'Asia/Shanghai')
FROM generate_series(current_date - 1, current_date + 7, interval '1 day') d;
"""

DROP = """
DROP TABLE IF EXISTS tracking_fix CASCADE;
DROP FUNCTION IF EXISTS tracking_ensure_partition(date, text);
"""


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
