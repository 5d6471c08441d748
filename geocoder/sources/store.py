"""Writes a source's records into the address tables, replacing its previous version in one
transaction, and deletes sources. Every row gets its placement (落点) from `spatial.locate`.

The statement triggers on the address tables bump `geocoder_addressversion`, so every
process's gazetteer sees the new version at its next check (`dictionary.current_version`);
this process is told at once (`dictionary.invalidate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction
from django.utils import timezone
from shapely.geometry import LineString, MultiPoint, Point
from shapely.ops import nearest_points

from geocoder import dictionary
from geocoder.normalize import clean
from geocoder.models import (
    AddressSource,
    Building,
    Compound,
    DoorAddress,
    Organization,
    PlaceName,
    Road,
)
from spatial.locate import locate
from spatial.models import AdminArea

from .build import DoorKey, DoorRecord, Records, RoadRecord

MAX_REFUSALS_KEPT = 50
MAX_NAME = 64
DOOR_ROAD_MAX_M = 500.0  # a door farther than this from every road of its name is refused
RANGE_DOOR_OFFSET_M = 8.0  # where a house-number range's end doors stand off the centreline
COMPOUND_MARGIN_DEG = 0.0002  # the area drawn around a compound known only by its doors


@dataclass
class Written:
    counts: dict[str, int] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)
    relinked_doors: int = 0


class _Placer:
    """Gives (area code, grid code) of a point through `spatial.locate`, and admin area ids."""

    def __init__(self) -> None:
        self.area_ids: dict[str, int] = {}

    def __call__(self, point: Point) -> tuple[str, str]:
        placed = locate(point.x, point.y)
        area = placed.community or placed.street or placed.district
        return (area.code if area else ""), (placed.unit_grid or "")

    def area_id(self, code: str, digits: int) -> int | None:
        code = code[:digits] if len(code) >= digits else ""
        if not code:
            return None
        if code not in self.area_ids:
            found = AdminArea.objects.filter(code=code).values_list("id", flat=True).first()
            self.area_ids[code] = found
        return self.area_ids[code]


def replace(source: AddressSource, recs: Records, progress=None) -> Written:
    """Writes `recs` as the next version of `source` and deletes the rows of its previous
    versions, all in the caller's transaction; gives the counts and the refusals."""
    version = source.version + 1
    out = Written(refused=list(recs.refused))
    place = _Placer()
    tag = {"source": source, "source_version": version}
    step = _Progress(progress, len(recs.roads) + len(recs.doors) + len(recs.named))
    roads = _write_roads(recs.roads, tag, place, step)
    out.relinked_doors = _relink_doors(source, version)
    doors = _write_doors(recs, roads, source, tag, place, out, step)
    owners = _write_named(recs, roads, doors, tag, place, out, step)
    buildings = _write_buildings(recs, owners, tag, out)
    delete_rows(source, keep_version=version)
    out.counts = {
        "roads": len(roads.ids),
        "doors": len(doors),
        "compounds": sum(1 for k in owners if k[0] == "compound"),
        "organizations": sum(1 for k in owners if k[0] == "organization"),
        "places": sum(1 for k in owners if k[0] == "place"),
        "buildings": buildings,
    }
    transaction.on_commit(dictionary.invalidate)
    dictionary.invalidate()  # this connection sees the new rows already
    return out


class _Progress:
    def __init__(self, progress, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self) -> None:
        self.done += 1
        if self.progress and self.done % 200 == 0:
            self.progress(self.done, self.total)


# -- roads ----------------------------------------------------------------------------------


@dataclass
class _Roads:
    ids: dict[int, RoadRecord] = field(default_factory=dict)
    by_name: dict[str, list[tuple[int, LineString]]] = field(default_factory=dict)


def _write_roads(records: list[RoadRecord], tag: dict, place: _Placer, step) -> _Roads:
    rows = []
    for rec in records:
        area, grid = place(rec.line.interpolate(0.5, normalized=True))
        rows.append(
            Road(
                name=rec.name[:MAX_NAME],
                aliases=[a[:MAX_NAME] for a in rec.aliases if a != rec.name],
                kind=rec.kind,
                odd_side=_odd_side(rec.ranges),
                street_id=place.area_id(area, 9),
                geom=GEOSGeometry(rec.line.wkt, srid=4326),
                area_code=area,
                grid_code=grid,
                **tag,
            )
        )
        step()
    out = _Roads()
    for row, rec in zip(Road.objects.bulk_create(rows, batch_size=2000), records):
        out.ids[row.pk] = rec
        out.by_name.setdefault(clean(row.name), []).append((row.pk, rec.line))
    return out


