"""Components (部件) of every major class placed where they belong: manholes and lamps along the
roads, bins and signs at the corners, trees along roads and in parks, toilets, benches and
sculptures in parks, bulletin boards and garbage rooms in compounds, a few lines (guardrails,
sound barriers, bridges) and polygons (green spaces, parking lots, construction sites).

Placement is vectorised over all road edges with numpy, so a million components take seconds.
``density`` multiplies the counts along roads and inside areas (spacings shrink by it); corner
items stay one per corner.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString

from .layout import ALLEY, BRANCH, MAIN, SECONDARY, Layout
from .plan import CityPlan, Components

ALL_ROADS = (MAIN, SECONDARY, BRANCH, ALLEY)
# (minor class, road classes, spacing in metres, offsets from the centreline in metres:
#  +left / -right of the drawing direction, one entry per row of items)
ALONG_ROADS = [
    ("0111", (MAIN, SECONDARY), 36.0, (16.0, -16.0)),  # 路灯 both sides
    ("0111", (BRANCH, ALLEY), 40.0, (8.0,)),
    ("0402", (MAIN, SECONDARY), 9.0, (13.0, -13.0)),  # 行道树
    ("0402", (BRANCH,), 12.0, (9.0, -9.0)),
    ("0403", (MAIN,), 60.0, (13.0, -13.0)),  # 护树设施
    ("0104", (MAIN, SECONDARY, BRANCH), 40.0, (10.5, -10.5)),  # 雨水箅子 at the kerb
    ("0101", ALL_ROADS, 140.0, (3.0,)),  # 上水井盖 in the carriageway
    ("0102", ALL_ROADS, 120.0, (-3.0,)),
    ("0103", (MAIN, SECONDARY, BRANCH), 110.0, (0.0,)),
    ("0105", (MAIN, SECONDARY), 150.0, (6.0,)),
    ("0106", (MAIN, SECONDARY, BRANCH), 180.0, (-6.0,)),
    ("0107", (MAIN, SECONDARY, BRANCH), 160.0, (12.0,)),
    ("0108", (MAIN, SECONDARY), 200.0, (-5.0,)),
    ("0109", ALL_ROADS, 170.0, (4.5,)),
    ("0110", ALL_ROADS, 120.0, (-11.0,)),  # 消防栓
    ("0114", (BRANCH, ALLEY), 60.0, (-7.0,)),  # 电线杆
    ("0112", (MAIN,), 90.0, (17.0,)),
    ("0113", (MAIN,), 120.0, (-17.0,)),
    ("0305", (MAIN, SECONDARY, BRANCH), 90.0, (12.5,)),  # 垃圾箱
    ("0208", (MAIN,), 0.0, ()),  # lines, see _guardrails
    ("0203", (MAIN, SECONDARY), 220.0, (14.0, -14.0)),  # 存车支架
    ("0304", (MAIN, SECONDARY), 55.0, (19.0, -19.0)),  # 广告牌匾 on shop fronts
    ("0303", (MAIN,), 150.0, (19.0,)),
    ("0213", (MAIN,), 100.0, (0.8,)),  # 隔离墩 on the median
    ("0206", (MAIN, SECONDARY), 200.0, (11.5, -11.5)),
    ("0604", (MAIN, SECONDARY), 260.0, (11.0,)),
    ("0501", (BRANCH,), 260.0, (11.0,)),
    ("0202", (MAIN,), 500.0, (12.0, -12.0)),  # 公交站亭
    ("0306", (MAIN, SECONDARY), 700.0, (15.0,)),
    ("0307", (MAIN,), 900.0, (-15.0,)),
    ("0116", (MAIN, SECONDARY), 800.0, (14.0,)),
    ("0117", (SECONDARY, BRANCH), 700.0, (-13.0,)),
    ("0115", (BRANCH, ALLEY), 400.0, (7.5,)),
    ("0210", (MAIN,), 1500.0, (2.0,)),
    ("0301", (SECONDARY, BRANCH, ALLEY), 650.0, (-14.0,)),  # 公共厕所
    ("0302", (ALLEY, BRANCH), 500.0, (6.5,)),
]
# (minor class, offset along both diagonals of the crossing, which crossings)
AT_CROSSINGS = [
    ("0305", 14.0, "all"),  # 垃圾箱 at every corner
    ("0212", 16.0, "all"),  # 路名牌
    ("0207", 11.0, "major"),  # 信号灯 where a main road meets a main or secondary road
    ("0211", 12.5, "major"),  # 电子警察
    ("0604", 13.0, "major"),
]
IN_PARKS = [
    ("0402", 700.0),
    ("0401", 40_000.0),
    ("0308", 4_000.0),
    ("0406", 30_000.0),
    ("0404", 6_000.0),
    ("0301", 60_000.0),
    ("0305", 5_000.0),
    ("0111", 2_500.0),
    ("0603", 50_000.0),
]  # (minor, square metres per item)
IN_COMPOUNDS = [
    ("0302", 15_000.0),
    ("0501", 12_000.0),
    ("0503", 9_000.0),
    ("0502", 40_000.0),
    ("0203", 10_000.0),
    ("0111", 2_000.0),
    ("0402", 1_200.0),
    ("0404", 20_000.0),
    ("0601", 400_000.0),
]


def _road_edges(plan: CityPlan, classes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points of every straight piece of the road segments of `classes`."""
    starts, ends = [], []
    for seg in plan.road_segments:
        if seg.road_class in classes:
            c = np.asarray(seg.geom.coords)
            starts.append(c[:-1])
            ends.append(c[1:])
    if not starts:
        return np.empty((0, 2)), np.empty((0, 2))
    return np.concatenate(starts), np.concatenate(ends)


