"""Gives the address records of a source's features, per kind, and the rows refused with
their reason: roads (ways of one name merged, one centreline per place the name is used),
doors with their number read as the parser reads it, compounds, buildings, organizations,
storefronts and place names. Nothing is written here (see `store.py`)."""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from dataclasses import dataclass, field

import shapely
from shapely.geometry import LineString, Point

from geocoder.dictionary import Gazetteer
from geocoder.normalize import clean, number_value
from geocoder.parse import NUMBER_RE, PREFIX_RE, parse

from .read import Feature

# Ways of one name closer than this belong to one road (dual carriageways, pieces split at
# junctions); farther apart they are two roads of the same name.
SAME_ROAD_DEGREES = 0.005  # about 450-550 m
ROAD_KINDS = {
    "motorway": "main",
    "trunk": "main",
    "primary": "main",
    "主干道": "main",
    "快速路": "main",
    "service": "alley",
    "living_street": "alley",
    "footway": "alley",
    "path": "alley",
    "pedestrian": "alley",
    "背街小巷": "alley",
    "胡同": "alley",
}
ROAD_ENDING = re.compile(r"^(?P<road>.+?(?:大街|大道|胡同|路|街|巷|弄|道|里))")
DOOR_UNITS = {None, "号", "号院"}


@dataclass(frozen=True)
class DoorKey:
    """How rows name one door: road + number + suffix (学院路甲18号)."""

    road: str
    number: int
    suffix: str = ""


@dataclass
class RoadRecord:
    row: int | str
    name: str
    line: LineString
    kind: str = "street"
    aliases: list[str] = field(default_factory=list)
    ranges: dict[str, int] = field(default_factory=dict)  # left_from ... right_to


@dataclass
class DoorRecord:
    row: int | str
    key: DoorKey
    point: Point
    courtyard: str = ""
    area: object | None = None  # the polygon the address belongs to, when the row has one


@dataclass
class NamedRecord:
    """A compound, organization, storefront or place name."""

    row: int | str
    table: str  # compound organization place
    kind: str  # organization storefront | place landmark poi | compound
    name: str
    point: Point
    area: object | None = None
    aliases: list[str] = field(default_factory=list)
    door: DoorKey | None = None
    road: str = ""


@dataclass
class BuildingRecord:
    row: int | str
    number: str
    owner: tuple[str, str]  # ("compound" | "organization", name)
    point: Point
    footprint: object | None = None


@dataclass
class Records:
    roads: list[RoadRecord] = field(default_factory=list)
    doors: list[DoorRecord] = field(default_factory=list)
    named: list[NamedRecord] = field(default_factory=list)
    buildings: list[BuildingRecord] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    skipped: int = 0

    def refuse(self, row: int | str, reason: str) -> None:
        self.refused.append({"row": row, "reason": reason})


def records(kind: str, features: list[Feature], g: Gazetteer) -> Records:
    """Gives the records of `kind` (doors roads compounds pois osm) from the features."""
    out = Records()
    builder = {
        "doors": _door_rows,
        "roads": _road_rows,
        "compounds": _compound_rows,
        "pois": _poi_rows,
        "osm": _osm_rows,
    }[kind]
    builder(features, out, g)
    return out


# -- numbers and addresses ----------------------------------------------------------------


def door_number(text: str) -> tuple[int, str] | None:
    """Gives (number, suffix) of a door number as people write it (18, 18号, 甲2号, 十三号,
    16号院, 18-1 → (18, 之1)), None when it is no door number (1层, 3号楼)."""
    text = clean(text)
    m = NUMBER_RE.fullmatch(text)
    if not m or m.group("unit") not in DOOR_UNITS:
        return None
    number = number_value(m.group("num"))
    if number is None or number <= 0:
        return None
    suffix = m.group("pre") or ""
    if m.group("sub") and not suffix:
        sub = number_value(m.group("sub"))
        suffix = f"之{sub}" if sub else ""
    return number, suffix


