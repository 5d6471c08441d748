"""The geocoder over HTTP: forward, suggest, reverse, bad input, Nominatim shape."""

import pytest

from tests.reference import metres

pytestmark = pytest.mark.django_db


def get(api, url, **params):
    r = api.get(url, params)
    return r.status_code, r.json()


def test_forward_returns_door_with_placement_and_qualifier(api, small_city):
    status, body = get(api, "/api/v1/geocode", q="北京市枫林区枫杨路７号门口")
    assert status == 200
    top = body["results"][0]
    assert top["match_level"] == "door" and top["combination"] == 3
    assert top["address"].endswith("枫杨路7号")
    assert top["qualifier"] == ["门口"]
    assert top["placement"]["community"]["name"] == "松鹤社区"
    door = small_city.doors[7].geom
    assert metres(top["lon"], top["lat"], door.x, door.y) < 1


def test_within_filters_by_area_code_and_bbox(api, small_city):
    _, body = get(api, "/api/v1/geocode", q="枫杨路7号", within="110199002")
    assert body["results"] == []
    _, body = get(api, "/api/v1/geocode", q="枫杨路7号", within="116.30,39.96,116.32,39.99")
    assert body["results"][0]["match_level"] == "door"
    assert get(api, "/api/v1/geocode", q="枫杨路7号", within="999999")[1]["results"] == []
    status, body = get(api, "/api/v1/geocode", q="枫杨路7号", within="nowhere")
    assert status == 400 and body["error"]["field"] == "within"


@pytest.mark.parametrize("q", ["", "a" * 10_240, "枫杨路" * 4000])
def test_bad_queries_answer_400_json(api, small_city, q):
    status, body = get(api, "/api/v1/geocode", q=q)
    assert status == 400
    assert body["error"]["field"] == "q"


def test_control_characters_only_match_nothing(api, small_city):
    for url, key in (("/api/v1/geocode", "results"), ("/api/v1/geocode/suggest", "suggestions")):
        status, body = get(api, url, q="\x01\u200b \x1d\u3000")
        assert status == 200
        assert body[key] == []
        # NUL never reaches a view (PostgreSQL text cannot hold it): a clear 400 instead.
        status, body = get(api, url, q="\x00\x01")
        assert status == 400 and body["error"]["code"] == "bad_input"


@pytest.mark.parametrize(
    "q",
    [
        "'; DROP TABLE geocoder_road; --",
        "枫杨路7号' OR 1=1 --",
        "枫杨\x07路\x1b7号",
        "％％＿＿",
        "1234567890123",
        "号号号楼楼栋",
    ],
)
def test_hostile_queries_never_fail(api, small_city, q):
    status, body = get(api, "/api/v1/geocode", q=q)
    assert status == 200
    assert isinstance(body["results"], list)
    from geocoder.models import Road

    assert Road.objects.filter(name="枫杨路").exists()


def test_control_characters_are_dropped(api, small_city):
    _, body = get(api, "/api/v1/geocode", q="枫杨\x07路\x1b7号")
    assert body["results"][0]["address"].endswith("枫杨路7号")


def test_limit_is_checked(api, small_city):
    assert get(api, "/api/v1/geocode", q="枫杨路", limit=0)[0] == 400
    assert get(api, "/api/v1/geocode", q="枫杨路", limit="x")[0] == 400
    assert get(api, "/api/v1/geocode", q="枫杨路", limit="")[0] == 400
    assert get(api, "/nominatim/search", q="枫杨路", addressdetails="x")[0] == 400


def test_suggest_prefixes_and_doors(api, small_city):
    status, body = get(api, "/api/v1/geocode/suggest", q="枫")
    assert status == 200
    texts = [s["text"] for s in body["suggestions"]]
    assert "枫杨路" in texts and "枫林科技大学" in texts
    _, body = get(api, "/api/v1/geocode/suggest", q="枫杨路1")
    assert [s["text"] for s in body["suggestions"]][:4] == [
        "枫杨路1号",
        "枫杨路10号",
        "枫杨路11号",
        "枫杨路12号",
    ]


def test_reverse_nearest_door_on_the_right_side(api, small_city):
    d7, d8 = small_city.doors[7].geom, small_city.doors[8].geom
    # a point 5 m north of the centreline, between doors 7 (north) and 8 (south)
    _, body = get(api, "/api/v1/reverse", lon=(d7.x + d8.x) / 2, lat=39.970 + 5 / 110574)
    assert body["address"].endswith("枫杨路7号") and body["match_level"] == "door"
    _, body = get(api, "/api/v1/reverse", lon=(d7.x + d8.x) / 2, lat=39.970 - 5 / 110574)
    assert body["address"].endswith("枫杨路8号")
    assert body["distance_m"] < 60
    assert body["placement"]["street"]["name"] == "榆树街道"


