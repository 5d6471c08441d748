"""Routes of the OGC API – Features, mounted at /ogc (with or without a trailing slash; `[/]` keeps Django from
warning about a leading slash, which is needed because the include has none)."""

from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^[/]?$", views.landing, name="ogc-landing"),
    re_path(r"^[/]conformance/?$", views.conformance, name="ogc-conformance"),
    re_path(r"^[/]collections/?$", views.collections, name="ogc-collections"),
    re_path(r"^[/]collections/(?P<key>[-\w]+)/?$", views.collection, name="ogc-collection"),
    re_path(r"^[/]collections/(?P<key>[-\w]+)/items/?$", views.items, name="ogc-items"),
    re_path(r"^[/]collections/(?P<key>[-\w]+)/items/(?P<fid>[^/]+)/?$", views.item,
            name="ogc-item"),
]
