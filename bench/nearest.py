"""Search around a point (周边查询, `tracking.nearest`) on the demo city: the road-distance answer
against its own straight-line candidates query (the peer: the same scoped KNN without routing),
measured in the same run.

    .venv/bin/python bench/nearest.py [--db citygrid] [--trackers 300] [--queries 200]

In one transaction that is rolled back at the end (the database is left as it was): `--trackers`
vehicle trackers with a fresh latest position at random points of random road segments, then
`--queries` searches from random points within 150 m of the roads, as a system scope (every
tracker visible: the largest candidate set). Reports p50 / p90 / max in milliseconds of

- ``nearest``: the whole answer (candidates, road distances to the 30 nearest by straight line
  with ``pgr_withPointsCost``, the road way to the nearest with ``pgr_withPoints``),
- ``candidates``: the scoped straight-line KNN alone (what the answer costs without pgRouting).
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

POINTS_SQL = """
SELECT ST_X(p), ST_Y(p) FROM (
    SELECT ST_LineInterpolatePoint(geom, random()) AS p
    FROM spatial_roadsegment, generate_series(1, %(per)s)
    ORDER BY random() LIMIT %(n)s
) s
"""


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"p50 {statistics.median(ordered):6.1f}  p90 {p90:6.1f}  max {ordered[-1]:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="citygrid")
    parser.add_argument("--trackers", type=int, default=300)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    django_setup(args.db)

    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone
    from pyproj import Geod

    from accounts.scoping import system_scope
    from spatial import routing
    from tracking import nearest
    from tracking.models import LatestPosition, Tracker

    geod = Geod(ellps="WGS84")
    rng = random.Random(args.seed)
    scope = system_scope("bench:nearest")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [args.seed / 1000])
            cursor.execute(POINTS_SQL, {"per": 4, "n": args.trackers + args.queries})
            points = cursor.fetchall()
            cursor.execute("SELECT count(*) FROM spatial_roadedge")
            edges = cursor.fetchone()[0]
        assert len(points) == args.trackers + args.queries, "too few roads: load the demo city"
        now = timezone.now()
        trackers = Tracker.objects.bulk_create(
            Tracker(device_id=f"BENCH-NEAR-{n:05d}", kind="vehicle", plate=f"测{n:05d}")
            for n in range(args.trackers)
        )
        LatestPosition.objects.bulk_create(
            LatestPosition(tracker=t, geom=f"POINT({x} {y})", t=now)
            for t, (x, y) in zip(trackers, points)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tracking_latestposition")
        origins = []
        for x, y in points[args.trackers :]:
            lon, lat, _ = geod.fwd(x, y, rng.uniform(0, 360), rng.uniform(0, 150))
            origins.append((lon, lat))
        print(
            f"{args.db}: {edges:,d} road edges, {args.trackers} trackers, {len(origins)} queries;"
            f" pgRouting: {routing.routing_available()}"
        )
        for lon, lat in origins[:5]:  # warm the caches and the plans
            nearest.nearest(scope, lon, lat)
        online_after = now - dt.timedelta(seconds=settings.TRACKING_ONLINE_S)
        full, knn, costs, ways, longer = [], [], [], [], 0
        for lon, lat in origins:
            started = time.perf_counter()
            answer = nearest.nearest(scope, lon, lat)
            full.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            nearest._candidates(scope, lon, lat, None, online_after)
            knn.append((time.perf_counter() - started) * 1000)
            assert answer["method"] == "road" and answer["nearest"]
            here = routing.Place(0, lon, lat)
            found = [
                routing.Place(f["tracker"], *f["position"]["coordinates"])
                for f in answer["nearest"]
            ]
            started = time.perf_counter()
            routing.road_distances(here, found)
            costs.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            routing.road_path(here, found[0])
            ways.append((time.perf_counter() - started) * 1000)
            longer += all(
                f["road_m"] is not None and f["road_m"] >= f["straight_m"] - 0.5
                for f in answer["nearest"]
            )
        print(f"  nearest (road)      {percentiles(full)}")
        print(f"  candidates (KNN)    {percentiles(knn)}")
        print(f"  road costs, 5 targets {percentiles(costs)}")
        print(f"  road way to one     {percentiles(ways)}")
        print(f"  ratio of p50s       {statistics.median(full) / statistics.median(knn):.1f}×")
        print(
            f"  answers with a road distance >= straight for every tracker: {longer}/{len(origins)}"
        )
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
