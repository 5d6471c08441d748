"""A GIS admin imports each format in several CRSs; positions come back within 0.5 m."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
from django.core.management import call_command

from tests import reference
from spatial.models import Layer

from .conftest import (
    all_features,
    assert_positions,
    in_crs,
    truth_points,
    truth_polygons,
    zip_shapefile,
)

pytestmark = pytest.mark.django_db


def load(path, **options):
    """Runs `manage.py load_layer` in-process and gives the layer."""
    call_command("load_layer", str(path), sync=True, verbosity=0, **options)
    return Layer.objects.get(key=options["key"])


def test_geojson_wgs84(admin_client, tmp_path):
    truth = truth_points()
    path = tmp_path / "manholes.geojson"
    truth.to_file(path, driver="GeoJSON", engine="pyogrio")
    layer = load(path, key="manholes", title="井盖")
    assert layer.kind == "managed" and layer.geometry_type == "Point"
    assert layer.feature_count == len(truth)
    assert {f["name"]: f["type"] for f in layer.fields} == {
        "name": "string",
        "depth": "number",
        "count": "integer",
    }
    assert_positions(all_features(admin_client, "manholes"), truth)


def test_zipped_shapefile_gauss_kruger(admin_client, tmp_path):
    truth = truth_polygons()
    archive = zip_shapefile(in_crs(truth, "EPSG:4548"), tmp_path, "parks")
    layer = load(archive, key="parks-gk")
    assert layer.geometry_type == "MultiPolygon"
    assert layer.extent[0] == pytest.approx(truth.total_bounds[0], abs=1e-5)
    assert_positions(all_features(admin_client, "parks-gk"), truth)


def test_shapefile_without_prj_takes_explicit_crs(admin_client, tmp_path):
    truth = truth_polygons()
    archive = zip_shapefile(in_crs(truth, "EPSG:4548"), tmp_path, "noprj", drop_prj=True)
    load(archive, key="noprj", crs="EPSG:4548")
    assert_positions(all_features(admin_client, "noprj"), truth)


def test_geopackage_web_mercator_chosen_layer(admin_client, tmp_path):
    path = tmp_path / "city.gpkg"
    points, polygons = truth_points(), truth_polygons()
    in_crs(points, "EPSG:3857").to_file(path, layer="poi", driver="GPKG", engine="pyogrio")
    in_crs(polygons, "EPSG:3857").to_file(path, layer="parks", driver="GPKG", engine="pyogrio")
    load(path, key="gpkg-parks", layer="parks")
    assert_positions(all_features(admin_client, "gpkg-parks"), polygons)


def test_csv_in_gcj02_lon_lat_columns(admin_client, tmp_path):
    truth = truth_points()
    lon, lat = reference.from_wgs84_array(truth.geometry.x, truth.geometry.y, "gcj02")
    table = pd.DataFrame({"名称": truth["name"], "经度": lon, "纬度": lat})
    table = table.rename(columns={"名称": "name"})
    path = tmp_path / "manholes_gcj.csv"
    table.to_csv(path, index=False)
    layer = load(path, key="csv-gcj", crs="gcj02")
    assert layer.geometry_type == "Point"
    worst = assert_positions(all_features(admin_client, "csv-gcj"), truth)
    assert worst < 0.05


def test_csv_bd09_named_columns_and_wkt(admin_client, tmp_path):
    truth = truth_points()
    x, y = reference.from_wgs84_array(truth.geometry.x, truth.geometry.y, "bd09")
    path = tmp_path / "baidu.csv"
    pd.DataFrame({"name": truth["name"], "bx": x, "by": y}).to_csv(path, index=False)
    load(path, key="csv-bd", crs="bd09", x="bx", y="by")
    assert_positions(all_features(admin_client, "csv-bd"), truth)

    wkt_path = tmp_path / "wkt.csv"
    pd.DataFrame(
        {
            "name": truth["name"],
            "wkt": shapely.to_wkt(in_crs(truth, "EPSG:4548").geometry.values, rounding_precision=4),
        }
    ).to_csv(wkt_path, index=False)
    load(wkt_path, key="csv-wkt", crs="EPSG:4548")
    assert_positions(all_features(admin_client, "csv-wkt"), truth)


def test_kml(admin_client, tmp_path):
    truth = truth_points(8)[["name", "geometry"]]
    path = tmp_path / "poi.kml"
    truth.to_file(path, driver="KML", engine="pyogrio")
    layer = load(path, key="kml-poi")
    assert layer.feature_count == 8
    assert_positions(all_features(admin_client, "kml-poi"), truth)


def test_api_import_runs_on_celery_and_reports_progress(admin_client, tmp_path, celery_worker):
    truth = truth_points()
    path = tmp_path / "api.geojson"
    in_crs(truth, "EPSG:4548").to_file(path, driver="GeoJSON", engine="pyogrio")
    with open(path, "rb") as fh:
        response = admin_client.post(
            "/api/v1/layers/import",
            {"file": fh, "key": "api-points", "title": "API", "public": "true"},
        )
    assert response.status_code == 202, response.content
    url = response.json()["url"]
    import time

    for _ in range(120):
        job = admin_client.get(url).json()
        if job["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.25)
    assert job["state"] == "succeeded", job
    assert job["rows_done"] == job["rows_total"] == len(truth)
    assert job["report"]["crs"] == "EPSG:4548"
    assert_positions(all_features(admin_client, "api-points"), truth)
    listed = admin_client.get("/api/v1/layers").json()["layers"]
    entry = next(x for x in listed if x["key"] == "api-points")
    assert entry["public"] is True and entry["feature_count"] == len(truth)


def test_command_waits_for_the_celery_job_with_progress(
    tmp_path, upload_dir, celery_worker, capsys
):
    import io

    truth = truth_points()
    path = tmp_path / "cmd.geojson"
    truth.to_file(path, driver="GeoJSON", engine="pyogrio")
    out = io.StringIO()
    call_command("load_layer", str(path), key="cmd-points", stdout=out, timeout=60)
    assert "imported 25 features (Point, from EPSG:4326) into cmd-points" in out.getvalue()
    assert "25/25" in capsys.readouterr().err  # the tqdm bar reached the total
    assert Layer.objects.get(key="cmd-points").feature_count == 25


def test_shapefile_in_gbk_without_cpg(admin_client, tmp_path):
    import zipfile

    truth = truth_polygons(3).assign(name=["学院路网格", "海淀公园", "五道口"])
    folder = tmp_path / "gbk"
    folder.mkdir()
    truth.to_file(folder / "gbk.shp", engine="pyogrio", encoding="GB18030")
    archive = tmp_path / "gbk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            if part.suffix != ".cpg":
                zf.write(part, part.name)
    load(archive, key="gbk")
    assert_positions(all_features(admin_client, "gbk"), truth)
