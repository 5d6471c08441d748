"""The GIS admin's registry: list and edit layers, delete managed ones, map configuration,
themes, job progress, identify at a click and exports."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pyogrio
import pytest
import shapely

from accounts.scoping import scope_for_user, system_scope
from spatial.actions import do_import_layer

from spatial.layers.identify import tolerance_metres
from spatial.layers.importer import ImportOptions
from spatial.models import AdminArea, Layer

from tests import reference

from .conftest import LAT0, LON0, metres_between, truth_points, truth_polygons

pytestmark = pytest.mark.django_db


def imported(tmp_path, frame, key, **options):
    path = tmp_path / f"{key}.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    job = do_import_layer(
        system_scope("test"), path, None, ImportOptions(key=key, **options), sync=True
    )
    assert job.state == "succeeded", job.errors
    return Layer.objects.get(key=key)


def test_list_edit_delete(admin_client, anon, tmp_path):
    imported(tmp_path, truth_points(), "manholes", title="井盖")
    listed = admin_client.get("/api/v1/layers").json()["layers"]
    entry = next(x for x in listed if x["key"] == "manholes")
    assert entry["feature_count"] == 25 and entry["geometry_type"] == "Point"
    assert entry["kind"] == "managed" and len(entry["extent"]) == 4
    assert not any(x["key"] == "manholes" for x in anon.get("/api/v1/layers").json()["layers"])
    patch = admin_client.patch(
        "/api/v1/layers/manholes",
        {
            "title": "窨井盖",
            "group": "市政",
            "min_zoom": 12,
            "public": True,
            "fields": [{"name": "depth", "alias": "深度", "visible": False}],
            "style": {"color": "#ff0000"},
        },
        content_type="application/json",
    )
    assert patch.status_code == 200, patch.content
    body = patch.json()
    assert body["title"] == "窨井盖" and body["public"] is True and body["min_zoom"] == 12
    depth = next(f for f in body["fields"] if f["name"] == "depth")
    assert depth == {"name": "depth", "type": "number", "alias": "深度", "visible": False}
    feature = anon.get("/ogc/collections/manholes/items/1").json()
    assert "depth" not in feature["properties"] and "name" in feature["properties"]
    for bad, field in (
        ({"min_zoom": 30}, "min_zoom"),
        ({"kind": "core"}, "kind"),
        ({"min_zoom": 15, "max_zoom": 10}, "min_zoom"),
    ):
        response = admin_client.patch(
            "/api/v1/layers/manholes", bad, content_type="application/json"
        )
        assert response.status_code == 400 and response.json()["error"]["field"] == field
    # A field the layer does not have: well-formed, naming nothing stored (409).
    response = admin_client.patch(
        "/api/v1/layers/manholes",
        {"fields": [{"name": "nope"}]},
        content_type="application/json",
    )
    assert response.status_code == 409 and response.json()["error"]["field"] == "fields"
    assert (
        anon.patch(
            "/api/v1/layers/manholes", {"title": "x"}, content_type="application/json"
        ).status_code
        == 401
    )
    assert admin_client.delete("/api/v1/layers/districts").status_code == 409
    assert admin_client.delete("/api/v1/layers/manholes").status_code == 204
    assert admin_client.get("/api/v1/layers/manholes").status_code == 404
    assert admin_client.get("/ogc/collections/manholes/items").status_code == 404


def test_reimport_keeps_aliases_and_bumps_version(admin_client, tmp_path):
    layer = imported(tmp_path, truth_points(), "keep")
    admin_client.patch(
        "/api/v1/layers/keep",
        {"fields": [{"name": "name", "alias": "名称"}]},
        content_type="application/json",
    )
    again = imported(tmp_path, truth_points(5), "keep")
    assert again.version > layer.version and again.feature_count == 5
    assert next(f for f in again.fields if f["name"] == "name")["alias"] == "名称"


def district_extent():
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
            "ST_Extent(geom) e FROM spatial_adminarea WHERE level = 'district') s"
        )
        return [round(v, 6) for v in cur.fetchone()]


def test_refresh_core_layer_stats(admin_client):
    AdminArea.objects.create(
        code="990101",
        name="测试区",
        level="district",
        geom=shapely.multipolygons([shapely.box(116, 39.9, 116.5, 40.1)]).wkt,
    )
    body = admin_client.post("/api/v1/layers/districts/refresh").json()
    assert body["layers"][0]["feature_count"] == AdminArea.objects.filter(level="district").count()
    assert body["layers"][0]["extent"] == pytest.approx(district_extent(), abs=1e-6)


def test_map_config_defaults_from_districts_and_edits(admin_client, anon):
    from spatial.models import MapConfig

    MapConfig.objects.all().delete()
    AdminArea.objects.create(
        code="990101",
        name="测试区",
        level="district",
        geom=shapely.multipolygons([shapely.box(116, 39.9, 116.5, 40.1)]).wkt,
    )
    config = anon.get("/api/v1/map-config").json()
    extent = district_extent()
    assert config["extent"] == pytest.approx(extent, abs=1e-6)
    assert config["center"] == pytest.approx(
        [(extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2], abs=1e-6
    )
    assert config["crs"] == "EPSG:3857"
    assert config["default_theme"] == "base" and config["purposes"]["county"] == ["districts"]
    assert config["resolutions"][0] == pytest.approx(78271.517, rel=1e-6)
    assert (
        anon.put("/api/v1/map-config", {"zoom": 11}, content_type="application/json").status_code
        == 401
    )
    changed = admin_client.put(
        "/api/v1/map-config",
        {"zoom": 11.5, "center": [116.3, 40.0]},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["zoom"] == 11.5
    bad = admin_client.put(
        "/api/v1/map-config", {"extent": [1, 2]}, content_type="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "extent"


def test_themes(admin_client, anon, tmp_path):
    imported(tmp_path, truth_points(), "manholes", public=True)
    themes = {t["key"]: t for t in anon.get("/api/v1/themes").json()["themes"]}
    assert [x["key"] for x in themes["base"]["layers"]][:2] == ["districts", "streets"]
    created = admin_client.post(
        "/api/v1/themes",
        {
            "key": "municipal",
            "title": "市政设施",
            "layers": [{"key": "manholes"}, {"key": "roads", "visible": False}],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert [(x["key"], x["visible"]) for x in created.json()["layers"]] == [
        ("manholes", True),
        ("roads", False),
    ]
    edited = admin_client.patch(
        "/api/v1/themes/municipal",
        {"layers": ["roads", "manholes"]},
        content_type="application/json",
    ).json()
    assert [x["key"] for x in edited["layers"]] == ["roads", "manholes"]
    assert (
        admin_client.post(
            "/api/v1/themes", {"key": "municipal", "title": "x"}, content_type="application/json"
        ).status_code
        == 409
    )
    # Naming a layer that does not exist conflicts with stored data, as a duplicate key does.
    assert (
        admin_client.post(
            "/api/v1/themes",
            {"key": "t2", "title": "x", "layers": ["nope"]},
            content_type="application/json",
        ).status_code
        == 409
    )
    assert anon.delete("/api/v1/themes/municipal").status_code == 401
    assert admin_client.delete("/api/v1/themes/municipal").status_code == 204
    assert anon.get("/api/v1/themes/municipal").status_code == 404


def test_job_visible_to_its_owner_only(admin_client, anon, django_user_model, tmp_path):
    path = tmp_path / "j.geojson"
    truth_points(3).to_file(path, driver="GeoJSON", engine="pyogrio")
    job = do_import_layer(
        scope_for_user(admin_client.user), path, None, ImportOptions(key="j"), sync=True
    )
    body = admin_client.get(f"/api/v1/jobs/{job.pk}").json()
    assert body["state"] == "succeeded" and body["rows_done"] == 3 and body["progress"] == 1.0
    assert anon.get(f"/api/v1/jobs/{job.pk}").status_code == 401
    other = django_user_model.objects.create_user("other", password="pw-12345678")
    anon.force_login(other)
    assert anon.get(f"/api/v1/jobs/{job.pk}").status_code == 404
    assert admin_client.get("/api/v1/jobs/not-a-uuid").status_code == 404


def test_tolerance_from_pixels():
    # 512-pixel tiles, zoom 16, equator: 40075016.686 / (512 * 65536) = 1.194 m per pixel.
    assert tolerance_metres(1, 16, 0.0) == pytest.approx(1.1943, abs=1e-4)
    assert tolerance_metres(10, 15, 60.0) == pytest.approx(10 * 2.3886 * 0.5, rel=1e-3)


def test_identify_nearest_first(anon, tmp_path):
    imported(tmp_path, truth_points(), "manholes", public=True)
    imported(tmp_path, truth_polygons(), "parks", public=True)
    click = (LON0 + 0.0001, LAT0 + 0.0001)
    body = anon.get(
        "/api/v1/identify",
        {
            "lon": click[0],
            "lat": click[1],
            "layers": "manholes,parks",
            "tolerance_px": 40,
            "zoom": 17,
        },
    ).json()
    expected_tolerance = 40 * reference.ground_metres_per_pixel(17, click[1])
    assert body["tolerance_m"] == pytest.approx(expected_tolerance, abs=1e-3)
    assert body["features"], body
    distances = [f["distance_m"] for f in body["features"]]
    assert distances == sorted(distances)
    first = body["features"][0]
    assert first["layer"] == "parks" and first["distance_m"] == 0.0  # the click is inside it
    point = next(f for f in body["features"] if f["layer"] == "manholes")
    assert point["properties"]["name"] == "井盖0"
    want = metres_between(
        shapely.get_coordinates(shapely.Point(click)),
        shapely.get_coordinates(shapely.Point(LON0, LAT0)),
    )[0]
    assert point["distance_m"] == pytest.approx(want, rel=0.01)
    assert (
        anon.get(
            "/api/v1/identify", {"lon": click[0], "lat": click[1], "layers": "secret"}
        ).status_code
        == 404
    )
    assert (
        anon.get("/api/v1/identify", {"lon": "x", "lat": 1, "layers": "parks"}).status_code == 400
    )


@pytest.mark.parametrize("fmt,crs", [("geojson", None), ("gpkg", "EPSG:4548"), ("shp", "gcj02")])
def test_export_formats_and_crs(admin_client, anon, tmp_path, fmt, crs):
    truth = truth_points()
    imported(tmp_path, truth, "manholes")
    params = {"format": fmt, **({"crs": crs} if crs else {})}
    assert anon.get("/api/v1/layers/manholes/export", params).status_code == 401
    response = admin_client.get("/api/v1/layers/manholes/export", params)
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    out = tmp_path / f"out.{'zip' if fmt == 'shp' else fmt}"
    out.write_bytes(data)
    if fmt == "shp":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert {n.rsplit(".", 1)[1] for n in zf.namelist()} >= {"shp", "shx", "dbf"}
        out = f"/vsizip/{out}/manholes.shp"
    frame = pyogrio.read_dataframe(out)
    assert len(frame) == 25 and set(frame["name"]) == set(truth["name"])
    got = shapely.get_coordinates(frame.sort_values("name").geometry.values)
    lonlat = shapely.get_coordinates(truth.sort_values("name").geometry.values)
    want = np.column_stack(reference.from_wgs84_array(lonlat[:, 0], lonlat[:, 1], crs or "4326"))
    if crs and crs.startswith("EPSG:"):  # projected metres
        assert np.hypot(*(got - want).T).max() < 0.5
    else:
        assert metres_between(want, got).max() < 0.5
