"""core.params: query text in, typed values or one `BadInput` naming the field out.

Expectations are written out here or computed with the standard library (float's repr,
datetime.isoformat, plain comparisons), never with the parser under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from hypothesis import assume, given
from hypothesis import strategies as st
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core import params
from core.errors import BadInput

SHANGHAI = ZoneInfo("Asia/Shanghai")


def q(text: str = "") -> QueryDict:
    return QueryDict(text)


def refused(call, field: str) -> str:
    """Runs `call`, expecting a `BadInput` for `field`; gives its message."""
    with pytest.raises(BadInput) as raised:
        call()
    assert raised.value.field == field
    assert raised.value.message
    return raised.value.message


# --- where the text comes from ----------------------------------------------------------------


def test_reads_django_querydicts_drf_query_params_and_plain_mappings():
    drf = Request(APIRequestFactory().get("/x", {"lon": "121.5", "lat": "31.25"})).query_params
    for query in (q("lon=121.5&lat=31.25"), drf, {"lon": "121.5", "lat": "31.25"}):
        assert params.point(query) == (121.5, 31.25, None)


def test_a_repeated_parameter_reads_its_last_value_as_django_does():
    assert params.integer(q("limit=3&limit=7"), "limit") == 7


# --- absent, blank, given ---------------------------------------------------------------------


def test_without_a_default_a_parameter_is_required():
    assert "required" in refused(lambda: params.number(q(), "lon"), "lon")
    assert "required" in refused(lambda: params.number(q("lon="), "lon"), "lon")
    assert "required" in refused(lambda: params.number(q("lon=%20%20"), "lon"), "lon")
    assert "required" in refused(lambda: params.text(q("q="), "q"), "q")


def test_an_absent_parameter_gives_its_default_as_is():
    assert params.integer(q(), "limit", 5) == 5
    assert params.number(q(), "zoom", 16.0) == 16.0
    assert params.bbox(q(), "bbox", None) is None
    assert params.interval(q(), "datetime", None) is None
    assert params.names(q(), "layers", []) == []


def test_a_given_empty_value_is_refused_not_defaulted():
    for call, field in (
        (lambda: params.integer(q("limit="), "limit", 5), "limit"),
        (lambda: params.number(q("zoom="), "zoom", 16.0), "zoom"),
        (lambda: params.bbox(q("bbox="), "bbox", None), "bbox"),
        (lambda: params.interval(q("datetime="), "datetime", None), "datetime"),
        (lambda: params.boolean(q("details="), "details", False), "details"),
        (lambda: params.choice(q("f="), "f", ["json"], None), "f"),
    ):
        refused(call, field)


def test_optional_text_is_given_as_is():
    assert params.text(q("within="), "within", None) == ""
    assert params.text(q("q=%20a%20"), "q") == " a "
    assert "longer than 3" in refused(lambda: params.text(q("q=abcd"), "q", max_length=3), "q")


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given,expected",
    [("7", 7), ("+7", 7), ("-7", -7), (" 7 ", 7), ("007", 7), ("0" * 30 + "5", 5)],
)
def test_integers(given, expected):
    assert params.integer({"n": given}, "n") == expected


@pytest.mark.parametrize("given", ["1_000", "٣", "３", "0x10", "1e3", "1.0", "--1", "seven"])
def test_integers_are_plain_ascii_decimals(given):
    refused(lambda: params.integer({"n": given}, "n"), "n")


@pytest.mark.parametrize("given", ["9223372036854775808", "-9223372036854775809", "9" * 5000])
def test_integers_outside_bigint_are_refused_not_overflowed(given):
    refused(lambda: params.integer({"offset": given}, "offset", 0, low=0), "offset")


def test_integer_bounds_and_clamping():
    assert params.integer({"n": "9223372036854775807"}, "n") == 2**63 - 1
    assert "within 1..20" in refused(lambda: params.integer({"n": "0"}, "n", low=1, high=20), "n")
    assert "within 1..20" in refused(lambda: params.integer({"n": "21"}, "n", low=1, high=20), "n")
    assert params.integer({"n": "999999"}, "n", low=1, high=20, clamp=True) == 20
    assert params.integer({"n": "9" * 40}, "n", low=1, high=20, clamp=True) == 20
    refused(lambda: params.integer({"n": "0"}, "n", low=1, high=20, clamp=True), "n")


@pytest.mark.parametrize(
    "given,expected", [("1", 1.0), ("-1.5", -1.5), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0)]
)
def test_numbers(given, expected):
    assert params.number({"x": given}, "x") == expected


@pytest.mark.parametrize(
    "given", ["nan", "NaN", "inf", "-Infinity", "1e999", "-1e400", "1_0", "１", "0x1p3", "abc"]
)
def test_numbers_are_finite_ascii_decimals(given):
    refused(lambda: params.number({"x": given}, "x"), "x")


def test_number_bounds():
    assert params.number({"x": "100"}, "x", low=0, high=100) == 100.0
    refused(lambda: params.number({"x": "100.0001"}, "x", low=0, high=100), "x")
    refused(lambda: params.number({"x": "-0.1"}, "x", low=0), "x")


def test_zoom_is_a_float_or_a_whole_tile_zoom_within_range():
    assert params.zoom({"zoom": "15.5"}) == 15.5
    refused(lambda: params.zoom({"zoom": "24.5"}), "zoom")
    assert params.zoom({"z": "3"}, "z", whole=True) == 3
    refused(lambda: params.zoom({"z": "3.5"}, "z", whole=True), "z")
    refused(lambda: params.zoom({"z": "-1"}, "z", whole=True), "z")
    refused(lambda: params.zoom({"z": "23"}, "z", whole=True, max_zoom=22), "z")
    refused(lambda: params.zoom({"z": "9" * 20}, "z", whole=True), "z")


# --- choices, booleans, lists, points ---------------------------------------------------------


def test_choices_booleans_and_lists():
    assert params.choice({"v": "dark"}, "v", ("dark", "light"), "light") == "dark"
    assert params.choice({}, "v", ("dark", "light"), "light") == "light"
    assert "dark, light" in refused(
        lambda: params.choice({"v": "Dark"}, "v", ("dark", "light")), "v"
    )
    for word, value in (
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("0", False),
        ("false", False),
    ):
        assert params.boolean({"b": word}, "b") is value
    refused(lambda: params.boolean({"b": "yes please"}, "b"), "b")
    assert params.names({"layers": " a, b,,c ,"}, "layers") == ["a", "b", "c"]
    assert "required" in refused(lambda: params.names({"layers": " , "}, "layers"), "layers")


def test_a_point_keeps_its_crs_text_for_the_view_to_resolve():
    assert params.point({"lon": "500000", "lat": "3400000", "crs": "EPSG:4547"}) == (
        500000.0,
        3400000.0,
        "EPSG:4547",
    )
    refused(lambda: params.point({"lat": "31"}), "lon")
    refused(lambda: params.point({"lon": "121", "lat": "inf"}), "lat")


# --- bbox -------------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
latitude = st.floats(min_value=-90, max_value=90)
NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e400"]


def _joined(*values) -> str:
    return ",".join(repr(v) if isinstance(v, float) else v for v in values)


@given(finite, finite, finite, finite)
def test_bbox_accepts_exactly_the_ordered_boxes_with_valid_latitudes(a, b, c, d):
    text = _joined(a, b, c, d)
    acceptable = a <= c and b <= d and -90 <= b <= 90 and -90 <= d <= 90
    if acceptable:
        assert params.bbox({"bbox": text}) == (a, b, c, d)
    else:
        refused(lambda: params.bbox({"bbox": text}), "bbox")


@given(finite, latitude, finite, latitude)
def test_bbox_round_trips_ordered_boxes(x0, y0, x1, y1):
    (minx, maxx), (miny, maxy) = sorted((x0, x1)), sorted((y0, y1))
    box = params.bbox({"bbox": _joined(minx, miny, maxx, maxy)})
    assert (box.minx, box.miny, box.maxx, box.maxy) == (minx, miny, maxx, maxy)
    spaced = " , ".join(repr(v) for v in (minx, miny, maxx, maxy))
    assert params.bbox({"bbox": f" {spaced} "}) == (minx, miny, maxx, maxy)


@given(finite, latitude, finite, latitude, finite, finite)
def test_bbox_of_six_numbers_drops_the_heights(x0, y0, x1, y1, z0, z1):
    (minx, maxx), (miny, maxy) = sorted((x0, x1)), sorted((y0, y1))
    text = _joined(minx, miny, z0, maxx, maxy, z1)
    assert params.bbox({"bbox": text}) == (minx, miny, maxx, maxy)


@given(
    st.lists(latitude, min_size=4, max_size=4),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(NON_FINITE),
)
def test_bbox_refuses_any_non_finite_number(values, at, bad):
    parts = [repr(v) for v in values]
    parts[at] = bad
    refused(lambda: params.bbox({"within": ",".join(parts)}, "within"), "within")


@pytest.mark.parametrize(
    "text", ["1,2,3", "1,2,3,4,5", "1,2,3,4,5,6,7", "a,b,c,d", "1;2;3;4", "1,2,,4", "1 2 3 4"]
)
def test_bbox_refuses_other_shapes(text):
    refused(lambda: params.bbox({"bbox": text}), "bbox")


def test_bbox_allows_degenerate_boxes_and_refuses_reversed_ones():
    assert params.bbox({"bbox": "1,2,1,2"}) == (1.0, 2.0, 1.0, 2.0)
    refused(lambda: params.bbox({"bbox": "3,2,1,4"}), "bbox")  # minlon > maxlon
    refused(lambda: params.bbox({"bbox": "1,4,3,2"}), "bbox")  # minlat > maxlat
    refused(lambda: params.bbox({"bbox": "1,-91,3,2"}), "bbox")


# --- datetime ---------------------------------------------------------------------------------

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# Away from years 1 and 9999, where a UTC or Beijing reading would leave the calendar.
aware = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9000, 12, 31), timezones=offsets
)
naive = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9000, 12, 31))


@given(aware)
def test_an_rfc3339_instant_round_trips(moment):
    parsed = params.instant({"at": moment.isoformat()}, "at")
    assert parsed == moment and parsed.utcoffset() == moment.utcoffset()
    as_z = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert params.instant({"at": as_z}, "at") == moment


@given(naive, st.sampled_from([UTC, SHANGHAI]))
def test_a_time_without_offset_is_read_in_the_given_zone(moment, zone):
    parsed = params.instant({"at": moment.isoformat()}, "at", naive_tz=zone)
    assert parsed == moment.replace(tzinfo=zone)


@given(aware)
def test_a_plus_that_url_decoding_turned_into_a_space_still_counts(moment):
    assume(moment.utcoffset() >= timedelta(0))
    text = moment.isoformat().replace("+", " ")
    assert params.instant({"at": text}, "at") == moment


def test_instant_forms_and_defaults():
    at = params.instant({"at": "2026-03-02T23:00"}, "at")
    assert at == datetime(2026, 3, 2, 23, 0, tzinfo=SHANGHAI)  # settings.TIME_ZONE
    assert params.instant({"at": "2026-03-02"}, "at", naive_tz=UTC) == datetime(
        2026, 3, 2, tzinfo=UTC
    )
    assert params.instant({"at": "2026-03-02t23:00:00.1234567z"}, "at") == datetime(
        2026, 3, 2, 23, 0, 0, 123456, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "tomorrow",
        "2026-13-01T00:00:00Z",
        "2026-02-30",
        "2026-03-02T24:00:00Z",
        "2026-03-02T23:60Z",
        "2026-3-2T23:00Z",
        "20260302T230000Z",
        "2026-03-02T23:00:00+24:00",
        "0001-01-01T00:00:00+08:00",
        "9999-12-31T23:59:59-08:00",
        "２０２６-03-02",
    ],
)
def test_instants_that_are_refused(text):
    refused(lambda: params.instant({"at": text}, "at"), "at")


@given(aware, aware)
def test_an_interval_round_trips_and_must_be_ordered(a, b):
    text = f"{a.isoformat()}/{b.isoformat()}"
    if a <= b:
        assert params.interval({"datetime": text}) == (a, b)
    else:
        assert "after" in refused(lambda: params.interval({"datetime": text}), "datetime")


@given(aware, st.sampled_from(["..", ""]))
def test_an_interval_may_be_open_at_either_end(moment, open_end):
    text = moment.isoformat()
    assert params.interval({"datetime": f"{open_end}/{text}"}) == (None, moment)
    assert params.interval({"datetime": f"{text}/{open_end}"}) == (moment, None)


@given(aware)
def test_an_instant_is_an_interval_of_one_moment(moment):
    assert params.interval({"datetime": moment.isoformat()}) == (moment, moment)


def test_interval_shapes():
    assert params.interval({"datetime": "../.."}) == (None, None)
    day = datetime(2024, 3, 1, tzinfo=UTC)
    assert params.interval({"datetime": "2024-03-01/.."}, naive_tz=UTC) == (day, None)
    for text in ("2024-03-01/2024-04-01/2024-05-01", "yesterday/..", "../tomorrow"):
        refused(lambda text=text: params.interval({"datetime": text}), "datetime")


def test_params_imports_no_project_app():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(params))
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not imported & {"accounts", "cases", "data", "geocoder", "spatial", "tiles", "web"}
