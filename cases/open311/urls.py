"""Open311 GeoReport v2 routes, mounted at /open311/v2/: every path ends in .json or .xml."""

from django.urls import re_path

from . import views

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(rf"^discovery{FMT}", views.discovery, name="open311-discovery"),
    re_path(rf"^services{FMT}", views.services, name="open311-services"),
    re_path(rf"^services/(?P<code>[^/]{{1,32}}){FMT}", views.service_definition),
    re_path(rf"^requests{FMT}", views.requests_view, name="open311-requests"),
    re_path(rf"^requests/(?P<number>[^/]{{1,32}}){FMT}", views.request_view),
    re_path(rf"^tokens/(?P<token>[^/]{{1,64}}){FMT}", views.token_view),
]
