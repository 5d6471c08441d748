"""Routes of the spatial core, mounted under /api/v1/."""

from django.urls import path

from . import responsibility_api
from .api import CensusView, HealthView, LocateView

urlpatterns: list = [
    path("locate", LocateView.as_view(), name="locate"),
    path("health", HealthView.as_view(), name="health"),
    path("stats/census", CensusView.as_view(), name="census"),
    path(
        "responsibility-grids",
        responsibility_api.GridsView.as_view(),
        name="responsibility-grids",
    ),
    path(
        "responsibility-grids/<str:code>",
        responsibility_api.GridView.as_view(),
        name="responsibility-grid",
    ),
    path(
        "responsibility-grids/<str:code>/history",
        responsibility_api.GridHistoryView.as_view(),
        name="responsibility-grid-history",
    ),
]
