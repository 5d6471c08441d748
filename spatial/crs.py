"""The one coordinate conversion module: parse a `crs` parameter and convert to and from WGS84.

Accepted reference systems:

* ``EPSG:4326`` (WGS84, the storage CRS and the default);
* ``EPSG:4490`` (CGCS2000 geographic). It is treated as equal to 4326: the two datums differ by
  a few centimetres (well under a metre) at the ITRF epochs in use, below what GPS phones and
  the base maps resolve, and PROJ itself maps 4490 to 4326 with a null transformation;
* ``EPSG:3857`` (Web Mercator);
* every CGCS2000 Gauss–Krüger projected CRS, EPSG 4491–4554: 6° zones 13–23 with the zone number
  prefixed to the easting (4491–4501) or not (4502–4512), and 3° zones 25–45 with prefix
  (4513–4533) or without (4534–4554);
* ``gcj02`` (国测局坐标, "Mars coordinates" used by Amap and Tencent) and ``bd09`` (百度坐标,
  Baidu), implemented from the public formulas (Krasovsky ellipsoid).

Codes are case-insensitive; ``4326`` and ``epsg:4326`` mean ``EPSG:4326``.

GCJ-02 offsets only points inside the usual "out of China" box (lon 73.66–135.05,
lat 3.86–53.55); BD-09 adds its own rotation/offset on top of GCJ-02 everywhere, exactly as the
widely used reference implementations do (coordtransform, prcoords). Inverses are iterative
(fixed point on the forward formula) and converge to below 1e-10 degrees, so round trips are
within a millimetre.

Scalar functions (`to_wgs84`, `from_wgs84`) validate and raise `BadInput`; the array variants
(`to_wgs84_array`, `from_wgs84_array`) never raise for bad rows, they return NaN there, and
`valid_lonlat` tells callers (importers) which rows survived.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import Transformer

from core.errors import BadInput

WGS84 = 4326
CGCS2000 = 4490
WEB_MERCATOR = 3857
GAUSS_KRUGER_RANGE = range(4491, 4555)

# Metres per degree on the WGS84 spheroid: of latitude at its shortest (at the equator) and of
# longitude at the equator (a degree of longitude shrinks with cos(lat)). Good to <1% anywhere,
# which is what search boxes and local plane frames need; exact distances use geography.
METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0

ACCEPTED = (
    "EPSG:4326 (default), EPSG:4490, EPSG:3857, a CGCS2000 Gauss-Kruger code EPSG:4491-4554, "
    "gcj02 or bd09"
)

# The `crs` query parameter as the OpenAPI document states it: what `parse_crs` accepts (any
# case; empty is the default).
CRS_PARAMETER_SCHEMA = {
    "type": "string",
    "pattern": r"^(([Ee][Pp][Ss][Gg]:)?(4326|4490|3857|449[1-9]|45[0-4][0-9]|455[0-4])"
    r"|[Gg][Cc][Jj](-?02)?|[Bb][Dd]-?09|[Bb][Dd]09[Ll][Ll])?$",
}

# GCJ-02 / BD-09 constants of the public formulas.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_CHINA_BOX = (73.66, 135.05, 3.86, 53.55)  # lon_min, lon_max, lat_min, lat_max (exclusive)
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_STEPS = 30

_ALIASES = {
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
}
_EPSG_RE = re.compile(r"(?:epsg:)?([0-9]{4,5})")


@dataclass(frozen=True)
class Crs:
    """A parsed reference system: `kind` is "wgs84", "epsg", "gcj02" or "bd09"."""

    kind: str
    epsg: int | None = None

    @property
    def label(self) -> str:
        """The canonical spelling, e.g. ``EPSG:4548`` or ``gcj02``."""
        return f"EPSG:{self.epsg}" if self.epsg is not None else self.kind

    @property
    def is_geographic(self) -> bool:
        """Whether coordinates are longitude/latitude in degrees."""
        return self.kind != "epsg" or self.epsg in (WGS84, CGCS2000)


DEFAULT_CRS = Crs("wgs84", WGS84)


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Gives (metres per degree of longitude, metres per degree of latitude) at latitude `lat`."""
    cos_lat = max(math.cos(math.radians(min(abs(lat), 89.0))), 0.01)
    return METRES_PER_DEGREE_LON_EQUATOR * cos_lat, METRES_PER_DEGREE_LAT


def degrees_covering(metres: float, lat: float) -> tuple[float, float]:
    """Gives (dlon, dlat) in degrees that cover at least `metres` around latitude `lat`: the
    half-size of a search box for `geom && box` before an exact metric test."""
    per_lon, per_lat = metres_per_degree(lat)
    margin = 1.01  # the spheroid's metres per degree vary by <1% around these constants
    return metres / per_lon * margin + 1e-9, metres / per_lat * margin + 1e-9


