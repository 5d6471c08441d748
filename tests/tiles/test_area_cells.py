"""Area cells: a scoped person's point cells, kept by the cell triggers, read by their cluster
tiles; built and dropped as areas come into use and go."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString, Point, Polygon
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tiles.conftest import (
    HEIGHT,
    LAT0,
    LON0,
    TOWN_CENTRE,
    WIDTH,
    WORLD,
    count_in_tile,
    decode,
    make_user,
    tile_of,
)

SOURCE = "public.spatial_component"
# The point cells' grid, written out here: 2^18 cells a side over the Web Mercator square.
CELL = 2 * WORLD / 2**18


def expected_cells(area_wkt: str) -> dict[tuple[int, int], tuple[int, float, float]]:
    """Gives {(ix, iy): (n, sum x, sum y)} of the components in the area (EWKT, in 3857) as a
    person scoped to it sees them (sharing a point with it; a line only touching its border
    left out), each in the cell of its bounding box's centre, counted straight from the table."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT floor((x + %(w)s) / %(c)s)::bigint, floor((%(w)s - y) / %(c)s)::bigint,"
            " count(*), sum(x), sum(y) FROM (SELECT (ST_XMin(g) + ST_XMax(g)) / 2 AS x,"
            " (ST_YMin(g) + ST_YMax(g)) / 2 AS y FROM (SELECT geom_mercator AS g,"
            " ST_GeomFromEWKT(%(area)s) AS a FROM spatial_component) AS r"
            " WHERE ST_Intersects(g, a) AND (ST_Dimension(g) = 0 OR NOT ST_Touches(g, a))) AS p"
            " GROUP BY 1, 2",
            {"w": WORLD, "c": CELL, "area": area_wkt},
        )
        return {(ix, iy): (n, sx, sy) for ix, iy, n, sx, sy in cur.fetchall()}


