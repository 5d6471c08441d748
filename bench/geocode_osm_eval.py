"""Geocoder on real road names: the two OSM extracts in shared/data/osm, the data the Nominatim
anchor in ARCHITECTURE.md was measured on.

    createdb bench_geocoder_osm   # (-h var/postgres/run -p 54329 -U citygrid)
    CITYGRID_PG_DB=bench_geocoder_osm .venv/bin/python manage.py migrate
    CITYGRID_PG_DB=bench_geocoder_osm .venv/bin/python bench/geocode_osm_eval.py

It REPLACES the roads and road segments of that database (it refuses any database whose name does not end in
_osm): each named highway becomes one Road (ways of one name merged; the longest merged piece
is the addressed centreline) and every way a RoadSegment of the base road layer. Queries per name: exact, with a city + district prefix, followed by 附近,
an unspaced door address (name + 18号; there are no door points, so the road is the answer),
and with one interior character missing. Top-1 is right within 30 m of any way of that name.
Reverse: points 5–15 m off a random way, right when the answer names that road.
"""

from __future__ import annotations

import os
import random
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from geocoder.dictionary import gazetteer, invalidate  # noqa: E402
from geocoder.match import geocode  # noqa: E402
from geocoder.reverse import reverse  # noqa: E402

OSM_DIR = ROOT.parent / "shared" / "data" / "osm"
if not OSM_DIR.exists():
    OSM_DIR = Path("/work/shared/data/osm")
PREFIX = {"beijing": "北京市海淀区", "shanghai": "上海市黄浦区"}


def read_ways(path: Path) -> dict[str, list[list[tuple[float, float]]]]:
    """Gives name → list of way coordinate lists for named highways."""
    nodes: dict[str, tuple[float, float]] = {}
    ways: dict[str, list[list[tuple[float, float]]]] = defaultdict(list)
    for _, el in ET.iterparse(path, events=("end",)):
        if el.tag == "node":
            nodes[el.get("id")] = (float(el.get("lon")), float(el.get("lat")))
        elif el.tag == "way":
            tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
            name = tags.get("name:zh") or tags.get("name")
            if "highway" in tags and name and any("\u4e00" <= c <= "\u9fff" for c in name):
                coords = [nodes[n.get("ref")] for n in el.findall("nd") if n.get("ref") in nodes]
                if len(coords) >= 2:
                    ways[name.strip()].append(coords)
            el.clear()
    return ways


def load_roads(city_ways: dict[str, dict[str, list]]) -> None:
    """Replaces geocoder_road with one road per name (ways merged in SQL)."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("TRUNCATE geocoder_road CASCADE")
        cur.execute("DELETE FROM spatial_roadsegment")
        cur.execute("DROP TABLE IF EXISTS bench_osm_way")
        cur.execute(
            "CREATE TABLE bench_osm_way (city text, name text, geom geometry(LineString, 4326))"
        )
        for city, ways in city_ways.items():
            rows = [
                (city, name, "LINESTRING(" + ",".join(f"{x} {y}" for x, y in c) + ")")
                for name, lines in ways.items()
                for c in lines
            ]
            cur.executemany(
                "INSERT INTO bench_osm_way VALUES (%s, %s, ST_GeomFromText(%s, 4326))", rows
            )
        # Longest piece of the merged ways of one name (per city) is the road's centreline.
        cur.execute(
            """
            INSERT INTO geocoder_road (name, aliases, kind, odd_side, geom)
            SELECT DISTINCT ON (name) name, '{}', 'street', 'left', piece FROM (
              SELECT name, (ST_Dump(ST_LineMerge(ST_Collect(geom)))).geom AS piece
                FROM bench_osm_way GROUP BY city, name) m
             ORDER BY name, ST_Length(piece::geography) DESC
            """
        )
        # Every way is also a road segment of the base road layer, as a city's layer would be.
        cur.execute(
            "INSERT INTO spatial_roadsegment (name, road_class, geom, source_id)"
            " SELECT name, 'branch', geom, '' FROM bench_osm_way"
        )
    invalidate()


def within_30m(name: str, lon: float, lat: float) -> bool:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT bool_or(ST_DWithin(geom::geography,"
            " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 30)) FROM bench_osm_way"
            " WHERE name = %s",
            [lon, lat, name],
        )
        return bool(cur.fetchone()[0])


def nearest_way(lon: float, lat: float) -> str:
    """Gives the name of the way nearest to a point (KNN on the ways, exact distance)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name FROM bench_osm_way ORDER BY"
            " geom::geography <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT 1",
            [lon, lat],
        )
        return cur.fetchone()[0]


