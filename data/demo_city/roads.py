"""The demo city's named roads: one oriented centreline per name (geocoder ``Road``) and one
``RoadSegment`` per block edge, with classes 主干道/次干道/支路/背街小巷.

Main roads keep one name across the district; secondary roads change name at the middle main
road; branch roads get a name per stretch between two main roads; alleys (胡同/巷) run inside the
blocks of the old town and of a few other blocks.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString

from .layout import ALLEY, BRANCH, MAIN, RIVER, SECONDARY, Layout
from .names import NameBook
from .plan import CityPlan, Place, Road, RoadSegment

ROAD_KIND = {MAIN: "main", SECONDARY: "street", BRANCH: "street", ALLEY: "alley"}
ALIAS_SWAP = {"大街": "路", "路": "大街", "大道": "路"}
ALLEY_SHARE_OF_MIXED_BLOCKS = 0.4


def _spans(n_cross: int, cross_classes: list[str], road_class: str) -> list[tuple[int, int]]:
    """Crossing-index spans [a, b] that carry one road name."""
    if road_class == MAIN:
        return [(0, n_cross - 1)]
    mains = [k for k, c in enumerate(cross_classes) if c == MAIN]
    spans = list(zip(mains[:-1], mains[1:]))
    if road_class == SECONDARY and len(spans) > 1:
        half = len(spans) // 2
        return [(spans[0][0], spans[half - 1][1]), (spans[half][0], spans[-1][1])]
    return spans


def _aliases(name: str, road_class: str, rng: np.random.Generator) -> list[str]:
    """Other names people use: 学院路 <-> 学院大街 for main roads, a short form for some."""
    aliases = []
    if road_class == MAIN:
        for suffix, other in ALIAS_SWAP.items():
            if name.endswith(suffix):
                aliases.append(name[: -len(suffix)] + other)
                break
    elif road_class == ALLEY and name.endswith("胡同") and rng.random() < 0.5:
        aliases.append(name[:-2] + "巷")
    return aliases


def _street_of(cell: tuple[int, int], layout: Layout, cell_code) -> str:
    u_max, v_max = layout.shape
    u = min(max(cell[0], 0), u_max - 1)
    v = min(max(cell[1], 0), v_max - 1)
    return cell_code[(u, v)][:9]


RIVER_NAMES = [("小月河", ["小月河水系"], ["土城沟"]), ("万泉河", ["万泉河水系"], [])]
RIVER_HALF_WIDTH_M = 12.0


def _add_river(plan: CityPlan, names: NameBook, coords) -> None:
    """A small river (河) along a grid line: a place name whose area is the water surface;
    its banks bound unit grids as roads do."""
    for name, aliases, historical in RIVER_NAMES:
        if name not in names.used:
            break
    else:
        name, aliases, historical = names.unique(lambda: names.stem() + "河"), [], []
    names.used.add(name)
    line = LineString(coords)
    water = line.buffer(RIVER_HALF_WIDTH_M, cap_style="flat")
    plan.places.append(
        Place(
            name=name,
            kind="place",
            geom=line.interpolate(0.5, normalized=True),
            aliases=list(aliases),
            historical_names=list(historical),
            area=shapely.MultiPolygon([water]),
        )
    )
    plan.rivers.append(line)


def _add_road(plan, names, layout, cell_code, road_class, coords, mid_cell, segments) -> None:
    """Appends one named road and its block-edge segments (`segments`: lists of coords)."""
    rng = names.rng
    name = names.road(road_class)
    index = len(plan.roads)
    plan.roads.append(
        Road(
            name=name,
            aliases=_aliases(name, road_class, rng),
            kind=ROAD_KIND[road_class],
            road_class=road_class,
            odd_side=str(rng.choice(["left", "right"])),
            street=_street_of(mid_cell, layout, cell_code),
            geom=LineString(coords),
        )
    )
    for k, seg in enumerate(segments):
        plan.road_segments.append(
            RoadSegment(
                name=name,
                road_class=road_class,
                geom=LineString(seg),
                source_id=f"demo:{index}:{k}",
            )
        )


def build_roads(plan: CityPlan, layout: Layout, cell_code, names: NameBook, uses: dict) -> None:
    """Fills `plan.roads` and `plan.road_segments` from the layout's lines (alleys only in
    blocks whose use is ``mixed``)."""
    nodes = layout.nodes
    for axis in (0, 1):
        line_idx = layout.line_u if axis == 0 else layout.line_v
        cross_idx = layout.line_v if axis == 0 else layout.line_u
        classes = layout.class_x if axis == 0 else layout.class_y
        cross_classes = layout.class_y if axis == 0 else layout.class_x
        for k, fine in enumerate(line_idx):
            line = nodes[fine, :] if axis == 0 else nodes[:, fine]
            if classes[k] == RIVER:
                _add_river(plan, names, line)
                continue
            for a, b in _spans(len(cross_idx), cross_classes, classes[k]):
                coords = line[cross_idx[a] : cross_idx[b] + 1]
                segs = [line[cross_idx[e] : cross_idx[e + 1] + 1] for e in range(a, b)]
                mid = (cross_idx[a] + cross_idx[b]) // 2
                cell = (fine, mid) if axis == 0 else (mid, fine)
                _add_road(plan, names, layout, cell_code, classes[k], coords, cell, segs)
    _build_alleys(plan, layout, cell_code, names, uses)


def _build_alleys(plan: CityPlan, layout: Layout, cell_code, names: NameBook, uses) -> None:
    """Alleys along inner grid lines: east-west hutongs (胡同) through every old-town block,
    one back lane (背街小巷) through some mixed blocks; never through compounds or parks."""
    nodes = layout.nodes
    rng = names.rng
    for i in range(layout.n_blocks_x):
        for j in range(layout.n_blocks_y):
            old = layout.in_old_town(i, j)
            if uses[(i, j)] != "mixed":
                continue
            if not old and rng.random() >= ALLEY_SHARE_OF_MIXED_BLOCKS:
                continue
            us, vs = layout.block_cells(i, j)
            inner_u = list(us)[1:]
            inner_v = list(vs)[1:]
            lines = [(1, v) for v in inner_v]
            if not old:
                lines += [(0, u) for u in inner_u]
                lines = [lines[int(rng.integers(len(lines)))]] if lines else []
            for axis, fine in lines:
                if axis == 0:
                    coords = nodes[fine, vs.start : vs.stop + 1]
                    cell = (fine, vs.start)
                else:
                    coords = nodes[us.start : us.stop + 1, fine]
                    cell = (us.start, fine)
                _add_road(plan, names, layout, cell_code, ALLEY, coords, cell, [coords])
