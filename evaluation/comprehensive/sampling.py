"""Field sampling (实地考察抽样, spec 4.2 and 4.6.7) as a spatial query and a reproducible draw.

The candidates of a sampling rule are the enabled samples of its type in its object, within its
area (a street or district: ``ST_Intersects``), with the attribute values it names (``@>`` on
the attributes), within the caller's areas — one SQL query, `CANDIDATES_SQL`.

The draw (`draw`) is a pure function of the candidates and the rule:

1. **Order.** Candidates sorted by id are shuffled by NumPy's PCG64 generator seeded with the
   rule's seed: the same candidates, count and seed give the same draw, whatever order the
   database returned them in.
2. **Strata.** With `stratify`, each street (街道) gets a quota in proportion to its candidates
   (largest remainders, ties to the lower street id; samples in no street are a stratum of
   their own), so ``floor(count·nᵢ/N) ≤ quotaᵢ ≤ ceil(count·nᵢ/N)``.
3. **Minimum distance.** Walking the shuffled order, a candidate is taken while its stratum
   has quota left and no sample already taken lies within `min_distance_m` of it (between
   anchors: a point on each sample's geometry). Distances are measured in a transverse
   Mercator projection centred on the candidates, whose scale error within 40 km of its centre
   is below 2·10⁻⁵; the minimum is raised by that factor, so the geodesic distance between
   any two drawn samples is at least the minimum.
4. **Shortfall.** When strata cannot fill their quotas at that distance, a second walk fills
   the remainder from any stratum. Fewer than `count` are drawn only when every candidate left
   lies within the minimum distance of a drawn one (or there are fewer candidates).

A 500-sample stratified draw with a minimum distance from 100,000 candidates takes well under a
second (bench/sampling.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
from django.db import connection
from psycopg2 import sql
from pyproj import Transformer

from accounts.scoping import Scope

TM_SCALE_MARGIN = 1 + 2e-5

CANDIDATES_SQL = """
SELECT p.id, p.street_id, ST_X(p.anchor), ST_Y(p.anchor)
FROM evaluation_samplepoint p
WHERE p.object_id = %(object)s AND p.sample_type_id = %(type)s AND p.enabled
  AND (%(area)s::bigint IS NULL OR ST_Intersects(p.geom,
       (SELECT a.geom FROM spatial_adminarea a WHERE a.id = %(area)s)))
  AND p.attributes @> %(attributes)s::jsonb
  AND {scope}
ORDER BY p.id
"""


@dataclass(frozen=True)
class Rule:
    """What a draw needs of a sampling rule (抽样规则)."""

    object_id: int
    sample_type_id: int
    count: int
    area_id: int | None = None
    attributes: dict = field(default_factory=dict)
    stratify: bool = True
    min_distance_m: float = 0.0
    seed: int = 1


@dataclass
class Stratum:
    street: int | None
    available: int
    quota: int
    drawn: int = 0


@dataclass
class Draw:
    """The chosen sample ids in drawing order, and the strata with their quotas."""

    chosen: list[int]
    available: int
    strata: list[Stratum]


def candidates(scope: Scope, rule: Rule) -> tuple[np.ndarray, list, np.ndarray, np.ndarray]:
    """Gives (ids, streets, lons, lats) of the rule's candidates the caller may see."""
    condition = scope.area_condition(sql.SQL("p.geom"))
    with connection.cursor() as cursor:
        scope_sql, scope_params = condition.named("scope", cursor.connection)
        cursor.execute(
            CANDIDATES_SQL.format(scope=scope_sql),
            {
                "object": rule.object_id,
                "type": rule.sample_type_id,
                "area": rule.area_id,
                "attributes": json.dumps(rule.attributes, ensure_ascii=False),
                **scope_params,
            },
        )
        rows = cursor.fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    streets = [r[1] for r in rows]
    lons = np.array([r[2] for r in rows], dtype=np.float64)
    lats = np.array([r[3] for r in rows], dtype=np.float64)
    return ids, streets, lons, lats


