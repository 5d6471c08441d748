"""Evaluation indicator tables (`evaluation.indicators`) at 1M cases and ~7M events: the
whole-city table for a month and a year, against the raw SQL of the same query and the floor
peer (a count per street of the period's cases, no events), in the same run.

    # once: a copy of the 1M-case bench database (bench/cases.py --fill), the evaluation
    # migrations, then the events the actions would have left (bench/indicators_fill.sql)
    psql … -c "CREATE DATABASE bench_indicators TEMPLATE bench_kernel20 OWNER citygrid"
    CITYGRID_PG_DB=bench_indicators .venv/bin/python manage.py migrate evaluation
    psql … -d bench_indicators -f bench/indicators_fill.sql
    .venv/bin/python bench/indicators.py [--db bench_indicators] [--repeat 3]

Each case runs `indicators.table` in process (as a system scope: every case; and as one
street's inspector: the scope's filter), `--repeat` times after a warm run, p50; then the SQL it
sent (captured) through plain psycopg2, p50; then the peers: a count per street of the
period's cases (no events), and the period's events grouped by case (the scan any answer from
the events needs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup  # noqa: E402

PEER_SQL = """
SELECT street_code, count(*) FROM cases_case
WHERE reported_at >= %(start)s AND reported_at < %(end)s AND parent_id IS NULL
GROUP BY street_code
"""
# The scan any answer from the events needs: the period's events grouped by case.
EVENTS_PEER_SQL = """
SELECT count(*) FROM (
    SELECT case_id, count(*) FROM cases_caseevent
    WHERE at >= %(start)s AND at < %(end)s GROUP BY case_id
) g
"""


def p50(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="bench_indicators")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    django_setup(args.db)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Person
    from accounts.scoping import scope_for_user, system_scope
    from evaluation import indicators

    tz = timezone.get_default_timezone()
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(reported_at) FROM cases_case")
        last = cursor.fetchone()[0].astimezone(tz)
        cursor.execute("SELECT count(*) FROM cases_caseevent")
        events = cursor.fetchone()[0]
    month_end = dt.datetime(last.year, last.month, 1, tzinfo=tz)
    month_start = (month_end - dt.timedelta(days=1)).replace(day=1)
    year_end = dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time(), tz)
    year_start = year_end - dt.timedelta(days=365)
    system = system_scope("bench:indicators")
    inspector = Person.objects.filter(user__username__startswith="inspector-").first()
    street = scope_for_user(inspector.user)
    cases = [
        ("area street month", system, "area", "street", month_start, month_end),
        ("area street year", system, "area", "street", year_start, year_end),
        ("area district year", system, "area", "district", year_start, year_end),
        ("department month", system, "department", "", month_start, month_end),
        ("department year", system, "department", "", year_start, year_end),
        ("dispatcher month", system, "dispatcher", "", month_start, month_end),
        ("area street month (one street's inspector)", street, "area", "street", month_start,
         month_end),
    ]  # fmt: skip
    chosen = {c.strip() for c in args.only.split(",") if c.strip()}
    print(f"{args.db}: {events:,d} events; load average {os.getloadavg()}")
    print(
        "| case | period | rows | counted | p50 ms | raw SQL p50 ms | peer: cases per street "
        "ms | peer: events per case ms | p50 / events peer |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, scope, subject, level, start, end in cases:
        if chosen and name not in chosen:
            continue

        def run():
            return indicators.table(scope, subject, start, end, level or "street")

        with CaptureQueriesContext(connection) as captured:
            found = run()
        sql = [q["sql"] for q in captured.captured_queries if "FILTER" in q["sql"]][-1]
        took = p50(run, args.repeat)

        def raw():
            with connection.cursor() as cursor:
                cursor.cursor.execute(sql)
                cursor.cursor.fetchall()

        raw_ms = p50(raw, args.repeat)

        def peer():
            with connection.cursor() as cursor:
                cursor.execute(PEER_SQL, {"start": start, "end": end})
                cursor.fetchall()

        peer_ms = p50(peer, args.repeat)

        def events_peer():
            with connection.cursor() as cursor:
                cursor.execute(EVENTS_PEER_SQL, {"start": start, "end": end})
                cursor.fetchall()

        events_ms = p50(events_peer, args.repeat)
        counted = next(iter(found.total.counts.values()), 0)
        days = (end - start).days
        print(
            f"| {name} | {days} d | {len(found.rows)} | {counted:,d} | {took:.0f} | "
            f"{raw_ms:.0f} | {peer_ms:.0f} | {events_ms:.0f} | {took / events_ms:.1f} |"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