def along(starts, ends, spacing: float, offset: float, rng: np.random.Generator) -> np.ndarray:
    """Points every `spacing` metres (random phase per edge) along the edges, `offset` metres
    to their left, as shapely points."""
    d = ends - starts
    length = np.hypot(d[:, 0], d[:, 1])
    phase = rng.uniform(0, spacing, size=len(length))
    count = np.floor(np.maximum(length - phase, 0) / spacing).astype(int) + (length > phase)
    edge = np.repeat(np.arange(len(length)), count)
    first = np.cumsum(count) - count
    k = np.arange(count.sum()) - np.repeat(first, count)
    t = (phase[edge] + k * spacing) / length[edge]
    unit = d[edge] / length[edge, None]
    normal = np.column_stack([-unit[:, 1], unit[:, 0]])
    xy = starts[edge] + t[:, None] * d[edge] + offset * normal
    return shapely.points(xy)


def inside(polygons: list, per_m2: float, rng: np.random.Generator) -> np.ndarray:
    """Random points inside the polygons, one per `per_m2` square metres (at least one each)."""
    out = []
    for poly in polygons:
        n = max(1, int(rng.poisson(poly.area / per_m2)))
        minx, miny, maxx, maxy = poly.bounds
        got: list[np.ndarray] = []
        have = 0
        for _ in range(20):
            xy = rng.uniform((minx, miny), (maxx, maxy), size=(2 * n + 4, 2))
            xy = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
            got.append(xy)
            have += len(xy)
            if have >= n:
                break
        pts = np.concatenate(got)[:n]
        out.append(shapely.points(pts))
    return np.concatenate(out) if out else np.array([], dtype=object)


def _crossings(layout: Layout, which: str) -> np.ndarray:
    n = layout.nodes
    pts = []
    for a, cx in enumerate(layout.class_x):
        for b, cy in enumerate(layout.class_y):
            major = (cx == MAIN and cy in (MAIN, SECONDARY)) or (cy == MAIN and cx == SECONDARY)
            if which == "all" or major:
                pts.append(n[layout.line_u[a], layout.line_v[b]])
    return np.array(pts)


def _at_crossings(layout: Layout, which: str, offset: float, rng) -> np.ndarray:
    """One point at each of the four corners of the crossings, `offset` metres out along both
    diagonals, jittered by a metre or two."""
    base = _crossings(layout, which)
    corners = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]) * offset
    xy = base[:, None, :] + corners[None, :, :] + rng.normal(0, 1.5, size=(len(base), 4, 2))
    return shapely.points(xy.reshape(-1, 2))


