"""Gi* hot spots (`evaluation.hotspots`) for a year over the whole city, in process: the
counts per unit grid and month against their raw SQL and against the earlier placement (the
ORM's aware datetimes, one slice computation per row), then the whole answer.

    .venv/bin/python bench/hotspots.py [bench_indicators]
"""

import statistics as st
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.tiles import django_setup  # noqa: E402

django_setup(sys.argv[1] if len(sys.argv) > 1 else "bench_indicators")
import numpy as np  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.db.models.functions import Trunc  # noqa: E402
from django.utils import timezone  # noqa: E402
from accounts.scoping import system_scope  # noqa: E402
from evaluation import statistics, hotspots  # noqa: E402
from evaluation.trend import slice_index, slice_starts  # noqa: E402

scope = system_scope("x")
chosen = statistics.Selection.from_query(QueryDict("period=year"))
ids, codes = hotspots.cells(scope)
hotspots.star_matrix(ids)


def old():
    period = chosen.period
    unit, starts = period.slice, slice_starts(period)
    rows = (
        chosen.cases(scope)
        .exclude(unit_grid_code="")
        .annotate(slice=Trunc("reported_at", unit, tzinfo=timezone.get_current_timezone()))
        .values_list("unit_grid_code", "slice")
        .annotate(n=Count("id"))
    )
    position = {code: n for n, code in enumerate(codes)}
    table = np.zeros((len(codes), max(len(starts), 1)))
    for code, at, n in rows:
        row, column = position.get(code), slice_index(period.start, at, unit)
        if row is not None and 0 <= column < table.shape[1]:
            table[row, column] += n
    return table


def new():
    return hotspots.counts(scope, chosen, codes)


def sqlonly():
    rows = (
        chosen.cases(scope)
        .exclude(unit_grid_code="")
        .annotate(
            slice=Trunc("reported_at", chosen.period.slice, tzinfo=timezone.get_current_timezone())
        )
        .values_list("unit_grid_code", "slice")
        .annotate(n=Count("id"))
    )
    sql, values = rows.query.sql_with_params()
    with connection.cursor() as c:
        c.execute(sql, values)
        c.fetchall()


assert (old() == new()).all()
import os  # noqa: E402

print("load", os.getloadavg())
for name, fn in [
    ("raw SQL", sqlonly),
    ("counts before", old),
    ("counts after", new),
    ("hot_spots after", lambda: hotspots.hot_spots(scope, chosen)),
]:
    ts = []
    for _ in range(3):
        s = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - s) * 1000)
    print(f"| {name} | {st.median(ts):.0f} |")  # p50 of 3 runs, ms
print("load", os.getloadavg())
