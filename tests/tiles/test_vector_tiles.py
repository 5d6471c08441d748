"""Vector tiles as a client sees them: decoded features compared with direct SQL."""

from __future__ import annotations

import subprocess

import pytest

from tests.tiles.conftest import (
    HEIGHT,
    LAT0,
    LON0,
    TOWN_CENTRE,
    WIDTH,
    count_in_tile,
    decode,
    make_user,
    tile_bounds,
    tile_of,
)

MVT = "application/vnd.mapbox-vector-tile"


@pytest.fixture
def admin(client, town):
    client.force_login(make_user("tiles-admin", superuser=True))
    return client


def get_tile(client, path: str, **headers):
    return client.get(
        path, **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    )


def test_grid_tile_matches_sql_counts_and_attributes(client, town):
    z, x, y = tile_of(*TOWN_CENTRE, 15)
    response = client.get(f"/tiles/unit_grids/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response["Content-Type"] == MVT
    features = decode(response.content)["unit_grids"]
    # The query grows the tile by its 64-unit buffer; direct SQL over the same box agrees.
    buffered = count_in_tile_buffered("spatial_unitgrid", z, x, y)
    assert len(features) == buffered > 0
    codes = {f["properties"]["code"] for f in features}
    with_sql = sql_values("SELECT code FROM spatial_unitgrid", z, x, y)
    assert codes == with_sql
    assert set(features[0]["properties"]) == {"code", "area_m2"}
    assert all(isinstance(f["id"], int) for f in features)


# An MVT tile is 4096 units wide and its features are clipped 64 units outside it.
EXTENT, BUFFER = 4096, 64


def buffered_envelope(z, x, y) -> list[float]:
    """Gives the Web Mercator box of tile z/x/y grown by the tile buffer."""
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    g = (maxx - minx) * BUFFER / EXTENT
    return [minx - g, miny - g, maxx + g, maxy + g]


def count_in_tile_buffered(table, z, x, y):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM {table} WHERE geom_mercator && ST_MakeEnvelope(%s,%s,%s,%s,3857)",
            buffered_envelope(z, x, y),
        )
        return cur.fetchone()[0]


def sql_values(select: str, z, x, y) -> set:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"{select} WHERE geom_mercator && ST_MakeEnvelope(%s,%s,%s,%s,3857)",
            buffered_envelope(z, x, y),
        )
        return {r[0] for r in cur.fetchall()}


def test_fixed_layer_filter_keeps_streets_apart_from_districts(client, town):
    z, x, y = tile_of(*TOWN_CENTRE, 13)
    layers = decode(client.get(f"/tiles/districts,streets/{z}/{x}/{y}.mvt").content)
    assert {f["properties"]["level"] for f in layers["districts"]} == {"district"}
    assert {f["properties"]["name"] for f in layers["streets"]} == {"甲街道", "乙街道"}


def test_composite_tile_holds_every_layer_in_one_response(admin):
    z, x, y = tile_of(*TOWN_CENTRE, 16)
    response = admin.get(f"/tiles/districts,unit_grids,roads,components/{z}/{x}/{y}.mvt")
    layers = decode(response.content)
    assert set(layers) == {"districts", "unit_grids", "roads", "components"}
    assert len(layers["components"]) == count_in_tile_buffered("spatial_component", z, x, y)


def test_points_cluster_below_the_cluster_zoom_and_totals_match(admin):
    for z in (10, 12, 14):
        z, x, y = tile_of(*TOWN_CENTRE, z)
        features = decode(admin.get(f"/tiles/components/{z}/{x}/{y}.mvt").content)["components"]
        assert all("point_count" in f["properties"] for f in features)
        total = sum(f["properties"]["point_count"] for f in features)
        assert total == count_in_tile("spatial_component", z, x, y) > 0
    z, x, y = tile_of(*TOWN_CENTRE, 12)
    clusters = decode(admin.get(f"/tiles/components/{z}/{x}/{y}.mvt").content)["components"]
    assert len(clusters) < 200  # 1,500 points at z12 are a handful of clusters


def test_square_bins_add_up_and_hexagons_cover_every_point(admin):
    z, x, y = tile_of(*TOWN_CENTRE, 13)
    bins = decode(admin.get(f"/tiles/components_bins/{z}/{x}/{y}.mvt").content)["components_bins"]
    assert sum(f["properties"]["count"] for f in bins) == count_in_tile(
        "spatial_component", z, x, y
    )
    hexes = decode(admin.get(f"/tiles/components_hex/{z}/{x}/{y}.mvt").content)["components_hex"]
    assert hexes and all(f["geometry"]["type"] == "Polygon" for f in hexes)
    # Hexagons on the tile's edge count their points outside it too: never fewer.
    assert sum(f["properties"]["count"] for f in hexes) >= count_in_tile(
        "spatial_component", z, x, y
    )


