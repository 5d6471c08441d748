"""Requests a fuzzer answered with a 5xx: each now gets a clear 4xx JSON error (or a 2xx), and
no error, wherever it is raised, is ever Django's HTML page (with DEBUG, the technical page that
lists the settings)."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from django.conf import settings as django_settings
from django.db import IntegrityError, OperationalError, connection
from django.test import Client

from accounts import permissions as perms
from accounts.models import OperationLog, Person
from accounts.scoping import system_scope
from spatial.actions import do_import_layer
from spatial.layers.importer import ImportOptions
from tests import factories

pytestmark = pytest.mark.django_db

LON0, LAT0 = django_settings.CITY_CENTER


def error_of(response, status: int) -> dict:
    """Gives the JSON error of a response that must have `status` and the project's shape."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]


@pytest.fixture
def manager(db) -> Client:
    """A client signed in as a person who may do everything."""
    person = factories.make_person(
        "fuzz-manager", permissions=sorted(perms.ALL_PERMISSIONS), all_layers=True
    )
    client = Client(raise_request_exception=False)
    client.force_login(person.user)
    client.person = person
    return client


def test_an_offset_beyond_bigint_is_bad_input(city):
    response = Client().get("/ogc/collections/districts/items?offset=9223372036854775808")
    assert error_of(response, 400)["field"] == "offset"


def test_nobody_deletes_themselves(manager):
    response = manager.delete(f"/api/v1/people/{manager.person.pk}")
    error = error_of(response, 409)
    assert error["code"] == "conflict" and "yourself" in error["message"]
    assert Person.objects.filter(pk=manager.person.pk).exists()
    other = factories.make_person("fuzz-other")
    assert manager.delete(f"/api/v1/people/{other.pk}").status_code == 204
    assert not Person.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize(
    "menus",
    [None, "cases/accept", ["a\u0000b"], [{"page": "map"}]],
    ids=["null", "text", "nul-character", "objects"],
)
def test_position_menus_must_be_a_list_of_page_names(manager, menus):
    response = manager.post(
        "/api/v1/positions",
        json.dumps({"key": "fuzzed", "name": "fuzzed", "menus": menus}),
        content_type="application/json",
    )
    error = error_of(response, 400)
    assert error["code"] == "bad_input" and error["field"] == "menus", error


def test_a_value_postgresql_cannot_hold_is_bad_input(manager):
    """A NUL escaped inside JSON reaches jsonb, which refuses it (DataError)."""
    response = manager.post(
        "/api/v1/positions",
        '{"key": "nul-columns", "name": "x", "columns": {"cases": "a\\u0000b"}}',
        content_type="application/json",
    )
    assert error_of(response, 400)["code"] == "bad_input"


def test_a_field_name_that_is_not_text_is_bad_input(manager, city):
    response = manager.patch(
        "/api/v1/layers/components", {"fields": [{"name": {}}]}, content_type="application/json"
    )
    assert error_of(response, 400)["field"] == "fields"


def import_geojson(tmp_path, key: str, geometry: dict, **options):
    """Runs an import of a one-feature GeoJSON file now; gives its job."""
    path = tmp_path / f"{key}.geojson"
    feature = {"type": "Feature", "properties": {"name": key}, "geometry": geometry}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return do_import_layer(
        system_scope("fuzz"), path, None, ImportOptions(key=key, **options), sync=True
    )


@pytest.mark.parametrize(
    "geometry, options, words",
    [
        (
            {
                "type": "Polygon",
                "coordinates": [[[LON0, LAT0], [LON0 + 0.01, LAT0], [LON0 + 0.01, LAT0 + 0.01]]],
            },
            {},
            "ring",
        ),
        ({"type": "Point", "coordinates": [500, 99]}, {"extent_check": "off"}, "outside"),
        (
            {"type": "Point", "coordinates": [500, 99]},
            {"extent_check": "off", "crs": "EPSG:4326"},
            "outside",
        ),
    ],
    ids=["unclosed-ring", "beyond-the-globe", "beyond-the-globe-in-epsg-4326"],
)
def test_import_of_an_impossible_geometry_fails_as_bad_input(
    tmp_path, settings, city, geometry, options, words
):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    job = import_geojson(tmp_path, "impossible", geometry, **options)
    assert job.state == "failed"
    error = job.errors[0]
    assert error["code"] == "bad_input", error
    assert words in error["message"], error
    # The database is still usable: the failed import left no aborted transaction behind.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def test_a_shapefile_of_mixed_geometry_is_refused_with_the_formats_that_hold_it(
    tmp_path, settings, city, manager
):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    frame = gpd.GeoDataFrame(
        {"name": ["p", "q"]},
        geometry=[shapely.Point(LON0, LAT0), shapely.box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001)],
        crs="EPSG:4326",
    )
    path = tmp_path / "mixed.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    options = ImportOptions(key="mixed", mixed="geometry", public=True)
    job = do_import_layer(system_scope("fuzz"), path, None, options, sync=True)
    assert job.state == "succeeded", job.errors

    error = error_of(manager.get("/api/v1/layers/mixed/export", {"format": "shp"}), 400)
    assert error["field"] == "format" and "geojson" in error["message"], error
    geojson = manager.get("/api/v1/layers/mixed/export", {"format": "geojson"})
    assert geojson.status_code == 200
    features = json.loads(b"".join(geojson.streaming_content))["features"]
    assert {f["geometry"]["type"] for f in features} == {"Point", "Polygon"}


class RaiseInMiddleware:
    """Raises, after the view, the error the `X-Raise` header names: outside any view, as an
    error at commit is (``integrity`` breaks a deferred foreign key and checks it as COMMIT
    would)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        kind = request.headers.get("X-Raise")
        if kind == "integrity":
            OperationLog.objects.create(user_id=-1, status=200, outcome="success")
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        elif kind == "database-down":
            raise OperationalError("connection to server failed: Connection refused")
        elif kind == "bug":
            raise RuntimeError("a bug")
        return response


@pytest.mark.parametrize(
    "kind, status, code",
    [
        ("integrity", 409, "conflict"),
        ("database-down", 503, "unavailable"),
        ("bug", 500, "server_error"),
    ],
)
def test_an_error_outside_the_view_is_json_even_with_debug(settings, city, kind, status, code):
    settings.DEBUG = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.RaiseInMiddleware"]
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/stats/census", HTTP_X_RAISE=kind)
    assert error_of(response, status)["code"] == code
    for secret in (b"DATABASES", b"REDIS_URL", b"SECRET_KEY", b"Traceback"):
        assert secret not in response.content


def test_an_error_in_a_view_is_json_even_with_debug(settings, monkeypatch, city):
    settings.DEBUG = True

    def broken(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr("spatial.api.census_service.census", broken)
    response = Client(raise_request_exception=False).get("/api/v1/stats/census")
    assert error_of(response, 409)["code"] == "conflict"
    assert b"DATABASES" not in response.content


def test_a_refused_host_header_is_json_even_with_debug(settings):
    """CommonMiddleware refuses the host before any view: with DEBUG, Django's answer is the
    technical page (status 400) that lists the settings."""
    settings.DEBUG = True
    response = Client().get("/api/v1/layers", HTTP_HOST="evil.example")
    assert error_of(response, 400)["code"] == "bad_input"
    assert b"DATABASES" not in response.content


def test_a_method_a_tile_does_not_allow_is_a_json_405_with_allow(city):
    response = Client().post("/tiles/districts/14/13487/6208.mvt")
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]
