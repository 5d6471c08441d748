"""Top-level URLs. Each package mounts its own routes; the OpenAPI document covers every
JSON endpoint under /api/v1."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView

from spatial.ogc.views import LandingView as OgcLandingView
from core.access import public
from web.live_tiles import live_tile
from django.views.generic.base import RedirectView

from web import gisadmin
from web.system import SystemStatusView
from web.pages import (
    console_page,
    evaluation_page,
    evaluator_app_page,
    field_manifest,
    field_page,
    field_service_worker,
    inspectors_page,
    map_page,
    screen_page,
    supervision_page,
    public_page,
)

urlpatterns = [
    # Tiles first: the most frequent requests by far, so they are matched before the rest.
    path("", include("cases.tile_urls")),  # /tiles/cases/…, before the registry layers
    re_path(  # /tiles/tracking/…: live positions (web/live_tiles.py), before the registry layers
        r"^tiles/tracking/(?P<z>-?\d+)/(?P<x>-?\d+)/(?P<y>-?\d+)\.(?:mvt|pbf)$",
        live_tile,
        name="tracking-tile",
    ),
    path("", include("tiles.urls")),
    # The GIS admin pages (web/gisadmin.py) before the Django admin, which takes admin/ whole.
    path("admin/gis", gisadmin.gis_home, name="gis-admin"),
    path("admin/gis/", gisadmin.gis_home),
    path("admin/gis/layers", gisadmin.layers_page, name="gis-admin-layers"),
    path("admin/gis/grids", gisadmin.grids_page, name="gis-admin-grids"),
    path("admin/gis/areas", gisadmin.areas_page, name="gis-admin-areas"),
    path("admin/gis/routes", gisadmin.routes_page, name="gis-admin-routes"),
    path("admin/gis/config", gisadmin.config_page, name="gis-admin-config"),
    path("admin/gis/system", gisadmin.system_page, name="gis-admin-system"),
    path("admin/", admin.site.urls),
    path("api/v1/openapi.json", public(SpectacularJSONAPIView.as_view()), name="openapi"),
    path("api/v1/docs", public(SpectacularRedocView.as_view(url_name="openapi")), name="api-docs"),
    path("api/v1/", include("spatial.urls")),
    path("api/v1/", include("spatial.layers.urls")),
    path("api/v1/", include("geocoder.urls")),
    path("nominatim/", include("geocoder.nominatim_urls")),
    path("open311/v2/", include("cases.open311.urls")),  # public service (docs/public-service.md)
    path("ogc", OgcLandingView.as_view(), name="ogc-landing"),
    path("ogc/", include("spatial.ogc.urls")),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("cases.urls")),
    path("api/v1/", include("tracking.urls")),
    path("api/v1/", include("evaluation.urls")),
    path("api/v1/", include("web.nearby_urls")),  # search around: cases and tracking joined
    path("api/v1/system/status", SystemStatusView.as_view(), name="system-status"),
    path("accounts/", include("accounts.urls_pages")),
    path("map", map_page, name="map"),
    path("public", public_page, name="public"),  # 市民服务 (docs/public-service.md)
    path("console", console_page, name="console"),
    path("inspectors", inspectors_page, name="inspectors"),
    path("screen", screen_page, name="screen"),
    path("supervision", supervision_page, name="supervision"),
    path("evaluation", evaluation_page, name="evaluation"),
    path("evaluation/app", evaluator_app_page, name="evaluator-app"),
    path("m", public(RedirectView.as_view(url="/m/", permanent=False))),
    path("m/", field_page, name="field"),
    path("m/manifest.webmanifest", field_manifest, name="field-manifest"),
    path("m/sw.js", field_service_worker, name="field-sw"),
]
