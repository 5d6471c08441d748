"""The deterministic demo city (演示城区): a realistic Chinese urban district generated from a seed.

``generate(seed, scale)`` gives a ``CityPlan`` (every row, geometries in the metric CRS);
``data.demo_city.store.write_plan`` stores it; ``manage.py demo_city`` does both.

Scale: the district's area grows with ``scale`` (about 20 km² and 2,000 unit grids at scale 1,
about 50,000 components); component density per road metre and per park square metre stays the
same, so ``--scale 20`` gives about 40,000 grids and 1M components. The number of streets grows
with the square root of the scale (6 at scale 1, at least 2, at most the district's real
streets); communities hold at most 70 grids.

For tests of other packages, ``known_points(n)`` gives points strictly inside generated unit
grids with the grid, community and street they fall in, from the generator's own geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from pyproj import Transformer
from shapely.strtree import STRtree

from .addresses import (
    block_polygon,
    block_uses,
    build_blocks,
    build_doors,
    build_offices,
    build_places,
)
from .addresses import build_storefronts
from .admin_codes import DEFAULT_DISTRICT, District, load_district
from .components import build_components
from .controls import build_controlled_areas
from .grids import build_areas
from .layout import GRID_TARGET_M2, build_layout
from .names import NameBook
from .plan import CityPlan
from .roads import build_roads

GRIDS_PER_SCALE = 2_000
STREETS_AT_SCALE_1 = 6
COMPONENT_DENSITY = 0.55


def metric_srid(lon: float) -> int:
    """The CGCS2000 3-degree Gauss-Krüger CRS (central-meridian variant, EPSG:4534-4554) for a
    longitude; settings.CITY_METRIC_SRID when the longitude lies in that zone."""
    cm = int(round(lon / 3.0)) * 3
    cm = min(max(cm, 75), 135)
    srid = 4534 + (cm - 75) // 3
    configured = settings.CITY_METRIC_SRID
    return configured if configured == srid else srid


def metric_transformers(srid: int) -> tuple[Transformer, Transformer]:
    """(lon/lat -> metric, metric -> lon/lat) for a metric CRS."""
    fwd = Transformer.from_crs(4326, srid, always_xy=True)
    inv = Transformer.from_crs(srid, 4326, always_xy=True)
    return fwd, inv


def street_count(scale: float, district: District) -> int:
    """How many streets a district of this scale gets."""
    n = int(round(STREETS_AT_SCALE_1 * np.sqrt(scale)))
    return max(2, min(n, len(district.streets)))


def _origin(center: tuple[float, float] | None) -> tuple[tuple[float, float], int]:
    """The district centre in metres and the metric CRS it is in."""
    lon, lat = center or settings.CITY_CENTER
    srid = metric_srid(lon)
    fwd, _ = metric_transformers(srid)
    x, y = fwd.transform(lon, lat)
    return (float(x), float(y)), srid


@dataclass
class _Base:
    plan: CityPlan
    layout: object
    names: NameBook
    cell_code: dict


def _generate_base(seed: int, scale: float, center, district_code: str) -> _Base:
    if scale <= 0:
        raise ValueError("scale must be positive")
    rng = np.random.default_rng(seed)
    district = load_district(district_code)
    origin, srid = _origin(center)
    plan = CityPlan(seed=seed, scale=scale, district_code=district.code, metric_srid=srid)
    layout = build_layout(rng, GRIDS_PER_SCALE * scale * GRID_TARGET_M2, origin)
    names = NameBook(rng)
    cell_code = build_areas(plan, layout, district, street_count(scale, district), names)
    return _Base(plan, layout, names, cell_code)


def generate(
    seed: int = 1,
    scale: float = 1.0,
    center: tuple[float, float] | None = None,
    district_code: str = DEFAULT_DISTRICT,
) -> CityPlan:
    """Gives the whole demo city for `seed` and `scale` (same inputs, same rows)."""
    base = _generate_base(seed, scale, center, district_code)
    plan, layout, names = base.plan, base.layout, base.names
    rng = names.rng
    uses = block_uses(layout, rng)
    build_roads(plan, layout, base.cell_code, names, uses)
    build_doors(plan, rng)
    tree = STRtree([g.geom for g in plan.grids])

    def grid_of_point(point) -> str | None:
        hits = tree.query(point, predicate="intersects")
        return plan.grids[int(min(hits))].code if len(hits) else None

    blocks = build_blocks(plan, layout, names, uses, grid_of_point)
    blocks["block_polygon"] = lambda i, j: block_polygon(layout, i, j)
    build_offices(plan, names)
    build_storefronts(plan, names)
    build_places(plan, layout, names)
    build_controlled_areas(plan, blocks)
    build_components(plan, layout, blocks, COMPONENT_DENSITY, rng)
    return plan


def known_points(
    n: int,
    seed: int = 0,
    city_seed: int = 1,
    scale: float = 0.05,
    center: tuple[float, float] | None = None,
) -> list[dict]:
    """Gives `n` random lon/lat points, each at least 2 m inside one unit grid of the city
    generated with (`city_seed`, `scale`), with that grid's code, community and street code."""
    base = _generate_base(city_seed, scale, center, DEFAULT_DISTRICT)
    grids = base.plan.grids
    rng = np.random.default_rng(seed)
    _, inv = metric_transformers(base.plan.metric_srid)
    out: list[dict] = []
    while len(out) < n:
        grid = grids[int(rng.integers(len(grids)))]
        inner = grid.geom.buffer(-2.0)
        minx, miny, maxx, maxy = inner.bounds
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(inner, x, y):
            continue
        lon, lat = inv.transform(x, y)
        out.append(
            {
                "lon": float(lon),
                "lat": float(lat),
                "grid": grid.code,
                "community": grid.community,
                "street": grid.community[:9],
            }
        )
    return out
