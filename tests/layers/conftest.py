"""Fixtures for layer tests: a GIS admin client, truth coordinates near the city centre, and
writers that make fixture files (in a chosen CRS) with geopandas, pyogrio and zipfile."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.conf import settings

from tests import reference

LON0, LAT0 = settings.CITY_CENTER


@pytest.fixture
def upload_dir(tmp_path, settings):
    """Uploads go to a fresh directory per test."""
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


@pytest.fixture
def admin_client(client, django_user_model, upload_dir):
    """A signed-in system administrator (all permissions, all areas)."""
    user = django_user_model.objects.create_superuser("gisadmin", "gis@example.org", "pw-12345678")
    client.force_login(user)
    client.user = user
    return client


def truth_points(n: int = 25) -> gpd.GeoDataFrame:
    """Points on a spiral around the city centre with names and numbers (the truth)."""
    i = np.arange(n)
    lon = LON0 + 0.002 * i * np.cos(i) / 3
    lat = LAT0 + 0.002 * i * np.sin(i) / 3
    return gpd.GeoDataFrame(
        {"name": [f"井盖{k}" for k in i], "depth": i * 0.5, "count": i.astype("int64")},
        geometry=shapely.points(lon, lat),
        crs="EPSG:4326",
    )


def truth_polygons(n: int = 6) -> gpd.GeoDataFrame:
    """Small squares (about 100 m) east of the city centre."""
    boxes = [
        shapely.box(LON0 + 0.002 * k, LAT0, LON0 + 0.002 * k + 0.0012, LAT0 + 0.0009)
        for k in range(n)
    ]
    return gpd.GeoDataFrame(
        {"name": [f"park{k}" for k in range(n)]}, geometry=boxes, crs="EPSG:4326"
    )


def in_crs(frame: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """The frame's geometries converted from WGS84 into `crs` (EPSG or gcj02/bd09) by the
    reference conversions (pyproj, coordTransform), not by the importer's own CRS module."""

    def convert(xy):
        return np.column_stack(reference.from_wgs84_array(xy[:, 0], xy[:, 1], crs))

    out = frame.copy()
    out.geometry = shapely.transform(frame.geometry.values, convert)
    offset = crs.lower() in reference.OFFSET_CRS
    out = out.set_crs(None if offset else crs, allow_override=True)
    return out


def zip_shapefile(
    frame: gpd.GeoDataFrame, folder: Path, name: str = "grids", drop_prj: bool = False
) -> Path:
    """Writes a Shapefile and zips its parts; gives the zip's path."""
    shp_dir = folder / f"{name}_shp"
    shp_dir.mkdir(parents=True, exist_ok=True)
    frame.to_file(shp_dir / f"{name}.shp", engine="pyogrio", encoding="UTF-8")
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp_dir.iterdir():
            if drop_prj and part.suffix == ".prj":
                continue
            zf.write(part, part.name)
    return archive


def metres_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances in metres between lon/lat coordinate rows (equirectangular, fine at 1 km)."""
    lat = np.radians((a[:, 1] + b[:, 1]) / 2)
    dx = (a[:, 0] - b[:, 0]) * 111_320 * np.cos(lat)
    dy = (a[:, 1] - b[:, 1]) * 110_574
    return np.hypot(dx, dy)


def all_features(client, key: str) -> list[dict]:
    """Every feature of a collection, read back through the OGC API."""
    response = client.get(f"/ogc/collections/{key}/items", {"limit": 10000})
    assert response.status_code == 200, response.content
    return response.json()["features"]


def assert_positions(features: list[dict], truth: gpd.GeoDataFrame, tolerance_m: float = 0.5):
    """Every feature's coordinates match the truth (matched by name) within the tolerance."""
    by_name = {
        row["name"]: geom for row, geom in zip(truth.to_dict("records"), truth.geometry.values)
    }
    assert len(features) == len(truth)
    worst = 0.0
    for feature in features:
        got = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
        want = shapely.get_coordinates(by_name[feature["properties"]["name"]])
        got, want = np.unique(got.round(9), axis=0), np.unique(want.round(9), axis=0)
        assert got.shape == want.shape
        worst = max(worst, float(metres_between(got, want).max()))
    assert worst < tolerance_m, f"worst position error {worst:.3f} m"
    assert math.isfinite(worst)
    return worst


@pytest.fixture
def anon():
    """A client that is not signed in (separate from `admin_client`)."""
    from django.test import Client

    return Client()
