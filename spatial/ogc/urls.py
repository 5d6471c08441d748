"""Routes of the OGC API – Features, mounted at /ogc/ (the landing page also at /ogc)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.LandingSlashView.as_view(), name="ogc-landing-slash"),
    path("conformance", views.ConformanceView.as_view(), name="ogc-conformance"),
    path("collections", views.CollectionsView.as_view(), name="ogc-collections"),
    path("collections/<slug:key>", views.CollectionView.as_view(), name="ogc-collection"),
    path("collections/<slug:key>/items", views.ItemsView.as_view(), name="ogc-items"),
    path("collections/<slug:key>/items/<str:fid>", views.ItemView.as_view(), name="ogc-item"),
]
