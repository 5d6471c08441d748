"""The public map's case tiles (/tiles/public/{z}/{x}/{y}.mvt): the public cases open now or
closed within `PUBLIC_CLOSED_DAYS`, with public fields only (number, open/closed, class),
clustered below `CASES_TILE_CLUSTER_BELOW_ZOOM` like the centre's case tiles.

Built by the one tile SQL builder (`tiles.sql`) over a derived table, the ORM's queryset of
`visibility.public_cases` (as `cases.tiles` does for the caller's cases): its box is served by
the GiST index ``case_merc_gist``. No reporter, description or opinion is in a tile.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Case as When_, CharField, ExpressionWrapper, F, Field, OuterRef
from django.db.models import Subquery, Value, When
from psycopg2 import sql

from core.sqlparts import TRUE, Part, bind
from data.models import Category
from tiles import sql as tsql
from tiles.service import check_address, fetch

from .. import visibility
from .publication import CLOSED_STATES, on_the_map, open_or_recent

LAYER_NAME = "public_cases"
COLUMNS = [("number", "text"), ("status", "text"), ("category_name", "text"), ("kind", "text")]
SUMMARY = tsql.ClusterSummary(
    columns=("status",),
    aggregates=sql.SQL(
        "count(*) FILTER (WHERE status = 'open')::integer AS open, "
        "count(*) FILTER (WHERE status = 'closed')::integer AS closed"
    ),
)


def public_table(status: str = "") -> Part:
    """The derived table of the public map's cases with the tile's columns (`status`: only the
    open or only the closed ones; both when empty)."""
    classes = Category.objects.filter(pk=OuterRef("category_id"))
    cases = visibility.public_cases().filter(
        open_or_recent(closed_days=settings.PUBLIC_CLOSED_DAYS), on_the_map()
    )
    if status == "open":
        cases = cases.exclude(state__in=list(CLOSED_STATES))
    elif status == "closed":
        cases = cases.filter(state__in=list(CLOSED_STATES))
    cases = (
        cases.order_by()
        .values("id", "number", "kind")
        .annotate(
            status=When_(
                When(state__in=list(CLOSED_STATES), then=Value("closed")),
                default=Value("open"),
                output_field=CharField(),
            ),
            category_name=Subquery(classes.values("name")[:1]),
            mercator=ExpressionWrapper(F("geom_mercator"), output_field=Field()),
        )
    )
    text, values = cases.query.sql_with_params()
    return bind(
        "(SELECT c.id, c.number, c.status, c.category_name, c.kind,"
        " c.mercator AS geom_mercator FROM ({cases}) AS c) AS public_cases",
        cases=Part(sql.SQL(text), tuple(values)),
    )


def public_tile(z: int, x: int, y: int, status: str = "") -> bytes:
    """The MVT of the public cases in tile z/x/y (b"" when empty)."""
    check_address(z, x, y)
    source = tsql.TileSource(
        name=LAYER_NAME,
        table=public_table(status),
        id_column="id",
        columns=COLUMNS,
        where=TRUE,
        simplify=False,
    )
    if z < settings.CASES_TILE_CLUSTER_BELOW_ZOOM:
        query = tsql.clusters_query(source, z, x, y, settings.CASES_TILE_CLUSTER_CELL_PX, SUMMARY)
    else:
        query = tsql.features_query(source, z, x, y)
    return fetch(tsql.combine([query]))
