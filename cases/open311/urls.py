"""Open311 GeoReport v2 routes, mounted at /open311/v2/: every path ends in .json or .xml (the
format is passed to the view)."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    route
    for fmt in ("json", "xml")
    for route in (
        path(f"discovery.{fmt}", views.discovery, {"fmt": fmt}),
        path(f"services.{fmt}", views.services, {"fmt": fmt}),
        path(f"services/<str:code>.{fmt}", views.service_definition, {"fmt": fmt}),
        path(f"requests.{fmt}", views.requests_view, {"fmt": fmt}),
        path(f"requests/<str:number>.{fmt}", views.request_view, {"fmt": fmt}),
        path(f"tokens/<str:token>.{fmt}", views.token_view, {"fmt": fmt}),
    )
] + [re_path(r"^.*$", views.unknown)]  # any other path: Open311's 404 in its format
