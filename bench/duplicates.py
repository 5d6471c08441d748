"""The duplicate-case lookup (重复案件, `cases.duplicates`) at 1M cases (bench_kernel20).

    CITYGRID_PG_DB=bench_kernel20 .venv/bin/python manage.py migrate   # cases 0016
    .venv/bin/python bench/duplicates.py --db bench_kernel20 [--points 300]

Probes: random closed cases, each as a new report of its class at its point 1-30 days after
its closure (so every lookup finds at least it). `find_duplicates` (the Python call with its
rule lookup) against the same SQL run raw through psycopg2, in the unit-grid form and in the
distance form (a rule of 50 m), and the unit-grid form with the new partial index hidden
(`category_id + 0`, `unit_grid_code || ''`: the planner falls back to the indexes there were
before, `case_state_closed` or `case_category_reported`) to show what the index buys. The rule rows are
created inside a transaction that is rolled back: nothing is left behind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.precheck import line, timed  # noqa: E402
from bench.tiles import django_setup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="bench_kernel20")
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--unindexed-runs", type=int, default=30)
    args = parser.parse_args()
    django_setup(args.db)
    from django.contrib.gis.geos import Point
    from django.db import connection, transaction

    from cases import duplicates
    from cases.models import Case, DuplicateRule

    total = Case.objects.count()
    rng = random.Random(22)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, category_id, unit_grid_code, ST_X(geom), ST_Y(geom), closed_at "
            "FROM cases_case TABLESAMPLE SYSTEM (5) "
            "WHERE state = 'closed' AND unit_grid_code <> '' LIMIT %s",
            [args.points * 5],
        )
        rows = cursor.fetchall()
    rng.shuffle(rows)
    rows = rows[: args.points]
    closed = Case.objects.filter(state="closed").count()
    print(f"{total} cases, {closed} closed; {len(rows)} probes at random closed cases")
    probes = [
        Case(
            category_id=category_id,
            unit_grid_code=grid,
            geom=Point(lon, lat, srid=4326),
            reported_at=closed_at + dt.timedelta(days=rng.uniform(1, 29.9)),
        )
        for _, category_id, grid, lon, lat, closed_at in rows
    ]
    raw_connection = connection.connection

    def raw_sql(sql: str, probe: Case, metres: float | None = None) -> list:
        values = {
            "category": probe.category_id,
            "grid": probe.unit_grid_code,
            "since": probe.reported_at - dt.timedelta(days=30),
            "at": probe.reported_at,
            "exclude": 0,
            "limit": duplicates.LIMIT,
        }
        if metres is not None:
            from spatial.crs import degrees_covering

            dlon, dlat = degrees_covering(metres, probe.geom.y)
            values |= {
                "lon": probe.geom.x,
                "lat": probe.geom.y,
                "dlon": dlon,
                "dlat": dlat,
                "metres": metres,
            }
        with raw_connection.cursor() as cursor:
            cursor.execute(sql, values)
            return cursor.fetchall()

    hidden = duplicates.BY_GRID_SQL.replace(
        "c.category_id = %(category)s AND c.unit_grid_code = %(grid)s",
        "c.category_id + 0 = %(category)s AND c.unit_grid_code || '' = %(grid)s",
    )
    assert hidden != duplicates.BY_GRID_SQL

    with transaction.atomic():
        categories = {probe.category_id for probe in probes}
        DuplicateRule.objects.bulk_create(
            DuplicateRule(category_id=category_id) for category_id in categories
        )
        found = []
        grid_python = timed(lambda p: found.append(len(duplicates.find_duplicates(p))), probes)
        grid_raw = timed(lambda p: raw_sql(duplicates.BY_GRID_SQL, p), probes)
        grid_hidden = timed(lambda p: raw_sql(hidden, p), probes[: args.unindexed_runs])
        DuplicateRule.objects.filter(category_id__in=categories).update(metres=50.0)
        near_found = []
        near_python = timed(lambda p: near_found.append(len(duplicates.find_duplicates(p))), probes)
        near_raw = timed(lambda p: raw_sql(duplicates.BY_DISTANCE_SQL, p, 50.0), probes)
        with connection.cursor() as cursor:
            probe = probes[0]
            cursor.execute(
                "EXPLAIN (ANALYZE, COSTS OFF) " + duplicates.BY_GRID_SQL,
                {
                    "category": probe.category_id,
                    "grid": probe.unit_grid_code,
                    "since": probe.reported_at - dt.timedelta(days=30),
                    "at": probe.reported_at,
                    "exclude": 0,
                    "limit": duplicates.LIMIT,
                },
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)

    assert min(found) >= 1 and min(near_found) >= 1, "every probe finds its own closed case"
    print(f"found per lookup: same grid mean {statistics.mean(found):.2f} max {max(found)}; "
          f"50 m mean {statistics.mean(near_found):.2f} max {max(near_found)}")  # fmt: skip
    print(line("same grid: raw SQL (psycopg2)", grid_raw))
    print(line("same grid: find_duplicates", grid_python, grid_raw))
    print(line("same grid: new index hidden (raw)", grid_hidden, grid_raw))
    print(line("50 m: raw SQL (psycopg2)", near_raw))
    print(line("50 m: find_duplicates", near_python, near_raw))
    print(plan)


if __name__ == "__main__":
    main()
