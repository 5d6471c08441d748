"""Tile benchmark: our /tiles against tipg 1.6 on the same database and tables, one run.

Replays a fixed wall-screen session (a 1920x1080 screen of 512-pixel tiles, panned over the
demo city at every zoom from 10 to 18) for the layers unit_grids, roads and components, one
request after another over keep-alive connections, against:

- ours, cold: gunicorn with CITYGRID_TILES_CACHE=0 (every tile built by PostGIS);
- ours, warm: gunicorn with the Redis tile cache on (second pass of the same list);
- tipg 1.6 (uvicorn, its own venv, e.g. /tmp/tipg-venv; never the project venv), pointed at the
  same database with DATABASE_URL, buffer 64 like ours, only the same properties.

Also measures z12 component tiles cold (aim: < 100 ms) and the cost of scoping: the same
component tiles as a street inspector (ST_Intersects with the person's area) and as admin.

Usage (services running; DB with the demo city, e.g. `manage.py demo_city --scale 1`):

    .venv/bin/python bench/tiles.py --db bench_tiles --tipg-venv /tmp/tipg-venv

Prints a Markdown table and writes bench/out/tiles-<db>.json plus EXPLAIN plans.

Side by side with other code trees (e.g. a worktree of the commit before a change), ours only,
alternating the trees every round (bench/sidebyside.py):

    .venv/bin/python bench/tiles.py --db bench_tiles --tree before=/tmp/cg-baseline \
        --tree after=. --rounds 6
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import bench.sidebyside as sidebyside  # noqa: E402

OUT = ROOT / "bench" / "out"
# our layer key -> (tipg collection, properties, min zoom)
LAYERS = {
    "unit_grids": ("public.spatial_unitgrid", "code,area_m2", 12),
    "roads": ("public.spatial_roadsegment", "name,road_class", 10),
    "components": ("public.spatial_component", "code,name,category_id,status,owner_department", 10),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[float, float]:
    n = 1 << z
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def session_tiles(centre: tuple[float, float], zooms=range(10, 19)) -> list[tuple[int, int, int]]:
    """The wall screen's tiles: at each zoom, a 1920x1080 view of 512-pixel tiles (4x3 tiles)
    at the centre and panned half a screen in four directions; first-seen order, no repeats."""
    seen: dict[tuple[int, int, int], None] = {}
    for z in zooms:
        cx, cy = lonlat_to_tile(*centre, z)
        for dx, dy in ((0, 0), (1.9, 0), (-1.9, 0), (0, 1.1), (0, -1.1)):
            x0, y0 = cx + dx - 1.9, cy + dy - 1.05
            for x in range(int(x0), int(x0 + 3.75) + 1):
                for y in range(int(y0), int(y0 + 2.1) + 1):
                    seen.setdefault((z, x, y), None)
    return list(seen)


def start(cmd: list[str], env: dict, port: int, probe: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(200):
        try:
            if requests.get(f"http://127.0.0.1:{port}{probe}", timeout=5).status_code < 500:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not start: {' '.join(cmd)}")


def client(session_id: str | None = None) -> requests.Session:
    """Gives an HTTP client that opens a connection per request and asks for no compression,
    the same for both servers: gunicorn's sync workers close every connection anyway, and a
    kept-alive uvicorn connection adds a ~40 ms delayed-ACK stall per tile that is not tipg's
    own cost."""
    http = requests.Session()
    http.headers.update({"Connection": "close", "Accept-Encoding": "identity"})
    if session_id:
        http.cookies.set("sessionid", session_id)
    return http


def replay(http: requests.Session, urls: list[str]) -> dict:
    times, sizes, statuses = [], [], {}
    started = time.perf_counter()
    for url in urls:
        t0 = time.perf_counter()
        r = http.get(url, timeout=120)
        times.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(r.content))
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    total = time.perf_counter() - started
    times.sort()
    return {
        "n": len(urls),
        "tiles_per_s": round(len(urls) / total, 1),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
        "max_ms": round(times[-1], 2),
        "bytes_per_tile": round(sum(sizes) / len(sizes)),
        "statuses": statuses,
    }


def django_setup(db: str):
    os.environ["CITYGRID_PG_DB"] = db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    import django

    django.setup()


def city_centre() -> tuple[float, float]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry)"
            " AS c FROM spatial_unitgrid) AS s"
        )
        return cur.fetchone()


def sessions() -> tuple[str, str, tuple[float, float]]:
    """Gives session ids of a bench admin and of a bench inspector of one street (created if
    missing), and the centre of that street."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from spatial.models import AdminArea, Layer
    from accounts.areas import set_person_areas
    from accounts.models import Person, Position

    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        username="bench-tiles-admin", defaults={"is_superuser": True, "is_staff": True}
    )
    inspector, _ = User.objects.get_or_create(username="bench-tiles-inspector")
    street = AdminArea.objects.filter(level="street").order_by("code").first()
    position, _ = Position.objects.get_or_create(
        key="bench-tiles-inspector", defaults={"name": "基准巡查员"}
    )
    position.layers.set([Layer.objects.get(key="components")])
    person, _ = Person.objects.get_or_create(user=inspector, defaults={"name": "基准巡查员"})
    person.positions.set([position])
    set_person_areas(person, admin_areas=[street])
    ids = []
    for user in (admin, inspector):
        client = Client()
        client.force_login(user)
        ids.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    c = street.geom.point_on_surface
    return ids[0], ids[1], (c.x, c.y)