def _odd_side(ranges: dict[str, int]) -> str:
    """Gives the side carrying odd numbers: where the ranges say so, else the left."""
    right = [ranges.get(k) for k in ("right_from", "right_to") if ranges.get(k)]
    return "right" if right and all(n % 2 for n in right) else "left"


def _relink_doors(source: AddressSource, version: int) -> int:
    """Moves doors of other sources that stand on this source's old roads to its new road of
    the same name (nearest; KNN on geocoder_road.geom), re-measured along it; gives how many.
    Doors whose road has no successor go with it (Road → DoorAddress cascades)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE geocoder_dooraddress d
               SET road_id = n.id, measure = ST_LineLocatePoint(n.geom, d.geom)
              FROM geocoder_road old
              JOIN LATERAL (SELECT r.id, r.geom FROM geocoder_road r
                             WHERE r.source_id = %(source)s AND r.source_version = %(version)s
                               AND r.name = old.name
                             ORDER BY r.geom <-> old.geom LIMIT 1) n ON true
             WHERE d.road_id = old.id AND old.source_id = %(source)s
               AND old.source_version <> %(version)s
               AND d.source_id IS DISTINCT FROM %(source)s
            """,
            {"source": source.pk, "version": version},
        )
        return cur.rowcount


# -- doors ----------------------------------------------------------------------------------


def _metric(lon: float, lat: float, lat0: float) -> tuple[float, float]:
    return lon * 111_320.0 * math.cos(math.radians(lat0)), lat * 110_574.0


def measure_and_side(line: LineString, point: Point) -> tuple[float, str, float]:
    """Gives (fraction along the line, side of the line looking along it, metres away)."""
    lat0 = line.coords[0][1]
    local = LineString([_metric(x, y, lat0) for x, y in line.coords])
    p = Point(_metric(point.x, point.y, lat0))
    at = local.project(p)
    coords = list(local.coords)
    walked = 0.0
    side = "left"
    for (x0, y0), (x1, y1) in zip(coords, coords[1:]):
        length = math.hypot(x1 - x0, y1 - y0)
        if walked + length >= at or (x1, y1) == coords[-1]:
            cross = (x1 - x0) * (p.y - y0) - (y1 - y0) * (p.x - x0)
            side = "left" if cross >= 0 else "right"
            break
        walked += length
    return (at / local.length if local.length else 0.0), side, local.distance(p)


def _range_doors(roads: _Roads) -> list[DoorRecord]:
    """Gives the doors at the ends of each road's house-number ranges (左起号 … 右止号, or
    起始/终止门牌: odd numbers on the odd side), so numbers between interpolate along it."""
    out = []
    for road_id, rec in roads.ids.items():
        r = rec.ranges
        if not r:
            continue
        odd = _odd_side(r)
        even = "right" if odd == "left" else "left"
        ends: list[tuple[int, float, str]] = []
        for side in ("left", "right"):
            for key, m in ((f"{side}_from", 0.0), (f"{side}_to", 1.0)):
                if r.get(key):
                    ends.append((r[key], m, side))
        lo, hi = r.get("from_number"), r.get("to_number")
        if lo and hi and hi > lo:
            for parity, side in ((1, odd), (0, even)):
                first = lo if lo % 2 == parity else lo + 1
                last = hi if hi % 2 == parity else hi - 1
                if first <= last:
                    ends += [(first, 0.0, side), (last, 1.0, side)]
        for number, m, side in ends:
            out.append(
                DoorRecord(rec.row, DoorKey(clean(rec.name), number), _beside(rec.line, m, side))
            )
    return out


def _beside(line: LineString, m: float, side: str) -> Point:
    """Gives the point RANGE_DOOR_OFFSET_M off the line at fraction m, on `side`."""
    lat0 = line.coords[0][1]
    a = line.interpolate(max(0.0, m - 0.01), normalized=True)
    b = line.interpolate(min(1.0, m + 0.01), normalized=True)
    at = line.interpolate(m, normalized=True)
    ax, ay = _metric(a.x, a.y, lat0)
    bx, by = _metric(b.x, b.y, lat0)
    norm = math.hypot(bx - ax, by - ay) or 1.0
    sign = 1.0 if side == "left" else -1.0
    dx, dy = -(by - ay) / norm * sign, (bx - ax) / norm * sign
    per_lon = 111_320.0 * math.cos(math.radians(lat0))
    return Point(
        at.x + dx * RANGE_DOOR_OFFSET_M / per_lon, at.y + dy * RANGE_DOOR_OFFSET_M / 110_574.0
    )


