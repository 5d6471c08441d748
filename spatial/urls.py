"""Routes of the spatial core, mounted under /api/v1/."""

from django.urls import path

from .api import CensusView, HealthView, LocateView

urlpatterns: list = [
    path("locate", LocateView.as_view(), name="locate"),
    path("health", HealthView.as_view(), name="health"),
    path("stats/census", CensusView.as_view(), name="census"),
]
