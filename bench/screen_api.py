"""The wall screen's API at 100k cases: each /api/v1/screen/… call for the year as the leader
(the whole city), in process through Django's test client, p50 and max of `--runs`, against the
case list's first page (`GET /api/v1/cases?limit=50`, the console's call) measured the same way.

    .venv/bin/python bench/screen_api.py --db bench_screen [--runs 7]

The database is bench/screen.py's (scale-1 city, 103k cases over the year). The first call of
each URL warms the process and is left out.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup  # noqa: E402

YEAR = "period=year"
URLS = [
    ("peer: case list, first page", "/api/v1/cases?limit=50"),
    ("census by district", f"/api/v1/screen/census?{YEAR}"),
    ("census by street (drill-down)", f"/api/v1/screen/census?{YEAR}&level=street"),
    ("cases of a cell (50)", f"/api/v1/screen/cases?{YEAR}&measure=overdue&limit=50"),
    ("latest cases (40)", f"/api/v1/screen/cases?{YEAR}&limit=40"),
    ("case index and trend", f"/api/v1/screen/index?{YEAR}"),
    ("sources and stages", f"/api/v1/screen/sources?{YEAR}"),
    ("hot classes, streets, hours", f"/api/v1/screen/hot?{YEAR}"),
    ("Gi* hot spots (12 slices)", f"/api/v1/screen/hotspots?{YEAR}"),
    ("migration lines", f"/api/v1/screen/flows?{YEAR}"),
    ("supervision stages", "/api/v1/supervision/stages?period=all"),
    ("supervision list (handling)", "/api/v1/supervision/cases?period=all&state=handling"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_screen")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    load_before = os.getloadavg()
    django_setup(args.db)
    from django.test import Client

    from accounts.models import Person
    from cases.models import Case

    client = Client()
    client.force_login(Person.objects.get(user__username="leader").user)
    rows = []
    for label, url in URLS:
        assert client.get(url).status_code == 200, url  # warm
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            answer = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, (url, answer.content[:200])
        rows.append((label, statistics.median(times), max(times)))
    peer = rows[0][1]
    print(
        f"{Case.objects.count()} cases; load average before {load_before}, after {os.getloadavg()}"
    )
    print("| call | p50 (ms) | max (ms) | p50 / peer |")
    print("|---|---|---|---|")
    for label, p50, worst in rows:
        print(f"| {label} | {p50:.0f} | {worst:.0f} | {p50 / peer:.1f} |")


if __name__ == "__main__":
    main()
