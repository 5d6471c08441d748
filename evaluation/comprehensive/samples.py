"""Sample points (样本点, spec 4.6.3): places of a sample type in an evaluation object, with real
geometry — points (crossings, toilets, stations), lines (roads), polygons (parks, squares,
communities) — written in bulk from GeoJSON features or from a registry layer.

Each sample keeps an `anchor` (PostGIS ``ST_PointOnSurface``: a point on the line or inside the
polygon) from which distances between samples are measured, and the street (街道) holding the
anchor, the stratum of sampling. Samples imported with a `source` (``osm:123``,
``layer:parks:7``) are upserted by it: importing the same set again updates, never duplicates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.db import connection
from psycopg2 import sql

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput, NotFound
from spatial.models import Layer

from . import config
from .models import EvaluationObject, SamplePoint, SampleType

MAX_FEATURES = 100_000
MAX_ATTRIBUTES = 50
SHAPES = {
    SampleType.Shape.POINT: ("Point", "MultiPoint"),
    SampleType.Shape.LINE: ("LineString", "MultiLineString"),
    SampleType.Shape.POLYGON: ("Polygon", "MultiPolygon"),
}

# One statement for the whole batch: the anchor of each geometry, the street (the lowest
# code among street areas covering the anchor, served by the admin areas' GiST index), and an
# upsert by source where there is one (the partial unique index samplepoint_source_once).
UPSERT_SQL = """
WITH given AS (
    SELECT name, attrs::jsonb AS attrs, source, ST_SetSRID(g::geometry, 4326) AS geom
    FROM unnest(%(names)s::text[], %(attrs)s::text[], %(sources)s::text[], %(geoms)s::text[])
         AS t(name, attrs, source, g)
), anchored AS (
    SELECT given.*, ST_PointOnSurface(geom) AS anchor FROM given
)
INSERT INTO evaluation_samplepoint
    (sample_type_id, object_id, street_id, name, attributes, geom, anchor, enabled, source)
SELECT %(type)s, %(object)s,
       (SELECT a.id FROM spatial_adminarea a
        WHERE a.level = 'street' AND ST_Covers(a.geom, x.anchor) ORDER BY a.code LIMIT 1),
       x.name, x.attrs, x.geom, x.anchor, true, x.source
FROM anchored x
ON CONFLICT (object_id, sample_type_id, source) WHERE source <> '' DO UPDATE
SET name = EXCLUDED.name, attributes = EXCLUDED.attributes, geom = EXCLUDED.geom,
    anchor = EXCLUDED.anchor, street_id = EXCLUDED.street_id
RETURNING (xmax = 0)
"""


@dataclass
class Imported:
    """What an import did: rows added and updated, and the features left out with why."""

    added: int = 0
    updated: int = 0
    skipped: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "skipped": len(self.skipped),
            "skipped_features": self.skipped[:100],
        }


@dataclass
class Candidate:
    name: str
    attributes: dict
    source: str
    geometry: GEOSGeometry


def _geometry(raw, shape: str) -> GEOSGeometry:
    if not isinstance(raw, dict):
        raise ValueError("no geometry")
    try:
        geom = GEOSGeometry(json.dumps(raw), srid=4326)
    except (GEOSException, GDALException, ValueError, TypeError):
        raise ValueError("not a GeoJSON geometry") from None
    if geom.geom_type not in SHAPES[shape]:
        raise ValueError(f"a {geom.geom_type}, not a {shape} (this sample type's shape)")
    if geom.empty:
        raise ValueError("an empty geometry")
    minx, miny, maxx, maxy = geom.extent
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValueError("coordinates outside lon/lat ranges (EPSG:4326 expected)")
    if not geom.valid:
        raise ValueError(f"invalid geometry: {geom.valid_reason}")
    return geom


def candidates_from_features(
    features, shape: str, name_property: str = "name"
) -> tuple[list[Candidate], list[dict]]:
    """Gives the samples GeoJSON `features` describe (name from `name_property`, the other
    properties as attributes, ``id`` as source) and the features refused with why."""
    if not isinstance(features, list):
        raise BadInput("features must be a list of GeoJSON features", field="features")
    if len(features) > MAX_FEATURES:
        raise BadInput(f"at most {MAX_FEATURES} features at a time", field="features")
    found, skipped = [], []
    for index, feature in enumerate(features):
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise ValueError("not a GeoJSON Feature")
            geom = _geometry(feature.get("geometry"), shape)
            properties = feature.get("properties") or {}
            if not isinstance(properties, dict):
                raise ValueError("properties must be an object")
            name = str(properties.get(name_property) or "").strip()[:128]
            if not name:
                raise ValueError(f"no {name_property}")
            attributes = {
                str(k)[:32]: v
                for k, v in properties.items()
                if k != name_property and isinstance(v, str | int | float | bool)
            }
            if len(attributes) > MAX_ATTRIBUTES:
                raise ValueError(f"at most {MAX_ATTRIBUTES} attributes")
            if "\x00" in name or any("\x00" in f"{k}{v}" for k, v in attributes.items()):
                raise ValueError("text may not hold NUL")
            source = feature.get("id")
            source = "" if source is None else str(source)[:64]
            found.append(Candidate(name, attributes, source, geom))
        except ValueError as exc:
            skipped.append({"index": index, "reason": str(exc)})
    return found, skipped


def _outside(obj: EvaluationObject, found: list[Candidate]) -> list[int]:
    """Indexes of candidates that do not meet the object's area (all inside when it has none)."""
    if obj.geom is None:
        return []
    return [i for i, c in enumerate(found) if not obj.geom.intersects(c.geometry)]


