"""Open311 `GET requests` over HTTP against a running server, beside its peer: the same page of
cases read by one raw SQL query (the columns the answer needs, with class and department).

    CITYGRID_PG_DB=<db> .venv/bin/python bench/open311.py --base http://127.0.0.1:PORT [--runs 40]

Reports p50 / p99 of `requests.json` and `requests.xml` (page_size 200 and 1000, warm: reverse
geocoded addresses in the cache after the first run), of the in-process public fields
(`publication.gather`) with the address cache cold (every point reverse geocoded), and of the
raw SQL, with the ratios and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from cases import visibility  # noqa: E402
from cases.open311 import publication  # noqa: E402
from geocoder.reverse import reverse  # noqa: E402

RAW_SQL = """
SELECT c.number, c.state, c.description, c.reported_at, c.updated_at, c.deadline,
       c.handling_deadline, c.address, ST_X(c.geom), ST_Y(c.geom), k.code, k.name, d.name
  FROM cases_case c JOIN data_category k ON k.id = c.category_id
  LEFT JOIN accounts_department d ON d.id = c.department_id
 WHERE c.reported_at >= now() - interval '90 days'
 ORDER BY c.reported_at DESC, c.id DESC LIMIT %s
"""


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.99))]


def raw(size: int):
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL, [size])
        return cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    session = requests.Session()
    print(f"load average {os.getloadavg()[0]:.2f}; cases in 90 days: {len(raw(100000))}")
    for size in (200, 1000):
        rows = len(raw(size))
        sql = timed(lambda size=size: raw(size), args.runs)
        print(f"page_size {size} ({rows} rows): raw SQL p50 {sql[0]:.1f} / p99 {sql[1]:.1f} ms")
        for fmt in ("json", "xml"):
            url = f"{args.base}/open311/v2/requests.{fmt}?page_size={size}"

            def get(url=url):
                answer = session.get(url, timeout=60)
                answer.raise_for_status()

            p50, p99 = timed(get, args.runs)
            print(f"  requests.{fmt}: p50 {p50:.1f} / p99 {p99:.1f} ms (x{p50 / sql[0]:.0f} raw)")
    cases = list(
        visibility.public_cases()
        .select_related("category", "department")
        .order_by("-reported_at")[:200]
    )
    started = time.perf_counter()
    for case in cases:
        reverse(case.geom.x, case.geom.y)
    cold = (time.perf_counter() - started) * 1000
    warm = timed(lambda: publication.gather(cases), 10)
    print(
        f"in process, 200 cases: reverse geocoding every point {cold:.0f} ms (cold cache); "
        f"gather warm p50 {warm[0]:.1f} ms"
    )


if __name__ == "__main__":
    main()
