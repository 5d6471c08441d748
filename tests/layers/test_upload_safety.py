"""An upload cannot make the importer read other server files or fetch URLs: GDAL picks its
driver from a file's content, so a VRT named ``x.geojson`` used to import any file the worker
could read, and ``/vsicurl/`` or a linked CRS made it send requests. Each refusal leaves no
layer, no table and no work directory; correct files of every format still import."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import zipfile

import pandas as pd
import pyogrio
import pytest
from django.db import connection

from accounts.scoping import system_scope
from spatial.actions import do_import_layer
from spatial.layers import gdal_guard
from spatial.layers.files import safe_name
from spatial.layers.importer import ImportOptions
from spatial.models import Layer

from .conftest import LAT0, LON0, truth_points, truth_polygons, zip_shapefile

pytestmark = pytest.mark.django_db


def run(path, **options):
    return do_import_layer(system_scope("test"), path, None, ImportOptions(**options), sync=True)


def layers_tables() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'layers'")
        return {r[0] for r in cur.fetchall()}


def refused(path, upload_dir, key: str, *words: str, hits: list | None = None) -> str:
    """Imports `path`; asserts the job failed on the file with all `words` in its message and
    that nothing was written: no layer, no new table, no work directory left behind (and, given
    a listener's `hits`, that no connection reached it)."""
    tables = layers_tables()
    job = run(path, key=key)
    assert hits is None or hits == [], hits
    assert job.state == "failed", job.report
    error = job.errors[0]
    message = error["message"]
    for word in words:
        assert word.lower() in message.lower(), message
    assert error["field"] == "file", error
    assert not Layer.objects.filter(key=key).exists()
    assert layers_tables() == tables
    assert not [p for p in upload_dir.iterdir() if p.name.startswith("import-")]
    return message


@pytest.fixture
def secret(tmp_path):
    """A server file outside the upload directory, with rows that would import cleanly."""
    path = tmp_path / "secret" / "secret.csv"
    path.parent.mkdir()
    path.write_text(f"name,lon,lat\ndb-password-hunter2,{LON0},{LAT0}\n")
    return path


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    hits.append(conn.recv(1024))
                except OSError:
                    hits.append(b"")
                conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()


def vrt(source: str, layer: str = "secret") -> str:
    """An OGR VRT document that reads `source` as a point layer."""
    return (
        "<OGRVRTDataSource>\n"
        '  <OGRVRTLayer name="p">\n'
        f"    <SrcDataSource>{source}</SrcDataSource>\n"
        f"    <SrcLayer>{layer}</SrcLayer>\n"
        "    <GeometryType>wkbPoint</GeometryType>\n"
        "    <LayerSRS>EPSG:4326</LayerSRS>\n"
        '    <GeometryField encoding="PointFromColumns" x="lon" y="lat"/>\n'
        "  </OGRVRTLayer>\n"
        "</OGRVRTDataSource>\n"
    )


def test_vrt_named_geojson_cannot_read_a_server_file(upload_dir, tmp_path, secret):
    path = tmp_path / "x.geojson"
    path.write_text(vrt(f"CSV:{secret}"))
    message = refused(path, upload_dir, "leak", "GeoJSON", "VRT", "OGRVRTDataSource")
    assert "hunter2" not in message


def test_vrt_named_gpkg_kml_or_osm_is_refused(upload_dir, tmp_path, secret):
    for name, words in (
        ("x.gpkg", ("GeoPackage", "VRT")),
        ("x.kml", ("KML", "VRT")),
        ("x.osm", ("OSM", "VRT")),
        ("x.json", ("GeoJSON", "VRT")),
    ):
        path = tmp_path / name
        path.write_text(vrt(f"CSV:{secret}"))
        refused(path, upload_dir, "leak", *words)


def test_content_unlike_its_name_is_refused(upload_dir, tmp_path):
    not_sqlite = tmp_path / "city.gpkg"
    truth_points(3).to_file(tmp_path / "pts.geojson", driver="GeoJSON", engine="pyogrio")
    not_sqlite.write_bytes((tmp_path / "pts.geojson").read_bytes())
    refused(not_sqlite, upload_dir, "city", "should be a GeoPackage", "JSON")

    kml_as_geojson = tmp_path / "poi.geojson"
    truth_points(3)[["name", "geometry"]].to_file(
        tmp_path / "poi.kml", driver="KML", engine="pyogrio"
    )
    kml_as_geojson.write_bytes((tmp_path / "poi.kml").read_bytes())
    refused(kml_as_geojson, upload_dir, "poi", "should be GeoJSON", "<kml>")

    entities = tmp_path / "doc.kml"
    entities.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>&x;</Document></kml>\n'
    )
    refused(entities, upload_dir, "doc", "DOCTYPE")


def test_vrt_as_the_shapefile_inside_a_zip_is_refused(upload_dir, tmp_path, secret):
    good = zip_shapefile(truth_polygons(), tmp_path, "parks")
    with zipfile.ZipFile(good) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, vrt(f"CSV:{secret}") if name.endswith(".shp") else data)
    refused(path, upload_dir, "evil", "VRT")


