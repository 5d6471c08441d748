"""Playback of a track: stops, signal gaps and a line simplified for a zoom (pure functions).

`build_track(points, zoom, stop_radius_m, stop_min_s, gap_s)` takes plausible fixes in time
order as (epoch, lon, lat) and gives:

- stops (停留): maximal runs of fixes within ``stop_radius_m`` of the run's first fix lasting
  at least ``stop_min_s``;
- gaps (信号中断): consecutive fixes more than ``gap_s`` apart;
- the line: Douglas–Peucker in a local metric plane with a tolerance of about one screen pixel
  at the zoom (a 512-pixel tile's pixel, as the map draws them), run between vertices that are
  always kept — the first and last fix, each stop's first and last fix, each gap's two ends — so
  a stop or a gap is never simplified away and every kept vertex keeps its own time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spatial.crs import metres_per_degree

EARTH_CIRCUMFERENCE_M = 40_075_016.686
TILE_PX = 512


@dataclass(frozen=True)
class Stop:
    first: int
    last: int
    start: float
    end: float
    lon: float
    lat: float

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Gap:
    before: int
    after: int
    start: float
    end: float


@dataclass(frozen=True)
class Track:
    kept: list[int]
    stops: list[Stop]
    gaps: list[Gap]


def tolerance_m(zoom: float, lat: float) -> float:
    """Gives the ground size of one pixel at `zoom` and latitude `lat`, in metres."""
    return EARTH_CIRCUMFERENCE_M * math.cos(math.radians(lat)) / (TILE_PX * 2**zoom)


def find_stops(
    xy: np.ndarray, t: np.ndarray, radius_m: float, min_s: float, gap_s: float = math.inf
) -> list[tuple[int, int]]:
    """Gives (first, last) index pairs of the stops (never across a gap: nobody knows where
    the tracker was meanwhile)."""
    stops = []
    n, i = len(t), 0
    while i < n:
        j = i
        while (
            j + 1 < n and t[j + 1] - t[j] <= gap_s and math.hypot(*(xy[j + 1] - xy[i])) <= radius_m
        ):
            j += 1
        if j > i and t[j] - t[i] >= min_s:
            stops.append((i, j))
            i = j + 1
        else:
            i += 1
    return stops


def _douglas_peucker(xy: np.ndarray, first: int, last: int, tol: float, keep: np.ndarray) -> None:
    stack = [(first, last)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = xy[b] - xy[a]
        pts = xy[a + 1 : b] - xy[a]
        length = math.hypot(*seg)
        if length == 0:
            dist = np.hypot(pts[:, 0], pts[:, 1])
        else:
            dist = np.abs(pts[:, 0] * seg[1] - pts[:, 1] * seg[0]) / length
        k = int(np.argmax(dist))
        if dist[k] > tol:
            mid = a + 1 + k
            keep[mid] = True
            stack.append((a, mid))
            stack.append((mid, b))


def build_track(
    points: list[tuple[float, float, float]],
    zoom: float,
    stop_radius_m: float,
    stop_min_s: float,
    gap_s: float,
) -> Track:
    """Gives the kept vertex indices, stops and gaps of `points` (see the module doc)."""
    if not points:
        return Track([], [], [])
    arr = np.asarray(points, dtype=float)
    t = arr[:, 0]
    lat0 = float(arr[:, 2].mean())
    kx, ky = metres_per_degree(lat0)
    xy = np.column_stack(((arr[:, 1] - arr[0, 1]) * kx, (arr[:, 2] - arr[0, 2]) * ky))
    keep = np.zeros(len(t), dtype=bool)
    keep[0] = keep[-1] = True
    stops = []
    for first, last in find_stops(xy, t, stop_radius_m, stop_min_s, gap_s):
        keep[first] = keep[last] = True
        stops.append(
            Stop(first, last, t[first], t[last], float(arr[first, 1]), float(arr[first, 2]))
        )
    gaps = []
    for i in np.nonzero(np.diff(t) > gap_s)[0].tolist():
        keep[i] = keep[i + 1] = True
        gaps.append(Gap(i, i + 1, t[i], t[i + 1]))
    anchors = np.nonzero(keep)[0].tolist()
    tol = tolerance_m(zoom, lat0)
    for a, b in zip(anchors, anchors[1:]):
        _douglas_peucker(xy, a, b, tol, keep)
    return Track(np.nonzero(keep)[0].tolist(), stops, gaps)