def explain(db: str, z: int, x: int, y: int, path: Path) -> str:
    """Saves EXPLAIN (ANALYZE, BUFFERS) of our component tile query at z/x/y as admin."""
    from django.db import connection

    from tiles import service
    from accounts.scoping import scope_for_user
    from django.contrib.auth import get_user_model

    scope = scope_for_user(get_user_model().objects.get(username="bench-tiles-admin"))
    items = service.resolve(["components"], scope)
    src = service.tile_source(items[0], scope)
    query, params = service.layer_query(items[0], src, z, x, y)
    with connection.cursor() as cur:
        text = query.as_string(cur.cursor)
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + text, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    path.write_text(
        f"-- components {z}/{x}/{y}\n{cur.cursor.mogrify(text, params).decode()}\n\n{plan}\n"
    )
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_tiles")
    parser.add_argument("--tipg-venv", default="/tmp/tipg-venv")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tree", action="append", help="NAME=DIR: compare code trees")
    parser.add_argument("--rounds", type=int, default=6, help="rounds per tree (with --tree)")
    args = parser.parse_args()
    if args.tree:
        compare(args, sidebyside.parse_trees(args.tree))
        return
    django_setup(args.db)
    from django.conf import settings

    admin_sid, inspector_sid, street_centre = sessions()
    centre = city_centre()
    tiles = session_tiles(centre)
    OUT.mkdir(parents=True, exist_ok=True)
    db = settings.DATABASES["default"]
    base_env = {
        **os.environ,
        "CITYGRID_PG_DB": args.db,
        "CITYGRID_DEBUG": "0",
        "CITYGRID_ALLOWED_HOSTS": "127.0.0.1",
        "CITYGRID_LOG_LEVEL": "ERROR",
        "CITYGRID_CACHE_PREFIX": f"bench-{args.db}-{int(time.time())}",
    }
    gunicorn = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "web.wsgi:application",
        "-w",
        str(args.workers),
        "--log-level",
        "error",
    ]
    ports = {"cold": free_port(), "warm": free_port(), "tipg": free_port()}
    # asyncpg takes a percent-encoded socket directory as the host (tipg's URL check needs one).
    dsn = f"postgresql://{db['USER']}@{quote(db['HOST'], safe='')}:{db['PORT']}/{args.db}"
    procs: list[subprocess.Popen] = []
    servers = [
        (
            gunicorn + ["-b", f"127.0.0.1:{ports['cold']}"],
            {**base_env, "CITYGRID_TILES_CACHE": "0"},
            ports["cold"],
            "/tiles/roads.json",
        ),
        (
            gunicorn + ["-b", f"127.0.0.1:{ports['warm']}"],
            {**base_env, "CITYGRID_TILES_CACHE": "1"},
            ports["warm"],
            "/tiles/roads.json",
        ),
        (
            [
                f"{args.tipg_venv}/bin/uvicorn",
                "tipg.main:app",
                "--port",
                str(ports["tipg"]),
                "--workers",
                str(args.workers),
                "--log-level",
                "error",
            ],
            {
                **os.environ,
                "DATABASE_URL": dsn,
                "TIPG_TILE_BUFFER": "64",
                "TIPG_MAX_FEATURES_PER_TILE": "1000000",
            },
            ports["tipg"],
            "/collections",
        ),
    ]
    results: dict = {"db": args.db, "centre": centre, "tiles_per_layer": {}, "rows": []}
    try:
        for cmd, env, port, probe in servers:
            procs.append(start(cmd, env, port, probe))
        ours = client(admin_sid)
        tipg = client()
        for key, (collection, props, minzoom) in LAYERS.items():
            addresses = [t for t in tiles if t[0] >= minzoom]
            results["tiles_per_layer"][key] = len(addresses)
            our_urls = {
                m: [
                    f"http://127.0.0.1:{ports[m]}/tiles/{key}/{z}/{x}/{y}.mvt"
                    for z, x, y in addresses
                ]
                for m in ("cold", "warm")
            }
            tipg_urls = [
                f"http://127.0.0.1:{ports['tipg']}/collections/{collection}/tiles/"
                f"WebMercatorQuad/{z}/{x}/{y}?properties={props}"
                for z, x, y in addresses
            ]
            # One untimed pass each so both start with the same warm PostgreSQL buffers.
            replay(ours, our_urls["cold"])
            replay(tipg, tipg_urls)
            row = {
                "layer": key,
                "ours_cold": replay(ours, our_urls["cold"]),
                "tipg": replay(tipg, tipg_urls),
            }
            replay(ours, our_urls["warm"])  # fills the cache
            row["ours_warm"] = replay(ours, our_urls["warm"])
            results["rows"].append(row)
        # z12 component tiles, cold.
        z12 = [t for t in tiles if t[0] == 12]
        results["z12_components_cold"] = replay(
            ours,
            [
                f"http://127.0.0.1:{ports['cold']}/tiles/components/{z}/{x}/{y}.mvt"
                for z, x, y in z12
            ],
        )
        # Scoping: the inspector's street, z14-16, as inspector and as admin (cold).
        street_tiles = session_tiles(street_centre, zooms=range(14, 17))
        urls = [
            f"http://127.0.0.1:{ports['cold']}/tiles/components/{z}/{x}/{y}.mvt"
            for z, x, y in street_tiles
        ]
        inspector = client(inspector_sid)
        replay(inspector, urls)
        results["scoped_inspector"] = replay(inspector, urls)
        results["scoped_admin"] = replay(ours, urls)
        zc, xc, yc = 12, *(int(v) for v in lonlat_to_tile(*centre, 12))
        explain(args.db, zc, xc, yc, OUT / f"explain-{args.db}-z12.txt")
        z16 = (16, *(int(v) for v in lonlat_to_tile(*centre, 16)))
        explain(args.db, *z16, OUT / f"explain-{args.db}-z16.txt")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    (OUT / f"tiles-{args.db}.json").write_text(json.dumps(results, indent=2))
    print_table(results)


