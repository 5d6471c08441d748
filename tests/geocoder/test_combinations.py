"""The spec's 18 combinations and the three address models, on the hand-made district."""

import pytest

from geocoder.match import geocode
from tests.reference import metres

pytestmark = pytest.mark.django_db


def top(q):
    _, cands = geocode(q)
    assert cands, f"no candidate for {q}"
    return cands[0]


def xy(thing):
    geom = getattr(thing, "geom", thing)
    return (geom.x, geom.y) if hasattr(geom, "x") else geom


def assert_at(c, thing, tol=30.0):
    lon, lat = xy(thing)
    assert metres(c.lon, c.lat, lon, lat) <= tol, (c.address, c.lon, c.lat, lon, lat)


def test_1_street_office_and_road_lands_on_the_road_inside_the_street(small_city):
    c = top("榆树街道办事处枫杨路")
    assert (c.combination, c.match_level) == (1, "road")
    assert 116.302 <= c.lon <= 116.32 and c.lat == pytest.approx(39.970, abs=1e-6)


def test_2_street_community_road(small_city):
    c = top("槐荫街道梧桐社区枫杨路")
    assert (c.combination, c.match_level) == (2, "road")
    assert 116.32 <= c.lon <= 116.338


def test_3_road_door(small_city):
    c = top("枫杨路7号")
    assert (c.combination, c.match_level) == (3, "door")
    assert_at(c, small_city.doors[7], 0.5)


def test_4_road_door_building(small_city):
    c = top("枫杨路9号2号楼")
    assert (c.combination, c.match_level) == (4, "building")
    assert_at(c, small_city.cuihu_b[2], 0.5)


@pytest.mark.parametrize("variant", ["2号楼", "2栋", "2幢", "2座", "二号楼", "２号楼"])
def test_5_road_building_with_variants(small_city, variant):
    c = top("枫杨路" + variant)
    assert (c.combination, c.match_level) == (5, "building")
    assert_at(c, small_city.cuihu_b[2], 0.5)


def test_6_road_storefront(small_city):
    c = top("枫杨路张记包子铺")
    assert c.combination == 6
    assert_at(c, small_city.shop, 0.5)


def test_7_place_and_its_historical_name(small_city):
    for q in ("老槐树", "古槐口"):
        c = top(q)
        assert (c.combination, c.match_level) == (7, "place")
        assert_at(c, small_city.oldtree, 0.5)


def test_8_place_door(small_city):
    c = top("老槐树1号")
    assert (c.combination, c.match_level) == (8, "door")
    assert_at(c, small_city.h1, 0.5)


def test_9_place_door_building(small_city):
    c = top("老槐树1号2号楼")
    assert (c.combination, c.match_level) == (9, "building")
    assert_at(c, small_city.yinxing_b2, 0.5)


def test_10_place_building(small_city):
    c = top("老槐树2号楼")
    assert (c.combination, c.match_level) == (10, "building")
    assert_at(c, small_city.yinxing_b2, 0.5)


def test_11_place_road_door(small_city):
    c = top("老槐树桦皮胡同1号")
    assert (c.combination, c.match_level) == (11, "door")
    assert_at(c, small_city.h1, 0.5)


def test_12_organization(small_city):
    c = top("枫林科技大学")
    assert (c.combination, c.match_level) == (12, "organization")
    assert_at(c, small_city.org, 0.5)


def test_13_organization_building(small_city):
    c = top("枫林科技大学5号楼")
    assert (c.combination, c.match_level) == (13, "building")
    assert_at(c, small_city.org_b5, 0.5)


def test_14_street_office_courtyard(small_city):
    c = top("榆树街道办事处翠湖家园")
    assert c.combination == 14
    assert_at(c, small_city.cuihu.entrance, 0.5)


def test_15_street_community_courtyard(small_city):
    c = top("榆树街道松鹤社区翠湖小区")
    assert c.combination == 15
    assert_at(c, small_city.cuihu.entrance, 0.5)


def test_16_courtyard_door(small_city):
    c = top("红星大院8号")
    assert (c.combination, c.match_level) == (16, "door")
    assert_at(c, small_city.doors[8], 0.5)
    c = top("翠湖家园9号")
    assert c.combination == 16
    assert_at(c, small_city.doors[9], 0.5)


def test_17_unit_grid_code(small_city):
    c = top("单元网格 11019900100101")
    assert (c.combination, c.match_level) == (17, "grid")
    assert 116.300 <= c.lon <= 116.301


def test_18_component_code(small_city):
    c = top("１１０１９９０１０１０００００１")
    assert (c.combination, c.match_level) == (18, "component")
    assert_at(c, small_city.component, 0.5)


def test_area_point_model_names_resolve_to_their_area(small_city):
    for q, name in (
        ("枫林区", "枫林区"),
        ("榆树街道办", "榆树街道"),
        ("竹韵社区居委会", "竹韵社区"),
    ):
        c = top(q)
        assert c.match_level == "area"
        assert name in c.address


def test_unknown_codes_and_names_give_nothing(small_city):
    assert geocode("11019900100199")[1] == []
    assert geocode("完全不存在的地方")[1] == []


# -- noise ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "北京市枫林区枫杨路7号",
        "枫林区枫杨路7号",
        "枫杨路七号",
        "枫杨路７号",
        "枫杨路 7 号",
        "枫杨大街7号",
        "fengyanglu7号",
        "fengyang路7号",
        "枫样路7号",
        "枫路7号",
        "枫杨路7号对面",
    ],
)
def test_noisy_forms_find_the_same_door(small_city, q):
    c = top(q)
    assert c.match_level == "door"
    assert_at(c, small_city.doors[7], 0.5)


def test_qualifiers_are_kept(small_city):
    p, cands = geocode("枫杨路7号旁边")
    assert cands[0].qualifier == ["旁边"]


def test_alias_only_where_the_table_allows(small_city):
    c = top("桦皮巷1号")
    assert_at(c, small_city.h1, 0.5)
    assert top("枫杨大街1号").address.endswith("枫杨路1号")


def test_a_stated_street_restricts_the_answer_to_it(small_city):
    assert_at(top("榆树街道翠湖家园"), small_city.cuihu.entrance, 0.5)
    assert geocode("槐荫街道翠湖家园")[1] == []  # 翠湖家园 lies in 榆树街道


# -- line-point model: interpolation ---------------------------------------------------------


def test_interpolation_on_the_odd_side(small_city):
    c = top("枫杨路5号")
    assert c.match_level == "interpolated"
    d3, d7 = small_city.doors[3].geom, small_city.doors[7].geom
    assert c.lat > 39.970  # odd numbers are on the north (left) side
    assert metres(c.lon, c.lat, (d3.x + d7.x) / 2, (d3.y + d7.y) / 2) < 2


def test_interpolation_on_the_even_side(small_city):
    c = top("枫杨路6号")
    assert c.match_level == "interpolated"
    d4, d8 = small_city.doors[4].geom, small_city.doors[8].geom
    assert c.lat < 39.970
    assert metres(c.lon, c.lat, (d4.x + d8.x) / 2, (d4.y + d8.y) / 2) < 2


def test_beyond_the_range_extrapolates_then_clamps_at_the_road_end(small_city):
    c = top("枫杨路13号")
    assert c.match_level == "interpolated" and c.extrapolated
    assert metres(c.lon, c.lat, 116.302 + 0.036 * 13 / 40, 39.970 + 15 / 110574) < 2
    end = top("枫杨路999号")
    assert end.extrapolated and end.parts["measure"] == 1.0
    assert metres(end.lon, end.lat, 116.338, 39.970 + 15 / 110574) < 2