def kept_cells(digest: str) -> dict[tuple[int, int], tuple[int, float, float]]:
    """Gives the area cells kept for `digest` over the component table."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.ix, c.iy, c.n, c.sx, c.sy FROM tiles_areacell c"
            " JOIN tiles_areacellset s ON s.id = c.cellset_id"
            " WHERE s.digest = %s AND s.source = %s",
            [digest, SOURCE],
        )
        return {(ix, iy): (n, sx, sy) for ix, iy, n, sx, sy in cur.fetchall()}


def assert_same_cells(kept: dict, expected: dict) -> None:
    assert kept.keys() == expected.keys()
    for key, (n, sx, sy) in expected.items():
        assert kept[key][0] == n, key
        assert kept[key][1] == pytest.approx(sx, rel=1e-12)
        assert kept[key][2] == pytest.approx(sy, rel=1e-12)


def area_ewkt(person) -> str:
    person.refresh_from_db(fields=["area_geom", "area_digest"])
    return person.area_geom.transform(3857, clone=True).ewkt


def sets() -> set[tuple[str, str]]:
    from tiles.models import AreaCellSet

    return set(AreaCellSet.objects.values_list("digest", "source"))


@pytest.fixture
def inspector(town):
    from spatial.models import Layer

    user = make_user(
        "inspector-area-cells",
        layers=[Layer.objects.get(key="components")],
        areas=[town["streets"][0]],
    )
    return user.person


def test_sync_builds_a_set_per_area_in_use_and_drops_those_nobody_holds(town, inspector):
    from accounts.areas import set_person_areas
    from spatial.models import Layer
    from tiles.cells import sync_area_cells

    street_a, street_b = town["streets"][:2]
    digest_a = inspector.area_digest
    assert digest_a and sets() == set()

    report = sync_area_cells()
    assert report["built"] == 1 and (digest_a, SOURCE) in sets()
    expected = expected_cells(area_ewkt(inspector))
    assert sum(n for n, _, _ in expected.values()) > 100  # the data exists
    assert_same_cells(kept_cells(digest_a), expected)
    assert sync_area_cells()["built"] == 0  # nothing new: nothing built again

    # A second person with the same area shares the set; moving the first to street B builds
    # B's set and keeps A's while the second still holds it.
    second = make_user(
        "inspector-area-cells-2",
        layers=[Layer.objects.get(key="components")],
        areas=[street_a],
    ).person
    assert second.area_digest == digest_a
    set_person_areas(inspector, [street_b])
    digest_b = inspector.area_digest
    assert digest_b != digest_a
    report = sync_area_cells()
    assert report["built"] == 1 and report["dropped"] == 0
    assert sets() == {(digest_a, SOURCE), (digest_b, SOURCE)}
    assert_same_cells(kept_cells(digest_b), expected_cells(area_ewkt(inspector)))

    # Nobody active holds A any more: its set and its cells go.
    second.user.is_active = False
    second.user.save()
    assert sync_area_cells()["dropped"] == 1
    assert sets() == {(digest_b, SOURCE)}
    assert kept_cells(digest_a) == {}

    # A public layer is the same for everyone: no area needs cells of it.
    Layer.objects.filter(key="components").update(public=True)
    assert sync_area_cells()["dropped"] == 1 and sets() == set()


def test_area_cells_stay_exact_through_inserts_moves_and_deletes(town, inspector):
    from spatial.models import Component
    from tiles.cells import sync_area_cells

    sync_area_cells()
    area = area_ewkt(inspector)
    digest = inspector.area_digest
    template = Component.objects.filter(code__startswith="110199").first()
    street_a = town["streets"][0]
    in_a = Component.objects.filter(geom__intersects=street_a.geom).order_by("id")
    outside = Component.objects.exclude(geom__intersects=street_a.geom).order_by("id")
    assert in_a.count() > 50 and outside.count() > 50

    # 40 points in a line across the town, through street A and out of it.
    Component.objects.bulk_create(
        [
            Component(
                code=f"1101999903{n:06d}",
                category=template.category,
                geom=Point(LON0 + n * WIDTH / 40, LAT0 + HEIGHT / 3, srid=4326),
            )
            for n in range(40)
        ]
    )
    assert_same_cells(kept_cells(digest), expected_cells(area))
    # Moves: out of the area, into it, and within it.
    leaving = list(in_a.values_list("id", flat=True)[:7])
    coming = list(outside.values_list("id", flat=True)[:5])
    Component.objects.filter(pk__in=leaving).update(geom=Point(LON0 + 0.9 * WIDTH, LAT0 + 0.001))
    Component.objects.filter(pk__in=coming).update(geom=Point(LON0 + 0.001, LAT0 + 0.001))
    with connection.cursor() as cur:  # a bulk SQL edit, as an import would make
        cur.execute(
            "UPDATE spatial_component SET geom = ST_Translate(geom, 0.0004, -0.0002)"
            " WHERE code LIKE %s AND id %% 3 = 0",
            ["110199%"],
        )
    assert_same_cells(kept_cells(digest), expected_cells(area))
    # Deletes, a line across the whole town (centred in street B, crossing A: counted) and one
    # that only touches A's border from B (not counted).
    Component.objects.filter(pk__in=in_a.values("id")[:30]).delete()
    border_x = street_a.geom.extent[2]
    lines = Component.objects.bulk_create(
        [
            Component(
                code=f"110199990400000{n}",
                category=template.category,
                geom=LineString((x0, LAT0 + 0.005), (x1, LAT0 + 0.005), srid=4326),
            )
            for n, (x0, x1) in enumerate([(LON0, LON0 + WIDTH), (border_x, border_x + 0.01)])
        ]
    )
    kept = kept_cells(digest)
    assert_same_cells(kept, expected_cells(area))
    points_in_a = Component.objects.filter(
        geom__intersects=street_a.geom, code__startswith="110199"
    ).exclude(pk__in=[line.pk for line in lines])
    # The crossing line counts, the touching one does not.
    assert sum(n for n, _, _ in kept.values()) == points_in_a.count() + 1
    # Moving a line away, and back.
    Component.objects.filter(pk=lines[0].pk).update(geom=LineString((0, 0), (1, 1), srid=4326))
    assert_same_cells(kept_cells(digest), expected_cells(area))
    Component.objects.filter(pk=lines[0].pk).update(geom=lines[0].geom)
    assert kept_cells(digest).keys() == kept.keys()
    # A write that rolls back leaves the cells as they were.
    before = kept_cells(digest)
    with pytest.raises(RuntimeError), transaction.atomic():
        Component.objects.filter(pk__in=in_a.values("id")[:10]).delete()
        raise RuntimeError("rolled back")
    assert kept_cells(digest) == before


def test_an_inspectors_tiles_read_the_area_cells_and_equal_the_scan(client, town, inspector):
    """Before and after the set is built, the tile's clusters are those of scanning every row
    in the street (a filtered request scans); once built, the points come from the area cells
    and the border recount is never run."""
    from spatial.models import Component
    from tiles import service
    from tiles import sql as tsql
    from tiles.cells import sync_area_cells

    street_a = town["streets"][0]
    template = Component.objects.filter(code__startswith="110199").first()
    # Centred in street B and crossing into A (counted), and one only touching A's border
    # from B (not counted: it shares no interior point with A).
    border_x = street_a.geom.extent[2]
    Component.objects.create(
        code="1101999905000000",
        category=template.category,
        geom=LineString((LON0 + 0.015, LAT0 + 0.01), (LON0 + 0.035, LAT0 + 0.01), srid=4326),
    )
    Component.objects.create(
        code="1101999905000001",
        category=template.category,
        geom=LineString((border_x, LAT0 + 0.004), (border_x + 0.01, LAT0 + 0.004), srid=4326),
    )
    client.force_login(inspector.user)
    every_status = "?status=normal,damaged,missing,removed"

    def clusters(url, suffix=""):
        response = client.get(url + suffix)
        assert response.status_code in (200, 204)
        return sorted(
            (f["properties"]["point_count"], f["geometry"]["coordinates"])
            for f in decode(response.content).get("components", [])
        )

    def answers():
        out = {}
        for z in (11, 12, 13, 14):
            z, x, y = tile_of(*TOWN_CENTRE, z)
            url = f"/tiles/components/{z}/{x}/{y}.mvt"
            in_a = count_in_tile(
                "spatial_component",
                z,
                x,
                y,
                "ST_Intersects(geom, (SELECT geom FROM spatial_adminarea WHERE id = %s))"
                " AND (ST_Dimension(geom) = 0 OR NOT ST_Touches(geom,"
                " (SELECT geom FROM spatial_adminarea WHERE id = %s)))",
                [street_a.id, street_a.id],
            )
            cells = clusters(url)
            assert 0 < in_a == sum(c for c, _ in cells), z
            assert cells == clusters(url, every_status), z
            out[z] = cells
        return out

    before = answers()
    sync_area_cells()
    assert (inspector.area_digest, SOURCE) in sets()
    from django.core.cache import cache

    cache.clear()
    assert answers() == before

    # The query: one range of the area cells, no point cells, no rows of the table.
    from accounts.scoping import scope_for_user

    scope = scope_for_user(inspector.user)
    items, _ = service.resolve_lazily(["components"], lambda: scope, kinds=("core", "managed"))
    assert items[0].layer.tiling.kept_areas == {inspector.area_digest}
    z, x, y = tile_of(*TOWN_CENTRE, 12)
    source = service.tile_source(items[0], scope)
    query = tsql.combine([service.layer_query(items[0], source, z, x, y)])
    with connection.cursor() as cur:
        text = query.sql.as_string(cur.cursor)
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + text, list(query.params))
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "tiles_pointcell" not in text and "spatial_component" not in text
    assert "Index Scan using areacell_set_cell on tiles_areacell" in plan, plan


# Points anywhere in the town, and areas as triangles over it.
town_points = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=60)
triangles = st.lists(st.tuples(st.floats(-0.1, 1.1), st.floats(-0.1, 1.1)), min_size=3, max_size=3)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(corners=triangles, added=town_points, moved=st.integers(0, 40), removed=st.integers(0, 40))
def test_kept_cells_equal_a_fresh_count_for_any_area_and_writes(
    town, corners, added, moved, removed
):
    """For an area of any shape and any writes after its set was built, the kept cells are
    the points the area covers, cell by cell, as counted straight from the table."""
    from spatial.models import Component
    from tiles.cells import build_area_cells

    lonlat = [(LON0 + u * WIDTH, LAT0 + v * HEIGHT) for u, v in corners]
    polygon = Polygon([*lonlat, lonlat[0]], srid=4326)
    if polygon.area < 1e-9 or not polygon.valid:
        return
    area = polygon.transform(3857, clone=True)
    template = Component.objects.filter(code__startswith="110199").first()
    with transaction.atomic():
        build_area_cells("hypothesis", SOURCE, area)
        Component.objects.bulk_create(
            [
                Component(
                    code=f"1101999906{n:06d}",
                    category=template.category,
                    geom=Point(LON0 + u * WIDTH, LAT0 + v * HEIGHT, srid=4326),
                )
                for n, (u, v) in enumerate(added)
            ]
        )
        everyone = Component.objects.filter(code__startswith="110199").order_by("id")
        Component.objects.filter(pk__in=everyone.values("id")[:moved]).update(
            geom=Point(*lonlat[0], srid=4326)
        )
        Component.objects.filter(pk__in=everyone.reverse().values("id")[:removed]).delete()
        assert everyone.count() == 1500 + len(added) - removed  # the writes happened
        assert_same_cells(kept_cells("hypothesis"), expected_cells(area.ewkt))
        transaction.set_rollback(True)


def test_a_table_that_lost_its_triggers_has_its_sets_built_again(town, inspector):
    """Sets stay exact only while the triggers run: after a restore without them, the install
    after migrate drops the table's sets and the next sync builds them from the rows."""
    from spatial.models import Component
    from tiles.cells import sync_area_cells
    from tiles.defaults import install_cells

    sync_area_cells()
    digest = inspector.area_digest
    assert (digest, SOURCE) in sets()
    with connection.cursor() as cur:
        for op in ("ins", "upd", "del", "trunc"):
            cur.execute(f"DROP TRIGGER citygrid_pointcells_{op} ON spatial_component")
    in_a = Component.objects.filter(geom__intersects=town["streets"][0].geom)
    Component.objects.filter(pk__in=in_a.values("id")[:20]).delete()
    area = area_ewkt(inspector)
    assert kept_cells(digest) != expected_cells(area)  # the cells missed the writes

    with connection.cursor() as cur:  # the deletes' deferred checks, before the DDL
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    install_cells()  # what migrate runs; it syncs at its end
    assert (digest, SOURCE) in sets()
    assert_same_cells(kept_cells(digest), expected_cells(area))