def _guardrails(plan: CityPlan, comps: Components, density: float, rng) -> None:
    """Lines: guardrails (0208) on main road medians, sound barriers (0209), overpasses (0204)
    and underpasses (0205) across main roads."""
    rails, barriers, bridges, tunnels = [], [], [], []
    for seg in plan.road_segments:
        if seg.road_class != MAIN:
            continue
        line = seg.geom
        rails.append(shapely.offset_curve(line, 0.5))
        if rng.random() < 0.08 * density:
            barriers.append(shapely.offset_curve(line, -20.0))
        if rng.random() < 0.05 * density:
            mid = np.asarray(line.interpolate(0.5, normalized=True).coords[0])
            c = np.asarray(line.coords)
            d = c[-1] - c[0]
            n = np.array([-d[1], d[0]]) / np.hypot(*d) * 22.0
            (bridges if rng.random() < 0.6 else tunnels).append(LineString([mid - n, mid + n]))
    comps.add("0208", np.array(rails, dtype=object))
    comps.add("0209", np.array(barriers, dtype=object))
    comps.add("0204", np.array(bridges, dtype=object))
    comps.add("0205", np.array(tunnels, dtype=object))


def _riverside(plan: CityPlan, comps: Components, density: float, rng) -> None:
    """Water facilities (0603: steps, gauges, outfalls) and railings (0208) on both banks."""
    for line in plan.rivers:
        c = np.asarray(line.coords)
        for bank in (15.0, -15.0):
            comps.add("0603", along(c[:-1], c[1:], 150.0 / density, bank, rng))
            comps.add("0208", np.array([shapely.offset_curve(line, bank)], dtype=object))


def build_components(
    plan: CityPlan, layout: Layout, blocks: dict, density: float, rng: np.random.Generator
) -> None:
    """Fills `plan.components` (geometries in metres, by minor class)."""
    comps = plan.components
    for minor, classes, spacing, offsets in ALONG_ROADS:
        if not spacing:
            continue
        starts, ends = _road_edges(plan, classes)
        for off in offsets:
            comps.add(minor, along(starts, ends, spacing / density, off, rng))
    for minor, offset, which in AT_CROSSINGS:
        comps.add(minor, _at_crossings(layout, which, offset, rng))
    _guardrails(plan, comps, density, rng)
    _riverside(plan, comps, density, rng)
    parks = blocks["parks"]
    comps.add("0405", np.array([shapely.MultiPolygon([p]) for p in parks], dtype=object))
    for minor, per_m2 in IN_PARKS:
        comps.add(minor, inside(parks, per_m2 / density, rng))
    compound_polys = [c.geom.geoms[0] for c in plan.compounds]
    for minor, per_m2 in IN_COMPOUNDS:
        comps.add(minor, inside(compound_polys, per_m2 / density, rng))
    _polygons(plan, blocks, comps, rng)
    _keep_inside_district(plan)


def _keep_inside_district(plan: CityPlan) -> None:
    """Drops the items that roadside offsets put beyond the district's edge, and clips lines
    and polygons to it: a component belongs to the district it is in, and a person whose area
    is the whole district must see every one of them."""
    district = next(a.geom for a in plan.areas if a.level == "district")
    shapely.prepare(district)
    comps = plan.components
    for i, geoms in enumerate(comps.geoms):
        inside_mask = shapely.covered_by(geoms, district)
        kept = geoms.copy()
        partial = ~inside_mask & (shapely.get_type_id(geoms) != 0)
        if partial.any():
            kept[partial] = shapely.intersection(geoms[partial], district)
        keep = inside_mask | (partial & ~shapely.is_empty(kept))
        comps.geoms[i] = kept[keep]
        comps.minor[i] = comps.minor[i][keep]


def _polygons(plan: CityPlan, blocks: dict, comps: Components, rng) -> None:
    """Parking lots (0201) in some compounds, construction sites (0602) on some mixed blocks,
    green strips (0405) inside organizations."""
    parking, sites, green = [], [], []
    for c in plan.compounds:
        if rng.random() < 0.3:
            poly = c.geom.geoms[0]
            minx, miny, maxx, _ = poly.bounds
            parking.append(shapely.box(minx + 5, miny + 2, min(maxx - 5, minx + 60), miny + 7))
    for org in plan.organizations:
        if org.area is not None and rng.random() < 0.5:
            green.append(org.area.geoms[0].buffer(-6).exterior.buffer(3).intersection(org.area))
    for (i, j), use in sorted(blocks["uses"].items()):
        if use == "mixed" and rng.random() < 0.06:
            sites.append(blocks["block_polygon"](i, j).buffer(-30, join_style="mitre"))
    comps.add("0201", np.array([p for p in parking if p.area > 0], dtype=object))
    comps.add("0405", np.array([g for g in green if not g.is_empty], dtype=object))
    comps.add("0602", np.array([s for s in sites if not s.is_empty], dtype=object))
