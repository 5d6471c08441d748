"""The CRS module: parsing, agreement with the reference GCJ-02/BD-09 packages, round trips."""

import math

import numpy as np
import prcoords
import pytest
from coordTransform import wgs84_to_bd09 as ref_wgs84_to_bd09
from coordTransform import wgs84_to_gcj02 as ref_wgs84_to_gcj02
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial import crs
from core.errors import BadInput

# Rough mainland-China boxes (lon0, lon1, lat0, lat1), inside every package's "in China" box.
CHINA_BOXES = [(100, 122, 23, 40), (82, 100, 30, 44), (118, 134, 40, 52), (108, 120, 20.5, 23)]


def metres(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (arrays or scalars)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


def china_points(n=2000, seed=7):
    rng = np.random.default_rng(seed)
    boxes = [CHINA_BOXES[i % len(CHINA_BOXES)] for i in range(n)]
    lon = np.array([rng.uniform(b[0], b[1]) for b in boxes])
    lat = np.array([rng.uniform(b[2], b[3]) for b in boxes])
    return lon, lat


@pytest.mark.parametrize(
    "text,label",
    [
        (None, "EPSG:4326"),
        ("", "EPSG:4326"),
        ("EPSG:4326", "EPSG:4326"),
        ("epsg:4326", "EPSG:4326"),
        ("4326", "EPSG:4326"),
        ("EPSG:4490", "EPSG:4490"),
        ("EPSG:3857", "EPSG:3857"),
        ("3857", "EPSG:3857"),
        ("EPSG:4491", "EPSG:4491"),
        ("EPSG:4527", "EPSG:4527"),
        ("epsg:4548", "EPSG:4548"),
        ("EPSG:4554", "EPSG:4554"),
        ("GCJ02", "gcj02"),
        ("gcj-02", "gcj02"),
        ("BD09", "bd09"),
        (" bd09 ", "bd09"),
    ],
)
def test_accepted_crs_spellings(text, label):
    assert crs.parse_crs(text).label == label


@pytest.mark.parametrize(
    "text",
    ["EPSG:2000", "EPSG:4490x", "4555", "4490.0", "wgs", "EPSG:", "EPSG:32650", "bd", "x" * 500],
)
def test_other_crs_values_are_bad_input_naming_what_is_accepted(text):
    with pytest.raises(BadInput) as err:
        crs.parse_crs(text)
    assert err.value.field == "crs"
    assert "gcj02" in err.value.message and "EPSG:4491-4554" in err.value.message


def test_cgcs2000_geographic_is_taken_as_wgs84():
    assert crs.to_wgs84(116.3, 39.9, "EPSG:4490") == (116.3, 39.9)
    assert crs.from_wgs84(116.3, 39.9, "4490") == (116.3, 39.9)


def test_forward_offsets_agree_with_coordtransform_within_1cm():
    lon, lat = china_points()
    glon, glat = crs.from_wgs84_array(lon, lat, "gcj02")
    blon, blat = crs.from_wgs84_array(lon, lat, "bd09")
    ref_g = np.array([ref_wgs84_to_gcj02(x, y) for x, y in zip(lon, lat)])
    ref_b = np.array([ref_wgs84_to_bd09(x, y) for x, y in zip(lon, lat)])
    assert metres(glon, glat, ref_g[:, 0], ref_g[:, 1]).max() < 0.01
    assert metres(blon, blat, ref_b[:, 0], ref_b[:, 1]).max() < 0.01
    # The offsets are real (tens to hundreds of metres), not zero.
    assert metres(lon, lat, glon, glat).min() > 10


def test_inverses_agree_with_prcoords_exact_within_2cm():
    lon, lat = china_points(seed=11)
    glon, glat = crs.from_wgs84_array(lon, lat, "gcj02")
    blon, blat = crs.from_wgs84_array(lon, lat, "bd09")
    ours_g = crs.to_wgs84_array(glon, glat, "gcj02")
    ours_b = crs.to_wgs84_array(blon, blat, "bd09")
    ref_g = np.array([prcoords.gcj_wgs_bored(prcoords.Coords(y, x)) for x, y in zip(glon, glat)])
    ref_b = np.array([prcoords.bd_wgs_bored(prcoords.Coords(y, x)) for x, y in zip(blon, blat)])
    assert metres(*ours_g, ref_g[:, 1], ref_g[:, 0]).max() < 0.02
    assert metres(*ours_b, ref_b[:, 1], ref_b[:, 0]).max() < 0.02


def test_known_point_matches_the_published_example():
    assert crs.from_wgs84(116.397, 39.908, "gcj02") == pytest.approx(
        (116.40324338, 39.90940335), abs=1e-8
    )
    assert crs.from_wgs84(116.397, 39.908, "bd09") == pytest.approx(
        (116.40961643, 39.91574447), abs=1e-8
    )


def test_points_outside_china_are_not_offset_by_gcj02():
    assert crs.from_wgs84(2.35, 48.85, "gcj02") == (2.35, 48.85)
    assert crs.to_wgs84(139.7, 35.7, "gcj02") == (139.7, 35.7)


mainland_lon = st.floats(min_value=74.0, max_value=134.5, allow_nan=False)
mainland_lat = st.floats(min_value=18.0, max_value=53.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(mainland_lon, mainland_lat, st.sampled_from(["gcj02", "bd09", "EPSG:3857"]))
def test_round_trip_through_offset_and_mercator_is_within_half_a_metre(lon, lat, code):
    x, y = crs.from_wgs84(lon, lat, code)
    back = crs.to_wgs84(x, y, code)
    assert metres(lon, lat, *back) < 0.5
    assert metres(lon, lat, *back) < 0.005  # in practice: millimetres


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=115.5, max_value=118.5),
    st.floats(min_value=23.0, max_value=49.0),
    st.sampled_from(["EPSG:4548", "EPSG:4527", "EPSG:4498", "EPSG:4509"]),
)
def test_round_trip_through_gauss_kruger_zones_is_within_half_a_metre(lon, lat, code):
    x, y = crs.from_wgs84(lon, lat, code)
    assert metres(lon, lat, *crs.to_wgs84(x, y, code)) < 0.5


