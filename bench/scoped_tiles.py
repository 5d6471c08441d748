"""Scoped cluster tiles: a street inspector's component clusters from the area cells (the path
once the area's set is built), from the point cells with the border cells recounted (the path
before it is) and from the scan of every point in the street, against an admin's tile, in
process (the tile SQL alone, as `tiles.service.build` sends it). Builds the area cell sets
first (`tiles.cells.sync_area_cells`).

For each zoom, the tiles of a block (3x3 unless --block) around the inspector's area centre; rounds
alternate the four queries so load moves them alike. Also checks that all three scoped paths give
the same clusters (point totals and count).

    .venv/bin/python bench/scoped_tiles.py --db bench_serve20 --user bench-tiles-inspector \
        --admin bench-tiles-admin --rounds 15
"""

from __future__ import annotations

import argparse
import dataclasses
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
            if label == "inspector":
                # The paths before: every point in the area scanned; the point cells with those
                # across the area's border recounted (what runs while no area set is built).
                out["inspector, scan"] = tsql.clusters_query(
                    src, z, x, y, items[0].tiling.cluster_cell_px
                )
                unkept = dataclasses.replace(src, area_digest="not built")
                out["inspector, recount"] = service.layer_query(items[0], unkept, z, x, y)
        with connection.cursor() as cur:
            return {k: tsql.combine([q]).sql.as_string(cur.cursor) for k, q in out.items()} | {
                "_params": {k: tsql.combine([q]).params for k, q in out.items()}
            }

    def clusters(data) -> tuple[int, int]:
        if not data:
            return 0, 0
        features = mapbox_vector_tile.decode(bytes(data)).get(args.layer, {}).get("features", [])
        return len(features), sum(f["properties"]["point_count"] for f in features)

    print(f"inspector area centre {lon:.4f},{lat:.4f}; {args.rounds} rounds per tile")
    from tiles.cells import sync_area_cells

    print("area cells:", sync_area_cells())
    print(
        "| zoom | tiles | admin p50 / p99 ms | inspector, scan p50 / p99"
        " | inspector, recount p50 / p99 | inspector, area cells p50 / p99"
        " | recount / admin (p99) | area cells / admin (p99) |"
    )
    print("|---:|---:|---|---|---|---|---:|---:|")
    for z in args.zooms:
        centre = mercantile.tile(lon, lat, z)
        side = range(-(args.block // 2), args.block // 2 + 1)
        tiles = [(z, centre.x + dx, centre.y + dy) for dx in side for dy in side]
        times = {"admin": [], "inspector, scan": [], "inspector, recount": [], "inspector": []}
        with connection.cursor() as cur:
            for tile in tiles:
                q = queries(*tile)
                params = q.pop("_params")
                answers = {}
                for label in times:  # warm and check
                    cur.execute(q[label], list(params[label]))
                    answers[label] = clusters(cur.fetchone()[0])
                for label in ("inspector", "inspector, recount"):
                    if answers[label] != answers["inspector, scan"]:
                        raise SystemExit(
                            f"{tile}: {label} {answers[label]} != scan {answers['inspector, scan']}"
                        )
                texts = {label: (q[label], list(params[label])) for label in times}
                alternate(cur, texts, args.rounds, times)
        print_row(z, len(tiles), times, ("inspector, recount", "inspector"))
    feature_tiles(admin, inspector, args.layer, args.rounds)
    write_costs(inspector.area_digest, args.rounds)
    print("load average", os.getloadavg())


def alternate(cur, texts: dict, rounds: int, times: dict) -> None:
    """Runs each labelled (SQL, params) of `texts` in turn, `rounds` times, adding each one's
    milliseconds to `times[label]`."""
    for _ in range(rounds):
        for label, (text, params) in texts.items():
            started = time.perf_counter()
            cur.execute(text, params)
            cur.fetchone()
            times[label].append((time.perf_counter() - started) * 1000)


def print_row(z: int, tiles: int, times: dict, against_admin: tuple[str, ...]) -> None:
    """Prints a table row: p50 / p99 of every label, then each of `against_admin`'s p99 over
    the admin's."""
    cells = " | ".join(
        f"{percentile(v, 0.5):.2f} / {percentile(v, 0.99):.2f}" for v in times.values()
    )
    admin = percentile(times["admin"], 0.99)
    ratios = " | ".join(f"{percentile(times[k], 0.99) / admin:.2f}" for k in against_admin)
    print(f"| {z} | {tiles} | {cells} | {ratios} |")


def percentile(values: list[float], share: float) -> float:
    """Gives the value below which `share` of `values` lie (the nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def feature_tiles(admin, inspector, layer: str, rounds: int) -> None:
    """Feature tiles (z15, z16) at 12 random places in the inspector's area's bounding box
    (inside the street, across its border, outside it): an admin's, the inspector's with every
    point tested against the area, and the inspector's with the points of a box the area covers
    taken as they are (`tiles.sql._where`), alternating; checks both scoped forms agree."""
    import random

    import mapbox_vector_tile
    import mercantile
    from django.db import connection

    from tiles import service
    from tiles import sql as tsql

    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT area_geom::box2d"
            " AS b FROM accounts_person WHERE id = %s) AS q",
            [inspector.person_id],
        )
        west, south, east, north = cur.fetchone()
    rng = random.Random(3)
    print(
        "\n| zoom | tiles | admin p50 / p99 ms | inspector, every point tested p50 / p99"
        " | inspector, covered boxes p50 / p99 | tested / admin (p99) | covered / admin (p99) |"
    )
    print("|---:|---:|---|---|---|---:|---:|")
    for z in (15, 16):
        times = {"admin": [], "tested": [], "covered": []}
        for _ in range(12):
            tile = mercantile.tile(rng.uniform(west, east), rng.uniform(south, north), z)
            queries = {}
            for label, scope in (("admin", admin), ("tested", inspector), ("covered", inspector)):
                items, _ = service.resolve_lazily([layer], lambda s=scope: s, kinds=("core",))
                src = service.tile_source(items[0], scope)
                if label == "tested":
                    src = dataclasses.replace(src, area=None)
                queries[label] = tsql.combine(
                    [service.layer_query(items[0], src, z, tile.x, tile.y)]
                )
            with connection.cursor() as cur:
                texts = {
                    k: (q.sql.as_string(cur.cursor), list(q.params)) for k, q in queries.items()
                }
                answers = {}
                for label, (text, params) in texts.items():
                    cur.execute(text, params)
                    data = bytes(cur.fetchone()[0] or b"")
                    features = mapbox_vector_tile.decode(data).get(layer, {}).get("features", [])
                    answers[label] = sorted(f["id"] for f in features)
                if answers["tested"] != answers["covered"]:
                    raise SystemExit(f"{tile}: the two scoped forms differ")
                alternate(cur, texts, rounds, times)
        print_row(z, 12, times, ("tested", "covered"))


def write_costs(digest: str, rounds: int) -> None:
    """What the area cells cost: building the inspector's set, and a write of 1,000 and 10,000
    components in the street with the set kept against without (the set deleted first in the
    same transaction), alternating; every write is rolled back."""
    from django.db import connection, transaction

    from accounts.areas import area_of_digest
    from tiles.cells import build_area_cells

    source = "public.spatial_component"
    area = area_of_digest(digest)
    started = time.perf_counter()
    cells = build_area_cells(digest, source, area)
    print(f"\nbuilding the street's set: {cells} cells in {time.perf_counter() - started:.2f} s")
    print("| rows updated | with the area's set, median ms | without | with / without |")
    print("|---:|---:|---:|---:|")
    for rows in (1_000, 10_000):
        times = {"with": [], "without": []}
        for _ in range(max(3, rounds // 5)):
            for label in times:
                with transaction.atomic(), connection.cursor() as cur:
                    if label == "without":
                        cur.execute(
                            "DELETE FROM tiles_areacell WHERE cellset_id IN (SELECT id FROM"
                            " tiles_areacellset WHERE source = %s); DELETE FROM tiles_areacellset"
                            " WHERE source = %s",
                            [source, source],
                        )
                    started = time.perf_counter()
                    cur.execute(
                        "UPDATE spatial_component SET geom = ST_Translate(geom, 0.0002, 0)"
                        " WHERE id IN (SELECT c.id FROM spatial_component c, tiles_areacellset s"
                        " WHERE s.digest = %s AND c.geom_mercator && s.area LIMIT %s)"
                        if label == "with"
                        else "UPDATE spatial_component SET geom = ST_Translate(geom, 0.0002, 0)"
                        " WHERE id IN (SELECT c.id FROM spatial_component c WHERE"
                        " c.geom_mercator && ST_GeomFromEWKB(%s) LIMIT %s)",
                        [digest if label == "with" else area.ewkb, rows],
                    )
                    times[label].append((time.perf_counter() - started) * 1000)
                    transaction.set_rollback(True)
        with_ms, without_ms = (sorted(times[k])[len(times[k]) // 2] for k in times)
        print(f"| {rows:,} | {with_ms:.0f} | {without_ms:.0f} | {with_ms / without_ms:.2f} |")


if __name__ == "__main__":
    main()
