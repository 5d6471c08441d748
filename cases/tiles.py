"""Cases as vector tiles (案件图层): the caller's cases matching the list's filters, clustered
below `CASES_TILE_CLUSTER_BELOW_ZOOM`, single cases from it on.

The tile is built by the one tile SQL builder (`tiles.sql`) over a derived table: the case
list's own queryset (`visibility.visible_cases(scope)` with `CaseFilter.apply`) compiled by
the ORM with its parameters, so a tile holds exactly the rows `GET /api/v1/cases` lists the
caller. The builder adds ``geom_mercator && <tile box>`` on the derived table, which
PostgreSQL pulls up onto ``cases_case``: the box is served by the GiST index
``case_merc_gist`` and the scope's and filters' conditions are checked on the rows it finds, in
the same scan (the scope's area, read once per query, as in the list).

Measured (in process, 5,000 cases in a scale-0.05 city, 4,254 of them in one z14 tile): the
clustered tile takes 8-11 ms (6.5-7 ms of SQL), the same generic cluster SQL over the 1,687
components of that tile 2.1 ms, the components layer's own tile 0.3 ms (it reads the point
cells kept by triggers, which a scoped, filtered case layer cannot use).

Case tiles change all day and differ per caller and filter: they are never kept in the shared
tile cache. No reporter data is in a tile.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db.models import ExpressionWrapper, F, Field, OuterRef, Subquery
from psycopg2 import sql

from accounts.scoping import Scope
from core.sqlparts import TRUE, Part, bind
from data.models import Category
from tiles import sql as tsql
from tiles.service import check_address, fetch

from . import visibility
from .queries import CaseFilter

LAYER_NAME = "cases"
# (name, PostgreSQL type) of the properties of a single case; its id is the feature id.
COLUMNS = [
    ("number", "text"),
    ("state", "text"),
    ("category_code", "text"),
    ("category_name", "text"),
    ("kind", "text"),
    ("deadline_state", "text"),
    ("urgent", "boolean"),
]
# A cluster's properties besides `point_count`: its most common state, its worst deadline
# state, and how many of its cases are overdue, in warning and urgent.
CLUSTER_SUMMARY = tsql.ClusterSummary(
    columns=("state", "deadline_state", "urgent"),
    aggregates=sql.SQL(
        "mode() WITHIN GROUP (ORDER BY state) AS state, "
        "CASE WHEN bool_or(deadline_state = 'overdue') THEN 'overdue' "
        "WHEN bool_or(deadline_state = 'warning') THEN 'warning' "
        "WHEN bool_or(deadline_state = 'normal') THEN 'normal' ELSE 'none' END AS deadline_state, "
        "count(*) FILTER (WHERE deadline_state = 'overdue')::integer AS overdue, "
        "count(*) FILTER (WHERE deadline_state = 'warning')::integer AS warning, "
        "count(*) FILTER (WHERE urgent)::integer AS urgent"
    ),
)


def chosen_cases(scope: Scope, chosen: CaseFilter) -> Part | None:
    """Gives the derived table of the caller's cases that match `chosen`, with the tile's
    columns and `geom_mercator`: the list's queryset compiled by the ORM with its values, or
    None when no case can match (no ``cases.read``, an empty rule)."""
    classes = Category.objects.filter(pk=OuterRef("category_id"))
    cases = (
        chosen.apply(scope, visibility.visible_cases(scope))
        .order_by()
        .values("id", "number", "state", "kind", "deadline_state", "urgent")
        .annotate(
            # Read by primary key for the rows a tile keeps (a join was planned as a nested
            # loop over the whole class table: 30 of 40 ms of a z14 tile of 4,300 cases);
            # clusters, which do not use them, never read them.
            category_code=Subquery(classes.values("code")[:1]),
            category_name=Subquery(classes.values("name")[:1]),
            # The column as is: the ORM reads a geometry as bytea, the tile SQL needs it.
            mercator=ExpressionWrapper(F("geom_mercator"), output_field=Field()),
        )
    )
    try:
        text, values = cases.query.sql_with_params()
    except EmptyResultSet:
        return None
    return bind(
        "(SELECT c.id, c.number, c.state, c.category_code, c.category_name, c.kind,"
        " c.deadline_state, c.urgent, c.mercator AS geom_mercator FROM ({cases}) AS c) AS cases",
        cases=Part(sql.SQL(text), tuple(values)),
    )


def tile_query(scope: Scope, chosen: CaseFilter, z: int, x: int, y: int) -> Part | None:
    """Gives the query of the case tile z/x/y (one bytea), or None when it must be empty."""
    table = chosen_cases(scope, chosen)
    if table is None:
        return None
    source = tsql.TileSource(
        name=LAYER_NAME,
        table=table,
        id_column="id",
        columns=COLUMNS,
        where=TRUE,
        simplify=False,
    )
    if z < settings.CASES_TILE_CLUSTER_BELOW_ZOOM:
        return tsql.clusters_query(
            source, z, x, y, settings.CASES_TILE_CLUSTER_CELL_PX, CLUSTER_SUMMARY
        )
    return tsql.features_query(source, z, x, y)


def case_tile(scope: Scope, chosen: CaseFilter, z: int, x: int, y: int) -> bytes:
    """Gives the MVT of the caller's cases matching `chosen` in tile z/x/y (b"" when empty)."""
    check_address(z, x, y)
    query = tile_query(scope, chosen, z, x, y)
    if query is None:
        return b""
    return fetch(tsql.combine([query]))
