"""Default tiling options for the core layers, installed after every migrate."""

from __future__ import annotations

COMPONENT_FILTERS = [
    {"name": "status", "column": "status", "type": "string"},
    {"name": "major", "column": "code", "type": "string", "substr": [7, 2]},
    {"name": "minor", "column": "code", "type": "string", "substr": [7, 4]},
    {"name": "category", "column": "category_id", "type": "integer"},
    {"name": "updated_since", "column": "updated_at", "type": "datetime", "op": ">="},
    {"name": "updated_until", "column": "updated_at", "type": "datetime", "op": "<="},
]


def install_default_tiling(sender=None, **kwargs) -> None:
    """Marks the component layer (部件) as a point layer with its filters, unless an admin has
    already configured it."""
    from spatial.models import Layer
    from tiles.models import LayerTiling

    for layer in Layer.objects.filter(key="components"):
        LayerTiling.objects.get_or_create(
            layer=layer, defaults={"points": True, "filters": COMPONENT_FILTERS}
        )
    install_cells()


def install_cells() -> None:
    """Installs point cells (tiles.cells) for every point layer whose table has a
    geom_mercator column, and marks them ready; then builds the area cells of the areas in use
    that have none yet."""
    from django.db import connection

    from accounts.models import Person
    from tiles.cells import install_point_cells, sync_area_cells
    from tiles.models import LayerTiling

    for tiling in LayerTiling.objects.filter(points=True).select_related("layer"):
        layer = tiling.layer
        with connection.cursor() as cur:
            cur.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s AND column_name = 'geom_mercator'",
                [layer.schema_name, layer.table_name],
            )
            has_column = cur.fetchone() is not None
        if has_column and not layer.filter_sql:
            install_point_cells(layer.schema_name, layer.table_name)
            LayerTiling.objects.filter(pk=tiling.pk).update(cells_ready=True)
    # Not after `migrate tiles` alone on a new database, which has no people yet.
    if Person._meta.db_table in connection.introspection.table_names():
        sync_area_cells()
