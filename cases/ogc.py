"""Cases as the OGC API – Features collection ``cases`` (registered in `CasesConfig.ready`).

Listed and served only to signed-in callers with ``cases.read``; each caller gets the cases
the case list gives them (`queries.case_list`: visibility and the list's filters in SQL), as
GeoJSON points with the tile's properties plus the description, address and placement (flat,
for GIS clients). `bbox` and the list's filters are query parameters; `datetime` bounds the
report time. No reporter data is served here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC


from accounts import permissions as perms
from core import params

from . import queries, visibility
from .models import Case
from .serializers import local_time

# The list's filters a client may give besides the OGC parameters (bbox is an OGC one).
FILTERS = {
    "box",
    "state",
    "source",
    "kind",
    "category",
    "area",
    "deadline_state",
    "department",
    "q",
    "since",
    "until",
}


def feature(case: Case) -> dict:
    """Gives the case as a GeoJSON feature (no reporter data)."""
    category = case.category
    return {
        "type": "Feature",
        "id": case.pk,
        "geometry": {
            "type": "Point",
            "coordinates": [round(case.geom.x, 7), round(case.geom.y, 7)],
        },
        "properties": {
            "number": case.number,
            "state": case.state,
            "state_name": case.get_state_display(),
            "category_code": category.code,
            "category_name": category.name,
            "major_name": category.parent.name if category.parent_id else "",
            "kind": case.kind,
            "source": case.source,
            "deadline_state": case.deadline_state,
            "urgent": case.urgent,
            "description": case.description,
            "address": case.address,
            "district_code": case.district_code,
            "district_name": case.district_name,
            "street_code": case.street_code,
            "street_name": case.street_name,
            "community_code": case.community_code,
            "community_name": case.community_name,
            "unit_grid_code": case.unit_grid_code,
            "grid_code": case.grid_code,
            "grid_name": case.grid_name,
            "department_name": case.department.name if case.department_id else None,
            "reported_at": local_time(case.reported_at),
            "deadline": local_time(case.deadline),
            "closed_at": local_time(case.closed_at),
        },
    }


class CaseCollection:
    """The ``cases`` collection of `spatial.ogc.collections`."""

    key = "cases"

    def readable(self, scope) -> bool:
        return scope.has_perm(perms.CASES_READ)

    def describe(self, scope) -> dict:
        return {
            "title": "案件",
            "description": "The cases you see (城市管理案件), filtered by the case list's "
            "parameters: " + ", ".join(sorted(FILTERS)) + ".",
            "extent": {"temporal": {"interval": [[None, None]]}},
        }

    def reserved(self) -> set[str]:
        return FILTERS

    def page(self, scope, query: Mapping[str, str], limit: int, offset: int):
        chosen = queries.CaseFilter.from_query(query)
        cases = queries.case_list(scope, chosen)
        # Times without an offset are UTC, as for the layers' datetime.
        interval = params.interval(query, "datetime", None, naive_tz=UTC)
        if interval is not None:
            if interval.start is not None:
                cases = cases.filter(reported_at__gte=interval.start)
            if interval.end is not None:
                cases = cases.filter(reported_at__lte=interval.end)
        return cases.count(), [feature(c) for c in cases[offset : offset + limit]]

    def feature(self, scope, fid: int) -> dict | None:
        found = (
            visibility.visible_cases(scope)
            .filter(pk=fid)
            .select_related("category__parent", "department")
            .first()
        )
        return feature(found) if found is not None else None
