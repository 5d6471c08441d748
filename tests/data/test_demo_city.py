"""The demo city generator: codes, tiling, addresses and determinism, checked in PostGIS on the
city the `city` fixture generated (seed 1, scale 0.05)."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from data.demo_city import known_points
from data.demo_city.admin_codes import load_district
from spatial.models import ControlledArea

pytestmark = pytest.mark.django_db


def one(query: str, params=()):
    with connection.cursor() as cur:
        cur.execute(query, params or None)
        return cur.fetchone()


def rows(query: str, params=()):
    with connection.cursor() as cur:
        cur.execute(query, params or None)
        return cur.fetchall()


CITY_HASH = """
SELECT md5(string_agg(code || encode(ST_AsEWKB(geom), 'hex'), ',' ORDER BY code))
FROM (SELECT code, geom FROM spatial_unitgrid UNION ALL SELECT code, geom FROM spatial_component
      UNION ALL SELECT code, geom FROM spatial_adminarea) t
"""

CODED_IDS = """
SELECT 'a', code, id FROM spatial_adminarea UNION ALL SELECT 'g', code, id FROM spatial_unitgrid
UNION ALL SELECT 'r', code, id FROM spatial_responsibilitygrid ORDER BY 1, 2
"""


def test_every_table_is_filled(city):
    tables = [
        "spatial_adminarea",
        "spatial_unitgrid",
        "spatial_responsibilitygrid",
        "spatial_responsibilitygrid_unit_grids",
        "spatial_timingzone",
        "spatial_controlledarea",
        "spatial_roadsegment",
        "spatial_component",
        "geocoder_road",
        "geocoder_dooraddress",
        "geocoder_placename",
        "geocoder_compound",
        "geocoder_organization",
        "geocoder_building",
    ]
    for table in tables:
        assert one(f"SELECT count(*) FROM {table}")[0] > 0, table
    levels = dict(rows("SELECT level, count(*) FROM spatial_adminarea GROUP BY level"))
    assert levels["district"] == 1
    assert levels["street"] >= 2
    assert levels["community"] >= 4


def test_admin_codes_are_real_and_nested(city):
    district = load_district("110108")
    real_streets = {code: name for code, name in district.streets}
    ((d_code, d_name),) = rows("SELECT code, name FROM spatial_adminarea WHERE level='district'")
    assert (d_code, d_name) == ("110108", "海淀区")
    streets = rows(
        "SELECT a.code, a.name, p.code FROM spatial_adminarea a JOIN spatial_adminarea p "
        "ON p.id = a.parent_id WHERE a.level = 'street'"
    )
    assert len(streets) >= 2
    for code, name, parent in streets:
        assert real_streets[code] == name and parent == d_code
    communities = rows(
        "SELECT a.code, a.name, p.code FROM spatial_adminarea a JOIN spatial_adminarea p "
        "ON p.id = a.parent_id WHERE a.level = 'community'"
    )
    assert len(communities) >= len(streets)
    for code, name, parent in communities:
        assert len(code) == 12 and code.isdigit() and code[:9] == parent and name.endswith("社区")


def test_unit_grid_codes_follow_their_community(city):
    bad = one(
        "SELECT count(*) FROM spatial_unitgrid g JOIN spatial_adminarea c ON c.id = g.community_id "
        "WHERE length(g.code) <> 14 OR g.code !~ '^[0-9]+$' OR left(g.code, 12) <> c.code "
        "OR c.level <> 'community'"
    )[0]
    assert bad == 0
    most = one(
        "SELECT max(n) FROM (SELECT count(*) n FROM spatial_unitgrid GROUP BY community_id) t"
    )
    assert most[0] <= 99
    mean = one("SELECT avg(area_m2) FROM spatial_unitgrid")[0]
    assert 8_000 < mean < 12_000


def test_grids_tile_the_district_without_gaps_or_overlaps(city):
    grids, district, streets = one(
        "SELECT (SELECT sum(ST_Area(geom::geography)) FROM spatial_unitgrid), "
        "(SELECT ST_Area(geom::geography) FROM spatial_adminarea WHERE level = 'district'), "
        "(SELECT sum(ST_Area(geom::geography)) FROM spatial_adminarea WHERE level = 'street')"
    )
    assert grids == pytest.approx(district, rel=1e-3)
    assert streets == pytest.approx(district, rel=1e-3)
    overlapping = one(
        "SELECT count(*) FROM spatial_unitgrid a JOIN spatial_unitgrid b "
        "ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom) "
        "WHERE ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 0.01"
    )[0]
    assert overlapping == 0
    stored = one("SELECT sum(area_m2) FROM spatial_unitgrid")[0]
    assert stored == pytest.approx(district, rel=1e-3)


def test_each_grid_lies_in_exactly_its_own_community(city):
    wrong = rows(
        "SELECT g.code, array_agg(c.code) FROM spatial_unitgrid g JOIN spatial_adminarea c "
        "ON c.level = 'community' AND ST_Relate(g.geom, c.geom, '2********') "
        "GROUP BY g.code HAVING count(*) <> 1 OR min(c.code) <> left(g.code, 12)"
    )
    assert wrong == []
    uncovered = one(
        "SELECT count(*) FROM spatial_unitgrid g JOIN spatial_adminarea c ON c.id = g.community_id "
        "WHERE NOT ST_CoveredBy(ST_PointOnSurface(g.geom), c.geom)"
    )[0]
    assert uncovered == 0


def test_responsibility_grids_are_unions_of_adjacent_grids_in_one_street(city):
    grids = rows(
        "SELECT r.code, count(*), count(DISTINCT left(g.code, 9)), "
        "abs(ST_Area(r.geom::geography) - sum(ST_Area(g.geom::geography))), "
        "ST_NumGeometries(ST_Union(g.geom)) "
        "FROM spatial_responsibilitygrid r "
        "JOIN spatial_responsibilitygrid_unit_grids l ON l.responsibilitygrid_id = r.id "
        "JOIN spatial_unitgrid g ON g.id = l.unitgrid_id GROUP BY r.code, r.geom"
    )
    # Every responsibility grid has unit grids (the join keeps none without).
    assert len(grids) == one("SELECT count(*) FROM spatial_responsibilitygrid")[0] > 0
    for code, n, streets, diff, parts in grids:
        assert 4 <= n <= 11, code
        assert streets == 1 and parts == 1 and diff < 1.0, code


def test_timing_zones_cover_the_district_once(city):
    kinds = dict(rows("SELECT kind, ST_Area(geom::geography) FROM spatial_timingzone"))
    assert set(kinds) == {"core", "general", "outer"}
    district = one("SELECT ST_Area(geom::geography) FROM spatial_adminarea WHERE level='district'")[
        0
    ]
    assert sum(kinds.values()) == pytest.approx(district, rel=1e-3)


def test_controlled_areas_cover_the_documented_cases(city):
    areas = list(
        ControlledArea.objects.values_list(
            "action", "categories", "daily_windows", "valid_from", "valid_to"
        )
    )
    assert ("forbid", ["0501"], [["07:00", "09:00"]]) in [a[:3] for a in areas]
    assert any(a[0] == "warn" and a[2] == [] and a[1] == [] for a in areas)
    assert any(a[3] is not None and a[4] is not None and a[3] < a[4] for a in areas)
    assert any(w[1] < w[0] for a in areas for w in a[2])  # a window past midnight


def test_components_codes_classes_and_every_major_class(city):
    bad = one(
        "SELECT count(*) FROM spatial_component c JOIN data_category k ON k.id = c.category_id "
        "WHERE c.code !~ '^110108[0-9]{10}$' OR substr(c.code, 7, 4) <> k.code "
        "OR k.kind <> 'component' OR c.owner_department <> k.default_department "
        "OR NOT (c.attributes ? 'install_year')"
    )[0]
    assert bad == 0
    majors = {r[0] for r in rows("SELECT DISTINCT substr(code, 7, 2) FROM spatial_component")}
    assert majors == {"01", "02", "03", "04", "05", "06"}
    kinds = {r[0] for r in rows("SELECT DISTINCT GeometryType(geom) FROM spatial_component")}
    assert {"POINT", "LINESTRING"} <= kinds and kinds & {"POLYGON", "MULTIPOLYGON"}
    mostly_normal = one("SELECT avg((status = 'normal')::int) FROM spatial_component")[0]
    assert mostly_normal > 0.9


def test_components_sit_where_they_belong(city):
    lamps_far = one(
        "SELECT count(*) FROM spatial_component c WHERE substr(c.code, 7, 4) = '0111' "
        "AND GeometryType(c.geom) = 'POINT' AND NOT EXISTS (SELECT 1 FROM spatial_roadsegment s "
        "WHERE ST_DWithin(s.geom::geography, c.geom::geography, 25)) "
        "AND NOT EXISTS (SELECT 1 FROM geocoder_compound k WHERE ST_Intersects(k.geom, c.geom)) "
        "AND NOT EXISTS (SELECT 1 FROM spatial_component p WHERE substr(p.code, 7, 4) = '0405' "
        "AND ST_Intersects(p.geom, c.geom))"
    )[0]
    assert lamps_far == 0
    park_trees = one(
        "SELECT count(*) FROM spatial_component t JOIN spatial_component p "
        "ON substr(p.code, 7, 4) = '0405' AND ST_Intersects(p.geom, t.geom) "
        "WHERE substr(t.code, 7, 4) = '0402'"
    )[0]
    assert park_trees > 0


def test_every_component_lies_inside_the_district(city):
    """Roadside offsets on the district's edge roads must not put components outside it: a
    person whose area is the whole district sees every component."""
    outside = one(
        "SELECT count(*) FROM spatial_component c JOIN spatial_adminarea d "
        "ON d.level = 'district' WHERE NOT ST_Covers(ST_Buffer(d.geom, 1e-7), c.geom)"
    )[0]
    assert outside == 0


def test_door_numbers_follow_the_odd_side_and_grow_along_the_road(city):
    wrong_side = one(
        "SELECT count(*) FROM geocoder_dooraddress d JOIN geocoder_road r ON r.id = d.road_id "
        "WHERE (d.number % 2 = 1) <> (d.side = r.odd_side)"
    )[0]
    assert wrong_side == 0
    decreasing = one(
        "SELECT count(*) FROM (SELECT number, lag(number) OVER (PARTITION BY road_id, side "
        "ORDER BY measure, suffix) prev FROM geocoder_dooraddress) t WHERE number < prev"
    )[0]
    assert decreasing == 0
    gaps = one(
        "SELECT count(*) FROM (SELECT number, lag(number) OVER (PARTITION BY road_id, side "
        "ORDER BY measure, suffix) prev FROM geocoder_dooraddress WHERE suffix = '') t "
        "WHERE number - prev > 2"
    )[0]
    assert gaps > 0  # some numbers are skipped, so interpolation is needed
    assert one("SELECT count(*) FROM geocoder_dooraddress WHERE suffix <> ''")[0] > 0
    offset = one(
        "SELECT min(ST_Distance(d.geom::geography, r.geom::geography)), "
        "max(ST_Distance(d.geom::geography, r.geom::geography)) "
        "FROM geocoder_dooraddress d JOIN geocoder_road r ON r.id = d.road_id "
        "WHERE r.kind <> 'alley' AND d.suffix = ''"
    )
    assert 4.0 < offset[0] and offset[1] < 25.0


def test_compounds_have_numbered_buildings_and_an_entrance_door(city):
    compounds = rows(
        "SELECT k.name, array_agg(b.number::int ORDER BY b.number::int), "
        "ST_Distance(k.entrance::geography, d.geom::geography), "
        "bool_and(ST_Contains(k.geom, b.geom)) "
        "FROM geocoder_compound k JOIN geocoder_building b ON b.compound_id = k.id "
        "JOIN geocoder_dooraddress d ON d.id = k.door_id GROUP BY k.id, d.geom"
    )
    # Every compound is here: the joins drop one without buildings or an entrance door.
    assert len(compounds) == one("SELECT count(*) FROM geocoder_compound")[0] > 0
    for name, numbers, entrance_gap, inside in compounds:
        assert numbers == list(range(1, len(numbers) + 1)), name
        assert 5 <= len(numbers) <= 30, name
        assert entrance_gap < 30 and inside, name


def test_organizations_storefronts_and_place_names(city):
    kinds = dict(rows("SELECT kind, count(*) FROM geocoder_organization GROUP BY kind"))
    assert kinds.get("organization", 0) > 0 and kinds.get("storefront", 0) > 0
    offices = one("SELECT count(*) FROM geocoder_organization WHERE name LIKE '%办事处'")[0]
    streets = one("SELECT count(*) FROM spatial_adminarea WHERE level = 'street'")[0]
    assert offices == streets
    assert one("SELECT count(*) FROM geocoder_organization WHERE door_id IS NULL")[0] == 0
    assert one("SELECT count(*) FROM geocoder_placename WHERE cardinality(aliases) > 0")[0] > 0
    assert (
        one("SELECT count(*) FROM geocoder_placename WHERE kind = 'landmark' AND door_id IS NULL")[
            0
        ]
        == 0
    )
    assert one("SELECT count(*) FROM geocoder_placename WHERE door_id IS NOT NULL")[0] > 0
    wet_doors = one(
        "SELECT count(*) FROM geocoder_dooraddress d JOIN geocoder_placename p "
        "ON p.name LIKE '%河' AND ST_Contains(p.area, d.geom)"
    )[0]
    assert wet_doors == 0
    kinds = {r[0] for r in rows("SELECT DISTINCT kind FROM geocoder_placename")}
    assert {"place", "landmark"} <= kinds
    assert one("SELECT count(*) FROM geocoder_building WHERE organization_id IS NOT NULL")[0] > 0
    assert one("SELECT count(*) FROM geocoder_road WHERE cardinality(aliases) > 0")[0] > 0
    names = [r[0] for r in rows("SELECT name FROM geocoder_road")]
    assert len(names) == len(set(names))


def test_known_points_fall_in_their_stored_grids(city):
    points = known_points(40, seed=3, **{"city_seed": city["seed"], "scale": city["scale"]})
    assert len(points) == 40
    for p in points:
        found = rows(
            "SELECT code FROM spatial_unitgrid "
            "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            [p["lon"], p["lat"]],
        )
        assert found == [(p["grid"],)]
        assert p["grid"].startswith(p["community"]) and p["community"].startswith(p["street"])


def test_same_seed_gives_the_same_city_and_another_seed_does_not(city):
    before = one(CITY_HASH)[0]
    ids = rows(CODED_IDS)
    call_command("demo_city", replace=True, verbosity=0, **city)
    assert one(CITY_HASH)[0] == before
    # replacing keeps coded rows by code, so what refers to them (users, cases) stays valid
    assert rows(CODED_IDS) == ids
    call_command("demo_city", replace=True, verbosity=0, seed=city["seed"] + 1, scale=city["scale"])
    assert one(CITY_HASH)[0] != before
    kept = {code: i for _, code, i in rows(CODED_IDS)}
    assert kept["110108"] == {code: i for _, code, i in ids}["110108"]


def test_if_empty_keeps_the_city_and_a_second_run_refuses(city):
    before = one(CITY_HASH)[0]
    call_command("demo_city", if_empty=True, verbosity=0, seed=99, scale=city["scale"])
    assert one(CITY_HASH)[0] == before
    with pytest.raises(CommandError, match="--replace"):
        call_command("demo_city", verbosity=0, seed=99, scale=city["scale"])
    with pytest.raises(CommandError, match="scale"):
        call_command("demo_city", replace=True, verbosity=0, seed=1, scale=0)
    with pytest.raises(CommandError, match="LON,LAT"):
        call_command("demo_city", replace=True, verbosity=0, center="nonsense")


def test_bulk_path_restores_indexes_and_foreign_keys(city, monkeypatch):
    """From BULK_ROWS rows, a table's indexes and foreign keys are dropped for the COPY and
    added back, and rows go in chunks: force both on the small city and compare the schema and
    the rows."""
    from data.demo_city import bulk, store

    def schema():
        return rows(
            "SELECT tablename, indexdef FROM pg_indexes WHERE tablename IN "
            "('spatial_component', 'geocoder_dooraddress') UNION ALL "
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid IN ('spatial_component'::regclass, 'geocoder_dooraddress'::regclass) "
            "ORDER BY 1, 2"
        )

    before, data = schema(), one(CITY_HASH)[0]
    assert any("gist (geom_mercator)" in d for _, d in before)
    monkeypatch.setattr(store, "BULK_ROWS", 1)
    monkeypatch.setattr(bulk, "COPY_CHUNK_ROWS", 97)  # many COPY chunks, a short last one
    call_command("demo_city", replace=True, verbosity=0, **city)
    assert schema() == before
    assert one(CITY_HASH)[0] == data
    bad_doors = one(
        "SELECT count(*) FROM geocoder_dooraddress d LEFT JOIN geocoder_road r "
        "ON r.id = d.road_id WHERE r.id IS NULL"
    )[0]
    assert bad_doors == 0


def test_center_elsewhere_in_china_uses_its_own_gauss_kruger_zone(city):
    call_command("demo_city", replace=True, verbosity=0, center="121.47,31.23", **city)
    lon, lat, gap = one(
        "SELECT ST_X(c), ST_Y(c), ST_Distance(c::geography, ST_MakePoint(121.47, 31.23)::geography) "
        "FROM (SELECT ST_Centroid(geom) c FROM spatial_adminarea WHERE level = 'district') t"
    )
    assert gap < 300
    grids, district = one(
        "SELECT (SELECT sum(area_m2) FROM spatial_unitgrid), "
        "(SELECT ST_Area(geom::geography) FROM spatial_adminarea WHERE level = 'district')"
    )
    assert grids == pytest.approx(district, rel=1e-3)
    points = known_points(
        10, seed=5, city_seed=city["seed"], scale=city["scale"], center=(121.47, 31.23)
    )
    assert len(points) == 10
    for p in points:
        found = rows(
            "SELECT code FROM spatial_unitgrid "
            "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            [p["lon"], p["lat"]],
        )
        assert found == [(p["grid"],)]
