"""Search around (周边查询: ``GET /api/v1/nearby``, `web.nearby`) on the demo city: the whole
answer over HTTP (Django's test client in-process: middleware, session, scope, four scoped
queries, JSON) against its peer in the same run, the same four radius queries run raw through
psycopg2 without any scope (what the lookups cost before scoping and the web stack).

    .venv/bin/python bench/nearby.py [--db citygrid] [--queries 200] [--radius 500]

From `--queries` random points on the roads, as the shift leader (the whole city: every case,
tracker and component counts) and as one street's inspector (cases of their street, their own
tracker, components of the layer scope). Read-only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup  # noqa: E402

POINTS_SQL = """
SELECT ST_X(p), ST_Y(p) FROM (
    SELECT ST_LineInterpolatePoint(geom, random()) AS p FROM spatial_roadsegment
    ORDER BY random() LIMIT %(n)s
) s
"""
# The peer: each kind's radius query without a scope, nearest first, 20 each.
RAW = [
    """SELECT c.id, ST_Distance(c.geom::geography, pt::geography) d FROM cases_case c,
       ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) pt
       WHERE c.geom && ST_Expand(pt, %(dlon)s, %(dlat)s)
         AND ST_Distance(c.geom::geography, pt::geography) <= %(r)s ORDER BY d LIMIT 20""",
    """SELECT c.id, ST_Distance(c.geom::geography, pt::geography) d FROM spatial_component c,
       ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) pt
       WHERE c.geom && ST_Expand(pt, %(dlon)s, %(dlat)s)
         AND ST_Distance(c.geom::geography, pt::geography) <= %(r)s ORDER BY d LIMIT 20""",
    """SELECT lp.tracker_id, ST_Distance(lp.geom::geography, pt::geography) d
       FROM tracking_latestposition lp JOIN tracking_tracker tr ON tr.id = lp.tracker_id,
       ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) pt
       WHERE lp.geom && ST_Expand(pt, %(dlon)s, %(dlat)s) AND tr.kind = 'person'
         AND ST_Distance(lp.geom::geography, pt::geography) <= %(r)s ORDER BY d LIMIT 20""",
    """SELECT lp.tracker_id, ST_Distance(lp.geom::geography, pt::geography) d
       FROM tracking_latestposition lp JOIN tracking_tracker tr ON tr.id = lp.tracker_id,
       ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) pt
       WHERE lp.geom && ST_Expand(pt, %(dlon)s, %(dlat)s) AND tr.kind = 'vehicle'
         AND ST_Distance(lp.geom::geography, pt::geography) <= %(r)s ORDER BY d LIMIT 20""",
]


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="citygrid")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--radius", type=float, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    django_setup(args.db)

    from django.db import connection
    from django.test import Client

    from accounts.models import Person
    from spatial.crs import degrees_covering

    random.seed(args.seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [args.seed / 1000])
        cursor.execute(POINTS_SQL, {"n": args.queries})
        points = cursor.fetchall()
    inspector = Person.objects.filter(user__username__startswith="inspector-").order_by("pk")[0]
    clients = {}
    for label, person in [
        ("shift leader", Person.objects.get(user__username="shiftleader")),
        (f"inspector ({inspector.user.username})", inspector),
    ]:
        client = Client()
        client.force_login(person.user)
        clients[label] = client

    def raw(lon, lat):
        dlon, dlat = degrees_covering(args.radius, lat)
        found = 0
        with connection.cursor() as cursor:
            for text in RAW:
                cursor.execute(
                    text, {"lon": lon, "lat": lat, "dlon": dlon, "dlat": dlat, "r": args.radius}
                )
                found += len(cursor.fetchall())
        return found

    rows = []
    for label, client in clients.items():
        client.get("/api/v1/nearby", {"lon": points[0][0], "lat": points[0][1]})  # warm
        times, raws, items = [], [], 0
        for lon, lat in points:
            started = time.perf_counter()
            answer = client.get("/api/v1/nearby", {"lon": lon, "lat": lat, "radius": args.radius})
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.content
            body = answer.json()
            items += sum(len(body[k]) for k in ("cases", "inspectors", "vehicles", "components"))
            started = time.perf_counter()
            raw(lon, lat)
            raws.append((time.perf_counter() - started) * 1000)
        rows.append((label, percentiles(times), percentiles(raws), items / len(points)))
    print(f"{len(points)} points, radius {args.radius:g} m, db {args.db}")
    for label, (p50, p99), (r50, r99), mean in rows:
        print(
            f"{label:<36} HTTP p50 {p50:6.2f} p99 {p99:6.2f} ms | raw SQL p50 {r50:6.2f} "
            f"p99 {r99:6.2f} ms | {p50 / r50:4.1f}x | {mean:5.1f} items per answer"
        )


if __name__ == "__main__":
    main()
