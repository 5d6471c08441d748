"""Query parameters as typed values: the one parser every view uses (STYLE rule 11).

Each function reads one parameter from a query — Django's `request.GET`, DRF's
`request.query_params`, or any mapping of names to text (tile views pass their path parts) —
and gives a typed value, or raises `BadInput` naming that parameter in `field`.

The same rules hold for every function:

* **No default means required.** ``number(query, "lon")`` answers "lon is required" when the
  parameter is absent or blank; ``number(query, "zoom", 16.0)`` gives 16.0 when it is absent;
  ``number(query, "x", None)`` gives None.
* **Present means given.** An empty value is no number, date, box or choice: ``limit=`` is a
  400, not the default.
* **Numbers are plain ASCII decimals.** Surrounding spaces are dropped; ``1_000``, full-width
  digits, hex, ``nan`` and ``inf`` are refused, and so is a number too large for a float.
* **Integers fit PostgreSQL's bigint** unless narrower bounds are given, so no parsed integer
  can overflow a query.
* **Times are RFC 3339** (``2026-05-01T08:30:00+08:00``), with seconds, the offset or the
  whole time of day optional; a time without an offset is read in `naive_tz`.

Only parsing lives here: what a value means (a CRS code, a layer key) is checked by the service
that knows it. `core` imports no project app.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any, NamedTuple, Protocol, TypeVar

from django.utils import timezone as dj_timezone

from core.errors import BadInput

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_ZOOM",
    "BBox",
    "Interval",
    "Point",
    "Query",
    "bbox",
    "boolean",
    "choice",
    "instant",
    "integer",
    "interval",
    "names",
    "number",
    "point",
    "text",
    "zoom",
]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_ZOOM = 24  # the deepest Web Mercator zoom the map, identify and tiles work to
TRUE, FALSE = ("1", "true"), ("0", "false")
OPEN = ("", "..")  # an open end of a datetime interval (OGC API – Features)


class Query(Protocol):
    """What the parsers read: ``get(name)`` gives the text of a parameter, or None."""

    def get(self, key: str, default: Any = None, /) -> Any: ...


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()  # the default of every parser: the parameter must be given
D = TypeVar("D")


class BBox(NamedTuple):
    """A box ``minx, miny, maxx, maxy`` (a tuple, so it goes wherever a 4-tuple goes)."""

    minx: float
    miny: float
    maxx: float
    maxy: float


class Interval(NamedTuple):
    """A time interval; None is an open end. An instant is an interval with start == end."""

    start: datetime | None
    end: datetime | None


class Point(NamedTuple):
    """A point as the caller gave it: x, y and the raw ``crs`` text (None when absent), for
    the view to convert with `spatial.crs.to_wgs84`."""

    x: float
    y: float
    crs: str | None


# --- the one place that decides absent / blank / given ---------------------------------------


def _given(query: Query, name: str, default: Any) -> str | None:
    """Gives the parameter's text; None when it is absent and has a default; `BadInput` when
    it is required and absent or blank."""
    value = query.get(name)
    if value is None:
        if default is REQUIRED:
            raise BadInput(f"{name} is required", field=name)
        return None
    if default is REQUIRED and not value.strip():
        raise BadInput(f"{name} is required", field=name)
    return value


def _stripped(value: str, name: str) -> str:
    """Gives `value` without surrounding ASCII spaces; `BadInput` when nothing is left."""
    text = value.strip(" \t\r\n")
    if not text:
        raise BadInput(f"{name} is empty: give a value or leave the parameter out", field=name)
    return text


# --- scalars ----------------------------------------------------------------------------------


def text(
    query: Query, name: str, default: D = REQUIRED, *, max_length: int | None = None
) -> str | D:
    """Gives the parameter's text as given (not stripped; an empty value stays empty)."""
    value = _given(query, name, default)
    if value is None:
        return default
    if max_length is not None and len(value) > max_length:
        raise BadInput(f"{name} is longer than {max_length} characters", field=name)
    return value


def choice(query: Query, name: str, choices: Collection[str], default: D = REQUIRED) -> str | D:
    """Gives the parameter if it is one of `choices` (exactly, case included)."""
    value = _given(query, name, default)
    if value is None:
        return default
    if value not in choices:
        raise BadInput(f"{name} must be one of {', '.join(choices)}", field=name)
    return value


