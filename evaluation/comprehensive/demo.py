"""The demo city's sample library (样本库): the standard sample types and, for the demo district
taken as the evaluated city (with its streets as objects), samples derived from its own
geography — roads by name and street, back alleys, the streets with most shops, parks, squares,
rivers, public toilets, bus stops, crossings of main roads and communities.

The demo city has no farmers' markets (农贸市场) or vendor zones (便民摊点规划区): those types
are created, but hold samples only when imported (GeoJSON or a layer).
"""

from __future__ import annotations

import json

from django.db import connection, transaction

from accounts.scoping import Scope
from spatial.models import AdminArea

from . import samples
from .models import EvaluationObject, SampleType

# (code, name, shape, attributes): the sample types of the spec's example list (4.6.3).
SAMPLE_TYPES = [
    ("main_road", "主次干道", "line", ["道路等级", "长度米"]),
    ("back_alley", "背街小巷", "line", ["长度米"]),
    ("shopping_street", "商业步行街", "line", ["店铺数"]),
    ("park", "公园", "polygon", ["类别", "面积平方米"]),
    ("square", "广场", "polygon", ["面积平方米"]),
    ("market", "农贸市场", "point", ["摊位数"]),
    ("toilet", "公共厕所", "point", ["编码"]),
    ("station", "车站", "point", ["类别", "编码"]),
    ("water", "河流湖泊", "polygon", ["面积平方米"]),
    ("vendor_zone", "便民摊点规划区", "polygon", []),
    ("community", "社区", "polygon", ["编码"]),
    ("crossing", "主要交通路口", "point", ["道路"]),
]

# Each query gives (source, name, GeoJSON geometry, attributes JSON) inside the district
# %(district)s. Roads are cut by street and merged per name, so a sample is "that road in
# that street", as inspectors walk it.
ROADS_SQL = """
SELECT 'road:' || r.name || ':' || s.code,
       r.name || '（' || s.name || '段）',
       ST_AsGeoJSON(ST_Multi(ST_CollectionExtract(
           ST_Intersection(ST_Union(r.geom), s.geom), 2)), 7),
       json_build_object('道路等级', CASE min(r.road_class) WHEN 'main' THEN '主干道'
                         WHEN 'secondary' THEN '次干道' ELSE '背街小巷' END,
                         '长度米', round(sum(ST_Length(ST_Intersection(r.geom, s.geom)::geography))))
FROM spatial_roadsegment r
JOIN spatial_adminarea s ON s.level = 'street' AND s.parent_id = %(district)s
     AND ST_Intersects(r.geom, s.geom)
WHERE r.road_class = ANY(%(classes)s)
GROUP BY r.name, s.id, s.code, s.name, s.geom
HAVING sum(ST_Length(ST_Intersection(r.geom, s.geom)::geography)) >= 50
"""
SHOPPING_SQL = """
SELECT 'shops:' || rd.id, rd.name, ST_AsGeoJSON(rd.geom, 7),
       json_build_object('店铺数', count(*))
FROM geocoder_organization o JOIN geocoder_road rd ON rd.id = o.road_id
WHERE o.kind = 'storefront' AND ST_Intersects(rd.geom, %(geom)s::geometry)
GROUP BY rd.id, rd.name, rd.geom
ORDER BY count(*) DESC, rd.id LIMIT %(limit)s
"""
PLACES_SQL = """
SELECT 'place:' || p.id, p.name, ST_AsGeoJSON(ST_Multi(p.area), 7),
       json_build_object('面积平方米', round(ST_Area(p.area::geography)))
FROM geocoder_placename p
WHERE p.area IS NOT NULL AND p.name ~ %(pattern)s AND ST_Intersects(p.area, %(geom)s::geometry)
ORDER BY p.id
"""
COMPONENTS_SQL = """
SELECT 'component:' || c.code, %(label)s || '（' || right(c.code, 6) || '）',
       ST_AsGeoJSON(ST_PointOnSurface(c.geom), 7), json_build_object('编码', c.code)
FROM spatial_component c
WHERE substr(c.code, 7, 4) = %(minor)s AND c.status <> 'removed'
  AND ST_Intersects(c.geom, %(geom)s::geometry)
ORDER BY c.code
"""
CROSSINGS_SQL = """
WITH crossing AS (
    SELECT least(a.name, b.name) AS one, greatest(a.name, b.name) AS other,
           (ST_Dump(ST_Intersection(a.geom, b.geom))).geom AS geom
    FROM spatial_roadsegment a JOIN spatial_roadsegment b
      ON a.id < b.id AND a.name <> b.name AND ST_Intersects(a.geom, b.geom)
    WHERE a.road_class IN ('main', 'secondary') AND b.road_class IN ('main', 'secondary')
      AND 'main' IN (a.road_class, b.road_class)
      AND ST_Intersects(a.geom, %(geom)s::geometry)
)
SELECT DISTINCT ON (one, other, ST_GeoHash(geom, 8))
       'crossing:' || ST_GeoHash(geom, 8) || ':' || md5(one || other),
       one || '与' || other || '交叉口', ST_AsGeoJSON(geom, 7),
       json_build_object('道路', one || '、' || other)
FROM crossing WHERE GeometryType(geom) = 'POINT'
ORDER BY one, other, ST_GeoHash(geom, 8)
"""
COMMUNITIES_SQL = """
SELECT 'community:' || c.code, c.name, ST_AsGeoJSON(c.geom, 7), json_build_object('编码', c.code)
FROM spatial_adminarea c JOIN spatial_adminarea s ON s.id = c.parent_id
WHERE c.level = 'community' AND s.parent_id = %(district)s
ORDER BY c.code
"""


