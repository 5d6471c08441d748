"""The case tile route, /tiles/cases/{z}/{x}/{y}.mvt: signed-in callers with ``cases.read``.

A plain Django view, as the other tile routes (tiles/views.py): the tile is binary. The same
query parameters as `GET /api/v1/cases` filter it (`CaseFilter.from_query`). The answer is
private and revalidated on every use (`no-cache`) with an ETag of its bytes: cases move all
day, so a tile is built for each request and only the transfer is saved by a 304.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts import permissions as perms
from accounts.scoping import scope_for
from core import params

from . import tiles
from .queries import CaseFilter

MVT_TYPE = "application/vnd.mapbox-vector-tile"


@require_safe
def case_tile(request: HttpRequest, z: str, x: str, y: str) -> HttpResponse:
    """Gives the MVT of the caller's cases at z/x/y, filtered like the case list (204 when
    empty): clusters with `point_count`, `state`, `deadline_state`, `overdue`, `warning` and
    `urgent` below the cluster zoom, single cases from it on."""
    path = {"z": z, "x": x, "y": y}
    zoom = int(params.zoom(path, "z", whole=True, max_zoom=settings.TILES_MAX_ZOOM))
    column, row = params.integer(path, "x"), params.integer(path, "y")
    scope = scope_for(request)
    scope.require(perms.CASES_READ)
    chosen = CaseFilter.from_query(request.GET)
    data = tiles.case_tile(scope, chosen, zoom, column, row)
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
