"""Census results (普查成果, spec 5.1.4.1.3) for the city or one admin area.

Counting rules (one per kind of thing, tested against direct counts):

* the area: an admin area's own polygon; the city is every top-level admin area together
  (areas without a parent), so the city's km² is the sum of its districts';
* unit grids belong to the area through their community: a grid counts when its community is
  the area or lies below it (the grid code already says so, CJ/T 213); the city counts all;
* responsibility grids have no community, so one counts when the point on its surface
  (ST_PointOnSurface) lies in the area polygon; the city counts all that have a geometry;
* components count when their geometry intersects the area polygon; the city counts all.

Scope: each count reads one registry layer (unit_grids, responsibility_grids, components) and
counts only the rows the caller sees in it (`Scope.layer_condition`); a caller who may not read
the layer at all gets null for that count (anonymous callers: every non-public layer).

Areas are measured on the ellipsoid (geography), never in degrees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from psycopg2 import sql

from core.errors import BadInput, NotFound

from .models import AdminArea, Layer

AREA_CODE_RE = re.compile(r"^[0-9]{6}([0-9]{3}){0,2}$")

# Area km² and bbox of the whole city: the top-level admin areas (parent NULL). A few rows.
CITY_SHAPE_SQL = """
SELECT coalesce(sum(ST_Area(geom::geography)), 0) / 1e6,
       ST_XMin(ST_Extent(geom)), ST_YMin(ST_Extent(geom)),
       ST_XMax(ST_Extent(geom)), ST_YMax(ST_Extent(geom))
