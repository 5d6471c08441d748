"""The line–point model (线-点): door numbers along an oriented road centreline, odd and even
numbers on their own sides; a number with no door point is interpolated between its
neighbours of the same parity and side, and placed off the centreline on that side.

Range ends: a number beyond the last (or before the first) door of its side is extrapolated
with the spacing of the two nearest doors of that side, then clamped to the road's ends
(measure 0..1), and reported with `extrapolated=True`.

Geometry here is plane arithmetic in a local equirectangular metric frame around the road
(error < 0.1 % over a city), so it is pure and property-testable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from spatial.crs import metres_per_degree

DEFAULT_OFFSET_M = 12.0


@dataclass(frozen=True)
class DoorMark:
    number: int
    measure: float
    lon: float
    lat: float


@dataclass(frozen=True)
class Placed:
    lon: float
    lat: float
    measure: float
    extrapolated: bool


class LocalFrame:
    """Metres east/north of an origin, for lon/lat near it."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.kx, self.ky = metres_per_degree(lat0)

    def to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return self.lon0 + x / self.kx, self.lat0 + y / self.ky


def side_for(number: int, odd_side: str) -> str:
    """Gives the side ('left' or 'right', looking along the road) carrying `number`."""
    if number % 2 == 1:
        return odd_side
    return "right" if odd_side == "left" else "left"


def measure_for(number: int, marks: list[DoorMark]) -> tuple[float, bool] | None:
    """Gives (measure, extrapolated) for `number` from door marks of its own side, or None.

    `marks` must be non-empty to interpolate; with one mark the number sits at that mark.
    """
    marks = sorted(marks, key=lambda m: m.number)
    if not marks:
        return None
    below = [m for m in marks if m.number <= number]
    above = [m for m in marks if m.number >= number]
    if below and above:
        a, b = below[-1], above[0]
        if a.number == b.number:
            return a.measure, False
        t = (number - a.number) / (b.number - a.number)
        return a.measure + t * (b.measure - a.measure), False
    if len(marks) == 1:
        return marks[0].measure, True
    a, b = (marks[-2], marks[-1]) if below else (marks[0], marks[1])
    slope = (b.measure - a.measure) / (b.number - a.number) if b.number != a.number else 0.0
    anchor = b if below else a
    m = anchor.measure + (number - anchor.number) * slope
    return min(1.0, max(0.0, m)), True


class RoadGeometry:
    """A road centreline in a local metric frame, with point-at-measure and offsets."""

    def __init__(self, coords: list[tuple[float, float]]) -> None:
        self.frame = LocalFrame(*coords[0])
        self.xy = [self.frame.to_xy(lon, lat) for lon, lat in coords]
        self.cum = [0.0]
        for (x0, y0), (x1, y1) in zip(self.xy, self.xy[1:]):
            self.cum.append(self.cum[-1] + math.hypot(x1 - x0, y1 - y0))
        self.length = self.cum[-1]

    def at(self, measure: float) -> tuple[float, float, float, float]:
        """Gives (x, y, ux, uy): the point at `measure` (0..1) and the unit direction there."""
        d = min(max(measure, 0.0), 1.0) * self.length
        for k in range(1, len(self.xy)):
            if self.cum[k] >= d or k == len(self.xy) - 1:
                (x0, y0), (x1, y1) = self.xy[k - 1], self.xy[k]
                seg = self.cum[k] - self.cum[k - 1]
                t = (d - self.cum[k - 1]) / seg if seg > 0 else 0.0
                ux, uy = ((x1 - x0) / seg, (y1 - y0) / seg) if seg > 0 else (1.0, 0.0)
                return x0 + t * (x1 - x0), y0 + t * (y1 - y0), ux, uy
        raise ValueError("empty road")

    def offset_point(self, measure: float, side: str, offset_m: float) -> tuple[float, float]:
        """Gives lon/lat `offset_m` metres to `side` of the centreline at `measure`."""
        x, y, ux, uy = self.at(measure)
        nx, ny = (-uy, ux) if side == "left" else (uy, -ux)
        return self.frame.to_lonlat(x + nx * offset_m, y + ny * offset_m)

    def distance_to(self, lon: float, lat: float) -> float:
        """Gives the distance in metres from a point to the centreline."""
        px, py = self.frame.to_xy(lon, lat)
        best = math.inf
        for (x0, y0), (x1, y1) in zip(self.xy, self.xy[1:]):
            dx, dy = x1 - x0, y1 - y0
            seg2 = dx * dx + dy * dy
            t = 0.0 if seg2 == 0 else max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / seg2))
            best = min(best, math.hypot(px - x0 - t * dx, py - y0 - t * dy))
        return best


def interpolate(
    coords: list[tuple[float, float]], number: int, odd_side: str, marks: list[DoorMark]
) -> Placed | None:
    """Gives the interpolated point of door `number` from same-side marks, or None if the road
    has no door on that side to lean on."""
    if not marks:
        return None
    found = measure_for(number, marks)
    if found is None:
        return None
    measure, extrapolated = found
    road = RoadGeometry(coords)
    near = sorted(marks, key=lambda m: abs(m.number - number))[:2]
    offsets = [road.distance_to(m.lon, m.lat) for m in near]
    offset = sum(offsets) / len(offsets) if offsets else DEFAULT_OFFSET_M
    lon, lat = road.offset_point(measure, side_for(number, odd_side), offset)
    return Placed(lon, lat, measure, extrapolated)