def main() -> None:
    db = settings.DATABASES["default"]["NAME"]
    if not db.endswith("_osm"):
        raise SystemExit(f"refusing to replace the roads of {db!r}: use a database named *_osm")
    city_ways = {
        "beijing": read_ways(OSM_DIR / "beijing-haidian-xueyuanlu.osm"),
        "shanghai": read_ways(OSM_DIR / "shanghai-huangpu-drive.osm"),
    }
    load_roads(city_ways)
    g = gazetteer()
    names = {n for ways in city_ways.values() for n in ways}
    rng = random.Random(7)
    results: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    times: list[float] = []
    for city, ways in city_ways.items():
        for name in sorted(ways):
            queries = {
                "exact": name,
                "city+district prefix": PREFIX[city] + name,
                "附近": name + "附近",
                "unspaced door (name18号)": name + "18号",
            }
            if len(name) >= 3:
                i = rng.randrange(1, len(name) - 1)
                missing = name[:i] + name[i + 1 :]
                if missing not in names:
                    queries["one character missing"] = missing
            for kind, q in queries.items():
                t0 = time.perf_counter()
                _, cands = geocode(q, limit=1, g=g)
                times.append((time.perf_counter() - t0) * 1000)
                ok = bool(cands) and within_30m(name, cands[0].lon, cands[0].lat)
                results[kind][0] += ok
                results[kind][1] += 1
    rev_ok = rev_near = rev_n = 0
    rev_ms: list[float] = []
    for city, ways in city_ways.items():
        for name, lines in ways.items():
            coords = rng.choice(lines)
            k = rng.randrange(len(coords) - 1)
            (x0, y0), (x1, y1) = coords[k], coords[k + 1]
            t = rng.random()
            off = rng.uniform(5, 15) * rng.choice((-1, 1))
            dx, dy = (x1 - x0) * 85_000, (y1 - y0) * 110_574
            norm = (dx * dx + dy * dy) ** 0.5 or 1.0
            lon = x0 + t * (x1 - x0) + (-dy / norm) * off / 85_000
            lat = y0 + t * (y1 - y0) + (dx / norm) * off / 110_574
            t0 = time.perf_counter()
            found = reverse(lon, lat, g)
            rev_ms.append((time.perf_counter() - t0) * 1000)
            rev_ok += found.parts.get("road") == name
            rev_near += found.parts.get("road") == nearest_way(lon, lat)
            rev_n += 1
    times.sort()
    rev_ms.sort()
    print(
        f"roads: {len(g.roads)} names from {sum(len(w) for w in city_ways.values())} named highways"
    )
    print("\n| query kind | n | top-1 within 30 m of the road |\n|---|---|---|")
    for kind, (ok, n) in results.items():
        print(f"| {kind} | {n} | {100 * ok / n:.1f}% |")
    print(
        f"\nreverse ({rev_n} points 5-15 m off a random way): names the nearest way's road"
        f" {100 * rev_near / rev_n:.1f}%, the way the point was drawn from {100 * rev_ok / rev_n:.1f}%"
    )
    print(
        f"forward p50 {times[len(times) // 2]:.2f} ms, p99 {times[int(len(times) * 0.99)]:.2f} ms;"
        f" reverse p50 {rev_ms[len(rev_ms) // 2]:.2f} ms, p99 {rev_ms[int(len(rev_ms) * 0.99)]:.2f} ms"
    )


if __name__ == "__main__":
    main()
