"""Geocoder accuracy and latency on a labelled set built from the demo city.

    CITYGRID_PG_DB=bench_geocoder .venv/bin/python bench/geocode_eval.py [--per 400] [--seed 7] [--http]

(the database must hold the demo city: `manage.py migrate && manage.py demo_city --seed 1
--scale 0.05`). Top-1 is right when it lies within 30 m of the truth point, inside the truth
area (area-level items), or within 30 m of the road's part inside the named area (1, 2).
"""

from __future__ import annotations

import argparse
import inspect
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
os.environ.setdefault("CITYGRID_PG_DB", "bench_geocoder")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from geocode_evalset import build  # noqa: E402
from geocoder.dictionary import gazetteer  # noqa: E402
from geocoder.match import geocode, metres  # noqa: E402
from geocoder.api import suggest  # noqa: E402
from geocoder.reverse import reverse  # noqa: E402
from spatial.locate import locate  # noqa: E402


def right(item: dict, lon: float, lat: float) -> bool:
    truth = item["truth"]
    if truth[0] == "point":
        return metres(lon, lat, truth[1], truth[2]) <= 30.0
    with connection.cursor() as cur:
        if truth[0] == "area":
            table = {
                "spatial_unitgrid": "spatial_unitgrid",
                "spatial_adminarea": "spatial_adminarea",
            }[truth[1]]
            cur.execute(
                f"SELECT ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) FROM {table}"
                " WHERE id = %s",
                [lon, lat, truth[2]],
            )
        else:
            cur.execute(
                "SELECT ST_Distance(ST_Intersection(r.geom, a.geom)::geography,"
                " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) <= 30"
                " FROM geocoder_road r, spatial_adminarea a WHERE r.id = %s AND a.id = %s",
                [lon, lat, truth[1], truth[2]],
            )
        return bool(cur.fetchone()[0])


def answer(q: str, g) -> list:
    """Gives every candidate (no confidence floor, so the fit sees the weak ones too)."""
    if "min_confidence" in inspect.signature(geocode).parameters:
        return geocode(q, limit=5, g=g, min_confidence=0.0)[1]
    return geocode(q, limit=5, g=g)[1]  # the geocoder before confidence existed


def sureness(c) -> float:
    """The candidate's confidence, or its score before confidence existed."""
    return getattr(c, "confidence", c.score)


def calibration_table(answered: list[tuple[float, bool]]) -> None:
    """Prints confidence bucket → share of top-1 answers right, and the ≥ 0.8 line."""
    print("\n| confidence | answers | right |\n|---|---|---|")
    for low in [i / 10 for i in range(10)]:
        got = [ok for conf, ok in answered if low <= conf < low + 0.1 or (low == 0.9 and conf == 1)]
        if got:
            print(f"| {low:.1f}–{low + 0.1:.1f} | {len(got)} | {100 * sum(got) / len(got):.1f}% |")
    high = [ok for conf, ok in answered if conf >= 0.8]
    if high:
        print(f"| ≥ 0.8 | {len(high)} | {100 * sum(high) / len(high):.1f}% |")


