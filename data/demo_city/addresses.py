"""The demo city's address database (地理编码数据库): door addresses (门址) on both sides of every
named road, residential compounds (小区) with numbered buildings, organizations (企事业单位),
storefronts (沿街店面), place names with aliases and landmarks (突出建筑), and what each block
is used for."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, box
from shapely.strtree import STRtree

from .layout import MAIN, SECONDARY, Layout
from .names import NameBook
from .plan import Building, CityPlan, Compound, Door, Organization, Place

DOOR_SPACING_M = {"main": 42.0, "secondary": 32.0, "branch": 26.0, "alley": 14.0}
DOOR_OFFSET_M = {"main": 18.0, "secondary": 15.0, "branch": 12.0, "alley": 5.0}
NUMBER_SKIP_SHARE = 0.12  # numbers left out, so interpolation is needed between known doors
SUFFIXES = [("甲", 0.03), ("乙", 0.01), ("之1", 0.02)]
SETBACK_M = 22.0  # compounds and organizations start this far from the road centrelines
BLOCK_USES = [("residential", 0.55), ("organization", 0.17), ("park", 0.08), ("mixed", 0.20)]
STOREFRONT_SHARE = 0.25
ORG_KINDS = ["school", "hospital", "company", "company"]  # the first two blocks: school, hospital


def _along_line(
    coords: np.ndarray, dist: np.ndarray, offset: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points `offset` metres to the left (negative: right) of a polyline at distances `dist`
    from its start, and the unit directions there."""
    seg = np.diff(coords, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    k = np.clip(np.searchsorted(cum, dist, side="right") - 1, 0, len(seg) - 1)
    unit = seg[k] / seg_len[k, None]
    base = coords[k] + (dist - cum[k])[:, None] * unit
    normal = np.column_stack([-unit[:, 1], unit[:, 0]])
    return base + offset * normal, unit


def _doors_of_road(plan: CityPlan, index: int, rng: np.random.Generator, water) -> None:
    road = plan.roads[index]
    coords = np.asarray(road.geom.coords)
    total = float(road.geom.length)
    spacing = DOOR_SPACING_M[road.road_class]
    offset = DOOR_OFFSET_M[road.road_class]
    even_side = "right" if road.odd_side == "left" else "left"
    for side, first in ((road.odd_side, 1), (even_side, 2)):
        n_max = int(total / (spacing * 0.75)) + 2
        steps = spacing * rng.uniform(0.75, 1.25, size=n_max)
        dist = spacing * rng.uniform(0.3, 0.8) + np.concatenate([[0.0], np.cumsum(steps[:-1])])
        dist = dist[dist < total - 5.0]
        if not len(dist):
            continue
        increments = np.where(rng.random(len(dist)) < NUMBER_SKIP_SHARE, 4, 2)
        numbers = first + np.concatenate([[0], np.cumsum(increments[:-1])])
        signed = offset if side == "left" else -offset
        xy, unit = _along_line(coords, dist, signed)
        points = shapely.points(xy)
        extra = rng.random(len(dist))
        dry = ~shapely.contains_xy(water, xy[:, 0], xy[:, 1])
        for k in np.flatnonzero(dry):
            plan.doors.append(Door(index, int(numbers[k]), "", side, dist[k] / total, points[k]))
            threshold = 0.0
            for suffix, share in SUFFIXES:
                threshold += share
                if extra[k] < threshold:
                    d2 = min(dist[k] + 4.0, total)
                    p2 = Point(xy[k] + 4.0 * unit[k])
                    plan.doors.append(Door(index, int(numbers[k]), suffix, side, d2 / total, p2))
                    break


def build_doors(plan: CityPlan, rng: np.random.Generator) -> None:
    """Door addresses on both sides of every named road: odd numbers on the road's odd side,
    numbers growing along the road, some numbers skipped and a few 甲/之1 suffixes; none on
    the water where a road crosses the river (only the river has an area at this point)."""
    water = shapely.union_all([p.area for p in plan.places if p.area is not None])
    for index in range(len(plan.roads)):
        _doors_of_road(plan, index, rng, water)


class DoorIndex:
    """Nearest door lookups over the generated doors (an STRtree in metres)."""

    def __init__(self, plan: CityPlan) -> None:
        self.plan = plan
        self.tree = STRtree([d.geom for d in plan.doors])

    def nearest(self, point: Point) -> int:
        return int(self.tree.nearest(point))


def landmark_aliases(name: str) -> list[str]:
    """What people also call a tower: 光湾国际大厦 -> 光湾大厦, 昌乐大楼 -> 昌乐大厦."""
    if "国际" in name:
        return [name.replace("国际", "")]
    return [name[:2] + ("大厦" if name.endswith("大楼") else "大楼")]


def park_aliases(name: str) -> list[str]:
    """金竹绿地 -> 金竹公园; a square keeps its name (金竹广场 -> 金竹文化广场)."""
    if name.endswith("公园"):
        return []
    if name.endswith("广场"):
        return [name[:-2] + "文化广场"]
    return [name[:-2] + "公园"]


def block_polygon(layout: Layout, i: int, j: int) -> Polygon:
    """The block between four road crossings, along the roads' fine vertices."""
    us, vs = layout.block_cells(i, j)
    n = layout.nodes
    ring = (
        list(n[us.start : us.stop + 1, vs.start])
        + list(n[us.stop, vs.start + 1 : vs.stop + 1])
        + list(n[us.start : us.stop, vs.stop][::-1])
        + list(n[us.start, vs.start + 1 : vs.stop][::-1])
    )
    return Polygon(ring)


def block_uses(layout: Layout, rng: np.random.Generator) -> dict[tuple[int, int], str]:
    """What each block holds: residential, organization, park or mixed (shops and offices);
    old-town blocks are courtyard housing (mixed). Even a tiny city gets one block of each."""
    kinds = [k for k, _ in BLOCK_USES]
    probs = np.array([p for _, p in BLOCK_USES])
    uses = {}
    for i in range(layout.n_blocks_x):
        for j in range(layout.n_blocks_y):
            use = "mixed" if layout.in_old_town(i, j) else str(rng.choice(kinds, p=probs))
            uses[(i, j)] = use
    free = [b for b in sorted(uses) if not layout.in_old_town(*b)]
    for kind in kinds:
        if kind not in uses.values() and free:
            # the free block whose use is most common gives way
            counts = {k: list(uses.values()).count(k) for k in kinds}
            donor = max(free, key=lambda b: (counts[uses[b]], b))
            uses[donor] = kind
            free.remove(donor)
    return uses


def _entrance(plan: CityPlan, doors: DoorIndex, area: Polygon) -> tuple[int, Point]:
    """The door nearest the area's south side and the matching point on its boundary."""
    minx, miny, maxx, maxy = area.bounds
    probe = Point((minx + maxx) / 2, miny)
    door = doors.nearest(probe)
    ring = area.exterior
    entrance = ring.interpolate(ring.project(plan.doors[door].geom))
    return door, entrance


def _buildings_in(area: Polygon, count_range, rng, size=(14.0, 45.0), gap=(30.0, 22.0)):
    """Footprints laid out in rows inside `area`, up to the number drawn from `count_range`."""
    minx, miny, maxx, maxy = area.bounds
    w, h = size
    slots = []
    y = miny + 8.0
    while y + w < maxy - 8.0:
        x = minx + 8.0
        while x + h < maxx - 8.0:
            fp = box(x, y, x + h, y + w)
            if area.contains(fp):
                slots.append(fp)
            x += h + gap[1]
        y += w + gap[0]
    lo, hi = count_range
    if len(slots) < lo:
        return slots
    n = int(rng.integers(lo, min(hi, len(slots)) + 1))
    keep = np.unique(np.round(np.linspace(0, len(slots) - 1, n)).astype(int))
    return [slots[k] for k in keep]


def build_blocks(
    plan: CityPlan, layout: Layout, names: NameBook, uses: dict, grid_of_point
) -> dict:
    """Compounds, organizations, parks and landmarks on the blocks; gives the block uses and
    the park and school polygons other steps place things in."""
    rng = names.rng
    doors = DoorIndex(plan)
    parks: list[Polygon] = []
    schools: list[int] = []
    org_count = 0
    for (i, j), use in sorted(uses.items()):
        inner = block_polygon(layout, i, j).buffer(-SETBACK_M, join_style="mitre")
        if inner.is_empty or inner.area < 2_000:
            continue
        if use == "residential":
            _compound(plan, doors, inner, names, grid_of_point)
        elif use == "organization":
            kind = ORG_KINDS[org_count] if org_count < 2 else str(rng.choice(ORG_KINDS))
            org_count += 1
            org = _organization(plan, doors, inner, names, kind)
            if kind == "school":
                schools.append(org)
        elif use == "park":
            parks.append(inner)
            place = Place(
                name=names.park(),
                kind="place",
                geom=inner.representative_point(),
                area=shapely.MultiPolygon([inner]),
                door=_entrance(plan, doors, inner)[0],
            )
            place.aliases = park_aliases(place.name)
            plan.places.append(place)
    return {"uses": uses, "parks": parks, "schools": schools}


def _compound(plan, doors, area, names, grid_of_point) -> None:
    rng = names.rng
    door, entrance = _entrance(plan, doors, area)
    name = names.compound()
    aliases = [name[:-2] + "小区"] if name.endswith(("家园", "花园", "嘉园")) else []
    plan.doors[door].courtyard = name
    index = len(plan.compounds)
    community = grid_of_point(area.representative_point())
    plan.compounds.append(
        Compound(
            name=name,
            aliases=aliases,
            door=door,
            community=community and community[:12],
            geom=shapely.MultiPolygon([area]),
            entrance=entrance,
        )
    )
    for n, fp in enumerate(_buildings_in(area, (5, 30), rng), start=1):
        plan.buildings.append(
            Building(
                number=str(n), name=f"{name}{n}号楼", geom=fp.centroid, footprint=fp, compound=index
            )
        )


def _organization(plan, doors, area, names, kind: str) -> int:
    rng = names.rng
    door, entrance = _entrance(plan, doors, area)
    road = plan.doors[door].road
    road_name = plan.roads[road].name
    if kind == "school":
        name = names.school(road_name)
    elif kind == "hospital":
        name = names.hospital(road_name)
    else:
        name = names.company()
    aliases = [name[2:]] if name.startswith("北京") else []
    index = len(plan.organizations)
    plan.organizations.append(
        Organization(
            name=name,
            kind="organization",
            geom=entrance,
            aliases=aliases,
            door=door,
            road=road,
            area=shapely.MultiPolygon([area]),
        )
    )
    for n, fp in enumerate(_buildings_in(area, (2, 8), rng, size=(18.0, 50.0)), start=1):
        plan.buildings.append(
            Building(
                number=str(n),
                name=f"{name}{n}号楼",
                geom=fp.centroid,
                footprint=fp,
                organization=index,
            )
        )
    if kind == "company" and rng.random() < 0.35:
        tower = names.landmark()
        plan.places.append(
            Place(
                name=tower,
                kind="landmark",
                geom=area.representative_point(),
                door=door,
                aliases=landmark_aliases(tower),
            )
        )
    return index


def build_offices(plan: CityPlan, names: NameBook) -> None:
    """A street office (街道办事处) per street and a residents' committee (居委会) per community,
    at the door nearest the area's centre."""
    doors = DoorIndex(plan)
    for area in plan.areas:
        if area.level == "district":
            continue
        if area.level == "street":
            name, aliases = f"{area.name}办事处", [area.name[:-2] + "街道办"]
        else:
            name, aliases = f"{area.name}居民委员会", [f"{area.name}居委会"]
        door = doors.nearest(area.geom.representative_point())
        plan.organizations.append(
            Organization(
                name=name,
                kind="organization",
                geom=plan.doors[door].geom,
                aliases=aliases,
                door=door,
                road=plan.doors[door].road,
            )
        )


def build_storefronts(plan: CityPlan, names: NameBook) -> None:
    """Shops (沿街店面) at a quarter of the doors on main and secondary roads."""
    rng = names.rng
    for k, door in enumerate(plan.doors):
        road = plan.roads[door.road]
        if road.road_class not in (MAIN, SECONDARY) or door.courtyard:
            continue
        if rng.random() < STOREFRONT_SHARE:
            plan.organizations.append(
                Organization(
                    name=names.shop(road.name),
                    kind="storefront",
                    geom=door.geom,
                    door=k,
                    road=door.road,
                )
            )


def build_places(plan: CityPlan, layout: Layout, names: NameBook) -> None:
    """Locality names at main road crossings (五道口, alias 五道口地区, once 五道口村) and
    landmark towers (突出建筑) at some corners where a main road meets a secondary one."""
    rng = names.rng
    n = layout.nodes
    doors = DoorIndex(plan)
    for a, cx in enumerate(layout.class_x):
        for b, cy in enumerate(layout.class_y):
            point = Point(n[layout.line_u[a], layout.line_v[b]])
            if cx == MAIN and cy == MAIN and rng.random() < 0.7:
                name, aliases, historical = names.place()
                plan.places.append(
                    Place(
                        name=name,
                        kind="place",
                        geom=point,
                        door=doors.nearest(point),
                        aliases=aliases,
                        historical_names=historical,
                    )
                )
            elif MAIN in (cx, cy) and SECONDARY in (cx, cy) and rng.random() < 0.35:
                corner = Point(
                    point.x + 45.0 * rng.choice([-1, 1]), point.y + 45.0 * rng.choice([-1, 1])
                )
                door = doors.nearest(corner)
                tower = names.landmark()
                plan.places.append(
                    Place(
                        name=tower,
                        kind="landmark",
                        geom=corner,
                        door=door,
                        aliases=landmark_aliases(tower),
                    )
                )