def test_filters_narrow_the_component_tile(admin):
    z, x, y = tile_of(*TOWN_CENTRE, 16)
    all_ = decode(admin.get(f"/tiles/components/{z}/{x}/{y}.mvt").content)["components"]
    damaged = decode(admin.get(f"/tiles/components/{z}/{x}/{y}.mvt?status=damaged").content)
    assert {f["properties"]["status"] for f in damaged["components"]} == {"damaged"}
    assert 0 < len(damaged["components"]) < len(all_)
    major = all_[0]["properties"]["code"][6:8]
    by_major = decode(admin.get(f"/tiles/components/{z}/{x}/{y}.mvt?major={major}").content)
    assert {f["properties"]["code"][6:8] for f in by_major["components"]} == {major}


@pytest.mark.parametrize(
    "query",
    [
        "status=' OR 1=1 --",
        "status=normal');DROP TABLE spatial_component;--",
        "category=1 OR 1=1",
    ],
)
def test_sql_shaped_filter_values_are_just_values(admin, query):
    z, x, y = tile_of(*TOWN_CENTRE, 16)
    before = count_in_tile("spatial_component", 0, 0, 0)
    response = admin.get(f"/tiles/components/{z}/{x}/{y}.mvt?{query}")
    if query.startswith("category"):
        assert response.status_code == 400
        assert response.json()["error"]["field"] == "category"
    else:
        assert response.status_code == 204  # matches nothing
    assert count_in_tile("spatial_component", 0, 0, 0) == before >= 1500


@pytest.mark.parametrize(
    "path, status, field",
    [
        ("/tiles/components/16/1/1.mvt?colour=red", 400, "colour"),
        ("/tiles/nope/10/1/1.mvt", 404, "layers"),
        ("/tiles/unit_grids/25/1/1.mvt", 400, "z"),
        ("/tiles/unit_grids/99999999999999999999/1/1.mvt", 400, "z"),
        ("/tiles/unit_grids/-1/0/0.mvt", 400, "z"),
        ("/tiles/unit_grids/3/8/0.mvt", 400, "x"),
        ("/tiles/unit_grids/3/0/-2.mvt", 400, "y"),
        ("/tiles/unit_grids/3/0/99999999999.mvt", 400, "y"),
        ("/tiles/components/16/1/1.mvt?category=99999999999999999999", 400, "category"),
        ("/tiles/components/16/1/1.mvt?updated_since=2026-13-01", 400, "updated_since"),
        ("/tiles/unit_grids,unit_grids/3/0/0.mvt", 400, "layers"),
        ("/tiles/Robert');DROP/3/0/0.mvt", 400, "layers"),
    ],
)
def test_bad_input_is_a_clear_json_4xx(admin, path, status, field):
    response = admin.get(path)
    assert response.status_code == status, response.content
    assert response.json()["error"]["field"] == field


def test_zoom_outside_the_layer_range_is_an_empty_204(client, town):
    z, x, y = tile_of(*TOWN_CENTRE, 9)  # unit grids start at zoom 12
    response = client.get(f"/tiles/unit_grids/{z}/{x}/{y}.mvt")
    assert response.status_code == 204 and response.content == b""
    assert response["ETag"]
    assert client.get("/tiles/unit_grids/16/0/0.mvt").status_code == 204  # nothing there


def test_anonymous_callers_get_no_non_public_layer(client, town):
    z, x, y = tile_of(*TOWN_CENTRE, 16)
    assert client.get(f"/tiles/components/{z}/{x}/{y}.mvt").status_code == 404
    composite = client.get(f"/tiles/unit_grids,components/{z}/{x}/{y}.mvt")
    assert set(decode(composite.content)) == {"unit_grids"}
    assert composite["Cache-Control"].startswith("public")