def day(query: Query, name: str, default: D = REQUIRED) -> date | D:
    """Gives the parameter as a calendar date, ``YYYY-MM-DD``."""
    value = _given(query, name, default)
    if value is None:
        return default
    try:
        return date.fromisoformat(_stripped(value, name))
    except ValueError:
        raise BadInput(f"{name} must be a date, YYYY-MM-DD", field=name) from None


def boolean(query: Query, name: str, default: D = REQUIRED) -> bool | D:
    """Gives True for ``1``/``true`` and False for ``0``/``false`` (any case)."""
    value = _given(query, name, default)
    if value is None:
        return default
    word = _stripped(value, name).lower()
    if word not in TRUE + FALSE:
        raise BadInput(f"{name} must be 1, 0, true or false", field=name)
    return word in TRUE


_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)


def _finite(text: str) -> float | None:
    """Gives the finite float that `text` writes as a plain decimal, else None."""
    if not _DECIMAL.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _check_range(value: float, name: str, low: float | None, high: float | None) -> None:
    if (low is None or value >= low) and (high is None or value <= high):
        return
    if low is not None and high is not None:
        raise BadInput(f"{name} must be within {low}..{high}", field=name)
    bound = f"at least {low}" if high is None else f"at most {high}"
    raise BadInput(f"{name} must be {bound}", field=name)


def number(
    query: Query,
    name: str,
    default: D = REQUIRED,
    *,
    low: float | None = None,
    high: float | None = None,
) -> float | D:
    """Gives a finite float within low..high (either bound optional)."""
    value = _given(query, name, default)
    if value is None:
        return default
    given = _stripped(value, name)
    parsed = _finite(given)
    if parsed is None:
        raise BadInput(f"{name} must be a finite number, not {given[:40]!r}", field=name)
    _check_range(parsed, name, low, high)
    return parsed


def integer(
    query: Query,
    name: str,
    default: D = REQUIRED,
    *,
    low: int = INT64_MIN,
    high: int = INT64_MAX,
    clamp: bool = False,
) -> int | D:
    """Gives an integer within low..high; with `clamp`, a value above `high` gives `high`
    (OGC API's `limit`: "a larger value SHALL NOT result in an error")."""
    value = _given(query, name, default)
    if value is None:
        return default
    digits = _stripped(value, name)
    if not _INTEGER.fullmatch(digits):
        raise BadInput(f"{name} must be an integer, not {digits[:40]!r}", field=name)
    # Past 19 significant digits a value is outside bigint: no need to convert a huge text.
    huge = len(digits.lstrip("+-").lstrip("0")) > 19
    parsed = (-(10**19) if digits.startswith("-") else 10**19) if huge else int(digits)
    if clamp and parsed > high:
        return high
    _check_range(parsed, name, low, high)
    return parsed


def zoom(
    query: Query,
    name: str = "zoom",
    default: D = REQUIRED,
    *,
    whole: bool = False,
    max_zoom: int = MAX_ZOOM,
) -> float | D:
    """Gives a map zoom within 0..max_zoom: an integer (a tile's z) when `whole`, else a float
    (the web map's fractional zoom)."""
    if whole:
        return integer(query, name, default, low=0, high=max_zoom)
    return number(query, name, default, low=0, high=max_zoom)


def names(query: Query, name: str, default: D = REQUIRED) -> list[str] | D:
    """Gives the non-empty items of a comma list, stripped: ``a, b,,c`` is [a, b, c]. Required,
    it must name at least one."""
    value = _given(query, name, default)
    if value is None:
        return default
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items and default is REQUIRED:
        raise BadInput(f"{name} is required", field=name)
    return items


# --- places -----------------------------------------------------------------------------------


def point(query: Query, x: str = "lon", y: str = "lat", crs: str = "crs") -> Point:
    """Gives the required coordinates `x`, `y` and the optional `crs` text as given."""
    return Point(number(query, x), number(query, y), text(query, crs, None))


