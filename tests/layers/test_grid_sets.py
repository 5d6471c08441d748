"""A city's own grid-management set becomes core geography in one call per file: letter codes
kept as source codes with CJ/T 213 codes assigned, areas stored in several rows merged, parents
found by overlap, the missing district created, oversized unit grids reported, and `locate`
places points in it.

The set lies far from the demo city (海淀区 110108), around 120.1, 30.25, under the free code
330106. Its layout, in cells of 0.001° (about 96 m × 111 m, ~10,700 m²), x east, y north:

    street JD (x 0-6): communities JD-1 (y 0-2), JD-2 (y 2-4, 2 parts), JD-10 (y 4-6, 3 parts)
    street XH (x 6-12): communities XH-1 (y 0-3), XH-2 (y 3-6, 5 parts)

Unit grids are one cell each, coded <community>-<k> with k in reading order (north row first,
west to east), except two 3 × 3-cell grids (~96,000 m²) and one grid given in two rows.
Every expected value below comes from this layout, not from the importer.
"""

from __future__ import annotations

import io

import geopandas as gpd
import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from pyproj import Geod

from accounts.scoping import system_scope
from spatial.actions import do_import_layer
from spatial.layers.importer import ImportOptions
from spatial.models import AdminArea, Component, ResponsibilityGrid, UnitGrid

from .conftest import zip_shapefile

pytestmark = pytest.mark.django_db

X0, Y0, CELL = 120.1, 30.25, 0.001
DISTRICT = "330106"
STREETS = {"JD": (0, 6), "XH": (6, 12)}  # x span in cells
# community: street, y span in cells, parts it is stored in (split along x)
COMMUNITIES = {
    "JD-1": ("JD", (0, 2), 1),
    "JD-2": ("JD", (2, 4), 2),
    "JD-10": ("JD", (4, 6), 3),
    "XH-1": ("XH", (0, 3), 1),
    "XH-2": ("XH", (3, 6), 5),
}
# Standard codes by the CJ/T 213 rule: streets in source-code order (JD, XH), communities in
# natural order of their codes (JD-1, JD-2, JD-10: 10 after 2).
STREET_CODE = {"JD": "330106001", "XH": "330106002"}
COMMUNITY_CODE = {
    "JD-1": "330106001001",
    "JD-2": "330106001002",
    "JD-10": "330106001003",
    "XH-1": "330106002001",
    "XH-2": "330106002002",
}
# Oversized grids: community -> their 3 × 3 block (x0, y0) in cells.
BIG = {"XH-1": (6, 0), "XH-2": (9, 3)}
SPLIT_GRID = "JD-1-3"  # stored in two rows (west and east halves)


def cells(x0, x1, y0, y1):
    return shapely.box(X0 + x0 * CELL, Y0 + y0 * CELL, X0 + x1 * CELL, Y0 + y1 * CELL)


def community_box(name):
    street, (y0, y1), _ = COMMUNITIES[name]
    x0, x1 = STREETS[street]
    return x0, x1, y0, y1


def areas_frame() -> gpd.GeoDataFrame:
    """Streets and communities in one file with a level column (JB), no district row."""
    rows = []
    for code, (x0, x1) in STREETS.items():
        rows.append((code, f"{code}街道", "街道", cells(x0, x1, 0, 6)))
    for code, (_, _, parts) in COMMUNITIES.items():
        x0, x1, y0, y1 = community_box(code)
        step = (x1 - x0) / parts
        for k in range(parts):
            rows.append(
                (code, f"{code}社区", "社区", cells(x0 + k * step, x0 + (k + 1) * step, y0, y1))
            )
    rows.reverse()  # file order must not matter
    return gpd.GeoDataFrame(
        {"DM": [r[0] for r in rows], "MC": [r[1] for r in rows], "JB": [r[2] for r in rows]},
        geometry=[r[3] for r in rows],
        crs="EPSG:4326",
    )


