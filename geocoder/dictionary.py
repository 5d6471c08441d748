"""The gazetteer (地名词典): every local name from the address database, in memory, with the
indexes the parser and matcher read.

Why not jieba with a user dictionary: jieba picks splits by word frequency and its HMM invents
words for unknown runs, so a DB name can be cut in two or glued to a number; we need every DB
name to come out whole with its kinds attached. A longest-match scan over a hash set of the
cleaned names (bounded by the longest name, ~20 set probes per character) is exact,
deterministic and takes tens of microseconds per query. Typos are caught by a bigram +
skip-bigram index (a wrong or missing character still leaves a shared pair), scored with
rapidfuzz. The whole thing is rebuilt when `geocoder_addressversion` (bumped by statement
triggers on the address tables) or the admin-area layer version changes.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from pypinyin import lazy_pinyin

from .normalize import clean

VERSION_CHECK_SECONDS = 2.0

AREA_KINDS = ("district", "street", "community")


@dataclass
class Entry:
    """One named thing the parser can recognize: kind + id + its standard name and point."""

    kind: str  # district street community road place compound organization storefront courtyard
    id: int
    name: str
    lon: float
    lat: float
    street_id: int | None = None
    community_id: int | None = None
    district_id: int | None = None


@dataclass
class Door:
    id: int
    road_id: int
    number: int
    suffix: str
    side: str
    measure: float
    courtyard: str
    lon: float
    lat: float


@dataclass
class RoadLine:
    id: int
    name: str
    odd_side: str
    coords: list[tuple[float, float]]
    street_id: int | None
    doors: list[Door] = field(default_factory=list)  # sorted by (number, suffix)


@dataclass
class BuildingPoint:
    id: int
    number: str
    owner_kind: str  # compound or organization
    owner_id: int
    lon: float
    lat: float


@dataclass
class Gazetteer:
    names: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    max_len: int = 1
    grams: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    roads: dict[int, RoadLine] = field(default_factory=dict)
    doors: dict[int, Door] = field(default_factory=dict)
    doors_by_number: dict[int, list[Door]] = field(default_factory=lambda: defaultdict(list))
    doors_by_courtyard: dict[str, list[Door]] = field(default_factory=lambda: defaultdict(list))
    door_owners: dict[int, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    owner_doors: dict[tuple[str, int], int] = field(default_factory=dict)
    buildings: dict[tuple[str, int], dict[str, BuildingPoint]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    buildings_by_number: dict[str, list[BuildingPoint]] = field(
        default_factory=lambda: defaultdict(list)
    )
    entries: dict[tuple[str, int], Entry] = field(default_factory=dict)
    road_areas: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    syllables: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per character
    prefix_keys: list[str] = field(default_factory=list)
    prefix_entries: list[Entry] = field(default_factory=list)
    version: tuple = ()

    # -- building -------------------------------------------------------------------------
    def add_name(self, name: str, entry: Entry) -> None:
        key = clean(name)
        if len(key) < 2:
            return
        bucket = self.names[key]
        if any(e.kind == entry.kind and e.id == entry.id for e in bucket):
            return
        bucket.append(entry)
        self.max_len = max(self.max_len, len(key))
        if not key.isascii():
            for gram in name_grams(key):
                self.grams[gram].add(key)
            syllables = lazy_pinyin(key)
            if len(syllables) == len(key):
                self.syllables[key] = tuple(syllables)
            spelled = "".join(syllables)
            if spelled != key and spelled.isascii() and len(spelled) >= 4:
                self.names[spelled].append(entry)
                self.max_len = max(self.max_len, len(spelled))

    def finish(self) -> None:
        pairs = sorted(
            ((key, e) for key, bucket in self.names.items() if not key.isascii() for e in bucket),
            key=lambda kv: (kv[0], kv[1].kind),
        )
        self.prefix_keys = [k for k, _ in pairs]
        self.prefix_entries = [e for _, e in pairs]
        for road in self.roads.values():
            road.doors.sort(key=lambda d: (d.number, d.suffix))

    # -- reading --------------------------------------------------------------------------
    def within(self, entry: Entry, area_id: int) -> bool:
        """Whether a named thing lies in (a road: passes through) the admin area `area_id`."""
        if entry.kind == "road":
            return area_id in self.road_areas.get(entry.id, ()) or entry.street_id == area_id
        return area_id in (entry.community_id, entry.street_id, entry.district_id, entry.id)

    def prefixed(self, prefix: str, limit: int) -> list[tuple[str, Entry]]:
        """Gives up to `limit` (name, entry) pairs whose cleaned name starts with `prefix`."""
        out: list[tuple[str, Entry]] = []
        i = bisect.bisect_left(self.prefix_keys, prefix)
        while i < len(self.prefix_keys) and len(out) < limit:
            key = self.prefix_keys[i]
            if not key.startswith(prefix):
                break
            out.append((key, self.prefix_entries[i]))
            i += 1
        return out


def name_grams(text: str) -> set[str]:
    """Gives the bigrams and skip-bigrams (characters i and i+2) of `text`.

    A wrong character leaves the skip pair around it; a missing character turns a skip pair of
    the name into a plain pair of the query; so one typo always leaves a shared key.
    """
    grams = {text[i : i + 2] for i in range(len(text) - 1)}
    grams |= {text[i] + "_" + text[i + 2] for i in range(len(text) - 2)}
    grams |= {text[i] + text[i + 2] for i in range(len(text) - 2)}
    return grams


_LOCK = threading.Lock()
_CURRENT: Gazetteer | None = None
_CHECKED_AT = 0.0


def current_version() -> tuple:
    """Gives the version of the address tables and admin areas in the database.

    The trigger-bumped counter catches updates and deletes; the highest ids (served by the
    primary keys) also catch a rolled-back writer's successor, since sequences never go back.
    """
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT version FROM geocoder_addressversion WHERE id = 1),"
            " (SELECT coalesce(sum(version), 0) FROM spatial_layer"
            "   WHERE table_name IN ('spatial_adminarea', 'spatial_unitgrid')),"
            + ",".join(f" (SELECT max(id) FROM {t})" for t in VERSIONED_TABLES)
        )
        return tuple(cur.fetchone())


VERSIONED_TABLES = (
    "geocoder_road",
    "geocoder_dooraddress",
    "geocoder_placename",
    "geocoder_compound",
    "geocoder_organization",
    "geocoder_building",
    "spatial_adminarea",
)


def gazetteer() -> Gazetteer:
    """Gives the current gazetteer, rebuilt when the address tables changed.

    A small gazetteer (last load under `SYNC_REBUILD_SECONDS`) is rebuilt before answering;
    a large one is rebuilt in a background thread while requests keep the previous one, so
    no caller waits seconds for a city-sized rebuild.
    """
    global _CURRENT, _CHECKED_AT
    now = time.monotonic()
    if _CURRENT is not None and now - _CHECKED_AT < VERSION_CHECK_SECONDS:
        return _CURRENT
    version = current_version()
    _CHECKED_AT = now
    if _CURRENT is not None and _CURRENT.version == version:
        return _CURRENT
    if _CURRENT is not None and _LAST_LOAD_SECONDS > SYNC_REBUILD_SECONDS:
        _rebuild_in_background(version)
        return _CURRENT
    with _LOCK:
        if _CURRENT is None or _CURRENT.version != version:
            _CURRENT = _timed_load(version)
    return _CURRENT


SYNC_REBUILD_SECONDS = 1.0
_LAST_LOAD_SECONDS = 0.0
_REBUILDING = threading.Event()


def _timed_load(version: tuple) -> Gazetteer:
    global _LAST_LOAD_SECONDS
    started = time.monotonic()
    loaded = load(version)
    _LAST_LOAD_SECONDS = time.monotonic() - started
    return loaded


def _rebuild_in_background(version: tuple) -> None:
    if _REBUILDING.is_set():
        return
    _REBUILDING.set()

    def run() -> None:
        global _CURRENT
        try:
            fresh = _timed_load(version)
            with _LOCK:
                _CURRENT = fresh
        finally:
            connection.close()  # this thread's own connection
            _REBUILDING.clear()

    threading.Thread(target=run, name="gazetteer-rebuild", daemon=True).start()


def invalidate() -> None:
    """Forces the next `gazetteer()` call to compare versions with the database."""
    global _CHECKED_AT
    _CHECKED_AT = 0.0


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


# Point-in-community lookups run once per load; the GiST index on spatial_adminarea.geom
# serves the lateral ST_Contains.
_COMMUNITY_OF = """
LEFT JOIN LATERAL (SELECT c.id, c.parent_id FROM spatial_adminarea c
                    WHERE c.level = 'community' AND ST_Intersects(c.geom, {pt}) LIMIT 1) comm ON true
