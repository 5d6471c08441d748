"""Keeps each person's area geometry: the union of its admin areas and responsibility grids."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from web.accounts.models import Person

# One statement: union of the person's admin areas and grids, made valid and multi, plus its
# md5 for cache keys. Reads spatial_adminarea / spatial_responsibilitygrid by primary key.
REFRESH_SQL = """
WITH parts AS (
    SELECT a.geom FROM accounts_person_admin_areas pa
    JOIN spatial_adminarea a ON a.id = pa.adminarea_id
    WHERE pa.person_id = %(person)s
    UNION ALL
    SELECT g.geom FROM accounts_person_grids pg
    JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
    WHERE pg.person_id = %(person)s AND g.geom IS NOT NULL
), merged AS (
    SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3)) AS geom FROM parts
)
UPDATE accounts_person p
SET area_geom = CASE WHEN ST_IsEmpty(m.geom) THEN NULL ELSE ST_SetSRID(m.geom, 4326) END,
    area_digest = COALESCE(md5(ST_AsBinary(m.geom)), '')
FROM merged m
WHERE p.id = %(person)s
"""


def refresh_person_area(person_id: int) -> None:
    """Recomputes one person's area union (and its Web Mercator copy and digest) in SQL."""
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_SQL, {"person": person_id})


@transaction.atomic
def set_person_areas(person: Person, admin_areas: Iterable = (), grids: Iterable = ()) -> Person:
    """Gives the person after replacing its areas (admin areas and responsibility grids)."""
    person.admin_areas.set(list(admin_areas))
    person.grids.set(list(grids))
    refresh_person_area(person.pk)
    person.refresh_from_db(fields=["area_geom", "area_digest"])
    return person