def compare(args, trees: list[tuple[str, Path]]) -> None:
    """Replays the session (cold and warm), the z12 component tiles and the scoped street tiles
    against a gunicorn per tree and mode, alternating the trees; prints each with its ratio
    to the first tree."""
    django_setup(args.db)
    admin_sid, inspector_sid, street_centre = sessions()
    tiles = session_tiles(city_centre())
    street_tiles = session_tiles(street_centre, zooms=range(14, 17))
    env = sidebyside.base_env(args.db)
    procs, ports = [], {}
    results: dict = {"db": args.db, "trees": [[n, str(t)] for n, t in trees], "rows": []}
    try:
        for name, tree in trees:
            for mode, on in (("cold", "0"), ("warm", "1")):
                proc, ports[name, mode] = sidebyside.serve(
                    tree,
                    {
                        **env,
                        "CITYGRID_TILES_CACHE": on,
                        "CITYGRID_CACHE_PREFIX": f"{env['CITYGRID_CACHE_PREFIX']}-{name}",
                    },
                    args.workers,
                )
                procs.append(proc)
        admin, inspector = sidebyside.client(admin_sid), sidebyside.client(inspector_sid)

        def urls(name, mode, key, addresses):
            port = ports[name, mode]
            return [f"http://127.0.0.1:{port}/tiles/{key}/{z}/{x}/{y}.mvt" for z, x, y in addresses]

        cases = [
            (f"{key} {mode}", admin, key, mode, [t for t in tiles if t[0] >= minzoom])
            for key, (_, _, minzoom) in LAYERS.items()
            for mode in ("cold", "warm")
        ]
        cases += [
            ("components z12 cold", admin, "components", "cold", [t for t in tiles if t[0] == 12]),
            ("street z14-16 inspector cold", inspector, "components", "cold", street_tiles),
            ("street z14-16 admin cold", admin, "components", "cold", street_tiles),
        ]
        for label, http, key, mode, addresses in cases:
            jobs = {name: (http, urls(name, mode, key, addresses)) for name, _ in trees}
            row = sidebyside.alternate(jobs, args.rounds)
            results["rows"].append({"case": label, **row})
            print_ratio_row(label, row, [name for name, _ in trees])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"tiles-trees-{args.db}.json").write_text(json.dumps(results, indent=2))


