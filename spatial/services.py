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


# Whether a shape lies in the city: the share of its area outside the districts' union (served
# by the admin area GiST index through `&&`). No districts at all: nothing to check against.
OUTSIDE_CITY_SQL = """
SELECT ST_Area(ST_Difference(g.geom, ST_Union(a.geom))) / NULLIF(ST_Area(g.geom), 0)
FROM (SELECT ST_GeomFromEWKB(%(shape)s) AS geom) g
LEFT JOIN spatial_adminarea a ON a.level = 'district' AND a.geom && g.geom
GROUP BY g.geom
"""


def share_outside_city(geom) -> float:
    """Gives the share (0..1) of a polygon's area outside the city's districts (1 when it meets
    none); 0 when no district is stored."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM spatial_adminarea WHERE level = 'district'")
        if cursor.fetchone()[0] == 0:
            return 0.0
        cursor.execute(OUTSIDE_CITY_SQL, {"shape": bytes(geom.ewkb)})
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return 1.0
    return float(row[0])