def quotas(sizes: dict, count: int) -> dict:
    """Gives each stratum's share of `count` in proportion to `sizes` (largest remainders,
    ties to the lower key; a stratum never gets more than it has)."""
    total = sum(sizes.values())
    count = min(count, total)
    if total == 0:
        return {key: 0 for key in sizes}
    exact = {key: count * n / total for key, n in sizes.items()}
    given = {key: math.floor(v) for key, v in exact.items()}
    left = count - sum(given.values())
    order = sorted(sizes, key=lambda k: (-(exact[k] - given[k]), _key(k)))
    for key in order[:left]:
        given[key] += 1
    return given


def _key(street) -> tuple:
    return (street is None, street or 0)


def metres(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Projects lon/lat to metres in a transverse Mercator centred on the points (GRS80)."""
    if len(lons) == 0:
        return lons, lats
    lon0 = float((lons.min() + lons.max()) / 2)
    lat0 = float((lats.min() + lats.max()) / 2)
    projection = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=tmerc +lat_0={lat0} +lon_0={lon0} +k=1 +ellps=GRS80 +units=m",
        always_xy=True,
    )
    x, y = projection.transform(lons, lats)
    return np.asarray(x), np.asarray(y)


def draw(
    ids: np.ndarray,
    streets: list,
    lons: np.ndarray,
    lats: np.ndarray,
    *,
    count: int,
    seed: int,
    stratify: bool = True,
    min_distance_m: float = 0.0,
) -> Draw:
    """Draws up to `count` of the candidates (see the module doc); the inputs are parallel
    arrays in any order."""
    order = np.argsort(ids, kind="stable")
    ids, lons, lats = ids[order], lons[order], lats[order]
    streets = [streets[i] for i in order]
    n = len(ids)
    shuffled = np.random.Generator(np.random.PCG64(seed)).permutation(n)
    sizes: dict = {}
    for street in streets:
        sizes[street] = sizes.get(street, 0) + 1
    quota = quotas(sizes, count) if stratify else {key: n for key in sizes}
    strata = {
        key: Stratum(key, sizes[key], quota[key] if stratify else 0)
        for key in sorted(sizes, key=_key)
    }
    projected = metres(lons, lats)
    x, y = projected[0].tolist(), projected[1].tolist()  # floats: faster one by one
    distance = min_distance_m * TM_SCALE_MARGIN
    grid: dict[tuple[int, int], list[int]] = {}
    chosen: list[int] = []
    taken = np.zeros(n, dtype=bool)

    def free(i: int) -> bool:
        if distance <= 0:
            return True
        cx, cy = int(x[i] // distance), int(y[i] // distance)
        for gx in (cx - 1, cx, cx + 1):
            for gy in (cy - 1, cy, cy + 1):
                for j in grid.get((gx, gy), ()):
                    if (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2 < distance * distance:
                        return False
        return True

    def take(i: int) -> None:
        taken[i] = True
        chosen.append(int(ids[i]))
        strata[streets[i]].drawn += 1
        if distance > 0:
            grid.setdefault((int(x[i] // distance), int(y[i] // distance)), []).append(i)

    target = min(count, n)
    walks = [True, False] if stratify else [False]
    for by_quota in walks:
        for i in shuffled.tolist():
            if len(chosen) >= target:
                break
            if taken[i]:
                continue
            stratum = strata[streets[i]]
            if by_quota and stratum.drawn >= stratum.quota:
                continue
            if free(i):
                take(i)
    return Draw(chosen, n, list(strata.values()))


def draw_rule(scope: Scope, rule: Rule) -> Draw:
    """The draw of `rule` over the candidates the caller may see."""
    ids, streets, lons, lats = candidates(scope, rule)
    return draw(
        ids,
        streets,
        lons,
        lats,
        count=rule.count,
        seed=rule.seed,
        stratify=rule.stratify,
        min_distance_m=rule.min_distance_m,
    )