def test_a_street_inspector_sees_only_components_of_that_street(client, town):
    from spatial.models import Layer

    street_a, street_b = town["streets"]
    user = make_user("inspector-a", layers=[Layer.objects.get(key="components")], areas=[street_a])
    z, x, y = tile_of(*TOWN_CENTRE, 14)  # a tile over both streets
    admin = make_user("tiles-admin2", superuser=True)
    client.force_login(admin)
    everything = decode(client.get(f"/tiles/components/{z}/{x}/{y}.mvt?status=normal").content)
    client.force_login(user)
    mine = decode(client.get(f"/tiles/components/{z}/{x}/{y}.mvt?status=normal").content)
    mine_total = sum(f["properties"]["point_count"] for f in mine["components"])
    all_total = sum(f["properties"]["point_count"] for f in everything["components"])
    in_a = count_in_tile(
        "spatial_component",
        z,
        x,
        y,
        "status = 'normal' AND ST_Intersects(geom, (SELECT geom FROM spatial_adminarea WHERE id = %s))",
        [street_a.id],
    )
    assert mine_total == in_a and 0 < in_a < all_total
    # At feature zoom every feature lies in street A.
    z, x, y = tile_of(town["streets"][0].geom.centroid.x, town["streets"][0].geom.centroid.y, 16)
    features = decode(client.get(f"/tiles/components/{z}/{x}/{y}.mvt").content)["components"]
    assert features
    from spatial.models import Component

    ids = {f["id"] for f in features}
    assert not Component.objects.filter(
        id__in=ids, geom__intersects=street_b.geom.difference(street_a.geom)
    ).exists()


def test_a_street_inspectors_feature_tiles_hold_exactly_the_streets_features(client, town):
    """Every z16 tile over the town, those inside street A (whose points skip the per-row test)
    and those across its border alike: the features of street A in the tile's buffered box,
    lines crossing into it included, a line only touching its border left out."""
    from django.contrib.gis.geos import LineString
    from django.db import connection
    from django.test import Client

    from spatial.models import Component, Layer

    street_a = town["streets"][0]
    template = Component.objects.filter(code__startswith="110199").first()
    border_x = street_a.geom.extent[2]
    for n, points in enumerate(
        [
            [(LON0 + 0.015, LAT0 + 0.01), (LON0 + 0.035, LAT0 + 0.01)],  # crossing into A
            [(border_x, LAT0 + 0.004), (border_x + 0.01, LAT0 + 0.004)],  # touching A only
        ]
    ):
        Component.objects.create(
            code=f"1101999907{n:06d}", category=template.category, geom=LineString(points)
        )
    user = make_user(
        "inspector-z16", layers=[Layer.objects.get(key="components")], areas=[street_a]
    )
    client.force_login(user)
    admin = Client()
    admin.force_login(make_user("tiles-admin-z16", superuser=True))
    z = 16
    _, x0, y0 = tile_of(LON0, LAT0 + HEIGHT, z)
    _, x1, y1 = tile_of(LON0 + WIDTH, LAT0, z)
    inside, seen = 0, set()
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            with connection.cursor() as cur:
                box = "ST_MakeEnvelope(%s, %s, %s, %s, 3857)"
                cur.execute(
                    f"SELECT ST_Covers(ST_Transform(geom, 3857), {box}) FROM spatial_adminarea"
                    " WHERE id = %s",
                    [*buffered_envelope(z, x, y), street_a.id],
                )
                inside += cur.fetchone()[0]
                cur.execute(
                    f"SELECT id FROM spatial_component WHERE geom_mercator && {box}"
                    " AND ST_Intersects(geom, (SELECT geom FROM spatial_adminarea WHERE id = %s))"
                    " AND (ST_Dimension(geom) = 0 OR NOT ST_Touches(geom,"
                    " (SELECT geom FROM spatial_adminarea WHERE id = %s)))",
                    [*buffered_envelope(z, x, y), street_a.id, street_a.id],
                )
                expected = {row[0] for row in cur.fetchall()}
            url = f"/tiles/components/{z}/{x}/{y}.mvt"
            got = {f["id"] for f in decode(client.get(url).content).get("components", [])}
            everything = {f["id"] for f in decode(admin.get(url).content).get("components", [])}
            # What the tile shows of the town (a point just past the buffer's edge may round
            # out of it), less what lies outside street A.
            assert got == everything & expected, (x, y)
            seen |= got
    assert inside >= 2  # tiles the street covers were among them
    crossing, touching = (Component.objects.get(code=f"110199990700000{n}").id for n in (0, 1))
    assert crossing in seen and touching not in seen