def print_ratio_row(label: str, row: dict, names: list[str]) -> None:
    """Prints one case per tree: requests/s, p50, p90, p99, bytes, p50 and throughput as
    ratios to the first tree (p50 < 1 and throughput > 1: faster) and the HTTP statuses."""
    first = row[names[0]]
    for name in names:
        r = row[name]
        print(
            f"| {label} | {name} | {r['n']} | {r['per_s']} | {r['p50_ms']} | {r['p90_ms']} | "
            f"{r['p99_ms']} | {r['bytes']} | {r['p50_ms'] / first['p50_ms']:.2f} | "
            f"{r['per_s'] / first['per_s']:.2f} | "
            + " ".join(f"{k}×{v}" for k, v in sorted(r["statuses"].items()))
            + " |",
            flush=True,
        )


def print_table(results: dict) -> None:
    print(f"\ndatabase {results['db']}, tiles per layer: {results['tiles_per_layer']}\n")
    print("| layer | server | tiles/s | p50 ms | p99 ms | bytes/tile |")
    print("|---|---|---:|---:|---:|---:|")
    for row in results["rows"]:
        for name, label in (
            ("ours_cold", "ours cold"),
            ("tipg", "tipg 1.6"),
            ("ours_warm", "ours warm"),
        ):
            r = row[name]
            print(
                f"| {row['layer']} | {label} | {r['tiles_per_s']} | {r['p50_ms']} | "
                f"{r['p99_ms']} | {r['bytes_per_tile']} |"
            )
    z12 = results["z12_components_cold"]
    print(
        f"\nz12 components cold: p50 {z12['p50_ms']} ms, max {z12['max_ms']} ms "
        f"over {z12['n']} tiles"
    )
    si, sa = results["scoped_inspector"], results["scoped_admin"]
    print(
        f"scoping (components z14-16 over one street, cold): inspector p50 {si['p50_ms']} ms,"
        f" admin p50 {sa['p50_ms']} ms, ratio {si['p50_ms'] / max(sa['p50_ms'], 1e-9):.2f}"
    )


if __name__ == "__main__":
    main()