def split_address(text: str, g: Gazetteer) -> tuple[str, int, str, str] | None:
    """Gives (road, number, suffix, building) of a full address (北京市海淀区学院路18号3号楼),
    read by the parser: a road the gazetteer knows, else the unknown run before the number
    (less its province/city/district prefix) when it ends like a road name; None otherwise."""
    parsed = parse(text, g)
    door = next((t for t in parsed.tokens if t.kind == "door"), None)
    if door is None or door.number is None:
        return None
    before = [t for t in parsed.tokens if t.end <= door.start]
    road = ""
    if before and before[-1].kind == "name":
        roads = [e for e in before[-1].entries if e.kind == "road"]
        road = roads[0].name if roads else ""
    if not road:
        run = parsed.text[: door.start]
        run = run[PREFIX_RE.match(run).end() :] if PREFIX_RE.match(run) else run
        m = ROAD_ENDING.match(run[-16:]) if run else None
        road = run if m and m.group("road") == run else ""
    if not road:
        return None
    building = next((t for t in parsed.tokens if t.kind == "building"), None)
    number = building.text if building else ""
    return road, door.number, door.suffix, _building_number(number)


def _building_number(text: str) -> str:
    """Gives what people say for a building: 3 for 3号楼 / 3栋 / 三幢, A for A座."""
    text = clean(text)
    m = re.fullmatch(
        r"(?P<num>\d+|[零〇一二两三四五六七八九十百]+|[a-z])(号楼|栋|幢|座|楼|号)?", text
    )
    if not m:
        return text
    value = number_value(m.group("num"))
    return str(value) if value is not None else m.group("num").upper()


def _aliases(text: str) -> list[str]:
    return [a.strip() for a in re.split(r"[;；,，、|/]", text or "") if a.strip()]


def _point(geom) -> Point | None:
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "Point":
        return geom
    return (
        geom.point_on_surface()
        if geom.geom_type.endswith("Polygon")
        else geom.interpolate(0.5, normalized=True)
    )


def _polygon(geom):
    return geom if geom is not None and geom.geom_type.endswith("Polygon") else None


def _door_of(values: dict[str, str], g: Gazetteer) -> tuple[DoorKey | None, str, str]:
    """Gives (door, building, why not) of a row's road + number, or of its full address."""
    if values.get("road") and values.get("number"):
        read = door_number(values["number"])
        if read is None:
            return None, "", f"门牌号 {values['number']!r} is not a door number"
        return DoorKey(clean(values["road"]), *read), values.get("building", ""), ""
    if values.get("address"):
        split = split_address(values["address"], g)
        if split is None:
            return None, "", f"地址 {values['address']!r} has no road and door number"
        road, number, suffix, building = split
        return DoorKey(clean(road), number, suffix), values.get("building") or building, ""
    return None, "", ""


# -- kinds ----------------------------------------------------------------------------------


def _door_rows(features: list[Feature], out: Records, g: Gazetteer) -> None:
    if not features:
        return
    for f in features:
        point = _point(f.geom)
        key, building, why = _door_of(f.values, g)
        if key is None:
            out.refuse(f.row, why or "no 路名 + 门牌号 and no 地址")
            continue
        if point is None:
            out.refuse(f.row, "no geometry (or coordinates outside the CRS's area)")
            continue
        compound = f.values.get("compound", "")
        out.doors.append(DoorRecord(f.row, key, point, compound, _polygon(f.geom)))
        owner = ("compound", compound) if compound else None
        if not owner and f.values.get("organization"):
            owner = ("organization", f.values["organization"])
        if compound and not any(n.name == compound for n in out.named if n.table == "compound"):
            out.named.append(NamedRecord(f.row, "compound", "compound", compound, point, door=key))
        if f.values.get("organization") and not any(
            n.name == f.values["organization"] for n in out.named if n.table == "organization"
        ):
            org = f.values["organization"]
            out.named.append(
                NamedRecord(f.row, "organization", "organization", org, point, door=key)
            )
        if building:
            if owner is None:
                out.refuse(f.row, f"楼牌号 {building!r} needs a 小区名 or 单位名称 to belong to")
                continue
            number = _building_number(building)
            footprint = f.geom if f.geom.geom_type.endswith("Polygon") else None
            out.buildings.append(BuildingRecord(f.row, number, owner, point, footprint))