def grid_layout() -> dict[str, tuple[str, list]]:
    """Gives {grid source code: (community, [boxes])}: the truth for unit grids."""
    grids = {}
    for community in COMMUNITIES:
        x0, x1, y0, y1 = community_box(community)
        big = BIG.get(community)
        k = 0
        for y in range(y1 - 1, y0 - 1, -1):
            for x in range(x0, x1):
                if big and big[0] <= x < big[0] + 3 and big[1] <= y < big[1] + 3:
                    if (x, y) != (big[0], big[1] + 2):  # the block's north-west cell names it
                        continue
                    k += 1
                    grids[f"{community}-{k}"] = (community, [cells(x, x + 3, y - 2, y + 1)])
                    continue
                k += 1
                code = f"{community}-{k}"
                if code == SPLIT_GRID:
                    halves = [cells(x, x + 0.5, y, y + 1), cells(x + 0.5, x + 1, y, y + 1)]
                    grids[code] = (community, halves)
                else:
                    grids[code] = (community, [cells(x, x + 1, y, y + 1)])
    return grids


def expected_grid_code(source: str) -> str:
    community, serial = source.rsplit("-", 1)
    return f"{COMMUNITY_CODE[community]}{int(serial):02d}"


def grids_frame() -> gpd.GeoDataFrame:
    rows = [(code, box) for code, (_, boxes) in grid_layout().items() for box in boxes]
    return gpd.GeoDataFrame(
        {"BGID": [c for c, _ in rows]}, geometry=[b for _, b in rows], crs="EPSG:4326"
    )


def run(path, **options):
    options.setdefault("extent_check", "china")
    return do_import_layer(system_scope("test"), path, None, ImportOptions(**options), sync=True)


def failed_with(job, *words: str) -> str:
    assert job.state == "failed", job.report
    message = job.errors[0]["message"]
    for word in words:
        assert word in message, message
    return message


@pytest.fixture
def areas_file(tmp_path, upload_dir):
    path = tmp_path / "grid_set_areas.geojson"
    areas_frame().to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def load_areas(path):
    return run(
        path,
        target="admin_areas",
        mapping="code=DM,name=MC,level=JB",
        create_parents=True,
        district_code=DISTRICT,
        district_name="西湖区",
    )


