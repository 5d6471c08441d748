"""Keeps each person's area geometry: the union of its admin areas and responsibility grids.

Membership changes: `set_person_areas` and the m2m signals. Shape changes of the areas
themselves: database triggers (migration 0003), so bulk SQL updates are covered too.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from accounts.models import Person


def refresh_person_area(person_id: int) -> None:
    """Recomputes one person's area union (and its Web Mercator copy and digest) in SQL.

    The SQL function `accounts_refresh_person_area` (migration 0003) unions the person's admin
    areas and responsibility grids; triggers on those tables call it too when a shape changes.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT accounts_refresh_person_area(%s)", [person_id])
    from accounts import authcache

    authcache.invalidate()  # the person's area digest is part of the cached scope


@transaction.atomic
def set_person_areas(person: Person, admin_areas: Iterable = (), grids: Iterable = ()) -> Person:
    """Gives the person after replacing its areas (admin areas and responsibility grids)."""
    person.admin_areas.set(list(admin_areas))
    person.grids.set(list(grids))
    refresh_person_area(person.pk)
    person.refresh_from_db(fields=["area_geom", "area_digest"])
    return person


def area_digests_in_use() -> set[str]:
    """Gives the area digests (`Person.area_digest`) of the active people who have an area:
    the areas a scoped query may be asked for."""
    people = Person.objects.filter(user__is_active=True, area_geom__isnull=False)
    return set(people.exclude(area_digest="").values_list("area_digest", flat=True).distinct())


def area_of_digest(digest: str):
    """Gives the area whose digest is `digest` (a GEOS geometry in Web Mercator), or None when
    no person holds it any more."""
    found = Person.objects.filter(area_digest=digest, area_geom__isnull=False)
    return found.values_list("area_geom_mercator", flat=True).first()
