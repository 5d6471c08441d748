"""An import compares the file with the city's own geography under WGS84, GCJ-02 and BD-09: data
from a Chinese web map imported without its CRS is refused naming the offset system, or converted
with crs=auto; true WGS84 data and data far from the city pass as declared."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.db import connection

from accounts.scoping import system_scope
from spatial.actions import do_import_layer
from spatial.layers import offsets
from spatial.layers.importer import ImportOptions
from spatial.layers.transform import SourceCrs
from spatial.models import AdminArea, RoadSegment

from .conftest import in_crs

pytestmark = pytest.mark.django_db


def run(path, **options):
    return do_import_layer(system_scope("test"), path, None, ImportOptions(**options), sync=True)


def districts(city) -> gpd.GeoDataFrame:
    """The demo city's admin areas (district, streets, communities) as a WGS84 frame."""
    rows = list(AdminArea.objects.order_by("code").values_list("code", "name", "geom"))
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[shapely.from_wkb(bytes(r[2].wkb)) for r in rows],
        crs="EPSG:4326",
    )


def doors(city, spacing_m: float = 40.0, offset_m: float = 12.0) -> gpd.GeoDataFrame:
    """Door-address-like points: along every demo road, `offset_m` to its left."""
    points = []
    for geom in RoadSegment.objects.values_list("geom", flat=True):
        line = shapely.from_wkb(bytes(geom.wkb))
        lat = line.centroid.y
        per_lon, per_lat = 111_320 * np.cos(np.radians(lat)), 110_574
        metric = shapely.transform(line, lambda xy: xy * [per_lon, per_lat])
        for d in np.arange(spacing_m / 2, metric.length, spacing_m):
            a, b = metric.interpolate(d), metric.interpolate(min(d + 1, metric.length))
            ux, uy = b.x - a.x, b.y - a.y
            norm = np.hypot(ux, uy) or 1.0
            points.append(
                ((a.x - uy / norm * offset_m) / per_lon, (a.y + ux / norm * offset_m) / per_lat)
            )
    xy = np.array(points)
    return gpd.GeoDataFrame(
        {"door": [f"{k}号" for k in range(len(xy))]},
        geometry=shapely.points(xy),
        crs="EPSG:4326",
    )