FROM spatial_adminarea WHERE parent_id IS NULL
"""

AREA_SHAPE_SQL = """
SELECT ST_Area(geom::geography) / 1e6, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom)
FROM spatial_adminarea WHERE id = %(area)s
"""

# Unit grids by community FK within the area's subtree (recursive over parent_id, served by
# the parent_id and community_id btree indexes).
AREA_UNIT_GRIDS_SQL = """
WITH RECURSIVE subtree AS (
    SELECT id FROM spatial_adminarea WHERE id = %(area)s
    UNION ALL
    SELECT a.id FROM spatial_adminarea a JOIN subtree s ON a.parent_id = s.id
)
SELECT count(*), avg(u.area_m2)
FROM spatial_unitgrid u
WHERE u.community_id IN (SELECT id FROM subtree) AND {visible}
"""
CITY_UNIT_GRIDS_SQL = "SELECT count(*), avg(area_m2) FROM spatial_unitgrid u WHERE {visible}"

# Responsibility grids whose point on surface lies in the area polygon: the GiST index on the
# grids' geom finds those whose box meets the polygon, and the point test runs on those only.
AREA_RESPONSIBILITY_GRIDS_SQL = """
SELECT count(*), avg(ST_Area(r.geom::geography))
FROM spatial_adminarea a
JOIN spatial_responsibilitygrid r ON r.geom && a.geom
WHERE a.id = %(area)s AND ST_Intersects(a.geom, ST_PointOnSurface(r.geom)) AND {visible}
"""
CITY_RESPONSIBILITY_GRIDS_SQL = """
SELECT count(*), avg(ST_Area(r.geom::geography)) FROM spatial_responsibilitygrid r
WHERE r.geom IS NOT NULL AND {visible}
"""

# Components per minor class. For an area the join drives the component GiST index with the
# one area polygon (PostGIS prepares that polygon once for the whole join); for the city no
# spatial filter is needed. Major classes are summed from the minors in Python.
_COMPONENT_CLASSES_SQL = """
SELECT k.code, k.name, coalesce(major.code, k.code), coalesce(major.name, k.name), n.count
FROM ({counts}) n
JOIN data_category k ON k.id = n.category_id
LEFT JOIN data_category major ON major.id = k.parent_id
ORDER BY k.code
"""
AREA_COMPONENTS_SQL = _COMPONENT_CLASSES_SQL.format(
    counts="""
    SELECT c.category_id, count(*) AS count
    FROM spatial_adminarea a
    JOIN spatial_component c ON ST_Intersects(a.geom, c.geom)
    WHERE a.id = %(area)s AND {visible}
    GROUP BY c.category_id"""
)
CITY_COMPONENTS_SQL = _COMPONENT_CLASSES_SQL.format(
    counts="SELECT c.category_id, count(*) AS count FROM spatial_component c WHERE {visible}"
    " GROUP BY c.category_id"
)
# The registry layer each count reads, and the alias of its table in the queries above.
COUNTED_LAYERS = {"unit_grids": "u", "responsibility_grids": "r", "components": "c"}


@dataclass(frozen=True)
class ClassCount:
    """Components of one class: count and density per km²."""

    code: str
    name: str
    count: int
    density_per_km2: float | None
    major_code: str | None = None


def resolve_area(code: str | None) -> AdminArea | None:
    """Gives the admin area with this code (None, when no code is given, for the city);
    `BadInput` if malformed (an empty code too), `NotFound` if no such area."""
    if code is None:
        return None
    if not AREA_CODE_RE.fullmatch(code):
        raise BadInput("area must be an admin area code of 6, 9 or 12 digits", field="area")
    area = AdminArea.objects.filter(code=code).first()
    if area is None:
        raise NotFound(f"no admin area with code {code}", field="area")
    return area


def census(area: AdminArea | None = None, scope=None) -> dict:
    """Gives the census (普查成果) of an admin area, or of the whole city when `area` is None,
    counting what `scope` sees (everything without a scope: for the server's own work)."""
    params: dict = {"area": area.pk if area else None}
    if area is None:
        shape_sql, counts = CITY_SHAPE_SQL, (CITY_UNIT_GRIDS_SQL, CITY_RESPONSIBILITY_GRIDS_SQL)
        components_sql = CITY_COMPONENTS_SQL
    else:
        shape_sql, counts = AREA_SHAPE_SQL, (AREA_UNIT_GRIDS_SQL, AREA_RESPONSIBILITY_GRIDS_SQL)
        components_sql = AREA_COMPONENTS_SQL
    with connection.cursor() as cursor:
        visible = _visible(scope, cursor.connection, params)
        cursor.execute(shape_sql, params)
        area_km2, *bbox = cursor.fetchone()
        results = []
        for key, query in zip(COUNTED_LAYERS, (*counts, components_sql)):
            if visible[key] is None:
                results.append(None)
                continue
            cursor.execute(query.format(visible=visible[key]), params)
            results.append(cursor.fetchall())
    area_km2 = float(area_km2 or 0.0)
    unit_grids, responsibility_grids, components = results
    return {
        "area": ({"code": area.code, "name": area.name, "level": area.level} if area else None),
        "area_km2": round(area_km2, 6),
        "bbox": [float(v) for v in bbox] if bbox[0] is not None else None,
        "unit_grids": _grid_counts(unit_grids),
        "responsibility_grids": _grid_counts(responsibility_grids),
        "components": None if components is None else _components(components, area_km2),
    }


def _visible(scope, context, params: dict) -> dict[str, str | None]:
    """Gives, per counted layer, the SQL condition keeping the rows `scope` sees ("TRUE" for
    all), or None when the caller may not read the layer; adds the conditions' parameters."""
    if scope is None:
        return dict.fromkeys(COUNTED_LAYERS, "TRUE")
    layers = {layer.key: layer for layer in Layer.objects.filter(key__in=list(COUNTED_LAYERS))}
    visible: dict[str, str | None] = {}
    for key, alias in COUNTED_LAYERS.items():
        layer = layers.get(key)
        if layer is None:  # a database without the core layers registered: nothing to hide
            visible[key] = "TRUE"
            continue
        condition = scope.layer_condition(layer, sql.Identifier(alias, "geom"))
        if condition.empty:
            visible[key] = None
            continue
        visible[key], values = condition.named(f"scope_{key}", context)
        params.update(values)
    return visible


def _grid_counts(rows: list[tuple] | None) -> dict | None:
    if rows is None:
        return None
    count, mean = rows[0]
    return {"count": count, "mean_area_m2": _round(mean)}


def _components(rows: list[tuple], area_km2: float) -> dict:
    by_minor, majors = [], {}
    for code, name, major_code, major_name, count in rows:
        major_code = major_code or code[:2]
        by_minor.append(ClassCount(code, name, count, _density(count, area_km2), major_code))
        key = (major_code, major_name or "")
        majors[key] = majors.get(key, 0) + count
    by_major = [
        ClassCount(code, name, count, _density(count, area_km2))
        for (code, name), count in sorted(majors.items())
    ]
    total = sum(c.count for c in by_minor)
    return {
        "count": total,
        "density_per_km2": _density(total, area_km2),
        "by_major": [_class_dict(c) for c in by_major],
        "by_minor": [_class_dict(c) for c in by_minor],
    }


def _density(count: int, area_km2: float) -> float | None:
    return round(count / area_km2, 6) if area_km2 > 0 else None


def _round(value) -> float | None:
    return round(float(value), 2) if value is not None else None


def _class_dict(c: ClassCount) -> dict:
    data = {"code": c.code, "name": c.name, "count": c.count, "density_per_km2": c.density_per_km2}
    if c.major_code is not None:
        data["major_code"] = c.major_code
    return data
