"""Benchmark of the one placement call: p50/p99 of locate() in-process and of GET
/api/v1/locate over HTTP, on random points inside the unit grids of the dev database.

    .venv/bin/python bench/locate.py [--points 10000] [--http] [--url URL] [--explain] [--census]
        [--as USERNAME]

In-process runs place the points with the whole placement (no scope, as case registration
does) and with the anonymous scope (as public HTTP callers get it); --as adds a signed-in
person's scope (e.g. a demo inspector-<street code>).

--http starts gunicorn (2 workers) on a free loopback port unless --url names a running
server, and stops it afterwards. Results are printed; copy them into bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from accounts.scoping import ANONYMOUS, scope_for_user  # noqa: E402
from spatial.locate import _WHOLE, _statement, locate, search_box_degrees  # noqa: E402

# One random point strictly inside each of N random unit grids (seeded, so runs compare).
SAMPLE_SQL = """
SELECT ST_X(p), ST_Y(p) FROM (
    SELECT (ST_Dump(ST_GeneratePoints(geom, 1, %(seed)s))).geom AS p
    FROM spatial_unitgrid ORDER BY md5(id::text || %(seed)s::text) LIMIT %(n)s
) s
"""


def sample_points(n: int, seed: int) -> list[tuple[float, float]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM spatial_unitgrid")
        grids = cursor.fetchone()[0]
        if grids == 0:
            raise SystemExit("no unit grids in the database: run manage.py demo_city first")
        points: list[tuple[float, float]] = []
        while len(points) < n:
            cursor.execute(SAMPLE_SQL, {"seed": seed + len(points), "n": n - len(points)})
            points.extend(cursor.fetchall())
    random.Random(seed).shuffle(points)
    return points[:n]


def percentiles(samples_ms: list[float]) -> str:
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return (
        f"n={len(samples_ms)} p50={q[49]:.3f} ms p90={q[89]:.3f} ms p99={q[98]:.3f} ms "
        f"max={max(samples_ms):.3f} ms mean={statistics.fmean(samples_ms):.3f} ms"
    )


def bench_in_process(points, scope=None) -> tuple[list[float], int]:
    for lon, lat in points[:200]:  # warm the connection, plan cache and buffers
        locate(lon, lat, scope=scope)
    samples, found = [], 0
    for lon, lat in points:
        started = time.perf_counter()
        placement = locate(lon, lat, scope=scope)
        samples.append((time.perf_counter() - started) * 1000)
        found += placement.unit_grid is not None
    return samples, found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "web.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/api/v1/locate?lon=0&lat=0", timeout=10)
            return process, url
        except requests.RequestException:
            time.sleep(0.2)
    process.terminate()
    process.wait(timeout=10)
    raise SystemExit("gunicorn did not start within 60 s")


def bench_http(points, url: str) -> tuple[list[float], int]:
    import requests

    session = requests.Session()
    for lon, lat in points[:200]:
        session.get(f"{url}/api/v1/locate", params={"lon": lon, "lat": lat}).raise_for_status()
    samples, found = [], 0
    for lon, lat in points:
        started = time.perf_counter()
        response = session.get(f"{url}/api/v1/locate", params={"lon": lon, "lat": lat})
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        found += response.json()["placement"]["unit_grid"] is not None
    return samples, found


def explain(lon: float, lat: float) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the prepared statement as locate() runs it (generic plan)."""
    from django.conf import settings
    from django.utils import timezone

    locate(lon, lat)  # makes sure the statement is prepared on this connection
    dlon, dlat = search_box_degrees(lat)
    params = {
        "lon": lon,
        "lat": lat,
        "at": timezone.now(),
        "tz": settings.TIME_ZONE,
        "dlon": dlon,
        "dlat": dlat,
        "radius": 50.0,
    }
    statement, _ = _statement(_WHOLE, None)
    execute = statement.execute.replace(
        "EXECUTE", "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE", 1
    )
    with connection.cursor() as cursor:
        cursor.execute(execute, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def bench_census() -> None:
    """Times one census of the city and of the first district, street and community."""
    from spatial.census import census
    from spatial.models import AdminArea

    areas = [None] + [
        AdminArea.objects.filter(level=level).order_by("code").first()
        for level in ("district", "street", "community")
    ]
    for area in areas:
        started = time.perf_counter()
        result = census(area)
        label = f"{area.level} {area.code}" if area else "city"
        print(
            f"census {label}: {time.perf_counter() - started:.3f} s "
            f"({result['components']['count']} components, {result['unit_grids']['count']} grids)"
        )


def table_sizes() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM spatial_unitgrid), (SELECT count(*) FROM spatial_component),"
            " (SELECT count(*) FROM spatial_roadsegment), (SELECT count(*) FROM spatial_adminarea),"
            " (SELECT count(*) FROM spatial_controlledarea)"
        )
        ug, comp, roads, areas, ctrl = cursor.fetchone()
    return f"unit grids={ug} components={comp} road segments={roads} admin areas={areas} controlled areas={ctrl}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--http", action="store_true", help="also measure over HTTP")
    parser.add_argument("--url", help="a running server; default: start gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--census", action="store_true", help="also time the census queries")
    parser.add_argument("--as", dest="username", help="also place with this person's scope")
    args = parser.parse_args()

    print(f"database {connection.settings_dict['NAME']}: {table_sizes()}")
    points = sample_points(args.points, args.seed)
    scopes = [("whole", None), ("anonymous", ANONYMOUS)]
    if args.username:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(username=args.username)
        scopes.append((args.username, scope_for_user(user)))
    for label, scope in scopes:
        samples, found = bench_in_process(points, scope)
        print(
            f"in-process locate(), {label}: {percentiles(samples)} "
            f"(grid found for {found}/{len(points)})"
        )
    if args.explain:
        print(explain(*points[0]))
    if args.census:
        bench_census()
    if args.http or args.url:
        process, url = (None, args.url) if args.url else start_gunicorn(args.workers)
        try:
            samples, found = bench_http(points, url)
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=10)
        print(
            f"HTTP GET /api/v1/locate: {percentiles(samples)} (grid found for {found}/{len(points)})"
        )


if __name__ == "__main__":
    main()
