"""GDAL, a third-party OGC API – Features client, reads our /ogc from a real server:
`ogrinfo` lists the collections and `ogr2ogr` copies one out with every feature."""

from __future__ import annotations

import shutil
import subprocess

import pyogrio
import pytest

from accounts.scoping import system_scope
from spatial.actions import do_import_layer

from spatial.layers.importer import ImportOptions

from .conftest import truth_points

pytestmark = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="GDAL CLI not installed")


def gdal(*args: str) -> str:
    done = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=120,
        env={"GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF", "PATH": "/usr/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.django_db(transaction=True)
def test_gdal_lists_and_copies_a_collection(live_server, tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "gdal.geojson"
    truth_points(57).to_file(path, driver="GeoJSON", engine="pyogrio")
    job = do_import_layer(
        system_scope("test"), path, None, ImportOptions(key="gdal-points", public=True), sync=True
    )
    assert job.state == "succeeded", job.errors
    url = f"OAPIF:{live_server.url}/ogc"
    listing = gdal("ogrinfo", "-ro", "-q", url)
    assert "gdal-points" in listing and "districts" in listing
    out = tmp_path / "copy.gpkg"
    # A page size below the count makes GDAL follow our `next` links.
    gdal("ogr2ogr", "-f", "GPKG", str(out), url, "gdal-points", "-oo", "PAGE_SIZE=10")
    copied = pyogrio.read_dataframe(out)
    assert len(copied) == 57
    assert sorted(copied["name"]) == sorted(truth_points(57)["name"])
    summary = gdal("ogrinfo", "-ro", "-so", url, "gdal-points")
    assert "Feature Count: 57" in summary
