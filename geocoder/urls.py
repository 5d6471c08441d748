"""Routes of the geocoder, mounted under /api/v1/."""

from django.urls import path

from .api_sources import SourceDetailView, SourceListView
from .api import BatchJobView, BatchResultView, BatchView, GeocodeView, ReverseView, SuggestView

urlpatterns = [
    path("geocode", GeocodeView.as_view(), name="geocode"),
    path("geocode/suggest", SuggestView.as_view(), name="geocode-suggest"),
    path("geocode/batch", BatchView.as_view(), name="geocode-batch"),
    path("geocode/batch/<uuid:job>", BatchJobView.as_view(), name="geocode-batch-job"),
    path("geocode/batch/<uuid:job>/result", BatchResultView.as_view(), name="geocode-batch-result"),
    path("reverse", ReverseView.as_view(), name="reverse"),
    path("geocoder/sources", SourceListView.as_view(), name="geocoder-sources"),
    path("geocoder/sources/<str:name>", SourceDetailView.as_view(), name="geocoder-source"),
]
