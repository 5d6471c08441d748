"""Writes that keep derived base geography consistent."""

from __future__ import annotations

from django.db import connection

from .models import ResponsibilityGrid

# The responsibility grid's geometry is the union of its unit grids (served by the m2m table's
# responsibilitygrid_id index and the unit grid primary key); ST_Multi keeps the column type
# MultiPolygon even when the union is one polygon, and ST_CollectionExtract drops slivers of
# lower dimension that a union of touching polygons can leave behind.
REFRESH_RESPONSIBILITY_GRID_SQL = """
UPDATE spatial_responsibilitygrid r
SET geom = (
    SELECT ST_Multi(ST_CollectionExtract(ST_Union(u.geom), 3))
    FROM spatial_responsibilitygrid_unit_grids m
    JOIN spatial_unitgrid u ON u.id = m.unitgrid_id
    WHERE m.responsibilitygrid_id = r.id
)
WHERE r.id = %(id)s
"""


def refresh_responsibility_grid(grid: ResponsibilityGrid | int) -> ResponsibilityGrid:
    """Gives the responsibility grid (责任网格) with its geometry recomputed as the union of its
    unit grids (NULL when it has none)."""
    grid_id = grid if isinstance(grid, int) else grid.pk
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_RESPONSIBILITY_GRID_SQL, {"id": grid_id})
    fresh = ResponsibilityGrid.objects.get(pk=grid_id)
    if isinstance(grid, ResponsibilityGrid):
        grid.geom = fresh.geom
    return fresh
