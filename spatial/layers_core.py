"""Registers the core geography tables as layers, and keeps each layer's `version` bumped by
a statement-level trigger on its table so every write invalidates that layer's caches."""

from django.db import connection

CORE_LAYERS = [
    # key, title, table, geometry type, purpose, fields, min_zoom, public, order
    (
        "districts",
        "区",
        "spatial_adminarea",
        "MultiPolygon",
        "county",
        ["code", "name", "level"],
        0,
        True,
        10,
        "level = 'district'",
    ),
    (
        "streets",
        "街道",
        "spatial_adminarea",
        "MultiPolygon",
        "street",
        ["code", "name", "level"],
        8,
        True,
        11,
        "level = 'street'",
    ),
    (
        "communities",
        "社区",
        "spatial_adminarea",
        "MultiPolygon",
        "community",
        ["code", "name", "level"],
        10,
        True,
        12,
        "level = 'community'",
    ),
    (
        "unit_grids",
        "单元网格",
        "spatial_unitgrid",
        "MultiPolygon",
        "unit_grid",
        ["code", "area_m2"],
        12,
        True,
        20,
        "",
    ),
    (
        "responsibility_grids",
        "责任网格",
        "spatial_responsibilitygrid",
        "MultiPolygon",
        "",
        ["code", "name"],
        10,
        False,
        21,
        "",
    ),
    (
        "timing_zones",
        "计时区域",
        "spatial_timingzone",
        "MultiPolygon",
        "",
        ["name", "kind"],
        8,
        False,
        22,
        "",
    ),
    (
        "controlled_areas",
        "管控区域",
        "spatial_controlledarea",
        "MultiPolygon",
        "",
        ["name", "action", "reason"],
        10,
        False,
        23,
        "",
    ),
    (
        "roads",
        "道路",
        "spatial_roadsegment",
        "LineString",
        "road",
        ["name", "road_class"],
        10,
        True,
        30,
        "",
    ),
    (
        "components",
        "部件",
        "spatial_component",
        "Geometry",
        "component",
        ["code", "name", "category_id", "status", "owner_department"],
        10,
        False,
        40,
        "",
    ),
]

VERSION_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION citygrid_bump_layer_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE spatial_layer SET version = version + 1, updated_at = now()
   WHERE schema_name = TG_TABLE_SCHEMA AND table_name = TG_TABLE_NAME;
  RETURN NULL;
END $$;
"""


def install_version_trigger(schema: str, table: str) -> None:
    """Bumps every layer on `schema.table` after any insert, update, delete or truncate."""
    from psycopg2 import sql

    with connection.cursor() as cur:
        cur.execute(VERSION_TRIGGER_SQL)
        target = sql.Identifier(schema, table)
        cur.execute(
            sql.SQL("DROP TRIGGER IF EXISTS citygrid_layer_version ON {}")
            .format(target)
            .as_string(cur.connection)
        )
        cur.execute(
            sql.SQL(
                "CREATE TRIGGER citygrid_layer_version AFTER INSERT OR UPDATE OR DELETE OR "
                "TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION citygrid_bump_layer_version()"
            )
            .format(target)
            .as_string(cur.connection)
        )


def register_core_layers(sender=None, using="default", **kwargs) -> None:
    from .models import Layer

    for key, title, table, gtype, purpose, fields, min_zoom, public, order, where in CORE_LAYERS:
        layer, created = Layer.objects.get_or_create(
            key=key,
            defaults={
                "title": title,
                "kind": Layer.Kind.CORE,
                "table_name": table,
                "geometry_column": "geom",
                "geometry_type": gtype,
                "purpose": purpose,
                "fields": [{"name": f, "alias": f, "visible": True} for f in fields],
                "min_zoom": min_zoom,
                "public": public,
                "sort_order": order,
                "filter_sql": where,
            },
        )
        if not created and (layer.table_name != table or layer.filter_sql != where):
            layer.table_name, layer.filter_sql = table, where
            layer.save(update_fields=["table_name", "filter_sql"])
    for table in {row[2] for row in CORE_LAYERS}:
        install_version_trigger("public", table)
