"""The live-positions tile route, /tiles/tracking/{z}/{x}/{y}.mvt (实时位置图层).

Glue in the project shell: tracking gives the scoped rows (`tracking.live_tiles.live_table`),
the tile server's one SQL builder (`tiles.sql.features_query`) encodes them; neither app may
import the other. Signed-in callers only; a caller sees in a tile exactly the trackers
`GET /api/v1/tracking/live` lists them. The answer is private and revalidated on every use
(`no-cache`) with an ETag of its bytes, as case tiles: positions move every few seconds.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.scoping import scope_for
from core import params
from core.sqlparts import TRUE
from tiles import sql as tsql
from tiles.service import check_address, fetch
from tracking import live_tiles

MVT_TYPE = "application/vnd.mapbox-vector-tile"


def tile_bytes(scope, z: int, x: int, y: int) -> bytes:
    """Gives the MVT of the live positions `scope` sees in tile z/x/y (b"" when empty)."""
    check_address(z, x, y)
    source = tsql.TileSource(
        name=live_tiles.LAYER_NAME,
        table=live_tiles.live_table(scope),
        id_column="id",
        columns=live_tiles.COLUMNS,
        where=TRUE,
        simplify=False,
    )
    return fetch(tsql.combine([tsql.features_query(source, z, x, y)]))


@require_safe
def live_tile(request: HttpRequest, z: str, x: str, y: str) -> HttpResponse:
    """Gives the MVT layer ``tracking`` of the caller's live positions at z/x/y (204 when
    empty): `tracker`, `device`, `kind`, `name`, `status` (online / busy / offline), `alarm`
    (an alarm open) and `fixed_at` (the fix's time, UTC)."""
    path = {"z": z, "x": x, "y": y}
    zoom = int(params.zoom(path, "z", whole=True, max_zoom=settings.TILES_MAX_ZOOM))
    column, row = params.integer(path, "x"), params.integer(path, "y")
    scope = scope_for(request)
    scope.require_signed_in()
    data = tile_bytes(scope, zoom, column, row)
    etag = hashlib.sha1(data).hexdigest()
    if etag in (request.headers.get("If-None-Match") or ""):
        response = HttpResponse(status=304)
    elif not data:
        response = HttpResponse(status=204)
    else:
        response = HttpResponse(data, content_type=MVT_TYPE)
    response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Authorization, Cookie"
    return response