def test_gdal_reads_a_tile(admin, tmp_path):
    z, x, y = tile_of(*TOWN_CENTRE, 16)
    path = tmp_path / f"{y}.mvt"
    path.write_bytes(admin.get(f"/tiles/unit_grids,roads,components/{z}/{x}/{y}.mvt").content)
    out = subprocess.run(
        [
            "ogrinfo",
            "-ro",
            "-so",
            "-al",
            "-oo",
            f"X={x}",
            "-oo",
            f"Y={y}",
            "-oo",
            f"Z={z}",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Layer name: unit_grids" in out and "Layer name: components" in out
    counts = [int(line.split(":")[1]) for line in out.splitlines() if "Feature Count" in line]
    assert len(counts) == 3 and all(c > 0 for c in counts)


def test_point_cells_stay_exact_through_writes_and_match_the_scan(admin, town):
    """The wall screen's clusters come from point cells; filtered ones scan the table."""
    from django.contrib.gis.geos import Point

    from spatial.models import Component

    z, x, y = tile_of(*TOWN_CENTRE, 12)
    url = f"/tiles/components/{z}/{x}/{y}.mvt"
    every_status = "?status=normal,damaged,missing,removed"  # same rows, scanned

    def clusters(suffix=""):
        return sorted(
            (f["properties"]["point_count"], f["geometry"]["coordinates"])
            for f in decode(admin.get(url + suffix).content)["components"]
        )

    assert clusters() == clusters(every_status)
    before = count_in_tile("spatial_component", z, x, y)
    in_town = Component.objects.filter(code__startswith="110199").order_by("id")
    first = in_town.first()
    Component.objects.filter(pk=first.pk).update(geom=Point(TOWN_CENTRE[0] + 0.3, TOWN_CENTRE[1]))
    Component.objects.filter(pk__in=in_town.order_by("-id").values("id")[:10]).delete()
    template = in_town.last()
    Component.objects.bulk_create(
        [
            Component(
                code=f"1101999901{n:06d}",
                category=template.category,
                geom=Point(TOWN_CENTRE[0] + n * 1e-4, TOWN_CENTRE[1]),
            )
            for n in range(25)
        ]
    )
    total = sum(c for c, _ in clusters())
    assert total == count_in_tile("spatial_component", z, x, y) == before - 1 - 10 + 25
    assert clusters() == clusters(every_status)


def test_a_street_inspectors_clusters_come_from_the_cells_and_equal_the_scan(client, town):
    """A scoped cluster tile reads the point cells inside the street, recounts the cells on its
    border and takes lines and polygons apart: the same clusters as scanning every row."""
    from django.contrib.gis.geos import LineString

    from spatial.models import Component, Layer

    street_a = town["streets"][0]
    template = Component.objects.filter(code__startswith="110199").first()
    lines = {
        # centred in street B, crossing into street A: counted
        "crossing": [(LON0 + 0.015, LAT0 + 0.01), (LON0 + 0.035, LAT0 + 0.01)],
        # centred inside street A, never meeting it (north of the town, then down into B)
        "around": [
            (LON0 - 0.01, LAT0 + 0.03),
            (LON0 + 0.022, LAT0 + 0.03),
            (LON0 + 0.03, LAT0 + 0.005),
        ],
    }
    for n, points in enumerate(lines.values()):
        Component.objects.create(
            code=f"1101999902{n:06d}",
            category=template.category,
            geom=LineString(points, srid=4326),
        )
    assert not Component.objects.filter(
        code="1101999902000001", geom__intersects=street_a.geom
    ).exists()
    assert Component.objects.filter(
        code="1101999902000000", geom__intersects=street_a.geom
    ).exists()
    user = make_user(
        "inspector-cells", layers=[Layer.objects.get(key="components")], areas=[street_a]
    )
    client.force_login(user)
    every_status = "?status=normal,damaged,missing,removed"  # a filter: the scan
    for z in (11, 12, 13, 14):
        z, x, y = tile_of(*TOWN_CENTRE, z)
        url = f"/tiles/components/{z}/{x}/{y}.mvt"

        def clusters(suffix=""):
            return sorted(
                (f["properties"]["point_count"], f["geometry"]["coordinates"])
                for f in decode(client.get(url + suffix).content).get("components", [])
            )

        in_a = count_in_tile(
            "spatial_component",
            z,
            x,
            y,
            "ST_Intersects(geom, (SELECT geom FROM spatial_adminarea WHERE id = %s))",
            [street_a.id],
        )
        cells = clusters()
        assert 0 < in_a == sum(c for c, _ in cells), z
        assert cells == clusters(every_status), z
