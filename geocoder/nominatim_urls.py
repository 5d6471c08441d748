"""Nominatim-compatible routes, mounted under /nominatim/."""

from django.urls import path

from .nominatim import reverse_php_view, reverse_view, search_php_view, search_view, status_view

urlpatterns = [
    path("search", search_view, name="nominatim-search"),
    path("search.php", search_php_view),
    path("reverse", reverse_view, name="nominatim-reverse"),
    path("reverse.php", reverse_php_view),
    path("status", status_view, name="nominatim-status"),
]
