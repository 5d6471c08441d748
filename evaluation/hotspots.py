"""Space-time hot spots of cases (时空热点分析) over the unit grids (单元网格).

Counts per area are not hot spots: a street with many cases may simply be large. A hot spot
is a unit grid whose neighbourhood (the grid and the grids touching it, queen contiguity)
holds significantly more cases than the study area on average: the Getis-Ord Gi* statistic
(Getis & Ord 1992; Ord & Getis 1995), with binary weights including the grid itself,

    Gi* = (Σj wij xj − x̄ Σj wij) / (s √((n Σj wij² − (Σj wij)²) / (n − 1)))

with x̄ and s the mean and standard deviation of the n grids' counts. Gi* is a z-score; its
confidence (置信度) is 99% for |z| ≥ 2.576, 95% for ≥ 1.960 and 90% for ≥ 1.645 (positive:
hot, negative: cold). It equals ``esda.G_Local(y, w, transform="B", star=True).Zs``
(tests/evaluation/test_hotspots.py runs both on the same counts).

Emerging hot spots (新兴热点): the period is cut into time slices, Gi* is computed per slice,
and the Mann-Kendall test says whether each grid's z rises or falls over the slices; the
categories follow ArcGIS's Emerging Hot Spot Analysis (`CATEGORIES`). Unlike ArcGIS, the
neighbourhood is spatial only (no neighbouring time slices), so a slice's z depends on that
slice's counts alone.

The study area is the unit grids of the caller's areas (`Scope.area_condition`); cases are
the caller's cases of the screen's `Selection`, counted by the unit grid of their placement
snapshot. Neighbours come from PostGIS (ST_Intersects over the grids' GiST index) and become a
`libpysal` weights object; the statistic is computed for every slice at once with its sparse
matrix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
from django.db import connection
from django.db.models import Count
from django.db.models.functions import Trunc
from django.utils import timezone
from psycopg2 import sql
from scipy import sparse, stats

from accounts.scoping import Scope
from core import cache as shared_cache
from spatial.models import Layer

from .statistics import Selection
from .trend import slice_index, slice_starts

# |z| thresholds of the confidence levels, highest first.
CONFIDENCE = ((2.576, 99), (1.960, 95), (1.645, 90))
MIN_SLICES_FOR_TREND = 4
PERSISTENT_SHARE = 0.9
TREND_P = 0.05

# ArcGIS's emerging hot-spot categories (hot; the cold ones mirror them as ``cold_*``).
CATEGORIES = {
    "new": "新热点",
    "consecutive": "连续热点",
    "intensifying": "加强热点",
    "persistent": "持续热点",
    "diminishing": "减弱热点",
    "sporadic": "零星热点",
    "oscillating": "振荡热点",
    "historical": "历史热点",
    "cold_new": "新冷点",
    "cold_consecutive": "连续冷点",
    "cold_intensifying": "加强冷点",
    "cold_persistent": "持续冷点",
    "cold_diminishing": "减弱冷点",
    "cold_sporadic": "零星冷点",
    "cold_oscillating": "振荡冷点",
    "cold_historical": "历史冷点",
    "none": "无明显模式",
}


def gi_star(counts: np.ndarray, weights: sparse.csr_matrix) -> np.ndarray:
    """Gives the Gi* z-score of each row of `counts` (n cells, or n cells × t slices: one
    column per slice) under binary `weights` (n × n, the diagonal set: each cell is its own
    neighbour). A column with no variance gives zeros."""
    x = np.asarray(counts, dtype=float)
    single = x.ndim == 1
    if single:
        x = x[:, None]
    n = x.shape[0]
    mean = x.mean(axis=0)
    sd = np.sqrt(np.maximum((x**2).mean(axis=0) - mean**2, 0.0))
    w_sum = np.asarray(weights.sum(axis=1)).ravel()
    w_sq = np.asarray(weights.multiply(weights).sum(axis=1)).ravel()
    numerator = weights @ x - np.outer(w_sum, mean)
    spread = np.sqrt(np.maximum(n * w_sq - w_sum**2, 0.0) / max(n - 1, 1))
    denominator = np.outer(spread, sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(denominator > 0, numerator / denominator, 0.0)
    return z[:, 0] if single else z


def confidence(z: float) -> int:
    """Gives 99, 95 or 90 for a hot spot of that confidence, the negative for a cold spot, 0
    when not significant."""
    for threshold, level in CONFIDENCE:
        if abs(z) >= threshold:
            return level if z > 0 else -level
    return 0


def mann_kendall(series) -> tuple[float, float]:
    """Gives the Mann-Kendall trend test's z and two-sided p of `series` (ties corrected)."""
    z, p = mann_kendall_rows(np.asarray(series, dtype=float)[None, :])
    return float(z[0]), float(p[0])


