"""The report's precheck and the similar-case lookup at 1M cases (bench_kernel20).

    CITYGRID_PG_DB=bench_kernel20 .venv/bin/python manage.py migrate   # cases 0014, spatial 0004
    .venv/bin/python bench/precheck.py --db bench_kernel20 [--points 300]

Similar cases: at the points of `--points` random cases, each judged one hour after the case
was reported (so the case itself and its neighbours are in the window), `cases.similar.
find_similar` (the Python call) against the same SQL run raw through psycopg2, and the same
lookup without the bounding-box condition (`ST_DWithin` on geography alone cannot use the gist
index on geom: a sequential scan, a few runs only) to show what the index buys. Then the whole
precheck over HTTP (Django's test client in-process: middleware, session, scope, view, JSON;
no socket) as the inspector of one street at the same points, against the peer
`GET /api/v1/locate` (the placement alone) in the same run. Read-only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup  # noqa: E402

INSPECTOR = "inspector-110108005"


def pct(times: list[float], p: float) -> float:
    s = sorted(times)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def timed(fn, items) -> list[float]:
    times = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def line(name: str, times: list[float], base: list[float] | None = None) -> str:
    p50, p99 = statistics.median(times), pct(times, 99)
    ratio = f"  {p50 / statistics.median(base):5.2f}x" if base else ""
    return f"{name:<44} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms{ratio}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="bench_kernel20")
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--seqscan-runs", type=int, default=3)
    args = parser.parse_args()
    django_setup(args.db)
    from django.db import connection
    from django.test import Client

    from accounts.models import Person
    from cases import similar
    from cases.models import Case
    from data.models import Category

    total = Case.objects.count()
    rng = random.Random(7)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, ST_X(c.geom), ST_Y(c.geom), c.reported_at, c.category_id, cat.code, "
            "cat.kind FROM cases_case c TABLESAMPLE SYSTEM (5) "
            "JOIN data_category cat ON cat.id = c.category_id "
            "WHERE c.state = ANY(%s) LIMIT %s",
            [similar.SIMILAR_STATES, args.points * 5],
        )
        rows = cursor.fetchall()
    rng.shuffle(rows)
    rows = rows[: args.points]
    print(f"{total} cases; {len(rows)} points of random open or voided cases")

    categories = {c.pk: c for c in Category.objects.filter(pk__in={r[4] for r in rows})}
    probes = []
    for _, lon, lat, reported_at, category_id, _, _ in rows:
        rule = similar.parameters(categories[category_id])
        probes.append((lon, lat, reported_at + dt.timedelta(hours=1), rule))

    found = []
    python = timed(lambda p: found.append(len(similar.find_similar(*p))), probes)
    raw_connection = connection.connection

    def raw(probe):
        lon, lat, at, rule = probe
        from spatial.crs import degrees_covering

        dlon, dlat = degrees_covering(rule.metres, lat)
        with raw_connection.cursor() as cursor:
            cursor.execute(
                similar.SIMILAR_SQL,
                {
                    "lon": lon,
                    "lat": lat,
                    "dlon": dlon,
                    "dlat": dlat,
                    "metres": rule.metres,
                    "categories": rule.category_ids,
                    "states": similar.SIMILAR_STATES,
                    "since": at - dt.timedelta(hours=rule.hours),
                    "at": at,
                    "exclude": 0,
                    "limit": similar.LIMIT,
                },
            )
            cursor.fetchall()

    raw_times = timed(raw, probes)
    unindexed_sql = similar.SIMILAR_SQL.replace(
        "WHERE c.geom && ST_Expand(pt.g, %(dlon)s, %(dlat)s)\n  AND ", "WHERE "
    )
    assert unindexed_sql != similar.SIMILAR_SQL

    def unindexed(probe):
        lon, lat, at, rule = probe
        with raw_connection.cursor() as cursor:
            cursor.execute(
                unindexed_sql,
                {
                    "lon": lon,
                    "lat": lat,
                    "metres": rule.metres,
                    "categories": rule.category_ids,
                    "states": similar.SIMILAR_STATES,
                    "since": at - dt.timedelta(hours=rule.hours),
                    "at": at,
                    "exclude": 0,
                    "limit": similar.LIMIT,
                },
            )
            cursor.fetchall()

    seq_times = timed(unindexed, probes[: args.seqscan_runs])
    wide = [
        (lon, lat, at, similar.SimilarParameters(50.0, 24 * 30, rule.category_ids, False))
        for lon, lat, at, rule in probes
    ]
    wide_found = []
    wide_times = timed(lambda p: wide_found.append(len(similar.find_similar(*p))), wide)
    print(f"similar found per lookup: mean {statistics.mean(found):.2f}, max {max(found)}")
    print(line("similar: raw SQL (psycopg2)", raw_times))
    print(line("similar: cases.similar.find_similar", python, raw_times))
    print(line(f"similar: without the box ({args.seqscan_runs} runs)", seq_times, raw_times))
    print(
        line("similar: a class rule of 50 m and 30 days", wide_times, raw_times)
        + f"  (found: mean {statistics.mean(wide_found):.2f})"
    )

    user = Person.objects.get(user__username=INSPECTOR).user
    client = Client()
    client.force_login(user)

    def precheck(row, text=""):
        _, lon, lat, _, _, code, kind = row
        answer = client.post(
            "/api/v1/cases/precheck",
            {
                "source": "inspector",
                "kind": kind,
                "category": code,
                "description": text,
                "lon": lon,
                "lat": lat,
            },
            content_type="application/json",
        )
        assert answer.status_code in (200, 400), answer.content

    def locate(row):
        _, lon, lat, *_ = row
        answer = client.get(f"/api/v1/locate?lon={lon}&lat={lat}")
        assert answer.status_code == 200, answer.content

    precheck(rows[0])  # warm: prepared statements, session, scope
    locate(rows[0])
    locate_times = timed(locate, rows)
    precheck_times = timed(precheck, rows)
    precheck(rows[0], "路边有垃圾")  # warm the classifier, when there is one
    described = timed(lambda row: precheck(row, "路边有一堆垃圾没人清理"), rows)
    print(line("HTTP GET /api/v1/locate (peer)", locate_times))
    print(line("HTTP POST /api/v1/cases/precheck", precheck_times, locate_times))
    print(line("  with a description (+ the classifier)", described, locate_times))


if __name__ == "__main__":
    main()