"""


def load(version: tuple = ()) -> Gazetteer:
    """Gives a gazetteer built from the address tables and admin areas."""
    g = Gazetteer(version=version)
    areas = {}
    for aid, level, name, parent_id, lon, lat in _rows(
        "SELECT id, level, name, parent_id, ST_X(p), ST_Y(p) FROM "
        "(SELECT *, ST_PointOnSurface(geom) p FROM spatial_adminarea) a"
    ):
        areas[aid] = (level, name, parent_id)
        entry = Entry(level, aid, name, lon, lat)
        g.entries[(level, aid)] = entry
    for (level, _name, parent_id), entry in zip(areas.values(), list(g.entries.values())):
        if level == "community":
            entry.community_id = entry.id
            entry.street_id = parent_id
            entry.district_id = areas.get(parent_id, (None, None, None))[2]
        elif level == "street":
            entry.street_id, entry.district_id = entry.id, parent_id
        else:
            entry.district_id = entry.id
    for entry in list(g.entries.values()):
        for alias in area_aliases(entry.kind, entry.name):
            g.add_name(alias, entry)

    def placed(entry: Entry, community_id: int | None) -> Entry:
        if community_id is not None and community_id in areas:
            entry.community_id = community_id
            entry.street_id = areas[community_id][2]
            if entry.street_id in areas:
                entry.district_id = areas[entry.street_id][2]
        g.entries[(entry.kind, entry.id)] = entry
        return entry

    for rid, name, aliases, odd_side, street_id, coords_wkt, lon, lat, comm in _rows(
        "SELECT r.id, r.name, r.aliases, r.odd_side, r.street_id, ST_AsText(r.geom),"
        " ST_X(m), ST_Y(m), comm.id FROM (SELECT *, ST_LineInterpolatePoint(geom, 0.5) m"
        " FROM geocoder_road) r " + _COMMUNITY_OF.format(pt="r.m")
    ):
        coords = _linestring_coords(coords_wkt)
        g.roads[rid] = RoadLine(rid, name, odd_side, coords, street_id)
        entry = placed(Entry("road", rid, name, lon, lat), comm)
        if street_id:
            entry.street_id = street_id
        for n in [name, *aliases]:
            g.add_name(n, entry)

    # Which districts, streets and communities each road passes through (GiST on
    # spatial_adminarea.geom): a stated area restricts the roads a name can stand for.
    for rid, aid in _rows(
        "SELECT r.id, a.id FROM geocoder_road r JOIN spatial_adminarea a"
        " ON ST_Intersects(r.geom, a.geom)"
    ):
        g.road_areas[rid].add(aid)

    for did, rid, number, suffix, side, measure, courtyard, lon, lat in _rows(
        "SELECT id, road_id, number, suffix, side, measure, courtyard, ST_X(geom), ST_Y(geom)"
        " FROM geocoder_dooraddress"
    ):
        door = Door(did, rid, number, suffix, side, measure, courtyard, lon, lat)
        g.doors[did] = door
        g.roads[rid].doors.append(door)
        g.doors_by_number[number].append(door)
        if courtyard:
            key = clean(courtyard)
            g.doors_by_courtyard[key].append(door)
            road = g.entries[("road", rid)]
            entry = Entry(
                "courtyard",
                did,
                courtyard,
                lon,
                lat,
                road.street_id,
                road.community_id,
                road.district_id,
            )
            g.add_name(courtyard, entry)

    for pid, name, kind, aliases, historical, door_id, lon, lat, comm in _rows(
        "SELECT p.id, p.name, p.kind, p.aliases, p.historical_names, p.door_id, ST_X(p.geom),"
        " ST_Y(p.geom), comm.id FROM geocoder_placename p " + _COMMUNITY_OF.format(pt="p.geom")
    ):
        entry = placed(Entry("place", pid, name, lon, lat), comm)
        if door_id:
            g.owner_doors[("place", pid)] = door_id
        for n in [name, *aliases, *historical]:
            g.add_name(n, entry)

    for cid, name, aliases, door_id, community_id, lon, lat in _rows(
        "SELECT id, name, aliases, door_id, community_id, ST_X(entrance), ST_Y(entrance)"
        " FROM geocoder_compound"
    ):
        entry = placed(Entry("compound", cid, name, lon, lat), community_id)
        if door_id:
            g.owner_doors[("compound", cid)] = door_id
            g.door_owners[door_id].append(("compound", cid))
        for n in [name, *aliases]:
            g.add_name(n, entry)

    for oid, name, kind, aliases, door_id, road_id, lon, lat, comm in _rows(
        "SELECT o.id, o.name, o.kind, o.aliases, o.door_id, o.road_id, ST_X(o.geom),"
        " ST_Y(o.geom), comm.id FROM geocoder_organization o " + _COMMUNITY_OF.format(pt="o.geom")
    ):
        entry = placed(Entry(kind, oid, name, lon, lat), comm)
        if door_id:
            g.owner_doors[(kind, oid)] = door_id
            g.door_owners[door_id].append((kind, oid))
        if road_id:
            g.owner_doors.setdefault((kind + ":road", oid), road_id)
        for n in [name, *aliases]:
            g.add_name(n, entry)

    for bid, number, compound_id, org_id, lon, lat in _rows(
        "SELECT b.id, b.number, b.compound_id, b.organization_id, ST_X(b.geom), ST_Y(b.geom)"
        " FROM geocoder_building b"
    ):
        if compound_id:
            owner = ("compound", compound_id)
        else:
            owner = (_org_kind(g, org_id), org_id)
        key = clean(number)
        point = BuildingPoint(bid, key, owner[0], owner[1], lon, lat)
        g.buildings[owner][key] = point
        g.buildings_by_number[key].append(point)
    for entry in g.entries.values():
        if entry.district_id is None and entry.street_id in areas:
            entry.district_id = areas[entry.street_id][2]
    g.finish()
    return g


def _org_kind(g: Gazetteer, org_id: int) -> str:
    return "storefront" if ("storefront", org_id) in g.entries else "organization"


def _linestring_coords(wkt: str) -> list[tuple[float, float]]:
    inner = wkt[wkt.index("(") + 1 : wkt.rindex(")")]
    return [tuple(map(float, pair.split()))[:2] for pair in inner.split(",")]  # type: ignore[misc]


def area_aliases(level: str, name: str) -> list[str]:
    """Gives the names people use for an admin area: 海淀街道 → 海淀街道办事处, 海淀街道办."""
    names = [name]
    if level == "street":
        stem = name[:-2] if name.endswith("街道") else name
        names += [stem + "街道", stem + "街道办事处", stem + "街道办", stem + "办事处"]
        if name.endswith("镇") or name.endswith("乡"):
            names.append(name + "人民政府")
    elif level == "community":
        stem = name[:-2] if name.endswith("社区") else name
        names += [stem + "社区", stem + "社区居委会", stem + "居委会"]
    elif level == "district":
        if len(name) >= 3 and name[-1] in "区县市":
            names.append(name[:-1])
    return list(dict.fromkeys(names))