def _road_for(name: str, point: Point, roads: _Roads, source: AddressSource, cache: dict):
    """Gives (road id, line) of the road named `name` nearest `point`: this source's roads
    first, else those already in the address database (other sources, the demo city)."""
    candidates = roads.by_name.get(name)
    if not candidates:
        if name not in cache:
            found = Road.objects.filter(name__iexact=name).exclude(source=source)
            cache[name] = [(r.pk, _shapely_line(r.geom)) for r in found.only("id", "geom")]
        candidates = cache[name]
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[1].distance(point))


def _shapely_line(geom) -> LineString:
    return LineString(geom.coords)


def _write_doors(recs, roads: _Roads, source, tag, place, out: Written, step) -> dict:
    rows, keys, seen = [], [], {}
    cache: dict = {}
    for rec in [*_range_doors(roads), *recs.doors]:
        step()
        found = _road_for(rec.key.road, rec.point, roads, source, cache)
        if found is None:
            out.refused.append(
                {"row": rec.row, "reason": f"no road named {rec.key.road} in this source or "
                 "the address database"}
            )  # fmt: skip
            continue
        road_id, line = found
        if rec.area is not None:
            # An address drawn as an area (a building, a campus) has its door on the edge
            # that faces its road, not in its middle.
            rec.point = nearest_points(rec.area.boundary, line)[0]
        measure, side, away = measure_and_side(line, rec.point)
        if away > DOOR_ROAD_MAX_M:
            out.refused.append(
                {"row": rec.row, "reason": f"{rec.key.road} is {away:.0f} m from the door"}
            )
            continue
        key = (road_id, rec.key.number, rec.key.suffix)
        if key in seen:
            if rec.row != seen[key]:
                label = f"{rec.key.road}{rec.key.suffix}{rec.key.number}号"
                out.refused.append({"row": rec.row, "reason": f"{label} repeats row {seen[key]}"})
            continue
        seen[key] = rec.row
        area, grid = place(rec.point)
        rows.append(
            DoorAddress(
                road_id=road_id,
                number=rec.key.number,
                suffix=rec.key.suffix,
                side=side,
                measure=measure,
                courtyard=rec.courtyard[:MAX_NAME],
                geom=GEOSGeometry(rec.point.wkt, srid=4326),
                area_code=area,
                grid_code=grid,
                **tag,
            )
        )
        keys.append(rec.key)
    written = DoorAddress.objects.bulk_create(rows, batch_size=5000)
    doors: dict[DoorKey, tuple[int, int]] = {}
    for row, key in zip(written, keys):
        doors.setdefault(key, (row.pk, row.road_id))
    return doors


# -- compounds, organizations, places, buildings --------------------------------------------


def _multipolygon(geom) -> MultiPolygon | None:
    if geom is None:
        return None
    g = GEOSGeometry(geom.wkt, srid=4326)
    return g if g.geom_type == "MultiPolygon" else MultiPolygon(g, srid=4326)


def _write_named(recs: Records, roads: _Roads, doors: dict, tag, place, out: Written, step):
    owners: dict[tuple[str, str], int] = {}
    models = {"compound": Compound, "organization": Organization, "place": PlaceName}
    for rec in recs.named:
        step()
        if len(rec.name) > MAX_NAME:
            out.refused.append({"row": rec.row, "reason": f"name longer than {MAX_NAME}"})
            continue
        if (rec.table, rec.name) in owners:
            continue  # one compound or organization per name in a source
        door_id, door_road = doors.get(rec.door, (None, None)) if rec.door else (None, None)
        area_code, grid = place(rec.point)
        values = dict(
            name=rec.name,
            aliases=[a[:MAX_NAME] for a in rec.aliases if a != rec.name],
            door_id=door_id,
            area_code=area_code,
            grid_code=grid,
            **tag,
        )
        if rec.table == "compound":
            area = rec.area or _area_around(rec.name, recs)
            values.update(
                community_id=place.area_id(area_code, 12),
                geom=_multipolygon(area),
                entrance=GEOSGeometry(rec.point.wkt, srid=4326),
            )
        else:
            values.update(
                kind=rec.kind,
                geom=GEOSGeometry(rec.point.wkt, srid=4326),
                area=_multipolygon(rec.area),
            )
        if rec.table == "organization":
            named_road = roads.by_name.get(rec.road, [(None, None)])[0][0] if rec.road else None
            values["road_id"] = door_road or named_road
        row = models[rec.table].objects.create(**values)
        owners[(rec.table, rec.name)] = row.pk
    return owners


