"""Scoped cluster tiles: a street inspector's component clusters from the point cells against
the scan of every point in the street (the path before) and against an admin's tile, in
process (the tile SQL alone, as `tiles.service.build` sends it).

For each zoom, the tiles of a block (3x3 unless --block) around the inspector's area centre; rounds
alternate the three queries so load moves them alike. Also checks that both scoped paths give
the same clusters (point totals and count).

    .venv/bin/python bench/scoped_tiles.py --db bench_serve20 --user bench-tiles-inspector \
        --admin bench-tiles-admin --rounds 15
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="bench_serve20")
    parser.add_argument("--user", default="bench-tiles-inspector")
    parser.add_argument("--admin", default="bench-tiles-admin")
    parser.add_argument("--layer", default="components")
    parser.add_argument("--zooms", type=int, nargs="+", default=[11, 12, 13, 14])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--block", type=int, default=3, help="tiles a side around the centre")
    args = parser.parse_args()
    os.environ["CITYGRID_PG_DB"] = args.db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    import django

    django.setup()
    import mapbox_vector_tile
    import mercantile
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accounts.scoping import scope_for_user
    from tiles import service
    from tiles import sql as tsql

    users = get_user_model().objects
    inspector = scope_for_user(users.get(username=args.user))
    admin = scope_for_user(users.get(username=args.admin))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(area_geom) c FROM accounts_person"
            " WHERE id = %s) q",
            [inspector.person_id],
        )
        lon, lat = cur.fetchone()

    def queries(z: int, x: int, y: int) -> dict[str, str]:
        out = {}
        for label, scope in (("admin", admin), ("inspector", inspector)):
            items, _ = service.resolve_lazily(
                service.split_keys(args.layer), lambda s=scope: s, kinds=("core", "managed")
            )
            src = service.tile_source(items[0], scope, ())
            out[label] = service.layer_query(items[0], src, z, x, y)
            if label == "inspector":  # the path before: every point in the area, scanned
                out["inspector, scan"] = tsql.clusters_query(
                    src, z, x, y, items[0].tiling.cluster_cell_px
                )
        with connection.cursor() as cur:
            return {
                k: tsql.combine([q]).sql.as_string(cur.cursor)
                for k, q in out.items()
            } | {"_params": {k: tsql.combine([q]).params for k, q in out.items()}}

    def clusters(data) -> tuple[int, int]:
        if not data:
            return 0, 0
        features = mapbox_vector_tile.decode(bytes(data)).get(args.layer, {}).get("features", [])
        return len(features), sum(f["properties"]["point_count"] for f in features)

    print(f"inspector area centre {lon:.4f},{lat:.4f}; {args.rounds} rounds per tile")
    print(
        "| zoom | tiles | admin p50 / p99 ms | inspector, scan p50 / p99 | inspector, cells p50 / p99"
        " | cells / scan (p50) | cells / admin (p99) |"
    )
    print("|---:|---:|---|---|---|---:|---:|")
    for z in args.zooms:
        centre = mercantile.tile(lon, lat, z)
        side = range(-(args.block // 2), args.block // 2 + 1)
        tiles = [(z, centre.x + dx, centre.y + dy) for dx in side for dy in side]
        times = {"admin": [], "inspector, scan": [], "inspector": []}
        with connection.cursor() as cur:
            for tile in tiles:
                q = queries(*tile)
                params = q.pop("_params")
                answers = {}
                for label in times:  # warm and check
                    cur.execute(q[label], list(params[label]))
                    answers[label] = clusters(cur.fetchone()[0])
                if answers["inspector"] != answers["inspector, scan"]:
                    raise SystemExit(
                        f"{tile}: cells {answers['inspector']} != scan {answers['inspector, scan']}"
                    )
                for _ in range(args.rounds):
                    for label in times:
                        started = time.perf_counter()
                        cur.execute(q[label], list(params[label]))
                        cur.fetchone()
                        times[label].append((time.perf_counter() - started) * 1000)

        def p(label, share):
            values = sorted(times[label])
            return values[min(len(values) - 1, int(share * len(values)))]

        print(
            f"| {z} | {len(tiles)} | {p('admin', 0.5):.1f} / {p('admin', 0.99):.1f}"
            f" | {p('inspector, scan', 0.5):.1f} / {p('inspector, scan', 0.99):.1f}"
            f" | {p('inspector', 0.5):.1f} / {p('inspector', 0.99):.1f}"
            f" | {p('inspector', 0.5) / p('inspector, scan', 0.5):.2f}"
            f" | {p('inspector', 0.99) / p('admin', 0.99):.2f} |"
        )
    print("load average", os.getloadavg())


if __name__ == "__main__":
    main()