def write(frame: gpd.GeoDataFrame, tmp_path, name: str):
    path = tmp_path / f"{name}.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def hausdorff_m(key: str) -> float:
    """The largest Hausdorff distance (m) between an imported area and its source AdminArea."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT max(ST_HausdorffDistance(l.geom_mercator, a.geom_mercator) "
            f"* cos(radians(ST_Y(ST_Centroid(a.geom))))) "
            f"FROM layers.{key} l JOIN spatial_adminarea a ON a.code = l.code"
        )
        return cur.fetchone()[0]


def failed(job) -> str:
    assert job.state == "failed", job.report
    return job.errors[0]["message"]


def test_gcj02_districts_without_crs_are_refused_naming_gcj02(upload_dir, tmp_path, city):
    path = write(in_crs(districts(city), "gcj02"), tmp_path, "districts_gcj")
    message = failed(run(path, key="districts-gcj"))
    assert "GCJ-02" in message and "WGS84" in message
    assert "crs=gcj02" in message and "crs=auto" in message
    fits = [float(w) for w in message.replace("(", " ").split() if w.replace(".", "").isdigit()]
    assert fits, message


def test_gcj02_districts_with_crs_auto_are_converted(upload_dir, tmp_path, city):
    path = write(in_crs(districts(city), "gcj02"), tmp_path, "districts_auto")
    job = run(path, key="districts-auto", crs="auto")
    assert job.state == "succeeded", job.errors
    check = job.report["offset_check"]
    assert check["chosen"] == "gcj02" and check["converted"] is True
    assert check["fits"]["gcj02"] < 5 < 100 < check["fits"]["wgs84"]
    assert job.report["crs"] == "gcj02"
    assert hausdorff_m("districts_auto") < 2.0


def test_wgs84_districts_pass_untouched(upload_dir, tmp_path, city):
    path = write(districts(city), tmp_path, "districts_wgs")
    job = run(path, key="districts-wgs")
    assert job.state == "succeeded", job.errors
    check = job.report["offset_check"]
    assert check["chosen"] == "wgs84" and check["fits"]["wgs84"] < 1
    assert check["sample"] == AdminArea.objects.count() == check["evidence"]
    assert hausdorff_m("districts_wgs") < 0.01


def test_bd09_districts_are_refused_or_converted(upload_dir, tmp_path, city):
    path = write(in_crs(districts(city), "bd09"), tmp_path, "districts_bd")
    message = failed(run(path, key="districts-bd"))
    assert "BD-09" in message and "crs=bd09" in message
    job = run(path, key="districts-bd", crs="auto")
    assert job.state == "succeeded", job.errors
    assert job.report["offset_check"]["chosen"] == "bd09"
    assert hausdorff_m("districts_bd") < 2.0


def test_explicit_crs_is_taken_as_given(upload_dir, tmp_path, city):
    path = write(in_crs(districts(city), "gcj02"), tmp_path, "districts_given")
    job = run(path, key="districts-given", crs="EPSG:4326")
    assert job.state == "succeeded", job.errors
    check = job.report["offset_check"]
    assert check["chosen"] == "wgs84" and check["kept"] == "crs given"
    job = run(path, key="districts-given", crs="gcj02")
    assert job.state == "succeeded", job.errors
    assert job.report["offset_check"]["chosen"] == "gcj02"
    assert hausdorff_m("districts_given") < 2.0


def test_data_far_from_the_city_is_no_evidence(upload_dir, tmp_path, city):
    far = districts(city)
    far.geometry = far.geometry.translate(5.0, -8.0)  # Hunan: nothing of the city near
    path = write(in_crs(far, "gcj02"), tmp_path, "far")
    job = run(path, key="far", extent_check="china")
    assert job.state == "succeeded", job.errors
    check = job.report["offset_check"]
    assert check["evidence"] == 0 and check["chosen"] == "wgs84"
    assert check["fits"] == {"wgs84": None, "gcj02": None, "bd09": None}


def test_gcj02_door_points_are_refused_naming_gcj02(upload_dir, tmp_path, city):
    truth = doors(city)
    job = run(write(truth, tmp_path, "doors_wgs"), key="doors-wgs")
    assert job.state == "succeeded", job.errors
    assert job.report["offset_check"]["chosen"] == "wgs84"
    message = failed(run(write(in_crs(truth, "gcj02"), tmp_path, "doors_gcj"), key="doors-gcj"))
    assert "GCJ-02" in message and "crs=gcj02" in message
    job = run(tmp_path / "doors_gcj.geojson", key="doors-gcj", crs="auto")
    assert job.state == "succeeded", job.errors
    assert job.report["offset_check"]["chosen"] == "gcj02"


def test_gcj02_roads_are_refused_as_a_layer_and_as_core_roads(upload_dir, tmp_path, city):
    rows = list(RoadSegment.objects.values_list("name", "geom"))
    frame = gpd.GeoDataFrame(
        {"name": [r[0] for r in rows]},
        geometry=[shapely.from_wkb(bytes(r[1].wkb)) for r in rows],
        crs="EPSG:4326",
    )
    path = write(in_crs(frame, "gcj02"), tmp_path, "roads_gcj")
    assert "GCJ-02" in failed(run(path, key="roads-gcj"))
    before = RoadSegment.objects.count()
    message = failed(run(path, target="roads"))
    assert "GCJ-02" in message and "crs=gcj02" in message
    assert RoadSegment.objects.count() == before


def test_projected_file_holding_gcj02_is_refused_with_auto_as_the_way_out(
    upload_dir, tmp_path, city
):
    # GCJ-02 values projected into Gauss-Kruger (a CAD drawing traced over a web map).
    gk = in_crs(in_crs(districts(city), "gcj02").set_crs("EPSG:4326"), "EPSG:4548")
    path = write(gk, tmp_path, "districts_gk")
    message = failed(run(path, key="districts-gk"))
    assert "better than EPSG:4548" in message and "crs=auto" in message
    job = run(path, key="districts-gk", crs="auto")
    assert job.state == "succeeded", job.errors
    assert job.report["crs"] == "EPSG:4548 on gcj02"
    assert hausdorff_m("districts_gk") < 2.0


def test_extent_error_counts_coordinates_and_names_the_way_out(upload_dir, tmp_path, city):
    far = districts(city)
    far.geometry = far.geometry.translate(5.0, -8.0)
    coordinates = int(shapely.get_num_coordinates(far.geometry.values).sum())
    message = failed(run(write(far, tmp_path, "far_city"), key="far-city"))
    assert f"{coordinates} of {coordinates} coordinates (100%, in {len(far)} of {len(far)} " in (
        message
    )
    assert "extent_check=china" in message


def test_unrelated_wgs84_data_over_the_city_is_never_taken_for_an_offset(city):
    # Points, small squares and short lines scattered at random over the city: nothing in them
    # matches the city's roads or areas, so no reading may be taken as clearly better.
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = AdminArea.objects.filter(level="district")[0].geom.extent
    for _ in range(40):
        n = int(rng.integers(5, 60))
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        size = rng.uniform(0.0005, 0.004, n)
        ends = np.column_stack([x + size, y + size * rng.uniform(-1, 1, n)])
        for geoms in (
            shapely.points(x, y),
            shapely.box(x, y, x + size, y + size * 0.8),
            shapely.linestrings(np.stack([np.column_stack([x, y]), ends], axis=1)),
        ):
            result = offsets.check(geoms, SourceCrs("EPSG:4326"))
            assert result.chosen == "wgs84", result.report()
