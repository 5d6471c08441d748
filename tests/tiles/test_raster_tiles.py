"""Raster tiles: a GeoTIFF written here, registered with load_raster, read back as PNG tiles."""

from __future__ import annotations

import io

import numpy as np
import pytest
import rasterio
from django.core.management import call_command
from rasterio.transform import from_origin

from tests.tiles.conftest import tile_of


@pytest.fixture
def geotiff(tmp_path):
    """A 200x100 RGB GeoTIFF in EPSG:4326 over 116.30..116.34 E, 39.95..39.97 N: red left half,
    blue right half, and a nodata hole (0) in the top-left 20x20 pixels."""
    path = tmp_path / "ortho.tif"
    data = np.zeros((3, 100, 200), dtype=np.uint8)
    data[0, :, :100] = 220
    data[2, :, 100:] = 200
    data[1] = 30
    data[:, :20, :20] = 0
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=200,
        height=100,
        count=3,
        dtype="uint8",
        crs="EPSG:4326",
        transform=from_origin(116.30, 39.97, 0.0002, 0.0002),
        nodata=0,
    ) as dst:
        dst.write(data)
    return path


def png_array(content: bytes) -> np.ndarray:
    with rasterio.MemoryFile(io.BytesIO(content)) as mem, mem.open() as src:
        return src.read()


def test_load_raster_registers_and_serves_reprojected_png(client, db, geotiff):
    out = io.StringIO()
    call_command(
        "load_raster", str(geotiff), key="ortho", title="正射影像", public=True, stdout=out
    )
    assert "registered raster layer ortho" in out.getvalue()
    z, x, y = tile_of(116.31, 39.96, 16)  # inside the red half
    response = client.get(f"/tiles/ortho/{z}/{x}/{y}.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    rgba = png_array(response.content)
    assert rgba.shape == (4, 256, 256)
    assert rgba[3].min() == 255 and rgba[0].mean() > 200 and rgba[2].mean() < 10
    blue = png_array(
        client.get("/tiles/ortho/{}/{}/{}.png".format(*tile_of(116.335, 39.96, 16))).content
    )
    assert blue[2].mean() > 180 and blue[0].mean() < 10


def test_nodata_is_transparent_and_outside_is_204(client, db, geotiff):
    call_command(
        "load_raster",
        str(geotiff),
        key="ortho",
        title="正射影像",
        public=True,
        stdout=io.StringIO(),
    )
    z, x, y = tile_of(116.3005, 39.9695, 18)  # wholly in the nodata hole at the top-left
    assert client.get(f"/tiles/ortho/{z}/{x}/{y}.png").status_code == 204
    z, x, y = tile_of(116.304, 39.966, 17)  # on the hole's corner: transparent and opaque
    rgba = png_array(client.get(f"/tiles/ortho/{z}/{x}/{y}.png").content)
    assert (rgba[3] == 0).any() and (rgba[3] == 255).any()
    assert rgba[0][rgba[3] == 255].mean() > 200
    assert (
        client.get("/tiles/ortho/{}/{}/{}.png".format(*tile_of(117.0, 39.96, 16))).status_code
        == 204
    )
    doc = client.get("/tiles/ortho.json").json()
    assert doc["tiles"][0].endswith("/tiles/ortho/{z}/{x}/{y}.png") and "vector_layers" not in doc
    assert doc["bounds"][0] == pytest.approx(116.30)


def test_raster_layer_errors(client, db, geotiff):
    call_command("load_raster", str(geotiff), key="ortho", title="影像", stdout=io.StringIO())
    assert client.get("/tiles/ortho/16/1/1.png").status_code == 404  # not public: not there
    assert client.get("/tiles/unit_grids/16/1/1.png").status_code == 404
    assert client.get("/tiles/ortho/30/1/1.png").status_code == 400
    assert client.get("/tiles/ortho/16/1/1.mvt").status_code == 404
    with pytest.raises(Exception, match="cannot read"):
        call_command("load_raster", "/nonexistent.tif", key="x", title="x")
