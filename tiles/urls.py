"""Tile routes: /tiles/{layers}/{z}/{x}/{y}.mvt|.png, /tiles/{layers}.json, /styles/{theme}.json,
/fonts/{fontstack}/{start}-{end}.pbf (label glyphs).

z/x/y take any integer text so that out-of-range values get a 400 that says why, not a 404.
"""

from django.urls import re_path

from tiles import views

LAYERS = r"(?P<layers>[^/]+)"
ZXY = r"(?P<z>-?\d+)/(?P<x>-?\d+)/(?P<y>-?\d+)"

urlpatterns = [
    re_path(rf"^tiles/{LAYERS}/{ZXY}\.(?:mvt|pbf)$", views.vector_tile, name="tile-mvt"),
    re_path(rf"^tiles/(?P<layer>[^/]+)/{ZXY}\.png$", views.raster_tile, name="tile-png"),
    re_path(rf"^tiles/{LAYERS}\.json$", views.TileJsonView.as_view(), name="tilejson"),
    re_path(r"^styles/(?P<theme>[^/]+)\.json$", views.StyleView.as_view(), name="style"),
    re_path(r"^fonts/(?P<fontstack>[^/]+)/(?P<codes>[^/]+)\.pbf$", views.glyphs, name="glyphs"),
]