def parse_crs(value: str | int | Crs | None, field: str = "crs") -> Crs:
    """Gives the `Crs` a caller's ``crs`` value names; `BadInput` naming what is accepted."""
    if value is None or value == "":
        return DEFAULT_CRS
    if isinstance(value, Crs):
        return value
    return _parse_crs_text(str(value).strip().lower(), field)


@lru_cache(maxsize=256)
def _parse_crs_text(text: str, field: str) -> Crs:
    if text in _ALIASES:
        return Crs(_ALIASES[text])
    match = _EPSG_RE.fullmatch(text)
    if match:
        code = int(match.group(1))
        if code in (WGS84, CGCS2000):
            return Crs("wgs84", code)
        if code == WEB_MERCATOR or code in GAUSS_KRUGER_RANGE:
            return Crs("epsg", code)
    raise BadInput(f"unsupported crs {text[:40]!r}; accepted: {ACCEPTED}", field=field)


@lru_cache(maxsize=128)
def _transformer(epsg: int, inverse: bool) -> Transformer:
    """A cached pyproj transformer between `epsg` and WGS84 (x = easting/lon first)."""
    if inverse:
        return Transformer.from_crs(WGS84, epsg, always_xy=True)
    return Transformer.from_crs(epsg, WGS84, always_xy=True)


AREA_OF_USE_MARGIN_DEG = 1.0


@lru_cache(maxsize=128)
def _area_of_use(epsg: int) -> tuple[float, float, float, float]:
    """The (west, south, east, north) degrees where `epsg` is meant to be used, widened by
    `AREA_OF_USE_MARGIN_DEG`: a Gauss-Kruger easting far outside its zone, or a Mercator
    northing beyond the square, converts to numbers that mean nothing."""
    from pyproj import CRS

    area = CRS.from_epsg(epsg).area_of_use
    m = AREA_OF_USE_MARGIN_DEG
    return area.west - m, area.south - m, area.east + m, area.north + m