def write(
    obj: EvaluationObject, sample_type: SampleType, found: list[Candidate], result: Imported
) -> Imported:
    """Upserts `found` as samples of `sample_type` in `obj` in one statement; those outside
    the object's area are added to `result.skipped`."""
    outside = set(_outside(obj, found))
    result.skipped += [
        {"index": i, "reason": "outside the object's area", "name": found[i].name}
        for i in sorted(outside)
    ]
    kept = [c for i, c in enumerate(found) if i not in outside]
    if not kept:
        return result
    with connection.cursor() as cursor:
        cursor.execute(
            UPSERT_SQL,
            {
                "type": sample_type.pk,
                "object": obj.pk,
                "names": [c.name for c in kept],
                "attrs": [json.dumps(c.attributes, ensure_ascii=False) for c in kept],
                "sources": [c.source for c in kept],
                "geoms": [c.geometry.hexewkb.decode() for c in kept],
            },
        )
        inserted = [row[0] for row in cursor.fetchall()]
    result.added += sum(inserted)
    result.updated += len(inserted) - sum(inserted)
    return result


def _sample_type(pk) -> SampleType:
    try:
        return SampleType.objects.get(pk=int(pk))
    except (ValueError, TypeError, SampleType.DoesNotExist):
        raise NotFound(f"no sample type {pk}", field="sample_type") from None


def _target(*args, **kwargs) -> str:
    return f"object:{kwargs.get('object_id')}"


@action("evaluation.import_samples", permission=perms.EVALUATION_MANAGE, target=_target)
def do_import_samples(
    scope: Scope, *, object_id, sample_type_id, features, name_property: str = "name"
) -> Imported:
    """Adds (or, by source id, updates) the samples of GeoJSON `features` to an object; a
    feature of the wrong shape, invalid, unnamed or outside the object is left out and listed."""
    obj = config.row(scope, "objects", object_id)
    sample_type = _sample_type(sample_type_id)
    found, skipped = candidates_from_features(features, sample_type.shape, name_property)
    return write(obj, sample_type, found, Imported(skipped=skipped))


@action("evaluation.import_layer_samples", permission=perms.EVALUATION_MANAGE, target=_target)
def do_import_layer_samples(
    scope: Scope, *, object_id, sample_type_id, layer_key: str, name_field: str
) -> Imported:
    """Adds (or updates) as samples the features of a registry layer (图层) that the caller
    may read, within the caller's areas; sources are ``layer:<key>:<id>``."""
    obj = config.row(scope, "objects", object_id)
    sample_type = _sample_type(sample_type_id)
    layer = Layer.objects.filter(key=layer_key).first()
    if layer is None or layer.kind == Layer.Kind.RASTER or not scope.can_read_layer(layer):
        raise NotFound(f"no vector layer {layer_key!r}", field="layer")
    names = {f.get("name") for f in layer.fields or []} | {"name"}
    if name_field not in names:
        raise BadInput(f"the layer has no field {name_field!r}", field="name_field")
    table = sql.Identifier(layer.schema_name, layer.table_name)
    geom = sql.Identifier(layer.geometry_column)
    condition, params = scope.layer_condition(layer, geom)
    query = sql.SQL(
        "SELECT {id}::text, {name}::text, ST_AsGeoJSON({geom}) FROM {table} WHERE {cond}"
        "{extra} LIMIT %s"
    ).format(
        id=sql.Identifier(layer.id_column),
        name=sql.Identifier(name_field),
        geom=geom,
        table=table,
        cond=condition,
        extra=sql.SQL(" AND ({})").format(sql.SQL(layer.filter_sql))
        if layer.filter_sql
        else sql.SQL(""),
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, MAX_FEATURES + 1])
        rows = cursor.fetchall()
    if len(rows) > MAX_FEATURES:
        raise BadInput(f"the layer has more than {MAX_FEATURES} features", field="layer")
    features = [
        {
            "type": "Feature",
            "id": f"layer:{layer.key}:{pk}",
            "geometry": json.loads(g) if g else None,
            "properties": {"name": name, "layer": layer.key},
        }
        for pk, name, g in rows
    ]
    found, skipped = candidates_from_features(features, sample_type.shape)
    return write(obj, sample_type, found, Imported(skipped=skipped))


def feature(sample: SamplePoint) -> dict:
    """A sample as a GeoJSON feature."""
    return {
        "type": "Feature",
        "id": sample.pk,
        "geometry": json.loads(sample.geom.geojson),
        "properties": {
            "name": sample.name,
            "sample_type": sample.sample_type_id,
            "object": sample.object_id,
            "street": sample.street_id,
            "attributes": sample.attributes,
            "enabled": sample.enabled,
            "source": sample.source,
        },
    }
