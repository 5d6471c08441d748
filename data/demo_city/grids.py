"""Admin areas and grids of the demo city: streets (街道) and communities (社区) as unions of unit
grids (单元网格), responsibility grids (责任网格) and timing zones (计时区域).

Streets and communities are boxes of road blocks found by recursive bisection, so each is
contiguous, streets tend to be bounded by main roads, and every boundary follows grid edges.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon

from .admin_codes import District
from .layout import MAIN, Layout
from .names import NameBook
from .plan import Area, CityPlan, Grid, ResponsibilityGrid, TimingZone

Box = tuple[int, int, int, int]  # block indexes i0, i1, j0, j1 (half-open)

COMMUNITY_MAX_GRIDS = 70  # communities are split below this; CJ/T 213 allows at most 99
COMMUNITY_MIN_LIMIT = 20  # small cities still get several communities
RESPONSIBILITY_GROUP = (4, 8)


def _weights(layout: Layout) -> np.ndarray:
    a = np.diff(layout.line_u)
    b = np.diff(layout.line_v)
    return np.outer(a, b)


def _cut(box: Box, weights: np.ndarray, layout: Layout, share: float, prefer_main: bool):
    """The best cut of `box` into two non-empty boxes, the first holding about `share`."""
    i0, i1, j0, j1 = box
    total = weights[i0:i1, j0:j1].sum()
    span_x = layout.nodes[layout.line_u[i1], 0, 0] - layout.nodes[layout.line_u[i0], 0, 0]
    span_y = layout.nodes[0, layout.line_v[j1], 1] - layout.nodes[0, layout.line_v[j0], 1]
    best = None
    for axis in (0, 1):
        lo, hi = (i0, i1) if axis == 0 else (j0, j1)
        classes = layout.class_x if axis == 0 else layout.class_y
        sums = weights[i0:i1, j0:j1].sum(axis=1 - axis)
        cum = np.cumsum(sums)
        for c in range(lo + 1, hi):
            frac = cum[c - lo - 1] / total
            cost = abs(frac - share)
            if prefer_main and classes[c] != MAIN:
                cost += 0.08
            longer = span_x >= span_y if axis == 0 else span_y > span_x
            cost += 0.0 if longer else 0.04
            if best is None or cost < best[0]:
                best = (cost, axis, c)
    if best is None:
        return None
    _, axis, c = best
    if axis == 0:
        return (i0, c, j0, j1), (c, i1, j0, j1)
    return (i0, i1, j0, c), (i0, i1, c, j1)


def split_into(box: Box, k: int, weights: np.ndarray, layout: Layout) -> list[Box]:
    """`box` cut into (at most) `k` contiguous boxes of similar grid counts, along main roads
    where that keeps them balanced."""
    if k <= 1:
        return [box]
    k1 = k // 2
    halves = _cut(box, weights, layout, k1 / k, prefer_main=True)
    if halves is None:
        return [box]
    return split_into(halves[0], k1, weights, layout) + split_into(
        halves[1], k - k1, weights, layout
    )


def split_below(box: Box, limit: int, weights: np.ndarray, layout: Layout) -> list[Box]:
    """`box` bisected until each part holds at most `limit` grids."""
    i0, i1, j0, j1 = box
    if weights[i0:i1, j0:j1].sum() <= limit:
        return [box]
    halves = _cut(box, weights, layout, 0.5, prefer_main=False)
    if halves is None:
        raise ValueError(f"block {box} alone holds more than {limit} grids")
    return split_below(halves[0], limit, weights, layout) + split_below(
        halves[1], limit, weights, layout
    )


def _box_cells(box: Box, layout: Layout) -> list[tuple[int, int]]:
    """Fine cells of a block box in reading order (north row first, west to east)."""
    i0, i1, j0, j1 = box
    us = range(layout.line_u[i0], layout.line_u[i1])
    vs = range(layout.line_v[j1] - 1, layout.line_v[j0] - 1, -1)
    return [(u, v) for v in vs for u in us]


def _union(polys: list) -> Polygon:
    return shapely.union_all(polys, grid_size=None)


def community_limit(scale: float) -> int:
    """Most unit grids a community may hold at this scale (fewer in tiny test cities)."""
    return int(max(COMMUNITY_MIN_LIMIT, min(COMMUNITY_MAX_GRIDS, COMMUNITY_MAX_GRIDS * scale**0.5)))


def build_areas(
    plan: CityPlan, layout: Layout, district: District, n_streets: int, names: NameBook
) -> dict[tuple[int, int], str]:
    """Fills streets, communities, unit grids and responsibility grids into `plan`; gives the
    grid code of every fine cell."""
    weights = _weights(layout)
    limit = community_limit(plan.scale)
    whole = (0, layout.n_blocks_x, 0, layout.n_blocks_y)
    n_streets = min(n_streets, len(district.streets))
    street_boxes = split_into(whole, n_streets, weights, layout)
    cell_code: dict[tuple[int, int], str] = {}
    cell_poly: dict[tuple[int, int], Polygon] = {}
    street_areas: list[Area] = []
    for s_box, (s_code, s_name) in zip(street_boxes, district.streets):
        comm_boxes = split_below(s_box, limit, weights, layout)
        comm_geoms = []
        for n, c_box in enumerate(comm_boxes, start=1):
            c_code = f"{s_code}{n:03d}"
            c_name = names.community()
            polys = []
            for serial, (u, v) in enumerate(_box_cells(c_box, layout), start=1):
                poly = Polygon(layout.cell_ring(u, v))
                code = f"{c_code}{serial:02d}"
                plan.grids.append(Grid(code=code, community=c_code, geom=poly, cell=(u, v)))
                cell_code[(u, v)] = code
                cell_poly[(u, v)] = poly
                polys.append(poly)
            geom = _union(polys)
            comm_geoms.append(geom)
            plan.areas.append(Area(c_code, c_name, "community", s_code, geom))
            _responsibility_grids(
                plan,
                (c_code, c_name),
                s_code,
                _box_cells(c_box, layout),
                cell_code,
                cell_poly,
                names.rng,
            )
        s_geom = _union(comm_geoms)
        street_areas.append(Area(s_code, s_name, "street", district.code, s_geom))
    d_geom = _union([s.geom for s in street_areas])
    plan.areas[:0] = [Area(district.code, district.name, "district", None, d_geom)] + street_areas
    _timing_zones(plan, layout, cell_poly)
    return cell_code


def _responsibility_grids(plan, community, s_code, cells, cell_code, cell_poly, rng) -> None:
    """Cuts a community's cells, walked as a snake (so neighbours stay together), into groups
    of 4-8 adjacent unit grids."""
    c_code, c_name = community
    rows: dict[int, list[tuple[int, int]]] = {}
    for u, v in cells:
        rows.setdefault(v, []).append((u, v))
    snake = []
    for k, v in enumerate(sorted(rows, reverse=True)):
        snake.extend(rows[v] if k % 2 == 0 else rows[v][::-1])
    groups: list[list[tuple[int, int]]] = []
    pos = 0
    while pos < len(snake):
        size = int(rng.integers(RESPONSIBILITY_GROUP[0], RESPONSIBILITY_GROUP[1] + 1))
        groups.append(snake[pos : pos + size])
        pos += size
    if len(groups) > 1 and len(groups[-1]) < RESPONSIBILITY_GROUP[0]:
        groups[-2].extend(groups.pop())
    for n, group in enumerate(groups, start=1):
        plan.responsibility_grids.append(
            ResponsibilityGrid(
                code=f"{c_code}R{n:02d}",
                name=f"{c_name}第{n}责任网格",
                street=s_code,
                grids=[cell_code[c] for c in group],
                geom=_union([cell_poly[c] for c in group]),
            )
        )


def _timing_zones(plan: CityPlan, layout: Layout, cell_poly) -> None:
    """Core, general and outer timing zones as concentric rings of whole unit grids."""
    cells = sorted(cell_poly)
    centres = np.array([cell_poly[c].centroid.coords[0] for c in cells])
    d = np.hypot(*(centres - np.array(layout.origin)).T)
    r = d / d.max()
    kinds = [
        ("core", "核心区域", r < 0.3),
        ("general", "一般区域", (r >= 0.3) & (r < 0.7)),
        ("outer", "外围区域", r >= 0.7),
    ]
    for kind, label, mask in kinds:
        polys = [cell_poly[c] for c, m in zip(cells, mask) if m]
        if polys:
            plan.timing_zones.append(TimingZone(name=label, kind=kind, geom=_union(polys)))
