"""Routes of layer management, mounted under /api/v1/."""

from django.urls import path

from . import api

urlpatterns = [
    path("layers", api.LayerListView.as_view(), name="layers"),
    path("layers/import", api.LayerImportView.as_view(), name="layers-import"),
    path("layers/<slug:key>", api.LayerDetailView.as_view(), name="layer"),
    path("layers/<slug:key>/export", api.LayerExportView.as_view(), name="layer-export"),
    path("layers/<slug:key>/refresh", api.LayerRefreshView.as_view(), name="layer-refresh"),
    path("jobs/<str:job_id>", api.JobView.as_view(), name="job"),
    path("identify", api.IdentifyView.as_view(), name="identify"),
    path("map-config", api.MapConfigView.as_view(), name="map-config"),
    path("themes", api.ThemeListView.as_view(), name="themes"),
    path("themes/<slug:key>", api.ThemeDetailView.as_view(), name="theme"),
]