def _road_rows(features: list[Feature], out: Records, g: Gazetteer) -> None:
    ways: dict[str, list[tuple[Feature, LineString]]] = defaultdict(list)
    for f in features:
        name = (f.values.get("road") or f.values.get("place") or "").strip()
        if not name:
            if f.values.get("osm"):
                out.skipped += 1  # an unnamed way (a footpath) is no address
            else:
                out.refuse(f.row, "no 路名")
            continue
        lines = _lines(f.geom)
        if not lines:
            out.refuse(f.row, "no line geometry")
            continue
        ways[name].extend((f, line) for line in lines)
    for name, items in ways.items():  # noqa: B007 - one road per place the name is used
        for cluster in _clusters([line for _, line in items]):
            first = items[cluster[0]][0]
            ways_here = [items[i][1] for i in cluster]
            aliases = [a for i in cluster for a in _aliases(items[i][0].values.get("aliases", ""))]
            ranges = {}
            for key in (
                "left_from",
                "left_to",
                "right_from",
                "right_to",
                "from_number",
                "to_number",
            ):
                value = number_value(clean(first.values.get(key, "")).rstrip("号"))
                if value:
                    ranges[key] = value
            kind = ROAD_KINDS.get(first.values.get("road_class", ""), "street")
            if name.endswith("胡同"):
                kind = "alley"
            for line in centrelines(ways_here):
                out.roads.append(
                    RoadRecord(first.row, name, line, kind, list(dict.fromkeys(aliases)), ranges)
                )


def centrelines(ways: list[LineString]) -> list[LineString]:
    """Gives the line that stands for one road: the longest chain of its ways joined end to
    end at junctions (a road split at every crossing is one axis; the other carriageway and
    short branches are left to the base road layer, which reverse geocoding also reads).
    Gaps are not bridged: a road's point (the middle of its line) must lie on the road."""
    return [_longest_chain(ways)]


def _longest_chain(ways: list[LineString]) -> LineString:
    """Gives the ways along the longest shortest path of the graph they make (end points
    as nodes, found by two farthest-node sweeps) joined into one line."""
    edges: dict[tuple, list[tuple[tuple, int]]] = defaultdict(list)
    for i, way in enumerate(ways):
        a, b = _node(way.coords[0]), _node(way.coords[-1])
        edges[a].append((b, i))
        edges[b].append((a, i))
    start = _node(max(ways, key=lambda w: w.length).coords[0])
    far, _ = _farthest_node(start, edges, ways)
    end, path = _farthest_node(far, edges, ways)
    coords: list[tuple[float, float]] = []
    node, backwards = far, 0.0
    for i in path:
        line = list(ways[i].coords)
        if _node(line[0]) != node:
            line.reverse()
            backwards += ways[i].length
        coords.extend(line if not coords else line[1:])
        node = _node(line[-1])
    if len(coords) < 2:
        return max(ways, key=lambda w: w.length)
    if backwards > sum(ways[i].length for i in path) / 2:
        coords.reverse()  # door numbers grow the way the data draws the road
    return LineString(coords)


def _node(xy) -> tuple[float, float]:
    return (round(xy[0], 7), round(xy[1], 7))


def _farthest_node(start, edges, ways) -> tuple[tuple, list[int]]:
    """Gives the node farthest from `start` along the ways (Dijkstra) and the ways to it."""
    best = {start: 0.0}
    via: dict[tuple, tuple[tuple, int]] = {}
    queue = [(0.0, start)]
    while queue:
        d, node = heapq.heappop(queue)
        if d > best[node]:
            continue
        for other, i in edges[node]:
            nd = d + ways[i].length
            if nd < best.get(other, float("inf")):
                best[other], via[other] = nd, (node, i)
                heapq.heappush(queue, (nd, other))
    far = max(best, key=best.get)
    path, node = [], far
    while node in via:
        node, i = via[node]
        path.append(i)
    return far, path[::-1]


def _lines(geom) -> list[LineString]:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "LineString":
        return [geom] if geom.length > 0 else []
    if geom.geom_type == "MultiLineString":
        return [g for g in geom.geoms if g.length > 0]
    return []


def _clusters(lines: list[LineString]) -> list[list[int]]:
    """Gives groups of line indexes, each a connected set within SAME_ROAD_DEGREES (one road
    in one place; farther apart, two roads of one name)."""
    parent = list(range(len(lines)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="dwithin", distance=SAME_ROAD_DEGREES)
    for a, b in zip(left.tolist(), right.tolist()):
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(lines)):
        groups[root(i)].append(i)
    return list(groups.values())