def test_a_grid_set_loads_as_core_geography_and_locate_places_points_in_it(
    areas_file, tmp_path, admin_client
):
    job = load_areas(areas_file)
    assert job.state == "succeeded", job.errors
    district = AdminArea.objects.get(code=DISTRICT)
    assert (district.level, district.name, district.parent, district.source_code) == (
        "district",
        "西湖区",
        None,
        None,
    )
    assert district.geom.area == pytest.approx(cells(0, 12, 0, 6).area, rel=1e-6)
    for source, code in STREET_CODE.items():
        street = AdminArea.objects.get(code=code)
        assert (street.level, street.source_code, street.parent.code) == (
            "street",
            source,
            DISTRICT,
        )
    for source, code in COMMUNITY_CODE.items():
        community = AdminArea.objects.get(code=code)
        street = COMMUNITIES[source][0]
        assert (community.level, community.source_code) == ("community", source)
        assert community.parent.code == STREET_CODE[street]
        # The parts were dissolved into one area covering the community's box.
        assert community.geom.area == pytest.approx(cells(*community_box(source)).area, rel=1e-6)
    report = job.report
    assert set(report["merged"]) == {
        "code JD-2 had 2 parts, merged",
        "code JD-10 had 3 parts, merged",
        "code XH-2 had 5 parts, merged",
    }
    assert report["merged_rows"] == 10 and report["rows_written"] == 1 + 2 + 5
    assert "district 330106" in report["created_parents"][0]
    assert report["source_codes_kept"] == {"street": 2, "community": 5}

    archive = zip_shapefile(grids_frame(), tmp_path, "grid_set_grids")
    out = io.StringIO()
    call_command(
        "load_layer",
        str(archive),
        target="unit_grids",
        map="code=BGID",
        extent_check="china",
        sync=True,
        stdout=out,
    )
    printed = out.getvalue()
    assert f"code {SPLIT_GRID} had 2 parts, merged" in printed
    assert f"warning: {len(BIG)} of" in printed and "outside 1,000–50,000 m²" in printed
    layout = grid_layout()
    stored = {g.source_code: g for g in UnitGrid.objects.filter(code__startswith=DISTRICT)}
    assert set(stored) == set(layout)
    for source, (community, boxes) in layout.items():
        grid = stored[source]
        assert grid.code == expected_grid_code(source)
        assert grid.community.code == COMMUNITY_CODE[community]
        assert grid.geom.area == pytest.approx(sum(b.area for b in boxes), rel=1e-6)

    # Loading the same grids again keeps their codes; the report names the oversized ones.
    job = run(archive, target="unit_grids", mapping="code=BGID")
    assert job.state == "succeeded", job.errors
    assert UnitGrid.objects.filter(code__startswith=DISTRICT).count() == len(layout)
    assert job.report["merged"] == [f"code {SPLIT_GRID} had 2 parts, merged"]
    big = sorted(s for s, (_, boxes) in layout.items() if _geodesic_m2(boxes[0]) > 50_000)
    assert len(big) == len(BIG)
    assert job.report["unit_grid_area"]["count"] == len(big)
    for source in big:
        assert any(f"({source})" in e for e in job.report["unit_grid_area"]["examples"])
    assert "2 of" in job.report["warnings"][0] and "50,000 m²" in job.report["warnings"][0]

    # A point in the middle of grid XH-1-5 (the 5th grid in reading order of XH-1).
    source = "XH-1-5"
    point = layout[source][1][0].centroid
    response = admin_client.get("/api/v1/locate", {"lon": point.x, "lat": point.y})
    assert response.status_code == 200, response.content
    placement = response.json()["placement"]
    assert placement["district"]["code"] == DISTRICT
    assert placement["street"]["code"] == STREET_CODE["XH"]
    assert placement["community"]["code"] == COMMUNITY_CODE["XH-1"]
    assert placement["unit_grid"] == expected_grid_code(source)

    # The set's responsibility grids may name their street by the set's own code.
    resp = gpd.GeoDataFrame(
        {"code": ["XH-R1"], "name": ["XH第1责任网格"], "JD": ["XH"]},
        geometry=[cells(6, 9, 0, 3)],
        crs="EPSG:4326",
    )
    resp.to_file(tmp_path / "resp.geojson", driver="GeoJSON", engine="pyogrio")
    job = run(tmp_path / "resp.geojson", target="responsibility_grids", mapping="street=JD")
    assert job.state == "succeeded", job.errors
    assert ResponsibilityGrid.objects.get(code="XH-R1").street.code == STREET_CODE["XH"]


def _geodesic_m2(box) -> float:
    """The box's area on the WGS84 ellipsoid (pyproj, independent of PostGIS)."""
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(box)[0])


def test_reloading_the_areas_keeps_their_codes(areas_file):
    assert load_areas(areas_file).state == "succeeded"
    first = dict(AdminArea.objects.filter(code__startswith=DISTRICT).values_list("code", "geom"))
    job = load_areas(areas_file)
    assert job.state == "succeeded", job.errors
    assert "created_parents" not in job.report  # the district now holds the streets
    again = dict(AdminArea.objects.filter(code__startswith=DISTRICT).values_list("code", "geom"))
    assert set(again) == set(first) == {DISTRICT, *STREET_CODE.values(), *COMMUNITY_CODE.values()}


def test_streets_in_no_district_say_the_way_out(areas_file):
    job = run(areas_file, target="admin_areas", mapping="code=DM,name=MC,level=JB")
    failed_with(job, "2 streets lie in no district", "JD", "XH", "--create-parents")
    job = run(
        areas_file, target="admin_areas", mapping="code=DM,name=MC,level=JB", create_parents=True
    )
    failed_with(job, "--district-code")
    assert not AdminArea.objects.filter(code__startswith=DISTRICT).exists()


def test_own_codes_without_a_level_say_the_way_out(areas_file):
    job = run(areas_file, target="admin_areas", mapping="code=DM,name=MC")
    failed_with(job, "no level", "--level street|community")


def test_rows_of_one_code_with_different_names_give_the_true_count(tmp_path, upload_dir):
    frame = areas_frame()
    frame.loc[frame["DM"] == "XH-2", "MC"] = ["甲", "乙", "甲", "甲", "甲"]
    path = tmp_path / "clash.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    job = load_areas(path)
    failed_with(job, "code XH-2 appears 5 times", "甲", "乙", "its own code")