# --- GCJ-02 and BD-09, vectorised -------------------------------------------------------------


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_min, lon_max, lat_min, lat_max = _CHINA_BOX
    return (lon > lon_min) & (lon < lon_max) & (lat > lat_min) & (lat < lat_max)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (degrees) at WGS84 points, zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrtmagic * np.cos(radlat) * pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02_array(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives GCJ-02 (火星坐标) coordinates of WGS84 points."""
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_bd09_array(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives BD-09 coordinates of GCJ-02 points (Baidu's public formula)."""
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one-step (approximate, ~1e-7 degrees) BD-09 to GCJ-02 formula; a starting guess."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09_array(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives BD-09 (百度坐标) coordinates of WGS84 points."""
    return gcj02_to_bd09_array(*wgs84_to_gcj02_array(lon, lat))


def _invert(forward, target_lon, target_lat, guess_lon, guess_lat):
    """Solves forward(p) = target by fixed-point iteration from a guess (the offsets' Jacobian
    is within 1e-4 of the identity, so each step gains about four digits)."""
    lon, lat = guess_lon.copy(), guess_lat.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        flon, flat = forward(lon, lat)
        elon, elat = flon - target_lon, flat - target_lat
        lon -= elon
        lat -= elat
        worst = np.nanmax(np.maximum(np.abs(elon), np.abs(elat)), initial=0.0)
        if not worst > _INVERSE_TOLERANCE_DEG:
            break
    return lon, lat


def gcj02_to_wgs84_array(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives WGS84 coordinates of GCJ-02 points (iterative exact inverse)."""
    dlon, dlat = _gcj_delta(lon, lat)
    return _invert(wgs84_to_gcj02_array, lon, lat, lon - dlon, lat - dlat)


def bd09_to_wgs84_array(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gives WGS84 coordinates of BD-09 points (iterative exact inverse)."""
    glon, glat = _bd09_to_gcj02_approx(lon, lat)
    dlon, dlat = _gcj_delta(glon, glat)
    return _invert(wgs84_to_bd09_array, lon, lat, glon - dlon, glat - dlat)


# --- public conversions ---------------------------------------------------------------------


def _as_float_arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def valid_lonlat(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Gives a boolean mask of points that are finite and within lon ±180, lat ±90."""
    lon, lat = _as_float_arrays(lon, lat)
    with np.errstate(invalid="ignore"):
        return np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)


def to_wgs84_array(x, y, crs: str | Crs | None) -> tuple[np.ndarray, np.ndarray]:
    """Gives WGS84 lon/lat arrays for coordinate arrays in `crs`; rows that cannot be converted,
    fall outside lon ±180 / lat ±90 or outside a projected CRS's area of use come back as NaN
    (see `valid_lonlat`)."""
    parsed = parse_crs(crs)
    x, y = _as_float_arrays(x, y)
    with np.errstate(invalid="ignore", over="ignore"):
        if parsed.kind == "wgs84":
            lon, lat = x.copy(), y.copy()
        elif parsed.kind == "gcj02":
            lon, lat = gcj02_to_wgs84_array(x, y)
        elif parsed.kind == "bd09":
            lon, lat = bd09_to_wgs84_array(x, y)
        else:
            lon, lat = _transformer(parsed.epsg, False).transform(x, y, errcheck=False)
            lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    bad = ~valid_lonlat(lon, lat)
    if parsed.kind == "epsg":
        west, south, east, north = _area_of_use(parsed.epsg)
        with np.errstate(invalid="ignore"):
            bad |= (lon < west) | (lon > east) | (lat < south) | (lat > north)
    if bad.any():
        lon, lat = np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)
    return lon, lat


def from_wgs84_array(lon, lat, crs: str | Crs | None) -> tuple[np.ndarray, np.ndarray]:
    """Gives coordinate arrays in `crs` for WGS84 lon/lat arrays (NaN where not convertible or
    outside a projected CRS's area of use)."""
    parsed = parse_crs(crs)
    lon, lat = _as_float_arrays(lon, lat)
    ok = valid_lonlat(lon, lat)
    if parsed.kind == "epsg":
        west, south, east, north = _area_of_use(parsed.epsg)
        with np.errstate(invalid="ignore"):
            ok &= (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    lon, lat = np.where(ok, lon, np.nan), np.where(ok, lat, np.nan)
    with np.errstate(invalid="ignore", over="ignore"):
        if parsed.kind == "wgs84":
            return lon, lat
        if parsed.kind == "gcj02":
            return wgs84_to_gcj02_array(lon, lat)
        if parsed.kind == "bd09":
            return wgs84_to_bd09_array(lon, lat)
        x, y = _transformer(parsed.epsg, True).transform(lon, lat, errcheck=False)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    return np.where(bad, np.nan, x), np.where(bad, np.nan, y)


def _finite(value: float, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{field} must be a number", field=field) from None
    if not math.isfinite(number):
        raise BadInput(f"{field} must be a finite number", field=field)
    return number


def to_wgs84(
    x: float, y: float, crs: str | Crs | None = None, fields: tuple[str, str] = ("lon", "lat")
) -> tuple[float, float]:
    """Gives (lon, lat) in WGS84 for a point in `crs`; `BadInput` (naming `fields`) if the input
    is not finite or the result is not a valid longitude/latitude."""
    parsed = parse_crs(crs)
    x, y = _finite(x, fields[0]), _finite(y, fields[1])
    if parsed.is_geographic or parsed.kind in ("gcj02", "bd09"):
        if abs(x) > 180.0:
            raise BadInput(f"{fields[0]} must be within -180..180", field=fields[0])
        if abs(y) > 90.0:
            raise BadInput(f"{fields[1]} must be within -90..90", field=fields[1])
        if parsed.kind == "wgs84":  # checked above: nothing to convert
            return x, y
    lon, lat = to_wgs84_array(np.array([x]), np.array([y]), parsed)
    if not (math.isfinite(lon[0]) and math.isfinite(lat[0])):
        raise BadInput(
            f"point ({x}, {y}) is outside the valid area of {parsed.label}", field=fields[0]
        )
    return float(lon[0]), float(lat[0])


def from_wgs84(lon: float, lat: float, crs: str | Crs | None = None) -> tuple[float, float]:
    """Gives (x, y) in `crs` for a WGS84 point; `BadInput` if lon/lat are out of range."""
    parsed = parse_crs(crs)
    lon, lat = _finite(lon, "lon"), _finite(lat, "lat")
    if abs(lon) > 180.0:
        raise BadInput("lon must be within -180..180", field="lon")
    if abs(lat) > 90.0:
        raise BadInput("lat must be within -90..90", field="lat")
    x, y = from_wgs84_array(np.array([lon]), np.array([lat]), parsed)
    if not (math.isfinite(x[0]) and math.isfinite(y[0])):
        raise BadInput(f"point ({lon}, {lat}) has no coordinates in {parsed.label}", field="lon")
    return float(x[0]), float(y[0])