def fit(points: list[tuple[float, bool, bool]], bins: int = 50) -> dict:
    """Gives the CALIBRATION knots per exact flag: evidence bins 0.02 wide, share right
    made monotone (pool adjacent violators), a bin right less than 95% held below 0.8."""
    out = {}
    for exact in (True, False):
        xs = sorted((e, ok) for e, ok, ex in points if ex == exact)
        if not xs:
            out[exact] = ((0.0, 0.0), (1.0, 1.0))
            continue
        groups: list[list[tuple[float, bool]]] = []
        for e, ok in xs:  # bins of evidence 1/bins wide, at least 30 answers each
            if groups and (len(groups[-1]) < 30 or int(e * bins) == int(groups[-1][0][0] * bins)):
                groups[-1].append((e, ok))
            else:
                groups.append([(e, ok)])
        # [lowest evidence, highest evidence, right, answers] per bin, then pool adjacent
        # violators so the share right never falls as evidence rises
        blocks = [[grp[0][0], grp[-1][0], sum(ok for _, ok in grp), len(grp)] for grp in groups]
        merged: list[list[float]] = []
        for blk in blocks:
            merged.append(blk)
            while len(merged) > 1 and merged[-2][2] / merged[-2][3] > merged[-1][2] / merged[-1][3]:
                last, prev = merged.pop(), merged.pop()
                merged.append([prev[0], last[1], prev[2] + last[2], prev[3] + last[3]])
        knots = [(0.0, 0.0)]
        for lo, hi, r, n in merged:  # a step per bin: the whole bin gets its share right
            share = r / n
            conf = round(share if share >= 0.95 else min(share, 0.79), 3)
            for x in (lo, hi):
                if x > knots[-1][0]:
                    knots.append((round(x, 4), conf))
        if knots[-1][0] < 1.0:
            knots.append((1.0, knots[-1][1]))
        out[exact] = tuple(knots)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def http_latency(items: list[dict], doors: list[tuple], rng: random.Random) -> None:
    """Times forward (limit 1, with placement), reverse and suggest over HTTP."""
    import requests
    from locate import start_gunicorn

    process, url = start_gunicorn(2)
    try:
        session = requests.Session()
        for _ in range(20):  # both workers load their gazetteer
            session.get(f"{url}/api/v1/geocode", params={"q": items[0]["q"]}, timeout=120)
        runs = {"forward": [], "reverse": [], "suggest": []}
        for item in rng.sample(items, min(500, len(items))):
            t0 = time.perf_counter()
            session.get(
                f"{url}/api/v1/geocode", params={"q": item["q"], "limit": 1}
            ).raise_for_status()
            runs["forward"].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            session.get(
                f"{url}/api/v1/geocode/suggest", params={"q": item["q"][:2]}
            ).raise_for_status()
            runs["suggest"].append((time.perf_counter() - t0) * 1000)
        for _, lon, lat in doors[:500]:
            t0 = time.perf_counter()
            session.get(f"{url}/api/v1/reverse", params={"lon": lon, "lat": lat}).raise_for_status()
            runs["reverse"].append((time.perf_counter() - t0) * 1000)
        for name, ms in runs.items():
            print(
                f"HTTP {name}: p50 {pct(ms, 0.5):.2f} ms, p99 {pct(ms, 0.99):.2f} ms ({len(ms)} requests)"
            )
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per", type=int, default=400, help="sources per combination")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--show-misses", type=int, default=0)
    ap.add_argument("--fit", action="store_true", help="print CALIBRATION knots fitted on this set")
    ap.add_argument(
        "--http",
        action="store_true",
        help="also time the HTTP endpoints on a gunicorn (2 workers) it starts",
    )
    args = ap.parse_args()
    items = build(args.seed, args.per)
    g = gazetteer()
    by_combo, by_noise = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    forward_ms: list[float] = []
    misses = []
    floor = getattr(settings, "GEOCODER_MIN_CONFIDENCE", 0.0)
    answered: list[tuple[float, bool]] = []  # (top-1 confidence, right) with the floor
    evidence: list[tuple[float, bool, bool]] = []  # (evidence, right, exact) of every top-1
    for item in items:
        t0 = time.perf_counter()
        every = answer(item["q"], g)
        forward_ms.append((time.perf_counter() - t0) * 1000)
        none = item["truth"][0] == "none"
        first = every[0] if every else None
        first_ok = first is not None and not none and right(item, first.lon, first.lat)
        if first is not None and hasattr(first, "evidence"):
            evidence.append((first.evidence, first_ok, first.exact))
        cands = [c for c in every if not hasattr(c, "confidence") or c.confidence >= floor]
        if cands:
            answered.append((sureness(cands[0]), first_ok))
        ok = not cands if none else first_ok and bool(cands)
        for table, key in ((by_combo, item["combination"]), (by_noise, item["noise"])):
            table[key][0] += ok
            table[key][1] += 1
        if not ok:
            misses.append((item, cands[0].address if cands else None))
    with_placement: list[float] = []
    for item in items[:: max(1, len(items) // 500)]:
        t0 = time.perf_counter()
        _, cands = geocode(item["q"], limit=5, g=g)
        for c in cands[:1]:
            locate(c.lon, c.lat)
        with_placement.append((time.perf_counter() - t0) * 1000)
    rng = random.Random(args.seed)
    with connection.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM geocoder_dooraddress")
        doors = cur.fetchall()
    reverse_ms, reverse_locate_ms, reverse_ok, reverse_areas = [], [], 0, 0
    sample = rng.sample(doors, min(1000, len(doors)))
    for _, lon, lat in sample:
        plon = lon + rng.uniform(-2, 2) / 85_000
        plat = lat + rng.uniform(-2, 2) / 110_574
        t0 = time.perf_counter()
        found = reverse(plon, plat, g)
        reverse_ms.append((time.perf_counter() - t0) * 1000)
        locate(plon, plat)
        reverse_locate_ms.append((time.perf_counter() - t0) * 1000)
        reverse_ok += found.lon is not None and metres(found.lon, found.lat, lon, lat) < 1.0
        reverse_areas += all(found.parts.get(k) for k in ("district", "street", "community"))
    clean = [i for i in items if i["noise"] == "clean"]
    print(f"items: {len(items)} ({len(clean)} clean, {len(items) - len(clean)} noisy)")
    print("\n| combination | n | top-1 |\n|---|---|---|")
    for key in sorted(by_combo):
        ok, n = by_combo[key]
        print(f"| {key or 'area only'} | {n} | {100 * ok / n:.1f}% |")
    print("\n| noise | n | top-1 |\n|---|---|---|")
    for key in sorted(by_noise, key=lambda k: (k != "clean", k)):
        ok, n = by_noise[key]
        print(f"| {key} | {n} | {100 * ok / n:.1f}% |")
    noisy = [v for k, v in by_noise.items() if k != "clean"]
    print(
        f"\nclean top-1 {100 * by_noise['clean'][0] / by_noise['clean'][1]:.1f}%, "
        f"noisy top-1 {100 * sum(o for o, _ in noisy) / sum(n for _, n in noisy):.1f}%"
    )
    print(
        f"forward (parse+match, in-process): p50 {pct(forward_ms, 0.5):.2f} ms, "
        f"p99 {pct(forward_ms, 0.99):.2f} ms; with locate of the top candidate: "
        f"p50 {pct(with_placement, 0.5):.2f} ms, p99 {pct(with_placement, 0.99):.2f} ms"
    )
    print(
        f"reverse ({len(sample)} points 0-2 m from a door): right door {100 * reverse_ok / len(sample):.1f}%, "
        f"district+street+community named {100 * reverse_areas / len(sample):.1f}%, "
        f"p50 {pct(reverse_ms, 0.5):.2f} ms, p99 {pct(reverse_ms, 0.99):.2f} ms; with locate: "
        f"p50 {pct(reverse_locate_ms, 0.5):.2f} ms, p99 {pct(reverse_locate_ms, 0.99):.2f} ms"
    )
    prefixes = [i["q"][:n] for i in clean[:500] for n in (1, 2, 3)][:1000]
    suggest_ms = []
    for prefix in prefixes:
        t0 = time.perf_counter()
        suggest(prefix, 10)
        suggest_ms.append((time.perf_counter() - t0) * 1000)
    print(
        f"suggest ({len(prefixes)} prefixes of 1-3 characters): p50 {pct(suggest_ms, 0.5):.3f} ms, "
        f"p99 {pct(suggest_ms, 0.99):.3f} ms"
    )
    label = "confidence" if evidence else "score (no confidence before this change)"
    print(f"\ncalibration of top-1 answers by {label}, floor {floor}:")
    calibration_table(answered)
    if args.fit:
        print("\nCALIBRATION =", fit(evidence))
    if args.http:
        http_latency(items, sample, rng)
    for item, got in misses[: args.show_misses]:
        print("MISS", item["combination"], item["noise"], item["q"], "→", got)


if __name__ == "__main__":
    main()
