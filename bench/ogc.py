"""OGC API – Features, identify and export benchmark, side by side across code trees.

The readers of a layer's rows other than tiles: `/ogc/collections/<key>/items` (first page,
bbox pages, a bbox with a property filter, a deep page, one item), `/api/v1/identify` at map
clicks and `/api/v1/layers/<key>/export` (GeoJSON), as a system admin and as a street inspector
(bench/tiles.py's bench users), against a gunicorn per code tree on the same database,
alternating the trees every round (bench/sidebyside.py).

    .venv/bin/python bench/ogc.py --db bench_tiles20 --tree before=/tmp/cg-baseline \\
        --tree after=. --rounds 6

Prints a Markdown table (per case and tree: requests, requests/s, p50, p90, p99 ms, bytes,
p50 and throughput as ratios to the first tree) and writes bench/out/ogc-trees-<db>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import bench.sidebyside as sidebyside  # noqa: E402
from bench.tiles import OUT, django_setup, print_ratio_row, sessions  # noqa: E402

BOX_M = 600  # half-width of a bbox page, metres


def places(n: int, seed: int = 1) -> list[tuple[float, float]]:
    """Gives the centres of `n` random unit grids (seeded)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT setseed(%s)", [seed / 1000])
        cur.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) AS c FROM"
            " spatial_unitgrid ORDER BY random() LIMIT %s) AS s",
            [n],
        )
        return cur.fetchall()


def street_places(n: int, seed: int = 1) -> list[tuple[float, float]]:
    """Gives `n` random points inside the bench inspector's street (seeded)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_X(d.geom), ST_Y(d.geom) FROM (SELECT geom FROM spatial_adminarea"
            " WHERE level = 'street' ORDER BY code LIMIT 1) AS s,"
            " ST_Dump(ST_GeneratePoints(s.geom, %s, %s)) AS d",
            [n, seed],
        )
        return cur.fetchall()


def component_ids(n: int, street: bool = False, seed: int = 1) -> list[int]:
    """Gives `n` random component ids (seeded), of the bench inspector's street if `street`."""
    from django.db import connection

    inside = (
        "ST_Intersects(geom, (SELECT geom FROM spatial_adminarea WHERE level = 'street'"
        " ORDER BY code LIMIT 1))"
        if street
        else "TRUE"
    )
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(%s)", [seed / 1000])
        cur.execute(
            f"SELECT id FROM spatial_component WHERE {inside} ORDER BY random() LIMIT %s", [n]
        )
        return [row[0] for row in cur.fetchall()]


def bbox(lon: float, lat: float, metres: float = BOX_M) -> str:
    """Gives a bbox `metres` each way around lon/lat (on the WGS84 ellipsoid; the bench does
    not use the code it measures for its inputs)."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    east, _, _ = geod.fwd(lon, lat, 90, metres)
    west, _, _ = geod.fwd(lon, lat, 270, metres)
    _, north, _ = geod.fwd(lon, lat, 0, metres)
    _, south, _ = geod.fwd(lon, lat, 180, metres)
    return f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}"


def cases(points: list[tuple[float, float]], ids: list[int]) -> dict[str, list[str]]:
    """Gives {case: [paths]}; every tree gets the same paths."""
    items = "/ogc/collections/{}/items?"
    return {
        "items components first page (100)": [items.format("components") + "limit=100"] * 5,
        "items components bbox (1000)": [
            items.format("components") + urlencode({"bbox": bbox(*p), "limit": 1000})
            for p in points
        ],
        "items components bbox + status=damaged": [
            items.format("components")
            + urlencode({"bbox": bbox(*p), "status": "damaged", "limit": 1000})
            for p in points
        ],
        "items components offset 5000 (100)": [items.format("components") + "limit=100&offset=5000"]
        * 5,
        "item components by id": [f"/ogc/collections/components/items/{i}" for i in ids],
        "items unit_grids bbox (500)": [
            items.format("unit_grids") + urlencode({"bbox": bbox(*p), "limit": 500}) for p in points
        ],
        "identify components,unit_grids,roads": [
            "/api/v1/identify?"
            + urlencode(
                {
                    "lon": lon,
                    "lat": lat,
                    "layers": "components,unit_grids,roads",
                    "tolerance_px": 10,
                    "zoom": 17,
                }
            )
            for lon, lat in points
        ],
        "export streets geojson": ["/api/v1/layers/streets/export?format=geojson"] * 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_tiles")
    parser.add_argument("--tree", action="append", help="NAME=DIR of a code tree (repeat)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    trees = sidebyside.parse_trees(args.tree)
    django_setup(args.db)
    admin_sid, inspector_sid, _ = sessions()
    users = {
        "admin": (sidebyside.client(admin_sid), cases(places(args.points), component_ids(20))),
        "inspector": (
            sidebyside.client(inspector_sid),
            cases(street_places(args.points), component_ids(20, street=True)),
        ),
    }
    env = sidebyside.base_env(args.db)
    procs, ports = [], {}
    results: dict = {"db": args.db, "trees": [[n, str(t)] for n, t in trees], "rows": []}
    print(
        "| case | tree | requests | req/s | p50 ms | p90 ms | p99 ms | bytes | p50 ratio"
        " | req/s ratio | statuses |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    try:
        for name, tree in trees:
            proc, ports[name] = sidebyside.serve(tree, env, args.workers)
            procs.append(proc)
        for who, (http, paths_by_case) in users.items():
            for case, paths in paths_by_case.items():
                jobs = {
                    name: (http, [f"http://127.0.0.1:{ports[name]}{p}" for p in paths])
                    for name, _ in trees
                }
                row = sidebyside.alternate(jobs, args.rounds)
                results["rows"].append({"case": f"{case}, {who}", **row})
                print_ratio_row(f"{case}, {who}", row, [name for name, _ in trees])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"ogc-trees-{args.db}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
