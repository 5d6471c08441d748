"""OGC API – Features over managed and core layers: paging, bbox, datetime, property filters,
single items, and the caller's scope applied in SQL."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.db import connection

from accounts.scoping import system_scope
from spatial.actions import do_import_layer

from spatial.layers.importer import ImportOptions
from spatial.models import AdminArea, Layer
from tests import factories

from .conftest import LAT0, LON0, truth_points

pytestmark = pytest.mark.django_db


def district_around_centre(half: float) -> AdminArea:
    """Gives district 990101, a square of side 2 x `half` degrees around the city centre."""
    origin = (LON0 - half, LAT0 - half)
    return factories.make_city(
        "990101", origin=origin, size=(2 * half, 2 * half), streets=(), communities=[]
    ).district


@pytest.fixture
def points_layer(tmp_path, upload_dir):
    path = tmp_path / "pts.geojson"
    truth_points(25).to_file(path, driver="GeoJSON", engine="pyogrio")
    job = do_import_layer(
        system_scope("test"), path, None, ImportOptions(key="pts", public=True), sync=True
    )
    assert job.state == "succeeded", job.errors
    return Layer.objects.get(key="pts")


def test_landing_conformance_collections(client, points_layer):
    landing = client.get("/ogc")
    assert landing.status_code == 200
    rels = {link["rel"]: link["href"] for link in landing.json()["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= set(rels)
    assert rels["service-desc"].endswith("/api/v1/openapi.json")
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    listed = client.get("/ogc/collections").json()["collections"]
    assert client.get("/ogc/").status_code == 200
    keys = {c["id"] for c in listed}
    assert "pts" in keys and "districts" in keys  # public core layers too
    assert "responsibility_grids" not in keys  # not public: hidden from anonymous callers
    one = client.get("/ogc/collections/pts").json()
    assert one["extent"]["spatial"]["bbox"][0] == pytest.approx(points_layer.extent)


def test_items_paging_links_and_counts(client, points_layer):
    first = client.get("/ogc/collections/pts/items", {"limit": 10})
    assert first.status_code == 200 and first["Content-Type"] == "application/geo+json"
    body = first.json()
    assert body["numberMatched"] == 25 and body["numberReturned"] == 10
    seen = [f["id"] for f in body["features"]]
    next_href = next(x["href"] for x in body["links"] if x["rel"] == "next")
    while next_href:
        page = client.get(next_href.split("testserver")[-1]).json()
        seen += [f["id"] for f in page["features"]]
        assert any(x["rel"] == "prev" for x in page["links"])
        next_href = next((x["href"] for x in page["links"] if x["rel"] == "next"), None)
    assert sorted(seen) == list(range(1, 26))
    big = client.get("/ogc/collections/pts/items", {"limit": 999999}).json()
    assert big["numberReturned"] == 25
    item = client.get("/ogc/collections/pts/items/3").json()
    assert item["id"] == 3 and item["properties"]["name"] == "井盖2"
    assert client.get("/ogc/collections/pts/items/999").status_code == 404
    assert client.get("/ogc/collections/pts/items/x").status_code == 404


def test_bbox_and_property_filters(client, points_layer):
    truth = truth_points(25)
    bbox = (LON0 - 0.003, LAT0 - 0.003, LON0 + 0.003, LAT0 + 0.003)
    inside = int(truth.geometry.within(shapely.box(*bbox)).sum())
    body = client.get(
        "/ogc/collections/pts/items", {"bbox": ",".join(map(str, bbox)), "limit": 100}
    ).json()
    assert 0 < body["numberMatched"] == inside < 25
    named = client.get("/ogc/collections/pts/items", {"name": "井盖7"}).json()
    assert [f["properties"]["count"] for f in named["features"]] == [7]
    injection = client.get("/ogc/collections/pts/items", {"name": "x' OR '1'='1"}).json()
    assert injection["numberMatched"] == 0
    for params, field in (
        ({"bbox": "1,2,3"}, "bbox"),
        ({"limit": "0"}, "limit"),
        ({"offset": "9223372036854775808"}, "offset"),
        ({"bbox": "1,2,nan,4"}, "bbox"),
        ({"datetime": "2024-12-31T00:00:00Z/2024-03-01T00:00:00Z"}, "datetime"),
        ({"colour": "red"}, "colour"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"bbox-crs": "EPSG:3857"}, "bbox-crs"),
    ):
        response = client.get("/ogc/collections/pts/items", params)
        assert response.status_code == 400, params
        assert response.json()["error"]["field"] == field
    # The largest offset PostgreSQL takes is a page past the end, not an error.
    last = client.get("/ogc/collections/pts/items", {"offset": str(2**63 - 1)})
    assert last.status_code == 200 and last.json()["features"] == []


def test_datetime_filter_on_a_layer_with_time(client, tmp_path, upload_dir, django_user_model):
    frame = gpd.GeoDataFrame(
        {
            "name": ["a", "b", "c"],
            "seen": np.array(
                ["2024-01-01T08:00:00", "2024-06-01T08:00:00", "2025-01-01T08:00:00"],
                dtype="datetime64[ns]",
            ),
        },
        geometry=shapely.points([LON0, LON0 + 0.001, LON0 + 0.002], [LAT0] * 3),
        crs="EPSG:4326",
    )
    path = tmp_path / "timed.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    assert (
        do_import_layer(
            system_scope("test"), path, None, ImportOptions(key="timed", public=True), sync=True
        ).state
        == "succeeded"
    )
    admin = django_user_model.objects.create_superuser("t", "t@example.org", "pw-12345678")
    client.force_login(admin)
    wrong = client.patch(
        "/api/v1/layers/timed", {"datetime_column": "name"}, content_type="application/json"
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "datetime_column"
    assert (
        client.patch(
            "/api/v1/layers/timed", {"datetime_column": "seen"}, content_type="application/json"
        ).status_code
        == 200
    )
    client.logout()
    body = client.get(
        "/ogc/collections/timed/items", {"datetime": "2024-03-01T00:00:00Z/2024-12-31T00:00:00Z"}
    ).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["b"]
    open_end = client.get("/ogc/collections/timed/items", {"datetime": "2024-03-01/.."}).json()
    assert open_end["numberMatched"] == 2


def test_core_layer_items_use_filter_sql(client, upload_dir):
    square = shapely.multipolygons([shapely.box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01)]).wkt
    district = AdminArea.objects.create(code="990101", name="测试区", level="district", geom=square)
    AdminArea.objects.create(
        code="990101001", name="街道", level="street", parent=district, geom=square
    )
    body = client.get("/ogc/collections/districts/items", {"code": "990101"}).json()
    assert body["numberMatched"] == 1 and body["features"][0]["properties"]["name"] == "测试区"
    assert (
        client.get("/ogc/collections/districts/items", {"code": "990101001"}).json()[
            "numberMatched"
        ]
        == 0
    )
    assert (
        client.get("/ogc/collections/streets/items", {"code": "990101001"}).json()["numberMatched"]
        == 1
    )
    total = client.get("/ogc/collections/districts/items").json()["numberMatched"]
    assert total == AdminArea.objects.filter(level="district").count()


def test_scope_limits_rows_of_a_private_layer(client, tmp_path, upload_dir):
    path = tmp_path / "private.geojson"
    truth_points(25).to_file(path, driver="GeoJSON", engine="pyogrio")
    assert (
        do_import_layer(
            system_scope("test"), path, None, ImportOptions(key="private"), sync=True
        ).state
        == "succeeded"
    )
    layer = Layer.objects.get(key="private")
    area = district_around_centre(0.003)
    person = factories.make_person("wang", areas=[area], layers=[layer])
    assert client.get("/ogc/collections/private/items").status_code == 404
    client.force_login(person.user)
    body = client.get("/ogc/collections/private/items", {"limit": 100}).json()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM layers.private WHERE ST_Intersects(geom, "
            "ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
            [LON0 - 0.003, LAT0 - 0.003, LON0 + 0.003, LAT0 + 0.003],
        )
        expected = cur.fetchone()[0]
    assert 0 < body["numberMatched"] == expected < 25
    ids = {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    assert "private" in ids and "responsibility_grids" not in ids


def test_scope_applies_to_identify_and_export(client, tmp_path, upload_dir):
    path = tmp_path / "secret.geojson"
    truth = truth_points(25)
    truth.to_file(path, driver="GeoJSON", engine="pyogrio")
    assert (
        do_import_layer(
            system_scope("test"), path, None, ImportOptions(key="secret"), sync=True
        ).state
        == "succeeded"
    )
    area = district_around_centre(0.001)
    person = factories.make_person("li", areas=[area], layers=[Layer.objects.get(key="secret")])
    far = truth.geometry.values[24]  # well outside the person's area
    params = {"lon": far.x, "lat": far.y, "layers": "secret", "tolerance_px": 10, "zoom": 18}
    assert client.get("/api/v1/identify", params).status_code == 404  # anonymous
    client.force_login(person.user)
    assert client.get("/api/v1/identify", params).json()["features"] == []
    near = client.get("/api/v1/identify", {**params, "lon": LON0, "lat": LAT0}).json()
    assert [f["properties"]["name"] for f in near["features"]] == ["井盖0"]
    exported = client.get("/api/v1/layers/secret/export", {"format": "geojson"})
    import json

    names = {
        f["properties"]["name"]
        for f in json.loads(b"".join(exported.streaming_content))["features"]
    }
    inside = {
        n
        for n, g in zip(truth["name"], truth.geometry.values)
        if shapely.intersects(
            g, shapely.box(LON0 - 0.001, LAT0 - 0.001, LON0 + 0.001, LAT0 + 0.001)
        )
    }
    assert names == inside and "井盖24" not in names