def test_reverse_at_road_end_far_from_doors(api, small_city):
    # the east end of 枫杨路 (doors stop at measure 0.3): road + nearest number on that side
    _, body = get(api, "/api/v1/reverse", lon=116.3379, lat=39.97005)
    assert body["match_level"] == "road"
    assert body["parts"]["road"] == "枫杨路"
    assert body["address"].endswith("枫杨路11号附近")


def test_reverse_inside_compound_names_the_building(api, small_city):
    b2 = small_city.cuihu_b[2].geom
    _, body = get(api, "/api/v1/reverse", lon=b2.x + 0.00002, lat=b2.y)
    assert body["match_level"] == "building"
    assert body["address"].endswith("翠湖家园2号楼")


def test_reverse_outside_city_is_null(api, small_city):
    status, body = get(api, "/api/v1/reverse", lon=100.0, lat=30.0)
    assert status == 200
    assert body["address"] is None and body["lon"] is None
    assert body["placement"]["district"] is None


def test_reverse_in_area_without_roads_names_the_community(api, small_city):
    _, body = get(api, "/api/v1/reverse", lon=116.339, lat=39.989)
    assert body["match_level"] == "area"
    assert body["address"].endswith("梧桐社区")


def test_reverse_accepts_gcj02(api, small_city):
    from tests.reference import from_wgs84

    d7 = small_city.doors[7].geom
    x, y = from_wgs84(d7.x, d7.y, "gcj02")
    _, body = get(api, "/api/v1/reverse", lon=x, lat=y, crs="gcj02")
    assert body["address"].endswith("枫杨路7号")


def test_reverse_bad_input(api, small_city):
    assert get(api, "/api/v1/reverse", lon="x", lat=1)[0] == 400
    assert get(api, "/api/v1/reverse", lat=1)[0] == 400
    assert get(api, "/api/v1/reverse", lon=500, lat=1)[0] == 400


def test_nominatim_search_and_reverse_shapes(api, small_city):
    status, body = get(api, "/nominatim/search", q="枫杨路7号", format="jsonv2", addressdetails=1)
    assert status == 200 and isinstance(body, list)
    assert body[0]["category"] and body[0]["address"]["house_number"] == "7"
    assert float(body[0]["lat"]) == pytest.approx(small_city.doors[7].geom.y, abs=1e-6)
    _, body = get(api, "/nominatim/search", q="枫杨路7号", format="json")
    assert "class" in body[0]
    _, body = get(api, "/nominatim/reverse", lon=100, lat=30, format="jsonv2")
    assert body == {"error": "Unable to geocode"}
    assert get(api, "/nominatim/search", q="x", format="xml")[0] == 400


def test_reverse_names_a_road_by_its_nearer_segment(api, small_city):
    from django.contrib.gis.geos import LineString

    from spatial.models import RoadSegment

    # a piece of 桦皮胡同 beyond its addressed centreline, and a road with no addresses at all
    RoadSegment.objects.create(
        name="桦皮胡同",
        road_class="alley",
        geom=LineString((116.325, 39.988), (116.3345, 39.9895), srid=4326),
    )
    RoadSegment.objects.create(
        name="榆钱路",
        road_class="branch",
        geom=LineString((116.3005, 39.985), (116.3015, 39.989), srid=4326),
    )
    _, body = get(api, "/api/v1/reverse", lon=116.333, lat=39.98935)
    assert body["match_level"] == "road" and body["parts"]["road"] == "桦皮胡同"
    assert body["distance_m"] < 20
    _, body = get(api, "/api/v1/reverse", lon=116.3011, lat=39.987)
    assert body["address"] == "枫林区榆树街道榆钱路"  # the areas at the point, as for any road


def test_area_and_grid_matches_carry_their_polygon(api, small_city):
    _, body = get(api, "/api/v1/geocode", q="松鹤社区")
    top = body["results"][0]
    assert top["match_level"] == "area" and top["geometry"]["type"] == "MultiPolygon"
    ring = top["geometry"]["coordinates"][0][0]
    assert min(x for x, _ in ring) == pytest.approx(116.30) and max(
        y for _, y in ring
    ) == pytest.approx(39.975)
    _, body = get(api, "/api/v1/geocode", q="11019900100101")
    assert body["results"][0]["geometry"]["type"] == "MultiPolygon"
    _, body = get(api, "/api/v1/geocode", q="枫杨路7号")
    assert body["results"][0]["geometry"] is None
