"""A GIS admin feeds the geocoder: address sources loaded from real OSM extracts and from
door-address tables, replaced atomically, refused rows explained, answered without a restart.

Each test runs on a city whose address database holds only what it loads: the demo city's
addresses and road segments are deleted inside the test's transaction. Expected positions come
from the OSM XML read here with ElementTree, shapely and pyproj, never from the loader."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import transform as shapely_transform

from core.jobs import run_job
from geocoder import dictionary
from geocoder.models import AddressSource, DoorAddress, Road
from geocoder.sources.jobs import run_load
from spatial.models import AdminArea
from tests import factories
from tests.reference import from_wgs84, metres

OSM_DIR = Path("/work/shared/data/osm")
BEIJING = OSM_DIR / "beijing-haidian-xueyuanlu.osm"
SHANGHAI = OSM_DIR / "shanghai-huangpu-drive.osm"
pytestmark = pytest.mark.skipif(not BEIJING.exists(), reason="the OSM extracts are not here")


@pytest.fixture
def bare_city(city, db, monkeypatch):
    """The demo city without its address database and road segments (in this test only)."""
    with connection.cursor() as cur:
        for table in (
            "geocoder_building",
            "geocoder_organization",
            "geocoder_compound",
            "geocoder_placename",
            "geocoder_dooraddress",
            "geocoder_road",
            "spatial_roadsegment",
        ):
            cur.execute(f"DELETE FROM {table}")
    # A rebuild in a background thread reads on its own connection, which cannot see this
    # test's uncommitted rows: rebuild before answering, as a small city does.
    monkeypatch.setattr(dictionary, "SYNC_REBUILD_SECONDS", 1e9)
    dictionary.invalidate()


def load(path, source, **options):
    call_command("load_addresses", str(path), source=source, sync=True, verbosity=0, **options)
    return AddressSource.objects.get(name=source)


# -- the OSM truth, read independently ------------------------------------------------------


@lru_cache(maxsize=4)
def osm(path: Path) -> dict:
    """Gives {"ways": name → [LineString], "areas": name → Polygon, "tags": way id → tags}."""
    nodes, ways, areas = {}, defaultdict(list), {}
    for _, el in ET.iterparse(path, events=("end",)):
        if el.tag == "node":
            nodes[el.get("id")] = (float(el.get("lon")), float(el.get("lat")))
        elif el.tag == "way":
            tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
            coords = [nodes[n.get("ref")] for n in el.findall("nd") if n.get("ref") in nodes]
            name = tags.get("name:zh") or tags.get("name") or ""
            chinese = any("\u4e00" <= c <= "\u9fff" for c in name)
            if "highway" in tags and chinese and len(coords) >= 2:
                ways[name.strip()].append(LineString(coords))
            elif chinese and len(coords) >= 4 and coords[0] == coords[-1]:
                areas[name.strip()] = (Polygon(coords), tags)
            el.clear()
    return {"ways": dict(ways), "areas": areas}


def metric(lon: float):
    """Gives a shapely transform to metres (UTM zone of `lon`)."""
    zone = int((lon + 180) // 6) + 1
    t = Transformer.from_crs("EPSG:4326", f"EPSG:{32600 + zone}", always_xy=True)
    return lambda g: shapely_transform(t.transform, g)


def metres_to_ways(lon: float, lat: float, lines: list[LineString]) -> float:
    to_m = metric(lon)
    return min(to_m(line).distance(to_m(Point(lon, lat))) for line in lines)


def clear_point(ways: dict, name: str) -> Point:
    """Gives the point on a way of `name` farthest from every way of another name (a point
    mid-block, not at a crossing, where "which road is this" has one answer)."""
    others = [line for other, lines in ways.items() if other != name for line in lines]
    to_m = metric(ways[name][0].coords[0][0])
    others_m = [to_m(line) for line in others]
    candidates = [
        line.interpolate(f / 10, normalized=True) for line in ways[name] for f in range(1, 10)
    ]
    return max(candidates, key=lambda p: min(o.distance(to_m(p)) for o in others_m))


def sample(names, n: int) -> list[str]:
    names = sorted(names)
    step = max(1, len(names) // n)
    return names[::step][:n]


# -- OSM extracts ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_osm_extracts_load_and_their_roads_are_found_forward_and_reverse(bare_city, client):
    beijing = load(BEIJING, "osm-beijing", extent_check="china")
    shanghai = load(SHANGHAI, "osm-shanghai", extent_check="china")
    for path in (BEIJING, SHANGHAI):  # the city's base road layer, from the same ways
        call_command(
            "load_layer", str(path), target="roads", layer="roads", extent_check="china",
            sync=True, verbosity=0,
        )  # fmt: skip
    client.force_login(factories.make_person("gis-osm", all_layers=True).user)
    assert beijing.kind == shanghai.kind == "osm"
    assert beijing.counts["roads"] >= 15 and shanghai.counts["roads"] >= 140
    assert beijing.counts["organizations"] + beijing.counts["places"] >= 50
    assert beijing.skipped > 0  # unnamed footpaths are no addresses

    for path, source in ((BEIJING, beijing), (SHANGHAI, shanghai)):
        ways = osm(path)["ways"]
        areas = osm(path)["areas"]
        forward_ok, reverse_ok, inside_area, names = 0, 0, 0, sample(ways, 25)
        misses = []
        for name in names:
            found = client.get("/api/v1/geocode", {"q": name, "limit": 1}).json()["results"]
            assert found, name
            top = found[0]
            if (
                top["match_level"] == "road"
                and metres_to_ways(top["lon"], top["lat"], ways[name]) < 30
            ):
                forward_ok += 1
            else:
                misses.append(("forward", name, top["address"]))
            on_road = clear_point(ways, name)
            answer = client.get("/api/v1/reverse", {"lon": on_road.x, "lat": on_road.y}).json()
            inside = [a for a, (poly, _) in areas.items() if poly.contains(on_road)]
            if answer["parts"].get("road") == name:
                reverse_ok += 1
            elif any(a in (answer["address"] or "") for a in inside):
                inside_area += 1  # a compound drawn over the road holds the point
            else:
                misses.append(("reverse", name, answer["address"]))
        assert forward_ok == len(names), misses
        assert reverse_ok + inside_area == len(names), misses
        assert reverse_ok >= 0.8 * len(names), misses


@pytest.mark.django_db
def test_osm_places_and_doors_are_found_where_osm_draws_them(bare_city, client):
    load(BEIJING, "osm-beijing", extent_check="china")
    truth = osm(BEIJING)["areas"]

    campus, _ = truth["中国农业大学东校区"]
    top = client.get("/api/v1/geocode", {"q": "中国农业大学东校区"}).json()["results"][0]
    assert top["match_level"] == "organization"
    assert campus.contains(Point(top["lon"], top["lat"]))

    # A building with addr:street 学院路 and addr:housenumber 18号 is that door.
    building = next(
        poly
        for poly, tags in truth.values()
        if tags.get("addr:street") == "学院路" and tags.get("addr:housenumber") == "18号"
    )
    top = client.get("/api/v1/geocode", {"q": "学院路18号"}).json()["results"][0]
    assert top["match_level"] == "door" and top["address"].endswith("学院路18号")
    to_m = metric(top["lon"])
    assert to_m(building).distance(to_m(Point(top["lon"], top["lat"]))) < 2  # on its edge
    # ... the edge facing 学院路.
    xueyuan = osm(BEIJING)["ways"]["学院路"]
    edge = min(metres_to_ways(x, y, xueyuan) for x, y in building.exterior.coords)
    assert metres_to_ways(top["lon"], top["lat"], xueyuan) <= edge + 1


# -- door tables ----------------------------------------------------------------------------


def community_point():
    """Gives a point well inside a demo community, and that community."""
    area = AdminArea.objects.filter(level="community").order_by("code").first()
    with connection.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p"
                    " FROM spatial_adminarea WHERE id = %s) s", [area.pk])  # fmt: skip
        return cur.fetchone(), area


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(rows)
    return path


M_LAT = 1 / 110_574.0


def road_and_doors(tmp_path: Path, name="银杏大道", numbers=range(1, 21), crs="wgs84"):
    """Writes a road CSV (WKT) running 400 m east from a demo community's inner point, and a
    door CSV (ROAD, NO, lon, lat) with odd numbers 12 m north (left), even 12 m south; gives
    the paths and the WGS84 door points."""
    (lon0, lat0), area = community_point()
    m_lon = M_LAT / 0.766  # cos(40°)
    road = write_csv(
        tmp_path / "roads.csv",
        ["路名", "wkt"],
        [[name, f"LINESTRING({lon0} {lat0}, {lon0 + 400 * m_lon} {lat0})"]],
    )
    doors, rows = {}, []
    for n in numbers:
        lon = lon0 + (10 + 18 * n) * m_lon
        lat = lat0 + (12 if n % 2 else -12) * M_LAT
        doors[n] = (lon, lat)
        x, y = (lon, lat) if crs == "wgs84" else from_wgs84(lon, lat, crs)
        rows.append([name, f"{n}号", x, y])
    door_csv = write_csv(tmp_path / "doors.csv", ["ROAD", "NO", "lon", "lat"], rows)
    return road, door_csv, doors, area


@pytest.mark.django_db
def test_a_door_table_loads_and_its_doors_are_found_without_a_restart(bare_city, client, tmp_path):
    road, doors_csv, doors, area = road_and_doors(tmp_path, crs="gcj02")
    assert client.get("/api/v1/geocode", {"q": "银杏大道18号"}).json()["results"] == []

    load(road, "roads-2026", kind="roads")
    source = load(doors_csv, "doors-2026", kind="doors", map="路名=ROAD,门牌号=NO", crs="gcj02")
    assert source.counts["doors"] == 20 and source.refused == 0

    top = client.get("/api/v1/geocode", {"q": "银杏大道18号"}).json()["results"][0]
    assert top["match_level"] == "door" and top["address"].endswith("银杏大道18号")
    assert metres(top["lon"], top["lat"], *doors[18]) < 1.0  # gcj02 converted back
    door = DoorAddress.objects.get(source=source, number=7)
    assert door.side == "left" and DoorAddress.objects.get(source=source, number=8).side == "right"
    assert door.area_code.startswith(area.code[:9]) and len(door.grid_code) == 14
    assert Road.objects.get(name="银杏大道").street_id is not None


@pytest.mark.django_db
def test_a_full_address_column_is_split_by_the_parser(bare_city, client, tmp_path):
    road, _, doors, _ = road_and_doors(tmp_path)
    load(road, "roads", kind="roads")
    rows = [[f"北京市海淀区银杏大道{n}号", x, y] for n, (x, y) in doors.items() if n <= 6]
    rows.append(["门口那棵大槐树", *doors[7]])  # no road, no number: refused, not guessed
    path = write_csv(tmp_path / "full.csv", ["地址", "lon", "lat"], rows)
    source = load(path, "full", kind="doors")
    assert source.counts["doors"] == 6 and source.refused == 1
    assert source.refusals == [
        {"row": 7, "reason": "地址 '门口那棵大槐树' has no road and door number"}
    ]
    top = client.get("/api/v1/geocode", {"q": "银杏大道5号"}).json()["results"][0]
    assert top["match_level"] == "door" and metres(top["lon"], top["lat"], *doors[5]) < 1.0


@pytest.mark.django_db
def test_loading_a_source_again_replaces_it_and_leaves_no_old_rows(bare_city, client, tmp_path):
    road, doors_csv, doors, _ = road_and_doors(tmp_path, numbers=range(1, 11))
    load(road, "roads", kind="roads")
    first = load(doors_csv, "doors", kind="doors", map="路名=ROAD,门牌号=NO")
    assert first.version == 1 and first.counts["doors"] == 10
    _, second_csv, _, _ = road_and_doors(tmp_path, numbers=range(11, 16))
    second = load(second_csv, "doors", kind="doors", map="路名=ROAD,门牌号=NO")
    assert second.version == 2 and second.counts["doors"] == 5
    rows = DoorAddress.objects.filter(source=second)
    assert sorted(rows.values_list("number", flat=True)) == [11, 12, 13, 14, 15]
    assert set(rows.values_list("source_version", flat=True)) == {2}
    top = client.get("/api/v1/geocode", {"q": "银杏大道3号"}).json()["results"][0]
    assert top["match_level"] != "door"  # number 3 went with version 1

    # Roads replaced under the doors of another source: the doors move to the new road.
    old_road = Road.objects.get(name="银杏大道")
    load(road, "roads", kind="roads")
    new_road = Road.objects.get(name="银杏大道")
    assert new_road.pk != old_road.pk
    assert DoorAddress.objects.filter(source=second, road=new_road).count() == 5


@pytest.mark.django_db
def test_refused_rows_are_counted_and_shown_with_their_reason(bare_city, client, tmp_path):
    road, _, doors, _ = road_and_doors(tmp_path, numbers=[1, 2])
    load(road, "roads", kind="roads")
    (x1, y1), (x2, y2) = doors[1], doors[2]
    path = write_csv(
        tmp_path / "mixed.csv",
        ["路名", "门牌号", "lon", "lat"],
        [
            ["银杏大道", "1号", x1, y1],
            ["银杏大道", "2号", "", ""],  # no geometry
            ["银杏大道", "三层", x2, y2],  # no door number
            ["不存在路", "9号", x2, y2],  # no such road
        ],
    )
    source = load(path, "mixed", kind="doors")
    assert source.counts["doors"] == 1 and source.refused == 3
    reasons = {r["row"]: r["reason"] for r in source.refusals}
    assert "no geometry" in reasons[2]
    assert "not a door number" in reasons[3]
    assert "no road named 不存在路" in reasons[4]

    admin = factories.make_person("gis-sources", permissions=["layers.import"]).user
    client.force_login(admin)
    listed = client.get("/api/v1/geocoder/sources").json()["sources"]
    shown = next(s for s in listed if s["source"] == "mixed")
    assert shown["refused"] == 3 and shown["refusals"][0]["reason"]


@pytest.mark.django_db
def test_a_file_with_nothing_to_load_leaves_the_source_as_it_was(bare_city, tmp_path):
    road, doors_csv, _, _ = road_and_doors(tmp_path, numbers=[1, 2, 3])
    load(road, "roads", kind="roads")
    load(doors_csv, "doors", kind="doors", map="路名=ROAD,门牌号=NO")
    bad = write_csv(tmp_path / "bad.csv", ["路名", "门牌号", "lon", "lat"], [["x路", "", 1, 1]])
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no row of the file could be loaded"):
        load(bad, "doors", kind="doors", extent_check="off")
    assert AddressSource.objects.get(name="doors").version == 1
    assert DoorAddress.objects.filter(source__name="doors").count() == 3


# -- HTTP -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sources_over_http_need_layers_import_and_run_as_a_job(bare_city, client, tmp_path):
    road, doors_csv, doors, _ = road_and_doors(tmp_path, numbers=range(1, 5))
    upload = {"file": open(road, "rb"), "kind": "roads", "source": "http-roads"}
    assert client.post("/api/v1/geocoder/sources", upload).status_code == 401
    inspector = factories.make_person("no-import", permissions=["cases.report"]).user
    client.force_login(inspector)
    upload["file"] = open(road, "rb")
    assert client.post("/api/v1/geocoder/sources", upload).status_code == 403
    assert client.get("/api/v1/geocoder/sources").status_code == 403

    gis = factories.make_person("gis-http", permissions=["layers.import"]).user
    client.force_login(gis)
    upload["file"] = open(road, "rb")
    response = client.post("/api/v1/geocoder/sources", upload)
    assert response.status_code == 202, response.content
    job = response.json()["job"]
    assert job["state"] == "pending"
    run_job(job["id"], run_load)  # what the worker runs once the request commits
    done = client.get(response.json()["url"]).json()
    assert done["state"] == "succeeded", done
    assert done["report"]["counts"]["roads"] == 1

    listed = client.get("/api/v1/geocoder/sources").json()["sources"]
    mine = next(s for s in listed if s["source"] == "http-roads")
    assert mine["version"] == 1 and mine["loaded_by"] == "gis-http"

    response = client.delete("/api/v1/geocoder/sources/http-roads")
    assert response.status_code == 204
    assert not Road.objects.filter(name="银杏大道").exists()
    assert client.delete("/api/v1/geocoder/sources/http-roads").status_code == 404
    assert client.get("/api/v1/geocode", {"q": "银杏大道"}).json()["results"] == []


@pytest.mark.django_db
def test_house_number_ranges_of_a_road_interpolate_its_doors(bare_city, client, tmp_path):
    (lon0, lat0), _ = community_point()
    m_lon = M_LAT / 0.766
    path = write_csv(
        tmp_path / "ranged.csv",
        ["道路名称", "起始门牌", "终止门牌", "wkt"],
        [["榆林路", "1号", "42号", f"LINESTRING({lon0} {lat0}, {lon0 + 400 * m_lon} {lat0})"]],
    )
    source = load(path, "ranged", kind="roads")
    assert source.counts == {**source.counts, "roads": 1, "doors": 4}  # odd 1-41, even 2-42
    top = client.get("/api/v1/geocode", {"q": "榆林路21号"}).json()["results"][0]
    assert top["match_level"] == "interpolated"
    # Odd numbers on the left (north of an eastward road), 21 halfway between 1 and 41.
    assert metres(top["lon"], top["lat"], lon0 + 200 * m_lon, lat0 + 8 * M_LAT) < 15


@pytest.mark.django_db
def test_pois_load_as_organizations_storefronts_and_places_with_aliases(
    bare_city, client, tmp_path
):
    (lon0, lat0), _ = community_point()
    path = write_csv(
        tmp_path / "pois.csv",
        ["名称", "类型", "别名", "lon", "lat"],
        [
            ["榆林第一中学", "单位", "榆林一中", lon0, lat0],
            ["老王面馆", "沿街铺面", "", lon0 + 0.001, lat0],
            ["钟鼓楼", "突出建筑", "鼓楼", lon0, lat0 + 0.001],
            ["无名", "外星基地", "", lon0, lat0],
        ],
    )
    source = load(path, "pois", kind="pois")
    assert source.counts["organizations"] == 2 and source.counts["places"] == 1
    assert source.refused == 1 and "外星基地" in source.refusals[0]["reason"]
    top = client.get("/api/v1/geocode", {"q": "榆林一中"}).json()["results"][0]
    assert top["match_level"] == "organization" and metres(top["lon"], top["lat"], lon0, lat0) < 1
    top = client.get("/api/v1/geocode", {"q": "鼓楼"}).json()["results"][0]
    assert metres(top["lon"], top["lat"], lon0, lat0 + 0.001) < 1