def test_communities_outside_every_street_are_refused(tmp_path, upload_dir):
    frame = areas_frame()
    path = tmp_path / "communities.geojson"
    frame[frame["JB"] == "社区"].to_file(path, driver="GeoJSON", engine="pyogrio")
    job = run(path, target="admin_areas", mapping="code=DM,name=MC", level="community")
    failed_with(job, "5 communities lie in no street", "load their streets first")


def test_unit_grids_outside_every_community_are_refused(tmp_path, upload_dir):
    path = tmp_path / "grids.geojson"
    grids_frame().to_file(path, driver="GeoJSON", engine="pyogrio")
    job = run(path, target="unit_grids", mapping="code=BGID")
    failed_with(job, "unit grids lie in no community", "--as admin_areas")


def test_grid_set_options_are_for_admin_areas(tmp_path, upload_dir):
    path = tmp_path / "grids.geojson"
    grids_frame().to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(CommandError, match="are for --as admin_areas"):
        call_command("load_layer", str(path), target="unit_grids", create_parents=True, sync=True)


def test_repeated_component_codes_say_how_often_and_where(tmp_path, upload_dir):
    from data.models import Category

    minor = Category.objects.filter(kind="component", parent__isnull=False).first()
    twice, five = f"{DISTRICT}{minor.code}000001", f"{DISTRICT}{minor.code}000002"
    codes = [five, twice, five, five, twice, five, five, f"{DISTRICT}{minor.code}000003"]
    frame = gpd.GeoDataFrame(
        {"BM": codes},
        geometry=[shapely.Point(X0 + k * CELL, Y0) for k in range(len(codes))],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "c.geojson", driver="GeoJSON", engine="pyogrio")
    job = run(tmp_path / "c.geojson", target="components", mapping="code=BM")
    failed_with(
        job,
        "2 codes are given to more than one row",
        f"code {five} appears 5 times (rows 1, 3, 4, 6, 7)",
        f"code {twice} appears 2 times (rows 2, 5)",
        "each feature needs its own code",
    )
    assert not Component.objects.filter(code__startswith=DISTRICT).exists()


def test_the_api_takes_the_grid_set_options(admin_client, areas_file):
    with open(areas_file, "rb") as fh:
        response = admin_client.post(
            "/api/v1/layers/import",
            {
                "file": fh,
                "target": "admin_areas",
                "map": "code=DM,name=MC,level=JB",
                "create_parents": "true",
                "district_code": "3301",
            },
        )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == "district_code"
    with open(areas_file, "rb") as fh:
        response = admin_client.post(
            "/api/v1/layers/import", {"file": fh, "target": "unit_grids", "create_parents": "true"}
        )
    assert response.status_code == 400, response.content
    assert "are for --as admin_areas" in response.json()["error"]["message"]


def test_standard_codes_without_their_district_get_it_on_request(tmp_path, upload_dir):
    frame = areas_frame()
    frame["DM"] = frame["DM"].map({**STREET_CODE, **COMMUNITY_CODE})
    path = tmp_path / "standard.geojson"
    frame.drop(columns="JB").to_file(path, driver="GeoJSON", engine="pyogrio")
    options = {"target": "admin_areas", "mapping": "code=DM,name=MC"}
    failed_with(run(path, **options), "parent area", "330106001", "--create-parents")
    failed_with(
        run(path, **options, create_parents=True, district_code="330105"),
        "begin with 330106, not --district-code 330105",
    )
    job = run(path, **options, create_parents=True)
    assert job.state == "succeeded", job.errors
    assert job.report["created_parents"] == [
        "district 330106 (330106) created as the union of 2 streets that lay in no district"
    ]
    community = AdminArea.objects.get(code=COMMUNITY_CODE["XH-2"])
    assert community.source_code is None and community.geom.area == pytest.approx(
        cells(*community_box("XH-2")).area, rel=1e-6
    )
    assert community.parent.code == STREET_CODE["XH"] and community.parent.parent.code == DISTRICT
    assert AdminArea.objects.get(code=DISTRICT).geom.area == pytest.approx(
        cells(0, 12, 0, 6).area, rel=1e-6
    )
