"""The gazetteer follows the address tables: small ones before answering, large ones in the
background while the previous one keeps serving."""

import time

import pytest
from django.contrib.gis.geos import LineString

from geocoder import dictionary
from geocoder.match import geocode
from geocoder.models import Road


@pytest.mark.django_db
def test_a_new_road_is_found_right_after_it_is_written(small_city):
    assert geocode("榕树路")[1] == []
    Road.objects.create(
        name="榕树路", geom=LineString((116.31, 39.98), (116.315, 39.98), srid=4326)
    )
    dictionary.invalidate()
    assert geocode("榕树路")[1][0].match_level == "road"


@pytest.mark.django_db(transaction=True)
def test_a_slow_rebuild_runs_in_the_background(small_city, monkeypatch):
    before = dictionary.gazetteer()
    monkeypatch.setattr(dictionary, "_LAST_LOAD_SECONDS", 5.0)  # as if the city were large
    Road.objects.create(
        name="榕树路", geom=LineString((116.31, 39.98), (116.315, 39.98), srid=4326)
    )
    dictionary.invalidate()
    assert dictionary.gazetteer() is before  # answered at once with the previous one
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        dictionary.invalidate()
        current = dictionary.gazetteer()
        if current is not before:
            break
        time.sleep(0.05)
    assert current is not before and "榕树路" in current.names