def test_points_outside_a_projected_crs_area_of_use_are_refused():
    with pytest.raises(BadInput):
        crs.from_wgs84(100.0, 30.0, "EPSG:4548")  # 17 degrees west of the zone's meridian
    with pytest.raises(BadInput):
        crs.from_wgs84(0.0, 89.0, "EPSG:3857")


def test_gauss_kruger_zone_prefix_and_central_meridian():
    # 3-degree zone 39 (CM 117E): 4527 writes the zone number before the easting, 4548 does not.
    assert crs.from_wgs84(117.0, 30.0, "EPSG:4548")[0] == pytest.approx(500000.0, abs=1e-3)
    assert crs.from_wgs84(117.0, 30.0, "EPSG:4527")[0] == pytest.approx(39500000.0, abs=1e-3)
    # 6-degree zone 20 (CM 117E): 4498 with the prefix, 4509 without.
    assert crs.from_wgs84(117.0, 30.0, "EPSG:4498")[0] == pytest.approx(20500000.0, abs=1e-3)
    assert crs.to_wgs84(20500000.0, 3320000.0, "EPSG:4498")[0] == pytest.approx(117.0)


@pytest.mark.parametrize(
    "x,y,code,field",
    [
        (float("nan"), 30.0, None, "lon"),
        (120.0, float("inf"), None, "lat"),
        ("abc", 30.0, None, "lon"),
        (181.0, 30.0, None, "lon"),
        (120.0, -90.5, "gcj02", "lat"),
        (120.0, 30.0, "EPSG:3857", None),  # fine: metres near Null Island
        (0.0, 1e9, "EPSG:3857", "lon"),  # beyond the Mercator square
        (1e12, 1e12, "EPSG:4548", "lon"),
    ],
)
def test_bad_points_are_bad_input(x, y, code, field):
    if field is None:
        lon, lat = crs.to_wgs84(x, y, code)
        assert abs(lon) <= 180 and abs(lat) <= 90
        return
    with pytest.raises(BadInput) as err:
        crs.to_wgs84(x, y, code)
    assert err.value.field == field


def test_array_conversion_marks_bad_rows_nan_and_keeps_the_rest():
    x = np.array([116.4, np.nan, 500.0, 117.0])
    y = np.array([39.9, 39.9, 39.9, 95.0])
    lon, lat = crs.to_wgs84_array(x, y, "gcj02")
    assert crs.valid_lonlat(lon, lat).tolist() == [True, False, False, False]
    assert math.isclose(crs.from_wgs84(lon[0], lat[0], "gcj02")[0], 116.4, abs_tol=1e-9)


def test_array_conversion_of_a_million_points_is_fast():
    import time

    lon, lat = np.full(1_000_000, 116.4), np.full(1_000_000, 39.9)
    started = time.perf_counter()
    out_lon, _ = crs.to_wgs84_array(*crs.from_wgs84_array(lon, lat, "gcj02"), "gcj02")
    assert time.perf_counter() - started < 10
    assert np.abs(out_lon - 116.4).max() < 1e-8


any_number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e8, max_value=1e8),
    st.text(max_size=8),
)
any_crs = st.sampled_from(
    ["EPSG:4326", "EPSG:4490", "EPSG:3857", "EPSG:4491", "EPSG:4527", "EPSG:4548", "gcj02", "bd09"]
)


@settings(max_examples=400, deadline=None)
@given(any_number, any_number, any_crs)
def test_to_wgs84_gives_a_valid_point_or_bad_input_and_nothing_else(x, y, code):
    try:
        lon, lat = crs.to_wgs84(x, y, code)
    except BadInput as err:
        assert err.field in ("lon", "lat")
        return
    assert math.isfinite(lon) and math.isfinite(lat)
    assert -180 <= lon <= 180 and -90 <= lat <= 90