def ensure_sample_types() -> dict[str, SampleType]:
    """Creates the standard sample types that are missing; gives all by code."""
    for code, name, shape, attributes in SAMPLE_TYPES:
        SampleType.objects.get_or_create(
            code=code, defaults={"name": name, "shape": shape, "attributes": attributes}
        )
    return {t.code: t for t in SampleType.objects.all()}


def ensure_objects(district: AdminArea) -> EvaluationObject:
    """The district as the evaluated city, with one object per street; gives the city."""
    city, _ = EvaluationObject.objects.get_or_create(
        code=f"demo-{district.code}",
        defaults={
            "name": district.name,
            "kind": EvaluationObject.Kind.CITY,
            "area": district,
            "geom": district.geom,
            "city_type": "市辖区",
            "size": EvaluationObject.Size.LARGE,
        },
    )
    for street in AdminArea.objects.filter(parent=district, level=AdminArea.Level.STREET):
        EvaluationObject.objects.get_or_create(
            code=f"demo-{street.code}",
            defaults={
                "name": street.name,
                "kind": EvaluationObject.Kind.STREET,
                "parent": city,
                "area": street,
                "geom": street.geom,
                "size": EvaluationObject.Size.MEDIUM,
            },
        )
    return city


def _features(query: str, values: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(query, values)
        rows = cursor.fetchall()
    return [
        {
            "type": "Feature",
            "id": source,
            "geometry": json.loads(geometry) if geometry else None,
            "properties": {"name": name, **(attributes or {})},
        }
        for source, name, geometry, attributes in rows
    ]


def feature_sets(district: AdminArea) -> dict[str, list[dict]]:
    """The demo samples of `district` by sample type code, as GeoJSON features."""
    geom = district.geom.hexewkb.decode()
    around = {"district": district.pk, "geom": geom}
    return {
        "main_road": _features(ROADS_SQL, {**around, "classes": ["main", "secondary"]}),
        "back_alley": _features(ROADS_SQL, {**around, "classes": ["alley"]}),
        "shopping_street": _features(SHOPPING_SQL, {**around, "limit": 6}),
        "park": _features(PLACES_SQL, {**around, "pattern": "(公园|绿地|游园)$"}),
        "square": _features(PLACES_SQL, {**around, "pattern": "广场$"}),
        "water": _features(PLACES_SQL, {**around, "pattern": "(河|湖)$"}),
        "toilet": _features(COMPONENTS_SQL, {**around, "minor": "0301", "label": "公共厕所"}),
        "station": _features(COMPONENTS_SQL, {**around, "minor": "0202", "label": "公交站"}),
        "crossing": _features(CROSSINGS_SQL, around),
        "community": _features(COMMUNITIES_SQL, around),
    }


def build_demo_samples(scope: Scope, district: AdminArea) -> dict[str, dict]:
    """Writes the sample types, the objects and the demo samples of `district` (again:
    updated in place); gives what each type's import did."""
    with transaction.atomic():
        types = ensure_sample_types()
        city = ensure_objects(district)
    done = {}
    for code, features in feature_sets(district).items():
        done[code] = samples.do_import_samples(
            scope, object_id=city.pk, sample_type_id=types[code].pk, features=features
        ).as_json()
    return done
