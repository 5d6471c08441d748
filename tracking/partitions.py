"""The day partitions of ``tracking_fix``: created ahead, dropped past the retention.

Migration 0002 creates the partitioned table, its default partition and the SQL function
``tracking_ensure_partition(day, zone)``; beat runs `maintain` daily (``tracking-partitions``
in ``CELERY_BEAT_SCHEDULE``), and ``manage.py tracking_partitions`` runs it by hand. A day is a
local day (``TIME_ZONE``). Dropping a partition is detaching it, then dropping the table: a
playback reading that day at that moment sees the day empty, never an error.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg2 import sql

_NAME = re.compile(r"^tracking_fix_p(\d{8})$")

PARTITIONS_SQL = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'tracking_fix'::regclass ORDER BY c.relname
"""


def partition_days() -> list[dt.date]:
    """Gives the days that have a partition, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(PARTITIONS_SQL)
        names = [row[0] for row in cursor.fetchall()]
    return [
        dt.datetime.strptime(m.group(1), "%Y%m%d").date() for n in names if (m := _NAME.match(n))
    ]


def ensure_partitions(first: dt.date, last: dt.date) -> list[dt.date]:
    """Creates the missing partitions of the days `first` … `last`; gives the days created."""
    created = []
    day = first
    with connection.cursor() as cursor:
        while day <= last:
            cursor.execute("SELECT tracking_ensure_partition(%s, %s)", [day, settings.TIME_ZONE])
            if cursor.fetchone()[0]:
                created.append(day)
            day += dt.timedelta(days=1)
    return created


def drop_before(cutoff: dt.date) -> tuple[list[dt.date], int, int]:
    """Detaches and drops the partitions of days before `cutoff`, and deletes the default
    partition's fixes and the checkpoint visits older than it; gives the days dropped and the
    fix and visit rows deleted."""
    dropped = []
    for day in partition_days():
        if day >= cutoff:
            continue
        name = sql.Identifier(f"tracking_fix_p{day:%Y%m%d}")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.SQL("ALTER TABLE tracking_fix DETACH PARTITION {}").format(name))
            cursor.execute(sql.SQL("DROP TABLE {}").format(name))
        dropped.append(day)
    start = dt.datetime.combine(cutoff, dt.time(), tzinfo=timezone.get_default_timezone())
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracking_fix_default WHERE t < %s", [start])
        deleted = cursor.rowcount
        cursor.execute("DELETE FROM tracking_checkpointvisit WHERE t < %s", [start])
        visits = cursor.rowcount
    return dropped, deleted, visits


def maintain(today: dt.date | None = None) -> dict:
    """Creates the partitions from yesterday to `TRACKING_PARTITIONS_AHEAD_DAYS` ahead and
    drops those older than `TRACKING_RETENTION_DAYS`; gives what it did."""
    today = today or timezone.localdate()
    created = ensure_partitions(
        today - dt.timedelta(days=1),
        today + dt.timedelta(days=settings.TRACKING_PARTITIONS_AHEAD_DAYS),
    )
    cutoff = today - dt.timedelta(days=settings.TRACKING_RETENTION_DAYS)
    dropped, deleted, visits = drop_before(cutoff)
    return {
        "created": [d.isoformat() for d in created],
        "dropped": [d.isoformat() for d in dropped],
        "default_rows_deleted": deleted,
        "visits_deleted": visits,
    }