def _compound_rows(features: list[Feature], out: Records, g: Gazetteer) -> None:
    for f in features:
        name = f.values.get("compound") or f.values.get("place") or ""
        if not name:
            out.refuse(f.row, "no 小区名")
            continue
        if f.geom is None or not f.geom.geom_type.endswith("Polygon"):
            out.refuse(f.row, "a compound needs its area (a polygon)")
            continue
        key, _, why = _door_of(f.values, g)
        if why:
            out.refuse(f.row, why)
            continue
        aliases = _aliases(f.values.get("aliases", ""))
        out.named.append(
            NamedRecord(f.row, "compound", "compound", name, _point(f.geom), f.geom, aliases, key)
        )


POI_TYPES = {
    "单位": ("organization", "organization"),
    "企事业单位": ("organization", "organization"),
    "机构": ("organization", "organization"),
    "organization": ("organization", "organization"),
    "铺面": ("organization", "storefront"),
    "沿街铺面": ("organization", "storefront"),
    "店铺": ("organization", "storefront"),
    "商铺": ("organization", "storefront"),
    "storefront": ("organization", "storefront"),
    "地名": ("place", "place"),
    "place": ("place", "place"),
    "突出建筑": ("place", "landmark"),
    "地标": ("place", "landmark"),
    "landmark": ("place", "landmark"),
    "兴趣点": ("place", "poi"),
    "poi": ("place", "poi"),
    "小区": ("compound", "compound"),
    "院落": ("compound", "compound"),
}


def _poi_rows(features: list[Feature], out: Records, g: Gazetteer) -> None:
    for f in features:
        v = f.values
        if v.get("type"):
            table_kind = POI_TYPES.get(clean(v["type"]))
            if table_kind is None:
                known = "、".join(k for k in POI_TYPES if not k.isascii())
                out.refuse(f.row, f"类型 {v['type']!r} is none of {known}")
                continue
        elif v.get("organization"):
            table_kind = ("organization", "organization")
        elif v.get("storefront"):
            table_kind = ("organization", "storefront")
        else:
            table_kind = ("place", "poi")
        name = v.get("organization") or v.get("storefront") or v.get("place") or ""
        if table_kind[0] == "compound":
            name = v.get("compound") or name
        _named_row(f, out, g, table_kind, name)


def _named_row(f: Feature, out: Records, g: Gazetteer, table_kind, name: str) -> None:
    if not name:
        out.refuse(f.row, "no name (名称, 单位名称, 沿街铺面 or 地名)")
        return
    point = _point(f.geom)
    if point is None:
        out.refuse(f.row, "no geometry (or coordinates outside the CRS's area)")
        return
    key, building, why = _door_of(f.values, g)
    if why and not f.values.get("osm"):
        out.refuse(f.row, why)
        return
    table, kind = table_kind
    area = f.geom if f.geom.geom_type.endswith("Polygon") else None
    if table == "compound" and area is None:
        table, kind = "place", "place"
    aliases = _aliases(f.values.get("aliases", ""))
    road = clean(f.values.get("road", ""))
    out.named.append(NamedRecord(f.row, table, kind, name, point, area, aliases, key, road))


def _osm_rows(features: list[Feature], out: Records, g: Gazetteer) -> None:
    roads = [f for f in features if f.values.get("osm") == "road" or "road_class" in f.values]
    _road_rows(roads, out, g)
    road_rows = {id(f) for f in roads}
    for f in features:
        if id(f) in road_rows:
            continue
        v = f.values
        key, _, why = _door_of(v, g) if v.get("number") else (None, "", "")
        point = _point(f.geom)
        if key is not None and point is not None:
            out.doors.append(DoorRecord(f.row, key, point, area=_polygon(f.geom)))
        elif why:
            out.refuse(f.row, why)
        category = v.get("osm")
        if not category:
            if key is None:
                out.skipped += 1
            continue
        table = {"organization": "organization", "storefront": "organization"}.get(
            category, "compound" if category == "compound" else "place"
        )
        _named_row(f, out, g, (table, category), v.get("name", ""))
