"""Beat's deadline refresh and its notices at 1M cases: the guard that runs every minute and
the refresh's selection, the SQL and indexes before (the deadline-state indexes dropped in a
transaction rolled back) against the new (`case_state_deadline`, `case_state_warning`), both
read in the same run; then the refresh's
UPDATE against the notices it writes (`cases.notifications.notify_deadlines`, one INSERT …
SELECT) in one transaction, rolled back.

    .venv/bin/python bench/deadline_notices.py --db bench_kernel20 [--runs 20]

The database as bench/cases.py leaves it, where beat does not run: the cases whose warning time
or deadline came since the fill are due. "Nothing due" is the instant just before the earliest
of them, "a minute's worth" one minute after it: the steady state of a beat that runs every
minute. The backlog is every due case at once. Everything written is rolled back.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup  # noqa: E402

OLD_DUE_SQL = """
SELECT EXISTS (
    SELECT 1 FROM cases_case
    WHERE deadline_state IN ('normal', 'warning') AND deadline IS NOT NULL
      AND (%(now)s >= deadline OR (deadline_state = 'normal' AND %(now)s >= warning_at))
)
"""
FINISHED = "'not_accepted', 'invalid', 'not_registered', 'closed', 'void'"
OLD_SELECTION = f"""
SELECT id FROM cases_case
WHERE deadline IS NOT NULL AND deadline_state IN ('normal', 'warning')
  AND held_since IS NULL AND state NOT IN ({FINISHED})
  AND (%(now)s >= deadline OR (warning_at IS NOT NULL AND %(now)s >= warning_at))
"""
NEW_SELECTION = f"""
SELECT id FROM cases_case
WHERE ((deadline_state IN ('normal', 'warning') AND deadline <= %(now)s)
       OR (deadline_state = 'normal' AND warning_at <= %(now)s))
  AND held_since IS NULL AND state NOT IN ({FINISHED})
"""


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1000


def p50(dsn: dict, sql: str, now, runs: int, without_new_indexes: bool = False):
    """p50 ms of `sql` at `now` (one warm run first) and the rows of its answer. With
    `without_new_indexes` the two deadline-state indexes are dropped in a transaction that is
    rolled back (the indexes before migration 0013; this holds the table's lock meanwhile)."""
    times = []
    with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
        if without_new_indexes:
            cur.execute("DROP INDEX case_state_deadline, case_state_warning")
        for i in range(runs + 1):
            t0 = time.perf_counter()
            cur.execute(sql, {"now": now})
            rows = cur.fetchall()
            if i:
                times.append((time.perf_counter() - t0) * 1000)
        conn.rollback()
    return statistics.median(times), len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_kernel20")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    django_setup(args.db)
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from cases import deadlines, notifications
    from cases.tasks import DUE_SQL

    db = settings.DATABASES["default"]
    dsn = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "dbname": args.db}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(CASE WHEN deadline_state = 'normal' THEN least(warning_at, deadline)"
            " ELSE deadline END) FROM cases_case WHERE deadline_state IN ('normal', 'warning')"
            f" AND held_since IS NULL AND state NOT IN ({FINISHED})"
        )
        (earliest,) = cursor.fetchone()
    quiet, minute = earliest - dt.timedelta(seconds=1), earliest + dt.timedelta(minutes=1)
    print("| step | at | old SQL p50 ms | new SQL p50 ms | old / new | rows |")
    print("|---|---|---|---|---|---|")
    for label, old, new, at in (
        ("guard (DUE_SQL)", OLD_DUE_SQL, DUE_SQL, quiet),
        ("refresh's selection", OLD_SELECTION, NEW_SELECTION, minute),
    ):
        old_ms, old_rows = p50(dsn, old, at, args.runs, without_new_indexes=True)
        new_ms, new_rows = p50(dsn, new, at, args.runs)
        assert label.startswith("guard") or old_rows == new_rows
        name = "nothing due" if at == quiet else "a minute's worth"
        print(
            f"| {label} | {name} | {old_ms:.1f} | {new_ms:.1f} | {old_ms / new_ms:.0f} | {new_rows} |"
        )

    rows = []
    with transaction.atomic():
        for label, at in (
            ("a minute's worth", minute),
            ("backlog (every case due now)", timezone.now()),
        ):
            changed, update_ms = timed(lambda at=at: deadlines.refresh_deadline_states(at))
            written, insert_ms = timed(lambda at=at: notifications.notify_deadlines(changed, at))
            rows.append((label, len(changed), update_ms, written, insert_ms))
        transaction.set_rollback(True)
    print("\n| refresh | cases moved | UPDATE ms | notices | INSERT … SELECT ms | ratio |")
    print("|---|---|---|---|---|---|")
    for label, moved, update_ms, written, insert_ms in rows:
        print(
            f"| {label} | {moved:,} | {update_ms:.1f} | {written:,} | {insert_ms:.1f} | "
            f"{insert_ms / update_ms:.2f} |"
        )


if __name__ == "__main__":
    main()
