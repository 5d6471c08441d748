"""The case tile route, mounted at the site root before the tile server's own routes (so
`/tiles/cases/…` is the case layer, not a registry layer named ``cases``)."""

from django.urls import re_path

from . import tiles_api
from .open311 import public_api

ZXY = r"(?P<z>-?\d+)/(?P<x>-?\d+)/(?P<y>-?\d+)"

urlpatterns = [
    re_path(rf"^tiles/cases/{ZXY}\.(?:mvt|pbf)$", tiles_api.case_tile, name="case-tile"),
    re_path(rf"^tiles/public/{ZXY}\.(?:mvt|pbf)$", public_api.public_case_tile, name="public-tile"),
]