def test_vrt_member_beside_a_shapefile_is_refused(upload_dir, tmp_path, secret):
    good = zip_shapefile(truth_polygons(), tmp_path, "parks")
    path = tmp_path / "with-vrt.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as zf:
        for info in src.infolist():
            zf.writestr(info.filename, src.read(info))
        zf.writestr("parks/extra.VRT", vrt(f"CSV:{secret}"))
    refused(path, upload_dir, "with-vrt", "VRT")
    # Named otherwise, the VRT is still one by its content.
    path = tmp_path / "with-xml.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as zf:
        for info in src.infolist():
            zf.writestr(info.filename, src.read(info))
        zf.writestr("parks/readme.txt", vrt(f"CSV:{secret}"))
    refused(path, upload_dir, "with-xml", "VRT")


def test_symlink_in_a_zip_is_refused(upload_dir, tmp_path, secret):
    good = zip_shapefile(truth_polygons(), tmp_path, "parks")
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as zf:
        for info in src.infolist():
            zf.writestr(info.filename, src.read(info))
        link = zipfile.ZipInfo("parks/secret.csv")
        link.external_attr = (0o120777 << 16) | 0x20
        zf.writestr(link, str(secret))
    refused(path, upload_dir, "link", "symbolic link")


def test_geopackage_with_a_virtual_ogr_table_is_refused(upload_dir, tmp_path, secret):
    path = tmp_path / "city.gpkg"
    truth_points(3).to_file(path, layer="poi", driver="GPKG", engine="pyogrio")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA writable_schema=ON")
        db.execute(
            "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES "
            "('table', 'leak', 'leak', 0, ?)",
            [f"CREATE VIRTUAL TABLE leak USING VirtualOGR('{secret}')"],
        )
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) "
            "VALUES ('leak', 'attributes', 'leak')"
        )
    db.close()
    refused(path, upload_dir, "city", "'leak'", "refused")


def test_vsicurl_in_a_vrt_sends_no_request(upload_dir, tmp_path, listener):
    port, hits = listener
    path = tmp_path / "remote.geojson"
    path.write_text(vrt(f"/vsicurl/http://127.0.0.1:{port}/secret.csv"))
    refused(path, upload_dir, "remote", "VRT", hits=hits)


def test_vsi_path_in_a_geojson_is_refused(upload_dir, tmp_path, listener):
    port, hits = listener
    frame = truth_points(2)
    frame["link"] = f"/VSICURL/http://127.0.0.1:{port}/x.csv"
    path = tmp_path / "mentions.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    refused(path, upload_dir, "mentions", "/vsi", hits=hits)


def test_linked_crs_in_a_geojson_sends_no_request(upload_dir, tmp_path, listener, monkeypatch):
    # NO_PROXY would let a request around GDAL_HTTP_PROXY: the fetch must be refused anyway.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    port, hits = listener
    doc = json.loads(truth_points(3).to_json())
    doc["crs"] = {
        "type": "link",
        "properties": {"href": f"http://127.0.0.1:{port}/crs.wkt", "type": "ogcwkt"},
    }
    path = tmp_path / "linked.geojson"
    path.write_text(json.dumps(doc))
    refused(path, upload_dir, "linked", "fetch", f"127.0.0.1:{port}", "network", hits=hits)
    # GDAL itself keeps no driver that reads other datasets or the network.
    assert not {"OGR_VRT", "HTTP", "WFS", "OAPIF", "GDALG", "CSV"} & set(pyogrio.list_drivers())


def test_gdal_alone_opens_no_vrt_and_fetches_nothing(tmp_path, secret, listener, monkeypatch):
    # Behind the content checks: pyogrio's GDAL itself, once restricted, refuses both.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    port, hits = listener
    gdal_guard.restrict_gdal()
    path = tmp_path / "x.geojson"
    path.write_text(vrt(f"CSV:{secret}"))
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_dataframe(path)
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_dataframe(f"/vsicurl/http://127.0.0.1:{port}/x.geojson")
    assert hits == []


def test_upload_names_never_start_like_a_gdal_virtual_path():
    assert not safe_name("vsicurl.geojson").lower().startswith("vsi")
    assert safe_name("vsicurl.geojson").endswith(".geojson")
    assert safe_name(".geojson") == "upload.geojson"


def test_correct_files_of_every_format_still_import(upload_dir, tmp_path):
    points, polygons = truth_points(), truth_polygons()
    geojson = tmp_path / "ok.geojson"
    points.to_file(geojson, driver="GeoJSON", engine="pyogrio")
    gpkg = tmp_path / "ok.gpkg"
    polygons.to_file(gpkg, layer="parks", driver="GPKG", engine="pyogrio")
    kml = tmp_path / "ok.kml"
    points[["name", "geometry"]].to_file(kml, driver="KML", engine="pyogrio")
    csv = tmp_path / "ok.csv"
    pd.DataFrame(
        {"name": points["name"], "lon": points.geometry.x, "lat": points.geometry.y}
    ).to_csv(csv, index=False)
    shapefile = zip_shapefile(polygons, tmp_path, "okshp")
    expected = {
        "ok-geojson": (geojson, len(points)),
        "ok-gpkg": (gpkg, len(polygons)),
        "ok-kml": (kml, len(points)),
        "ok-csv": (csv, len(points)),
        "ok-shp": (shapefile, len(polygons)),
    }
    for key, (path, count) in expected.items():
        job = run(path, key=key)
        assert job.state == "succeeded", (key, job.errors)
        assert Layer.objects.get(key=key).feature_count == count
