"""Gi* hot spots (`evaluation.hotspots`) for a year over the whole city, in process: the counts
per unit grid and month against their own SQL run raw (captured, then sent again through the
cursor), then the whole answer, with the weights built first as beat does. The counts' earlier
placement (the ORM's aware datetimes, one slice computation per row) was measured by this
script's first version (git history; bench/README.md).

    .venv/bin/python bench/hotspots.py [bench_indicators]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.indicators import p50  # noqa: E402  (a warm run, then the median)
from bench.tiles import django_setup  # noqa: E402


def main() -> None:
    django_setup(sys.argv[1] if len(sys.argv) > 1 else "bench_indicators")
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from accounts.scoping import system_scope
    from evaluation import hotspots
    from evaluation.statistics import Selection

    scope = system_scope("bench:hotspots")
    chosen = Selection.from_query(QueryDict("period=year"))
    print(f"load average {os.getloadavg()}; weights of {hotspots.warm_weights()} cells built")
    ids, codes = hotspots.cells(scope)
    with CaptureQueriesContext(connection) as captured:
        hotspots.counts(scope, chosen, codes)
    sql = captured.captured_queries[-1]["sql"]

    def raw():
        with connection.cursor() as cursor:
            cursor.cursor.execute(sql)
            cursor.cursor.fetchall()

    print("| step | p50 ms |\n|---|---|")
    for name, fn in [
        ("raw SQL of the counts", raw),
        ("counts", lambda: hotspots.counts(scope, chosen, codes)),
        ("the whole answer", lambda: hotspots.hot_spots(scope, chosen)),
    ]:
        print(f"| {name} | {p50(fn, 3):.0f} |")
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
