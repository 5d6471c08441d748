"""Import into core geography: unit grids from a surveyor's Shapefile in a Gauss–Krüger zone,
admin areas, responsibility grids, components and roads, with field mappings and code checks."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError

from spatial.models import AdminArea, Component, Layer, ResponsibilityGrid, RoadSegment, UnitGrid

from tests import factories

from .conftest import LAT0, LON0, in_crs, metres_between, zip_shapefile

pytestmark = pytest.mark.django_db
# Codes of a made-up district, so the tests also run beside the demo city (海淀区 110108).
COMMUNITY = "990101001001"


@pytest.fixture
def community(upload_dir):
    """Gives community 990101001001, a 0.02° square around the city centre (one street, one
    community, no grids)."""
    city = factories.make_city(
        "990101",
        origin=(LON0 - 0.01, LAT0 - 0.01),
        size=(0.02, 0.02),
        streets=("测试街道",),
        communities=[["某社区"]],
    )
    assert city.communities[0].code == COMMUNITY
    return city.communities[0]


def grids_frame(codes):
    boxes = [
        shapely.box(LON0 + 0.001 * i, LAT0, LON0 + 0.001 * i + 0.001, LAT0 + 0.001)
        for i in range(len(codes))
    ]
    return gpd.GeoDataFrame(
        {"BGID": codes, "MC": [f"网格{c[-2:]}" for c in codes]}, geometry=boxes, crs="EPSG:4326"
    )


def load(path, **options):
    call_command("load_layer", str(path), sync=True, verbosity=0, **options)


def test_unit_grids_from_gauss_kruger_shapefile(community, tmp_path):
    truth = grids_frame([f"{COMMUNITY}{i:02d}" for i in range(1, 5)])
    archive = zip_shapefile(in_crs(truth, "EPSG:4548"), tmp_path, "grids")
    load(archive, target="unit_grids", map="code=BGID")
    grids = list(UnitGrid.objects.filter(code__startswith=COMMUNITY).order_by("code"))
    assert [g.code for g in grids] == list(truth["BGID"])
    assert all(g.community_id == community.pk for g in grids)
    assert grids[0].area_m2 == pytest.approx(85.2 * 111.2 * 1000 * 0.001 * 0.85, rel=0.2)
    for grid, want in zip(grids, truth.geometry.values):
        got = shapely.get_coordinates(shapely.from_wkt(grid.geom.wkt))
        exp = shapely.get_coordinates(shapely.multipolygons([want]))
        import numpy as np

        assert (
            metres_between(np.unique(got.round(9), axis=0), np.unique(exp.round(9), axis=0)).max()
            < 0.5
        )
    layer = Layer.objects.get(key="unit_grids")
    assert layer.feature_count == UnitGrid.objects.count() >= 4 and layer.extent is not None
    # Re-import updates by code instead of duplicating.
    load(archive, target="unit_grids", map="code=BGID")
    assert UnitGrid.objects.filter(code__startswith=COMMUNITY).count() == 4


def test_unit_grid_code_validation_is_all_or_nothing(community, tmp_path):
    codes = [f"{COMMUNITY}01", "99999999999901", "12345"]
    path = tmp_path / "bad.geojson"
    grids_frame(codes).to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(CommandError) as caught:
        load(path, target="unit_grids", map="code=BGID")
    assert "not 14 digits" in str(caught.value) and "row 3" in str(caught.value)
    path2 = tmp_path / "bad2.geojson"
    grids_frame([f"{COMMUNITY}01", "99999999999901"]).to_file(
        path2, driver="GeoJSON", engine="pyogrio"
    )
    with pytest.raises(CommandError, match="not an existing community"):
        load(path2, target="unit_grids", map="code=BGID")
    assert UnitGrid.objects.filter(code__startswith=COMMUNITY).count() == 0


def test_wrong_field_mapping(community, tmp_path):
    path = tmp_path / "g.geojson"
    grids_frame([f"{COMMUNITY}01"]).to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(CommandError, match="names column 'GRIDCODE'.*BGID"):
        load(path, target="unit_grids", map="code=GRIDCODE")
    with pytest.raises(CommandError, match="needs code"):
        load(path, target="unit_grids")
    with pytest.raises(CommandError, match="has no field colour"):
        load(path, target="unit_grids", map="colour=MC")
    with pytest.raises(CommandError, match="needs Polygon"):
        points = gpd.GeoDataFrame(
            {"BGID": [f"{COMMUNITY}01"]}, geometry=[shapely.Point(LON0, LAT0)], crs="EPSG:4326"
        )
        points.to_file(tmp_path / "p.geojson", driver="GeoJSON", engine="pyogrio")
        load(tmp_path / "p.geojson", target="unit_grids", map="code=BGID")
    assert UnitGrid.objects.filter(code__startswith=COMMUNITY).count() == 0


def test_admin_areas_and_responsibility_grids(upload_dir, tmp_path):
    frame = gpd.GeoDataFrame(
        {"DM": ["990201", "990201002", "990201002003"], "MC": ["门头沟区", "某街道", "某社区"]},
        geometry=[shapely.box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01)] * 3,
        crs="EPSG:4326",
    )
    path = tmp_path / "areas.geojson"
    frame.iloc[::-1].to_file(path, driver="GeoJSON", engine="pyogrio")
    load(path, target="admin_areas", map="code=DM,name=MC")
    community = AdminArea.objects.get(code="990201002003")
    assert community.level == "community" and community.parent.code == "990201002"
    assert community.parent.parent.code == "990201"
    orphan = gpd.GeoDataFrame(
        {"DM": ["990299001"], "MC": ["孤儿"]},
        geometry=[shapely.box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01)],
        crs="EPSG:4326",
    )
    orphan.to_file(tmp_path / "o.geojson", driver="GeoJSON", engine="pyogrio")
    with pytest.raises(CommandError, match="parent area"):
        load(tmp_path / "o.geojson", target="admin_areas", map="code=DM,name=MC")
    resp = gpd.GeoDataFrame(
        {"code": ["ZR-01"], "name": ["责任网格一"], "JD": ["990201002"]},
        geometry=[shapely.box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01)],
        crs="EPSG:4326",
    )
    resp.to_file(tmp_path / "r.geojson", driver="GeoJSON", engine="pyogrio")
    load(tmp_path / "r.geojson", target="responsibility_grids", map="street=JD")
    grid = ResponsibilityGrid.objects.get(code="ZR-01")
    assert grid.street.code == "990201002"


def test_components_need_a_known_minor_class(upload_dir, tmp_path):
    from data.models import Category

    minor = Category.objects.filter(kind="component", parent__isnull=False).first()
    good = f"990101{minor.code}999999"
    frame = gpd.GeoDataFrame(
        {"BM": [good], "MC": ["井盖"]}, geometry=[shapely.Point(LON0, LAT0)], crs="EPSG:4326"
    )
    frame.to_file(tmp_path / "c.geojson", driver="GeoJSON", engine="pyogrio")
    load(tmp_path / "c.geojson", target="components", map="code=BM,name=MC")
    component = Component.objects.get(code=good)
    assert component.category_id == minor.pk and component.name == "井盖"
    bad = frame.assign(BM=["9901019999000001"])
    bad.to_file(tmp_path / "c2.geojson", driver="GeoJSON", engine="pyogrio")
    with pytest.raises(CommandError, match="minor class"):
        load(tmp_path / "c2.geojson", target="components", map="code=BM,name=MC")


def test_roads_with_class_mapping(upload_dir, tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["测试甲路", "测试乙路"], "highway": ["primary", "residential"]},
        geometry=[
            shapely.LineString([(LON0, LAT0), (LON0 + 0.01, LAT0)]),
            shapely.MultiLineString(
                [
                    [(LON0, LAT0 + 0.001), (LON0 + 0.01, LAT0 + 0.001)],
                    [(LON0, LAT0 + 0.002), (LON0 + 0.01, LAT0 + 0.002)],
                ]
            ),
        ],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "roads.geojson", driver="GeoJSON", engine="pyogrio")
    load(tmp_path / "roads.geojson", target="roads", map="road_class=highway")
    assert sorted(
        RoadSegment.objects.filter(name__startswith="测试").values_list("name", "road_class")
    ) == [("测试乙路", "branch"), ("测试乙路", "branch"), ("测试甲路", "main")]
