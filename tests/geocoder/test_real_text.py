"""Real text from a provincial capital and Shanghai: parser traps (小区 is no district, roads
named after districts, bracketed remarks), a stated district restricting the answer, weak
fuzzy matches saying so, and reverse at a door beside a main road."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString, Point
from django.test import override_settings

from geocoder.dictionary import Entry, Gazetteer, area_aliases
from geocoder.match import geocode
from geocoder.parse import parse
from geocoder.reverse import reverse

from .conftest import M_LON, road_point

# -- the parser, against a hand-made gazetteer ------------------------------------------------


def gazetteer_of(*things: tuple[str, int, str]) -> Gazetteer:
    """Gives a gazetteer holding (kind, id, name) things, areas with their usual aliases."""
    g = Gazetteer()
    for kind, ident, name in things:
        entry = Entry(kind, ident, name, 121.48, 31.24)
        g.entries[(kind, ident)] = entry
        names = area_aliases(kind, name) if kind in ("district", "street") else [name]
        for n in names:
            g.add_name(n, entry)
    g.finish()
    return g


SHANGHAI = gazetteer_of(
    ("district", 1, "黄浦区"),
    ("district", 2, "虹口区"),
    ("road", 10, "黄浦路"),
    ("road", 11, "大田路"),
    ("road", 12, "北京西路"),
)
WITHOUT_HUANGPU_ROAD = gazetteer_of(("district", 1, "黄浦区"), ("district", 2, "虹口区"))


def tokens(text: str, g: Gazetteer = SHANGHAI) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in parse(text, g).tokens]


def kinds_of(text: str, g: Gazetteer = SHANGHAI) -> list[set[str]]:
    return [{e.kind for e in t.entries} for t in parse(text, g).names]


def test_xiaoqu_is_never_a_district_suffix():
    assert tokens("上海市花梅花苑小区门口") == [
        ("prefix", "上海市"),
        ("residue", "花梅花苑小区"),
        ("qualifier", "门口"),
    ]
    assert parse("上海市花梅花苑小区门口", SHANGHAI).foreign_area is None


def test_a_district_in_the_prefix_that_the_data_lacks_is_foreign():
    assert tokens("上海市崇明区大田路180号")[0] == ("prefix", "上海市崇明区")
    assert parse("上海市崇明区大田路180号", SHANGHAI).foreign_area == "崇明区"


def test_a_road_named_after_a_district_is_a_road():
    assert tokens("虹口区黄浦路199号") == [
        ("name", "虹口区"),
        ("name", "黄浦路"),
        ("door", "199号"),
    ]
    assert kinds_of("虹口区黄浦路199号") == [{"district"}, {"road"}]


def test_a_district_name_plus_road_ending_is_tried_as_a_road_before_splitting():
    # 黄埔路 (a slip for 黄浦路) is the road, never the district 黄浦区
    assert tokens("虹口区黄埔路199号")[1] == ("name", "黄浦路")
    assert kinds_of("虹口区黄埔路199号") == [{"district"}, {"road"}]
    # without a road of that name the text stays unread: not district 黄浦 + a stray 路
    assert tokens("虹口区黄浦路199号", WITHOUT_HUANGPU_ROAD) == [
        ("name", "虹口区"),
        ("residue", "黄浦路"),
        ("door", "199号"),
    ]


@pytest.mark.parametrize(
    "text, remark",
    [
        ("大田路180号(b1入口)", ("entrance", "b1入口")),
        ("大田路180号（东门）", ("entrance", "东门")),
        ("大田路180号(2号口)", ("entrance", "2号口")),
        ("大田路180号b1入口", ("entrance", "b1入口")),
        ("大田路180号(近北京西路)", ("landmark", "近北京西路")),
        ("大田路180号(徐汇店)", ("branch", "徐汇店")),
    ],
)
def test_bracketed_remarks_are_qualifiers_not_the_address(text, remark):
    assert tokens(text) == [("name", "大田路"), ("door", "180号"), remark]
    assert parse(text, SHANGHAI).qualifiers == [remark[1]]


# -- matching, in the small city (枫林区) and a second district ---------------------------------


@pytest.fixture
def two_districts(small_city):
    """A second district, 松江区, east of 枫林区, with its own 枫杨路 (doors 1–9)."""
    from geocoder.models import DoorAddress, Road
    from tests import factories

    other = factories.make_city(
        "110198",
        name="松江区",
        origin=(116.40, 39.96),
        size=(0.04, 0.03),
        streets=("松风街道",),
    )
    a, b = (116.402, 39.970), (116.438, 39.970)
    road = Road.objects.create(
        name="枫杨路",
        kind="main",
        odd_side="left",
        street=other.streets[0],
        geom=LineString(a, b, srid=4326),
    )
    doors = {}
    for n in range(1, 10):
        lon, lat = road_point(a, b, n / 40, 1 if n % 2 else -1)
        doors[n] = DoorAddress.objects.create(
            road=road,
            number=n,
            side="left" if n % 2 else "right",
            measure=n / 40,
            geom=Point(lon, lat, srid=4326),
        )
    return small_city, doors


def near(c, point, metres_max=1.0) -> bool:
    from geocoder.match import metres

    return metres(c.lon, c.lat, point.x, point.y) <= metres_max


def test_a_stated_district_answers_only_its_own_road(two_districts):
    city, songjiang = two_districts
    [here] = geocode("枫林区枫杨路7号")[1][:1]
    assert near(here, city.doors[7].geom) and here.parts["district"] == "枫林区"
    found = geocode("松江区枫杨路7号")[1]
    assert found and all(c.parts["district"] == "松江区" for c in found)
    assert near(found[0], songjiang[7].geom)
    # 桦皮胡同 lies only in 枫林区: named with 松江区 it is not there
    assert geocode("松江区桦皮胡同1号")[1] == []
    # a district the data does not hold at all restricts to nothing
    assert geocode("上海市崇明区枫杨路7号")[1] == []


def test_a_stated_city_restricts_when_the_data_names_its_city(small_city):
    assert geocode("上海市枫杨路7号")[1]  # no city configured: a stated city is not checked
    with override_settings(GEOCODER_CITY_NAMES=["北京市"]):
        assert geocode("上海市枫杨路7号")[1] == []
        assert geocode("北京市枫杨路7号")[1][0].address.endswith("枫杨路7号")


def test_a_weak_fuzzy_match_says_so_and_nothing_answers_below_the_floor(small_city):
    sure = geocode("枫杨路7号")[1][0]
    assert sure.exact and sure.confidence >= 0.95
    weak = geocode("枫柳路7号", min_confidence=0)[1][0]  # one character off: 枫杨路
    assert weak.address.endswith("枫杨路7号") and weak.match_level == "door"
    assert not weak.exact and weak.confidence < 0.8
    with override_settings(GEOCODER_MIN_CONFIDENCE=0.8):
        assert geocode("枫柳路7号")[1] == []
        assert geocode("枫杨路7号")[1][0].address == sure.address


def test_the_api_carries_confidence_and_exact(api, small_city):
    from .test_api import get

    _, body = get(api, "/api/v1/geocode", q="枫柳路7号")
    top = body["results"][0]
    assert top["exact"] is False and 0 < top["confidence"] < 0.8
    _, body = get(api, "/nominatim/search", q="枫杨路7号", format="json")
    assert body[0]["importance"] >= 0.95


# -- reverse: a door beside a main road ------------------------------------------------------


def test_reverse_at_a_door_beside_a_main_road_names_the_door_and_its_areas(small_city):
    from geocoder.models import Road
    from spatial.models import RoadSegment

    h1 = small_city.h1.geom  # 桦皮胡同1号, 15 m east of the alley's centreline
    main_lon = h1.x + 10 * M_LON  # a main road 10 m further east, loaded piece by piece
    for k in range(-3, 3):
        piece = LineString(
            (main_lon, h1.y + k * 0.0001), (main_lon, h1.y + (k + 1) * 0.0001), srid=4326
        )
        Road.objects.create(name="槐荫大道", kind="main", odd_side="left", geom=piece)
        RoadSegment.objects.create(name="槐荫大道", road_class="main", geom=piece)
    found = reverse(h1.x - 1 * M_LON, h1.y)
    assert found.address.endswith("桦皮胡同1号") and found.match_level == "door"
    assert found.parts["road"] == "桦皮胡同"
    assert found.parts["district"] == "枫林区" and found.parts["street"] == "槐荫街道"
    assert found.parts["community"]
