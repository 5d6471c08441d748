"""Pure logic: numerals, normalization and line-point arithmetic (property tests)."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from geocoder.linepoint import DoorMark, RoadGeometry, interpolate, measure_for, side_for
from geocoder.normalize import chinese_to_int, clean, int_to_chinese
from geocoder.reverse import point_side


@given(st.integers(min_value=0, max_value=9999))
def test_chinese_numerals_round_trip(n):
    assert chinese_to_int(int_to_chinese(n)) == n


def test_chinese_numeral_forms():
    assert chinese_to_int("十三") == 13
    assert chinese_to_int("二十") == 20
    assert chinese_to_int("一百零五") == 105
    assert chinese_to_int("一〇五") == 105
    assert chinese_to_int("两百") == 200
    assert chinese_to_int("十百") is None
    assert chinese_to_int("三里") is None


def test_clean_folds_width_case_controls_and_spaces():
    assert clean("ＡＢ路　１３号\x00\x1b") == "ab路13号"
    assert clean("學院路 18 號") == "學院路18号"
    assert clean(" 枫杨路 , 7号 ") == "枫杨路7号"


@given(st.text(max_size=300))
def test_clean_never_fails_and_drops_controls(text):
    out = clean(text)
    assert not any(ord(ch) < 32 for ch in out)


def test_side_for_parity():
    assert side_for(7, "left") == "left" and side_for(8, "left") == "right"
    assert side_for(7, "right") == "right" and side_for(8, "right") == "left"


marks_strategy = st.lists(
    st.tuples(st.integers(1, 200), st.floats(0, 1)),
    min_size=2,
    max_size=12,
    unique_by=lambda t: t[0],
).map(lambda pairs: sorted(pairs))


@given(marks_strategy, st.integers(1, 400))
def test_measure_stays_on_the_road_and_between_neighbours(pairs, number):
    pairs = list(
        zip([p[0] for p in pairs], sorted(p[1] for p in pairs))
    )  # measures grow with numbers
    marks = [DoorMark(n, m, 0, 0) for n, m in pairs]
    measure, extrapolated = measure_for(number, marks)
    assert 0.0 <= measure <= 1.0
    numbers = [n for n, _ in pairs]
    if numbers[0] <= number <= numbers[-1]:
        assert not extrapolated
        lower = max(m for n, m in pairs if n <= number)
        upper = min(m for n, m in pairs if n >= number)
        assert lower - 1e-9 <= measure <= upper + 1e-9
    else:
        assert extrapolated


@settings(max_examples=60)
@given(st.floats(0, 2 * math.pi), st.floats(0.01, 0.99), st.floats(3, 40))
def test_offset_point_is_on_the_asked_side_at_the_asked_distance(angle, measure, offset):
    lon0, lat0 = 116.3, 39.97
    coords = [(lon0, lat0), (lon0 + 0.01 * math.cos(angle), lat0 + 0.01 * math.sin(angle))]
    road = RoadGeometry(coords)
    for side in ("left", "right"):
        lon, lat = road.offset_point(measure, side, offset)
        assert point_side(road, measure, lon, lat) == side
        assert abs(road.distance_to(lon, lat) - offset) < 0.01


def test_interpolate_needs_a_door_on_that_side():
    coords = [(116.30, 39.97), (116.31, 39.97)]
    assert interpolate(coords, 5, "left", []) is None
    placed = interpolate(
        coords,
        5,
        "left",
        [DoorMark(3, 0.2, 116.302, 39.97013), DoorMark(7, 0.4, 116.304, 39.97013)],
    )
    assert abs(placed.measure - 0.3) < 1e-12 and not placed.extrapolated
    assert placed.lat > 39.97
