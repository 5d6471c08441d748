"""Bad files get a clear error in the job and leave the database as it was."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pytest
import shapely
from django.db import connection

from accounts.scoping import system_scope
from spatial.actions import do_import_layer

from spatial.layers.importer import ImportOptions
from spatial.models import Layer
from core.errors import BadInput, TooLarge

from .conftest import LAT0, LON0, all_features, in_crs, truth_points, truth_polygons, zip_shapefile

pytestmark = pytest.mark.django_db


def run(path, **options):
    return do_import_layer(system_scope("test"), path, None, ImportOptions(**options), sync=True)


def failed_with(job, words: str) -> str:
    assert job.state == "failed", job.report
    message = job.errors[0]["message"]
    assert words.lower() in message.lower(), message
    return message


def layers_tables() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'layers'")
        return {r[0] for r in cur.fetchall()}


def test_corrupt_zip(upload_dir, tmp_path):
    path = tmp_path / "broken.zip"
    good = zip_shapefile(truth_polygons(), tmp_path, "good")
    path.write_bytes(good.read_bytes()[:200])
    failed_with(run(path, key="broken"), "zip")
    assert not Layer.objects.filter(key="broken").exists()


def test_shapefile_without_prj_is_refused(upload_dir, tmp_path):
    archive = zip_shapefile(in_crs(truth_polygons(), "EPSG:4548"), tmp_path, "nop", drop_prj=True)
    message = failed_with(run(archive, key="nop"), "no .prj")
    assert "--crs" in message


def test_mixed_geometry_types_refused_or_kept_generic(upload_dir, tmp_path, client):
    frame = gpd.GeoDataFrame(
        {"name": ["p", "q"]},
        geometry=[shapely.Point(LON0, LAT0), shapely.box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001)],
        crs="EPSG:4326",
    )
    path = tmp_path / "mixed.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    message = failed_with(run(path, key="mixed"), "mixes geometry types")
    assert "Point: 1" in message and "Polygon: 1" in message
    job = run(path, key="mixed", mixed="geometry", public=True)
    assert job.state == "succeeded", job.errors
    assert Layer.objects.get(key="mixed").geometry_type == "Geometry"


def test_polygon_and_multipolygon_import_as_one_multi_type(upload_dir, tmp_path):
    frame = truth_polygons(2)
    frame.loc[1, "geometry"] = shapely.multipolygons([frame.geometry[1]])
    path = tmp_path / "multi.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    assert run(path, key="multi").state == "succeeded"
    assert Layer.objects.get(key="multi").geometry_type == "MultiPolygon"


def bowtie_file(tmp_path):
    bowtie = shapely.Polygon(
        [(LON0, LAT0), (LON0 + 0.001, LAT0 + 0.001), (LON0 + 0.001, LAT0), (LON0, LAT0 + 0.001)]
    )
    good = shapely.box(LON0 + 0.002, LAT0, LON0 + 0.003, LAT0 + 0.001)
    frame = gpd.GeoDataFrame({"name": ["bowtie", "good"]}, geometry=[bowtie, good], crs="EPSG:4326")
    path = tmp_path / "selfx.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def test_self_intersecting_polygon_repaired_and_counted(upload_dir, tmp_path):
    job = run(bowtie_file(tmp_path), key="selfx")
    assert job.state == "succeeded", job.errors
    assert job.report["repaired"] == 1
    assert job.report["refused"][0]["reason"].startswith("Self-intersection")
    with connection.cursor() as cur:
        cur.execute("SELECT bool_and(ST_IsValid(geom)), count(*) FROM layers.selfx")
        assert cur.fetchone() == (True, 2)


def test_self_intersecting_polygon_refused_or_skipped(upload_dir, tmp_path):
    path = bowtie_file(tmp_path)
    message = failed_with(run(path, key="selfx2", invalid="refuse"), "invalid geometries")
    assert "row 1" in message and "Self-intersection" in message
    assert not Layer.objects.filter(key="selfx2").exists()
    job = run(path, key="selfx2", invalid="skip")
    assert job.state == "succeeded"
    assert job.report["skipped_invalid"] == 1 and job.report["rows_written"] == 1


def test_3d_and_measured_coordinates_dropped_to_2d(upload_dir, tmp_path):
    path = tmp_path / "z.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "a"},
                        "geometry": {"type": "Point", "coordinates": [LON0, LAT0, 42.0]},
                    },
                    {
                        "type": "Feature",
                        "properties": {"name": "b"},
                        "geometry": {"type": "Point", "coordinates": [LON0 + 0.001, LAT0]},
                    },
                ],
            }
        )
    )
    job = run(path, key="zpoints")
    assert job.state == "succeeded", job.errors
    assert job.report["dropped_z_m"] == 1
    csv = tmp_path / "m.csv"
    csv.write_text(f'name,wkt\nm,"POINT M ({LON0} {LAT0} 7)"\nzm,"POINT ZM ({LON0} {LAT0} 1 2)"\n')
    job = run(csv, key="mpoints")
    assert job.state == "succeeded", job.errors
    assert job.report["dropped_z_m"] == 2
    with connection.cursor() as cur:
        cur.execute("SELECT max(ST_NDims(geom)) FROM layers.mpoints")
        assert cur.fetchone()[0] == 2


def test_empty_files(upload_dir, tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_text("")
    failed_with(run(empty, key="empty"), "empty")
    no_features = tmp_path / "none.geojson"
    no_features.write_text('{"type": "FeatureCollection", "features": []}')
    failed_with(run(no_features, key="none"), "no features")
    header_only = tmp_path / "header.csv"
    header_only.write_text("name,lon,lat\n")
    failed_with(run(header_only, key="header"), "no rows")


def test_wrong_crs_is_caught_and_the_likely_one_named(upload_dir, tmp_path):
    truth = truth_points()
    path = tmp_path / "gk.csv"
    gk = in_crs(truth, "EPSG:4548")
    gk["x"], gk["y"] = gk.geometry.x, gk.geometry.y
    gk.drop(columns="geometry").to_csv(path, index=False)
    message = failed_with(run(path, key="gk"), "outside the city")
    assert "EPSG:4548" in message
    swapped = tmp_path / "swapped.csv"
    truth.assign(lon=truth.geometry.y, lat=truth.geometry.x).drop(columns="geometry").to_csv(
        swapped, index=False
    )
    assert "lat/lon swapped" in failed_with(run(swapped, key="swapped"), "outside the city")
    merc = tmp_path / "merc.csv"
    m = in_crs(truth, "EPSG:3857")
    m.assign(lon=m.geometry.x, lat=m.geometry.y).drop(columns="geometry").to_csv(merc, index=False)
    assert "EPSG:3857" in failed_with(run(merc, key="merc"), "outside the city")
    assert not Layer.objects.filter(key__in=["gk", "swapped", "merc"]).exists()


def test_csv_without_coordinates_names_the_option(upload_dir, tmp_path):
    path = tmp_path / "nocoords.csv"
    path.write_text("name,a,b\nx,1,2\n")
    assert "--x" in failed_with(run(path, key="nocoords"), "longitude column")


def zip_with(tmp_path, name, entries):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        for entry, data in entries:
            zf.writestr(entry, data)
    return path


def test_path_traversal_in_zip_is_refused(upload_dir, tmp_path):
    good = zip_shapefile(truth_polygons(), tmp_path, "t")
    with zipfile.ZipFile(good) as zf:
        parts = [(info.filename, zf.read(info)) for info in zf.infolist()]
    for evil in ("../../evil.txt", "/etc/evil.txt", "a/../../evil.txt"):
        path = zip_with(tmp_path, "evil.zip", [*parts, (evil, b"owned")])
        failed_with(run(path, key="evil"), "unsafe path")
    assert not (tmp_path / "evil.txt").exists()
    assert not list(upload_dir.parent.rglob("evil.txt"))


def test_zip_bomb_bounded(upload_dir, tmp_path, settings):
    settings.MAX_UPLOAD_BYTES = 100_000
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.shp", b"\0" * 2_000_000)
    assert path.stat().st_size < 100_000
    failed_with(run(path, key="bomb"), "expands")


def test_oversize_upload_gets_413_json(admin_client, settings, tmp_path):
    settings.MAX_UPLOAD_BYTES = 1000
    upload = io.BytesIO(b"x" * 5000)
    upload.name = "big.geojson"
    response = admin_client.post("/api/v1/layers/import", {"file": upload})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    with pytest.raises(TooLarge):
        big = tmp_path / "big.geojson"
        big.write_bytes(b"x" * 5000)
        run(big, key="big")


def test_bad_options_refused_before_any_work(admin_client, tmp_path):
    path = tmp_path / "p.geojson"
    truth_points(2).to_file(path, driver="GeoJSON", engine="pyogrio")
    for options, field in (
        ({"crs": "EPSG:2000"}, "crs"),
        ({"target": "lakes"}, "target"),
        ({"invalid": "ignore"}, "invalid"),
        ({"key": "../x"}, "key"),
    ):
        with pytest.raises(BadInput) as caught:
            run(path, **options)
        assert caught.value.field == field
    with open(path, "rb") as fh:
        response = admin_client.post("/api/v1/layers/import", {"file": fh, "crs": "nonsense"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "crs"


def test_import_requires_permission(client, tmp_path, upload_dir):
    path = tmp_path / "p.geojson"
    truth_points(2).to_file(path, driver="GeoJSON", engine="pyogrio")
    with open(path, "rb") as fh:
        response = client.post("/api/v1/layers/import", {"file": fh})
    assert response.status_code == 401


def test_failed_reimport_leaves_the_old_layer(admin_client, tmp_path):
    truth = truth_points()
    path = tmp_path / "keep.geojson"
    truth.to_file(path, driver="GeoJSON", engine="pyogrio")
    assert run(path, key="keep", public=True).state == "succeeded"
    before = Layer.objects.get(key="keep")
    tables = layers_tables()
    bad = tmp_path / "keep_bad.geojson"
    in_crs(truth, "EPSG:3857").set_crs(None, allow_override=True).to_file(
        bad, driver="GeoJSON", engine="pyogrio"
    )
    failed_with(run(bad, key="keep"), "outside the city")
    after = Layer.objects.get(key="keep")
    assert (after.version, after.feature_count, after.fields) == (
        before.version,
        before.feature_count,
        before.fields,
    )
    assert layers_tables() == tables
    assert len(all_features(admin_client, "keep")) == len(truth)


def test_failure_after_staging_drops_the_new_table(admin_client, tmp_path, monkeypatch):
    """Fault injection: the index build fails after COPY filled the staging table."""
    from spatial.layers import writer

    truth = truth_points()
    path = tmp_path / "stage.geojson"
    truth.to_file(path, driver="GeoJSON", engine="pyogrio")
    assert run(path, key="stage").state == "succeeded"
    tables, version = layers_tables(), Layer.objects.get(key="stage").version

    def broken(table):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "finish_table", broken)
    job = run(path, key="stage")
    assert job.state == "failed" and "disk full" in job.errors[0]["message"]
    assert layers_tables() == tables
    assert Layer.objects.get(key="stage").version == version
    assert len(all_features(admin_client, "stage")) == len(truth)


def test_large_upload_spools_inside_the_upload_dir(admin_client, tmp_path, settings):
    """A body bigger than FILE_UPLOAD_MAX_MEMORY_SIZE is spooled under UPLOAD_DIR, not /tmp."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.FILE_UPLOAD_TEMP_DIR = str(settings.UPLOAD_DIR / "spool")
    path = tmp_path / "spooled.geojson"
    truth_points(200).to_file(path, driver="GeoJSON", engine="pyogrio")
    assert path.stat().st_size > 1000
    with open(path, "rb") as fh:
        response = admin_client.post("/api/v1/layers/import", {"file": fh, "key": "spooled"})
    assert response.status_code == 202, response.content
    assert (settings.UPLOAD_DIR / "spool").is_dir()