def _area_around(name: str, recs: Records):
    """Gives an area for a compound known only by its doors and buildings."""
    points = [d.point for d in recs.doors if d.courtyard == name]
    points += [b.point for b in recs.buildings if b.owner == ("compound", name)]
    return MultiPoint(points).convex_hull.buffer(COMPOUND_MARGIN_DEG)


def _write_buildings(recs: Records, owners: dict, tag: dict, out: Written) -> int:
    rows = []
    for rec in recs.buildings:
        owner_id = owners.get(rec.owner)
        if owner_id is None:
            out.refused.append({"row": rec.row, "reason": f"no {rec.owner[1]} in this source"})
            continue
        footprint = rec.footprint
        if footprint is not None and footprint.geom_type == "MultiPolygon":
            footprint = max(footprint.geoms, key=lambda p: p.area)
        rows.append(
            Building(
                number=rec.number[:16],
                compound_id=owner_id if rec.owner[0] == "compound" else None,
                organization_id=owner_id if rec.owner[0] == "organization" else None,
                geom=GEOSGeometry(rec.point.wkt, srid=4326),
                footprint=GEOSGeometry(footprint.wkt, srid=4326) if footprint else None,
                **tag,
            )
        )
    return len(Building.objects.bulk_create(rows, batch_size=5000))


# -- deleting -------------------------------------------------------------------------------

# Dependants first. References from rows that stay (other sources, the demo city) to rows
# that go are cleared first, as the models' SET_NULL would; doors cascade with their road.
_CLEAR = [
    ("geocoder_placename", "door_id", "geocoder_dooraddress"),
    ("geocoder_compound", "door_id", "geocoder_dooraddress"),
    ("geocoder_organization", "door_id", "geocoder_dooraddress"),
    ("geocoder_organization", "road_id", "geocoder_road"),
]
_DELETE = [
    ("geocoder_building", ""),
    ("geocoder_building", "compound_id IN (SELECT id FROM geocoder_compound WHERE {gone})"),
    ("geocoder_building", "organization_id IN (SELECT id FROM geocoder_organization WHERE {gone})"),
    ("geocoder_organization", ""),
    ("geocoder_compound", ""),
    ("geocoder_placename", ""),
    ("geocoder_dooraddress", ""),
    ("geocoder_dooraddress", "road_id IN (SELECT id FROM geocoder_road WHERE {gone})"),
    ("geocoder_road", ""),
]


def delete_rows(source: AddressSource, keep_version: int | None = None) -> int:
    """Deletes the rows of `source` except those of `keep_version`; gives how many. Table
    names are constants; the source id and version are parameters (btree on source_id)."""
    gone = "source_id = %(source)s AND source_version IS DISTINCT FROM %(keep)s"
    params = {"source": source.pk, "keep": keep_version}
    deleted = 0
    with connection.cursor() as cur:
        for table, column, target in _CLEAR:
            cur.execute(
                f"UPDATE {table} SET {column} = NULL WHERE {column} IN "
                f"(SELECT id FROM {target} WHERE {gone}) AND NOT coalesce(({gone}), false)",
                params,
            )
        for table, where in _DELETE:
            cur.execute(f"DELETE FROM {table} WHERE {where.format(gone=gone) or gone}", params)
            deleted += cur.rowcount
    return deleted


def finish(source: AddressSource, written: Written, recs: Records, actor, meta: dict) -> None:
    """Records the new version of `source`: counts, a sample of refusals, when and by whom."""
    source.version += 1
    source.counts = {**written.counts, "relinked_doors": written.relinked_doors}
    source.loaded = sum(written.counts.values())
    source.refused = len(written.refused)
    source.skipped = recs.skipped
    source.refusals = written.refused[:MAX_REFUSALS_KEPT]
    source.loaded_at = timezone.now()
    source.loaded_by = (
        actor.user if actor.user is not None and actor.user.is_authenticated else None
    )
    source.loaded_by_name = actor.actor_name
    for key, value in meta.items():
        setattr(source, key, value)
    source.save()
