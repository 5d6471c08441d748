"""Playback simplification (pure): the first and last vertex, every stop's ends and every
gap's ends are always kept; kept vertices are a subsequence in time order."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reference import metres
from tracking.playback import build_track

RADIUS_M, STOP_S, GAP_S = 50.0, 180.0, 300.0


@st.composite
def tracks(draw):
    """A random walk near Beijing: steps of 0-60 m every 5-400 s, sometimes standing still."""
    n = draw(st.integers(2, 150))
    lon, lat, t = 116.3, 40.0, 0.0
    points = []
    for _ in range(n):
        points.append((t, lon, lat))
        t += draw(st.floats(5, 400))
        if not draw(st.booleans()):
            lon += draw(st.floats(-0.0007, 0.0007))
            lat += draw(st.floats(-0.0005, 0.0005))
    return points


@settings(max_examples=150, deadline=None)
@given(tracks(), st.floats(3, 20))
def test_simplification_keeps_ends_stops_and_gaps(points, zoom):
    result = build_track(points, zoom, RADIUS_M, STOP_S, GAP_S)
    kept = result.kept
    assert kept[0] == 0 and kept[-1] == len(points) - 1
    assert kept == sorted(set(kept))
    for stop in result.stops:
        assert stop.first in kept and stop.last in kept
        assert stop.duration_s >= STOP_S
        for i in range(stop.first, stop.last + 1):
            assert metres(*points[stop.first][1:], *points[i][1:]) <= RADIUS_M * 1.01
    for gap in result.gaps:
        assert gap.before in kept and gap.after in kept
        assert points[gap.after][0] - points[gap.before][0] > GAP_S
    gaps_found = int(np.sum(np.diff([p[0] for p in points]) > GAP_S))
    assert len(result.gaps) == gaps_found


def test_a_straight_walk_is_two_vertices_at_any_zoom():
    points = [(10.0 * k, 116.3 + 0.0002 * k, 40.0) for k in range(50)]
    for zoom in (5, 12, 18):
        assert build_track(points, zoom, RADIUS_M, STOP_S, GAP_S).kept == [0, 49]


def test_a_corner_is_kept_at_high_zoom_and_dropped_when_below_a_pixel():
    # 1 km east, then 3 m north: a 3 m kink
    points = [(0.0, 116.3, 40.0), (100.0, 116.31, 40.0), (200.0, 116.32, 40.000027)]
    assert build_track(points, 19, RADIUS_M, STOP_S, GAP_S).kept == [0, 1, 2]
    assert build_track(points, 10, RADIUS_M, STOP_S, GAP_S).kept == [0, 2]