def test_a_set_dropped_behind_a_process_back_gives_the_recount_not_an_empty_tile(
    client, town, inspector
):
    """A process that believes a set kept after it was dropped (another process's sync) builds
    the tile without it: the same clusters, never an empty tile."""
    from django.core.cache import cache

    from tiles import service
    from tiles.cells import sync_area_cells

    sync_area_cells()
    client.force_login(inspector.user)
    z, x, y = tile_of(*TOWN_CENTRE, 12)
    url = f"/tiles/components/{z}/{x}/{y}.mvt"

    def clusters():
        cache.clear()
        response = client.get(url)
        assert response.status_code == 200
        return sorted(
            (f["properties"]["point_count"], f["geometry"]["coordinates"])
            for f in decode(response.content)["components"]
        )

    kept = clusters()
    assert sum(c for c, _ in kept) > 100
    assert service._registry["components"][1].tiling.kept_areas == {inspector.area_digest}
    with connection.cursor() as cur:  # dropped, and this process not told
        cur.execute("DELETE FROM tiles_areacell")
        cur.execute("DELETE FROM tiles_areacellset")
    assert service._registry["components"][1].tiling.kept_areas == {inspector.area_digest}
    assert clusters() == kept
    assert "components" not in service._registry  # forgotten: read again next time
    assert clusters() == kept
