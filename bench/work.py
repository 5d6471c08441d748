"""Work statistics of inspectors (`evaluation.work`) over a day and a week of fixes, against the
raw scan of the same fixes (the peer: a count per tracker over the period), in the same run.

    .venv/bin/python bench/work.py [--db citygrid] [--days 7] [--repeat 5]

In one transaction rolled back at the end: every demo inspector's phone (``PHONE-…``) gets a fix
every 10 s for the last `--days` days, scattered within 100 m of a point of their street, with a
20-minute silence every 4 hours (signal lost); then, as a system scope (every inspector),
`work()` for the last day and for the whole span, `--repeat` times each, and the peer query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup  # noqa: E402

FIXES_SQL = """
INSERT INTO tracking_fix (tracker_id, t, geom, accuracy, received_at)
SELECT tr.id, g,
       ST_Translate(ST_PointOnSurface(p.area_geom), (random() - 0.5) * 0.002,
                    (random() - 0.5) * 0.002),
       8, g
FROM tracking_tracker tr JOIN accounts_person p ON p.id = tr.person_id
CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz, '10 seconds') g
WHERE tr.device_id LIKE 'PHONE-%%' AND p.area_geom IS NOT NULL
  AND extract(epoch FROM g - %(start)s::timestamptz)::bigint %% 14400 >= 1200
ON CONFLICT DO NOTHING
"""

PEER_SQL = """
SELECT tracker_id, count(*) FROM tracking_fix
WHERE tracker_id = ANY(%(trackers)s) AND t >= %(start)s AND t < %(end)s AND flag IS NULL
GROUP BY tracker_id
"""


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="citygrid")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    django_setup(args.db)

    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.scoping import system_scope
    from evaluation import work

    scope = system_scope("bench:work")
    end = timezone.now().replace(microsecond=0)
    start = end - dt.timedelta(days=args.days)
    with transaction.atomic():
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(FIXES_SQL, {"start": start, "end": end})
            inserted = cursor.rowcount
            cursor.execute("ANALYZE tracking_fix")
            print(
                f"{args.db}: {inserted:,d} fixes over {args.days} days inserted in "
                f"{time.perf_counter() - started:.1f} s"
            )
        inspectors = work.visible_inspectors(scope)
        trackers = [t for w in inspectors for t in w.trackers]
        for label, since in (("1 day", end - dt.timedelta(days=1)), (f"{args.days} days", start)):
            found = work.work(scope, since, end)
            assert found and all(w.online_s > 0 for w in found if w.trackers)

            def peer(since=since):
                with connection.cursor() as cursor:
                    cursor.execute(PEER_SQL, {"trackers": trackers, "start": since, "end": end})
                    cursor.fetchall()

            ours = timed(lambda since=since: work.work(scope, since, end), args.repeat)
            raw = timed(peer, args.repeat)
            hours = statistics.median(w.online_s for w in found) / 3600
            print(
                f"  {label:8s} {len(found)} inspectors: work() {ours:8.1f} ms, raw count "
                f"{raw:7.1f} ms ({ours / raw:.1f}×); median online {hours:.1f} h"
            )
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
