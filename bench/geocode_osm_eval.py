"""Geocoder on real road names: the two OSM extracts in shared/data/osm, the data the Nominatim
anchor in ARCHITECTURE.md was measured on, loaded through the product path.

    createdb bench_geocoder_osm   # (-h var/postgres/run -p 54329 -U citygrid)
    CITYGRID_PG_DB=bench_geocoder_osm .venv/bin/python manage.py migrate
    CITYGRID_PG_DB=bench_geocoder_osm .venv/bin/python bench/geocode_osm_eval.py

Each extract is loaded as an address source with `manage.py load_addresses FILE --kind osm`
(replacing that source's previous version), and its ways as the base road layer with
`manage.py load_layer FILE --as roads --layer roads` (appended: run it on a fresh database). It
refuses any database whose name does not end in _osm, so no demo city's addresses mix in. The loader merges the ways of one name into one
road per place the name is used. Queries per name: exact, with a city + district prefix,
followed by 附近, an unspaced door address (name + 18号; the extracts have almost no door
points, so the road is the answer), and with one interior character missing. Top-1 is right
within 30 m of any way of that name. Reverse: points 5–15 m off a random way, right when the
answer names that road. Truth comes from the XML (shapely in UTM metres), not from the loader.
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

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import LineString, Point  # noqa: E402

from geocoder.dictionary import gazetteer  # noqa: E402
from geocoder.match import geocode  # noqa: E402
from geocoder.models import AddressSource  # noqa: E402
from geocoder.reverse import reverse  # noqa: E402

OSM_DIR = ROOT.parent / "shared" / "data" / "osm"
if not OSM_DIR.exists():
    OSM_DIR = Path("/work/shared/data/osm")
FILES = {"beijing": "beijing-haidian-xueyuanlu.osm", "shanghai": "shanghai-huangpu-drive.osm"}
PREFIX = {"beijing": "北京市海淀区", "shanghai": "上海市黄浦区"}
UTM = {"beijing": "EPSG:32650", "shanghai": "EPSG:32651"}


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


class Truth:
    """The ways of one extract in metres (UTM), to measure answers against."""

    def __init__(self, ways: dict[str, list], utm: str) -> None:
        t = Transformer.from_crs("EPSG:4326", utm, always_xy=True)
        self.to_m = lambda g: shapely.transform(
            g, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
        )
        self.names, lines = [], []
        for name, coord_lists in ways.items():
            for coords in coord_lists:
                self.names.append(name)
                lines.append(self.to_m(LineString(coords)))
        self.lines = lines
        self.tree = shapely.STRtree(lines)
        self.by_name: dict[str, list] = defaultdict(list)
        for name, line in zip(self.names, lines):
            self.by_name[name].append(line)

    def within(self, name: str, lon: float, lat: float, metres: float) -> bool:
        p = self.to_m(Point(lon, lat))
        return any(line.distance(p) <= metres for line in self.by_name[name])

    def nearest(self, lon: float, lat: float) -> str:
        return self.names[int(self.tree.nearest(self.to_m(Point(lon, lat))))]


def load_sources() -> dict[str, dict]:
    """Loads each extract as the address source osm-<city> through load_addresses."""
    reports = {}
    for city, name in FILES.items():
        started = time.perf_counter()
        call_command(
            "load_addresses",
            str(OSM_DIR / name),
            kind="osm",
            source=f"osm-{city}",
            extent_check="china",
            sync=True,
            verbosity=0,
        )
        # The base road layer too, as a city's would be (reverse reads its segments).
        call_command(
            "load_layer",
            str(OSM_DIR / name),
            target="roads",
            layer="roads",
            extent_check="china",
            sync=True,
            verbosity=0,
        )
        source = AddressSource.objects.get(name=f"osm-{city}")
        reports[city] = {
            "seconds": time.perf_counter() - started,
            "version": source.version,
            "counts": source.counts,
            "refused": source.refused,
            "skipped": source.skipped,
        }
    return reports


def main() -> None:
    db = settings.DATABASES["default"]["NAME"]
    if not db.endswith("_osm"):
        raise SystemExit(f"refusing to load OSM addresses into {db!r}: use a database named *_osm")
    city_ways = {city: read_ways(OSM_DIR / name) for city, name in FILES.items()}
    truth = {city: Truth(ways, UTM[city]) for city, ways in city_ways.items()}
    loads = load_sources()
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
                ok = bool(cands) and truth[city].within(name, cands[0].lon, cands[0].lat, 30)
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
            rev_near += found.parts.get("road") == truth[city].nearest(lon, lat)
            rev_n += 1
    times.sort()
    rev_ms.sort()
    for city, report in loads.items():
        counts = ", ".join(f"{v} {k}" for k, v in report["counts"].items() if v)
        print(
            f"load_addresses {FILES[city]}: v{report['version']}, {counts}; refused "
            f"{report['refused']}, skipped {report['skipped']}, {report['seconds']:.1f} s"
        )
    print(
        f"roads: {len(g.roads)} roads for {len(names)} names from "
        f"{sum(len(w) for w in city_ways.values())} named highways"
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
