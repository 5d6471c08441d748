"""The boxes' "new arrival" counts (新到) at 1M cases: the SQL `cases.queries.arrivals` adds to
`GET /cases/boxes`, against the boxes' own counts measured in the same run for the same caller.

    .venv/bin/python bench/box_arrivals.py --db bench_kernel20 [--runs 30]

The database as bench/cases.py leaves it (1M cases over a year, migrated). For the dispatcher
(the whole district) and inspector-110108005 (one street), with the person's box visits set to:
none (each box counts from the 3-day lookback), every box opened 12 hours ago (overnight) and
10 minutes ago. The statements are those the code sends (captured in-process with
CaptureQueriesContext), run through plain psycopg2 one after another; p50 of `--runs` runs
after one warm run. The visits written are deleted again at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.cases import INSPECTOR, captured, raw_times  # noqa: E402
from bench.tiles import django_setup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_kernel20")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    django_setup(args.db)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.scoping import scope_for_user
    from cases import queries
    from cases.models import BoxVisit

    db = settings.DATABASES["default"]
    dsn = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "dbname": args.db}
    User = get_user_model()
    callers = {k: User.objects.get(username=k) for k in ("dispatcher", INSPECTOR)}
    with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_case")
        print(f"{cur.fetchone()[0]:,} cases", flush=True)

    rows = []
    for name, user in callers.items():
        scope = scope_for_user(user)
        boxes = queries.boxes_for(scope)
        for label, age in (
            ("never opened (3-day lookback)", None),
            ("opened 12 h ago", dt.timedelta(hours=12)),
            ("opened 10 min ago", dt.timedelta(minutes=10)),
        ):
            BoxVisit.objects.filter(user=user).delete()
            now = timezone.now()
            if age is not None:
                for box in boxes:
                    queries.mark_box_seen(scope, box.key, at=now - age)
            every = captured(lambda: queries.box_counts(scope, now))
            fresh = captured(lambda: queries.arrivals(scope, boxes, now))
            counts = [s for s in every if s not in fresh]
            n = args.runs
            counts_ms = statistics.median(raw_times(dsn, counts, n))
            fresh_ms = statistics.median(raw_times(dsn, fresh, n))
            new = {b["key"]: b["new"] for b in queries.box_counts(scope, now) if b["new"]}
            rows.append((name, label, counts_ms, fresh_ms, sum(new.values())))
            print(
                f"{name:22} {label:30} counts {counts_ms:7.1f} ms  new {fresh_ms:7.1f} ms "
                f"({fresh_ms / counts_ms:.2f}x)  new cases {sum(new.values())}",
                flush=True,
            )
        BoxVisit.objects.filter(user=user).delete()

    print("\n| caller | visits | boxes' counts p50 ms | new arrivals p50 ms | ratio | new |")
    print("|---|---|---|---|---|---|")
    for name, label, counts_ms, fresh_ms, new in rows:
        print(
            f"| {name} | {label} | {counts_ms:.1f} | {fresh_ms:.1f} | "
            f"{fresh_ms / counts_ms:.2f} | {new:,} |"
        )


if __name__ == "__main__":
    main()