def mann_kendall_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives the Mann-Kendall z and two-sided p of each row of `x` (cells × slices) at once: S
    sums sign(x_j − x_i) over the pairs i < j, one vector operation per pair of slices."""
    rows, n = x.shape
    if n < 3:
        return np.zeros(rows), np.ones(rows)
    s = np.zeros(rows)
    for i in range(n - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
    variance = np.full(rows, n * (n - 1) * (2 * n + 5) / 18.0)
    ordered = np.sort(x, axis=1)
    for row in np.flatnonzero((np.diff(ordered, axis=1) == 0).any(axis=1)):  # rows with ties
        _, ties = np.unique(ordered[row], return_counts=True)
        variance[row] -= float((ties * (ties - 1) * (2 * ties + 5)).sum()) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(
            (variance > 0) & (s != 0), (s - np.sign(s)) / np.sqrt(np.maximum(variance, 1e-12)), 0.0
        )
    return z, 2 * stats.norm.sf(np.abs(z))


def _hot_category(hot: np.ndarray, cold: np.ndarray, trend_z: float, trend_p: float) -> str:
    """The category of one cell from its hot and cold slices (ArcGIS's definitions)."""
    t = len(hot)
    share = hot.sum() / t
    if not hot[-1]:
        return "historical" if share >= PERSISTENT_SHARE else "none"
    if share >= PERSISTENT_SHARE:
        if trend_p < TREND_P:
            return "intensifying" if trend_z > 0 else "diminishing"
        return "persistent"
    earlier = hot[:-1]
    if not earlier.any():
        return "new"
    run = 0
    for value in hot[::-1]:
        if not value:
            break
        run += 1
    if run >= 2 and not hot[: t - run].any():
        return "consecutive"
    return "oscillating" if cold[:-1].any() else "sporadic"


def emerging(z: np.ndarray) -> list[str]:
    """Gives the emerging hot-spot category of each row of `z` (cells × slices)."""
    found = []
    trends, trend_ps = mann_kendall_rows(z)
    for row, trend_z, trend_p in zip(z, trends, trend_ps):
        hot, cold = row >= CONFIDENCE[-1][0], row <= -CONFIDENCE[-1][0]
        category = _hot_category(hot, cold, trend_z, trend_p)
        if category == "none":
            mirrored = _hot_category(cold, hot, -trend_z, trend_p)
            category = "none" if mirrored == "none" else f"cold_{mirrored}"
        found.append(category)
    return found


# The unit grids the caller sees, and the pairs of them that touch (queen contiguity).
CELLS_SQL = "SELECT u.id, u.code FROM spatial_unitgrid u WHERE {visible} ORDER BY u.code"
NEIGHBOURS_SQL = """
SELECT a.id, b.id FROM spatial_unitgrid a
JOIN spatial_unitgrid b ON a.geom && b.geom AND a.id <> b.id AND ST_Intersects(a.geom, b.geom)
WHERE a.id = ANY(%(ids)s) AND b.id = ANY(%(ids)s)
"""
GEOMETRY_SQL = (
    "SELECT code, ST_AsGeoJSON(geom, 6) FROM spatial_unitgrid WHERE code = ANY(%(codes)s)"
)
_weights_cache: dict[str, sparse.csr_matrix] = {}
WEIGHTS_KEPT_S = 7 * 24 * 3600


def cells(scope: Scope) -> tuple[list[int], list[str]]:
    """Gives the ids and codes of the unit grids of the caller's areas (the whole city for
    those who see everything), by code. The unit grid layer may be public, but the study area
    is where the caller's cases can be: a street's inspector compares the street's grids with
    each other, not with the rest of the city, where they see no case."""
    condition = scope.area_condition(sql.Identifier("u", "geom"))
    if condition.empty:
        return [], []
    with connection.cursor() as cursor:
        visible, values = condition.named("scope", cursor.connection)
        cursor.execute(CELLS_SQL.format(visible=visible), values)
        rows = cursor.fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def weights(ids: list[int]):
    """Gives the binary queen-contiguity weights of the unit grids `ids` as a `libpysal` W
    (in the order of `ids`; islands have no neighbours)."""
    from libpysal.weights import W

    with connection.cursor() as cursor:
        cursor.execute(NEIGHBOURS_SQL, {"ids": ids})
        pairs = cursor.fetchall()
    neighbours: dict[int, list[int]] = {i: [] for i in ids}
    for a, b in pairs:
        neighbours[a].append(b)
    return W(neighbours, id_order=ids, silence_warnings=True)


def grids_version() -> str:
    """The unit grids' version: their layer's counter and time, bumped by a statement trigger
    on every write to the table (spatial.layers_core); the time tells apart two databases
    whose counters happen to agree."""
    found = (
        Layer.objects.filter(table_name="spatial_unitgrid")
        .order_by("pk")
        .values_list("version", "updated_at")
        .first()
    )
    return f"{found[0]}:{found[1].timestamp():.6f}" if found else "none"


def star_matrix(ids: list[int]) -> sparse.csr_matrix:
    """The weights of `ids` with each cell its own neighbour. Building them is a spatial
    self-join (8–10 s over the 38,802 grids of a large city, bench/README.md), so they are
    kept by the set of cells and the grids' version: in the process, and in the shared cache
    for the other workers and the next start (`warm_weights` builds the city's ahead)."""
    digest = hashlib.sha1(np.asarray(ids, dtype=np.int64).tobytes()).hexdigest()
    key = f"hotspots:weights:{digest}:{grids_version()}"
    found = _weights_cache.get(key)
    if found is None:
        found = shared_cache.read(key)
    if found is None:
        matrix = weights(ids).sparse.tocsr().astype(float)
        found = (matrix + sparse.identity(len(ids), format="csr")).tocsr()
        found.data[:] = 1.0
        shared_cache.write(key, found, WEIGHTS_KEPT_S)
    if len(_weights_cache) > 32:
        _weights_cache.clear()
    _weights_cache[key] = found
    return found


def warm_weights() -> int:
    """Builds (or finds) the weights of the whole city's unit grids, the study area of those
    who see everything; gives the number of cells."""
    from accounts.scoping import system_scope

    ids, _ = cells(system_scope("evaluation:hot spot weights"))
    if len(ids) >= 3:
        star_matrix(ids)
    return len(ids)


def counts(scope: Scope, chosen: Selection, codes: list[str]) -> np.ndarray:
    """Gives the selected cases per unit grid (rows, in the order of `codes`) and time slice
    (columns)."""
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
    # A year's rows are ~350k (grid, slice) pairs over a dozen slices: the rows are read
    # through a plain cursor (the ORM makes each slice an aware datetime) and each distinct
    # slice is placed once (the SQL gives local wall-clock times; 0.6 s of 4 s before).
    sql, values = rows.query.sql_with_params()
    columns: dict[dt.datetime, int] = {}
    local = timezone.get_current_timezone()
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        fetched = cursor.fetchall()
    for code, at, n in fetched:
        column = columns.get(at)
        if column is None:
            aware = at if at.tzinfo else at.replace(tzinfo=local)
            column = columns[at] = slice_index(period.start, aware, unit)
        row = position.get(code)
        if row is not None and 0 <= column < table.shape[1]:
            table[row, column] += n
    return table


def hot_spots(scope: Scope, chosen: Selection, *, every_cell: bool = False) -> dict:
    """Gives the Gi* hot spots of the selected cases over the caller's unit grids for the
    whole period, with each grid's emerging category over the period's slices; the cells
    with a pattern as GeoJSON features (`every_cell`: all of them)."""
    ids, codes = cells(scope)
    period = chosen.period
    answer = {
        **period.as_json(),
        "slice": period.slice,
        "slices": len(slice_starts(period)),
        "cells": len(ids),
        "confidence": {str(level): 0 for level in (99, 95, 90, -90, -95, -99)},
        "categories": {},
        "type": "FeatureCollection",
        "features": [],
    }
    if len(ids) < 3:
        return answer
    table = counts(scope, chosen, codes)
    matrix = star_matrix(ids)
    total = table.sum(axis=1)
    z = gi_star(total, matrix)
    trend = table.shape[1] >= MIN_SLICES_FOR_TREND
    categories = emerging(gi_star(table, matrix)) if trend else ["none"] * len(ids)
    shown = {}
    for n, code in enumerate(codes):
        level = confidence(z[n])
        if level:
            answer["confidence"][str(level)] += 1
        answer["categories"][categories[n]] = answer["categories"].get(categories[n], 0) + 1
        if every_cell or level or categories[n] != "none":
            shown[code] = {
                "code": code,
                "count": int(total[n]),
                "z": round(float(z[n]), 4),
                "p": round(float(2 * stats.norm.sf(abs(z[n]))), 6),
                "confidence": level,
                "category": categories[n],
                "category_name": CATEGORIES[categories[n]],
            }
    answer["trend"] = trend
    with connection.cursor() as cursor:
        cursor.execute(GEOMETRY_SQL, {"codes": list(shown)})
        geometries = dict(cursor.fetchall())
    answer["features"] = [
        {"type": "Feature", "geometry": json.loads(geometries[code]), "properties": props}
        for code, props in shown.items()
        if code in geometries
    ]
    return answer