def bbox(query: Query, name: str = "bbox", default: D = REQUIRED) -> BBox | D:
    """Gives the box ``minlon,minlat,maxlon,maxlat`` (CRS84): four finite numbers, or six as
    OGC API allows (``minlon,minlat,minz,maxlon,maxlat,maxz``; the heights are dropped), with
    min ≤ max on both axes and latitudes within -90..90. Longitudes are not limited: a box past
    ±180 simply holds nothing there. A box that crosses the antimeridian (minlon > maxlon) is
    refused: the city is far from it."""
    value = _given(query, name, default)
    if value is None:
        return default
    parts = _stripped(value, name).split(",")
    shape = f"{name} must be 4 numbers: minlon,minlat,maxlon,maxlat"
    if len(parts) not in (4, 6):
        raise BadInput(shape, field=name)
    found = [_finite(part.strip(" \t")) for part in parts]
    numbers = [n for n in found if n is not None]
    if len(numbers) != len(found):
        raise BadInput(f"{shape}, finite", field=name)
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    box = BBox(*numbers)
    if not (-90 <= box.miny <= 90 and -90 <= box.maxy <= 90):
        raise BadInput(f"{name} latitudes must be within -90..90", field=name)
    if box.minx > box.maxx or box.miny > box.maxy:
        raise BadInput(f"{name} must be ordered: minlon ≤ maxlon and minlat ≤ maxlat", field=name)
    return box


# --- time -------------------------------------------------------------------------------------

_INSTANT = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    # A space before the offset is a '+' that URL decoding turned into a space.
    r"(?:(?P<utc>[Zz])|(?P<sign>[+\- ])(?P<oh>\d{2}):?(?P<om>\d{2}))?)?",
    re.ASCII,
)


def _instant(value: str, name: str, naive_tz: tzinfo) -> datetime:
    """Gives the aware datetime of one RFC 3339 instant (or date, read as its midnight)."""
    match = _INSTANT.fullmatch(value)
    if match is None:
        raise BadInput(
            f"{name} must be an RFC 3339 date-time such as 2026-05-01T08:30:00+08:00", field=name
        )
    g = match.groupdict()
    fraction = (g["fraction"] or "0")[:6].ljust(6, "0")
    try:
        tz = naive_tz
        if g["utc"]:
            tz = UTC
        elif g["sign"]:
            offset = timedelta(hours=int(g["oh"]), minutes=int(g["om"]))
            tz = timezone(-offset if g["sign"] == "-" else offset)
        moment = datetime(
            int(g["year"]),
            int(g["month"]),
            int(g["day"]),
            int(g["hour"] or 0),
            int(g["minute"] or 0),
            int(g["second"] or 0),
            int(fraction),
        )
        moment = moment.replace(tzinfo=tz)
    except ValueError:
        raise BadInput(f"{name}: {value[:40]!r} is not a valid date and time", field=name) from None
    try:
        moment.astimezone(UTC)
        dj_timezone.localtime(moment)
    except (OverflowError, ValueError):
        raise BadInput(f"{name} is too close to the ends of the calendar", field=name) from None
    return moment


def instant(
    query: Query, name: str, default: D = REQUIRED, *, naive_tz: tzinfo | None = None
) -> datetime | D:
    """Gives an aware datetime; a time without an offset is read in `naive_tz` (default: the
    server's time zone, settings.TIME_ZONE)."""
    value = _given(query, name, default)
    if value is None:
        return default
    return _instant(_stripped(value, name), name, naive_tz or dj_timezone.get_default_timezone())


def interval(
    query: Query, name: str = "datetime", default: D = REQUIRED, *, naive_tz: tzinfo | None = None
) -> Interval | D:
    """Gives the interval of an OGC API `datetime`: an instant (start == end), ``a/b``, or an
    open end written ``..`` or left empty (``../b``, ``a/..``, ``a/``); start ≤ end."""
    value = _given(query, name, default)
    if value is None:
        return default
    tz = naive_tz or dj_timezone.get_default_timezone()
    text = _stripped(value, name)
    if "/" not in text:
        moment = _instant(text, name, tz)
        return Interval(moment, moment)
    first, second = text.split("/", 1)
    start = None if first in OPEN else _instant(first, name, tz)
    end = None if second in OPEN else _instant(second, name, tz)
    if start is not None and end is not None and start > end:
        raise BadInput(f"{name} starts after it ends", field=name)
    return Interval(start, end)
