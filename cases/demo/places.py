"""Where the demo city's complaints happen (for `cases.demo`): points dense along the commercial
streets (main and secondary roads, with their storefronts) and around markets and busy
crossings, fewer along branch roads and alleys, a few anywhere — always inside the city.

Everything is read once from the stored city (ordered by primary key, so a seed gives the same
points on the same city) and sampled in Python; only a component case asks the database, for
the nearest component of its class (the manhole that is actually there).
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
import shapely
from django.db import connection
from shapely.geometry import Point
from shapely.strtree import STRtree

from data.models import Category
from geocoder.models import Organization, PlaceName
from spatial.models import AdminArea, ControlledArea, RoadSegment

METRES_PER_DEGREE = 111_320.0
TRIES = 1000
SNAP_METRES = 150.0  # a component case snaps to a component of its class this close

# Where a case's point comes from: (pool, share) for the classes seen around shops and markets
# (店外经营, 游商, 小广告, 乱停放…) and for the rest.
COMMERCIAL_MIX = [("shop", 45), ("hotspot", 30), ("major", 15), ("minor", 5), ("anywhere", 5)]
GENERAL_MIX = [("shop", 15), ("hotspot", 15), ("major", 30), ("minor", 25), ("anywhere", 15)]
# Spread around the chosen spot, metres (a Gaussian), by pool.
SPREAD_M = {"shop": 12.0, "major": 10.0, "minor": 8.0}
SIDES = ["附近", "路口", "东侧", "西侧", "南侧", "北侧", "沿线"]

# The nearest component of a class (a point on it: railings and lawns are lines and areas): a
# KNN probe of spatial_component's geom GiST index.
NEAREST_COMPONENT_SQL = """
SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))
FROM spatial_component
WHERE category_id = %(category)s
ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
LIMIT 1
"""


@dataclass(frozen=True)
class Spot:
    """A sampled place: the point, the street holding it, an address and, for a component
    case, the component's code."""

    lon: float
    lat: float
    street_code: str
    address: str
    component_code: str = ""


class _Pool:
    """Weighted items to draw from."""

    def __init__(self, items: list, weights: list[float]):
        self.items, self.cum = items, list(accumulate(weights))

    def __bool__(self) -> bool:
        return bool(self.items) and self.cum[-1] > 0

    def draw(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.cum[-1])]


def _shape(geom):
    return shapely.from_wkb(bytes(geom.wkb))


class Places:
    """The city's places to put complaints, read from the database once."""

    def __init__(self):
        districts = AdminArea.objects.filter(level=AdminArea.Level.DISTRICT).order_by("pk")
        city = shapely.union_all([_shape(d.geom) for d in districts])
        if city.is_empty:
            raise ValueError("no district in the database: run manage.py demo_city first")
        self.city = city
        shapely.prepare(self.city)
        self.streets = []
        for street in AdminArea.objects.filter(level=AdminArea.Level.STREET).order_by("pk"):
            shape = _shape(street.geom)
            shapely.prepare(shape)
            self.streets.append((street.code, shape))
        self.lat0 = city.centroid.y
        self.kx = METRES_PER_DEGREE * math.cos(math.radians(self.lat0))  # metres per ° lon
        self._roads()
        self._hotspots()

    def _roads(self) -> None:
        """Main and secondary roads (the commercial streets; main ones count twice per metre),
        and branch roads and alleys, each drawn by length."""
        lines, names = [], []
        major: tuple[list, list] = ([], [])
        minor: tuple[list, list] = ([], [])
        segments = RoadSegment.objects.order_by("pk").values_list("road_class", "name", "geom")
        for road_class, name, geom in segments:
            line = _shape(geom)
            lines.append(line)
            names.append(name)
            pool, weight = minor, 1.0
            if road_class in (RoadSegment.RoadClass.MAIN, RoadSegment.RoadClass.SECONDARY):
                pool = major
                weight = 2.0 if road_class == RoadSegment.RoadClass.MAIN else 1.0
            pool[0].append(line)
            pool[1].append(self.metres(line) * weight)
        self.major, self.minor = _Pool(*major), _Pool(*minor)
        self.road_names = names
        self.road_tree = STRtree(lines) if lines else None

    def _hotspots(self) -> None:
        """Storefronts (沿街店面), and the clusters: markets (the night market's controlled
        area, and twelve storefronts spread over the city standing for 农贸市场 and shopping
        streets) and busy crossings (the place names at main-road crossings), each with a
        weight and a spread in metres."""
        shops = list(
            Organization.objects.filter(kind=Organization.Kind.STOREFRONT)
            .order_by("pk")
            .values_list("geom", flat=True)
        )
        self.shops = _Pool([(p.x, p.y) for p in shops], [1.0] * len(shops))
        spots: list[tuple[float, float, float, float]] = []  # x, y, spread, weight
        for area in ControlledArea.objects.filter(name__contains="市").order_by("pk"):
            centre = area.geom.centroid
            spots.append((centre.x, centre.y, 40.0, 6.0))
        for point in shops[:: max(1, len(shops) // 12)][:12]:  # 农贸市场 and shopping streets
            spots.append((point.x, point.y, 30.0, 3.0))
        places = PlaceName.objects.filter(kind=PlaceName.Kind.PLACE).order_by("pk")
        for point in places.values_list("geom", flat=True):
            spots.append((point.x, point.y, 60.0, 1.0))
        self.hotspots = _Pool([s[:3] for s in spots], [s[3] for s in spots])

    # --- geometry in metres ---------------------------------------------------------------

    def metres(self, line) -> float:
        coords = shapely.get_coordinates(line)
        dx = np.diff(coords[:, 0]) * self.kx
        dy = np.diff(coords[:, 1]) * METRES_PER_DEGREE
        return float(np.hypot(dx, dy).sum())

    def _jitter(self, rng: random.Random, x: float, y: float, sigma: float):
        return x + rng.gauss(0, sigma) / self.kx, y + rng.gauss(0, sigma) / METRES_PER_DEGREE

    # --- sampling --------------------------------------------------------------------------

    def _candidate(self, rng: random.Random, pool: str) -> tuple[float, float] | None:
        if pool == "shop" and self.shops:
            return self._jitter(rng, *self.shops.draw(rng), SPREAD_M["shop"])
        if pool == "hotspot" and self.hotspots:
            x, y, sigma = self.hotspots.draw(rng)
            return self._jitter(rng, x, y, sigma)
        lines = {"major": self.major, "minor": self.minor}.get(pool)
        if lines:
            point = lines.draw(rng).interpolate(rng.random(), normalized=True)
            return self._jitter(rng, point.x, point.y, SPREAD_M[pool])
        if pool == "anywhere" or not (self.major or self.minor):
            minx, miny, maxx, maxy = self.city.bounds
            return rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        return None

    def street_of(self, x: float, y: float) -> str | None:
        for code, shape in self.streets:
            if shapely.contains_xy(shape, x, y):
                return code
        return None

    def sample(
        self, rng: random.Random, category: Category, commercial: bool, street: str | None = None
    ) -> Spot:
        """A point for a case of `category`: inside the city and one of its streets (`street`
        when given)."""
        mix = _Pool(*zip(*(COMMERCIAL_MIX if commercial else GENERAL_MIX), strict=True))
        for _ in range(TRIES):
            found = self._candidate(rng, mix.draw(rng))
            if found is None or not shapely.contains_xy(self.city, *found):
                continue
            x, y = found
            code = ""
            if category.kind == Category.Kind.COMPONENT:
                x, y, code = self._component(category, x, y)
            found_street = self.street_of(x, y)
            if found_street is not None and street in (None, found_street):
                return Spot(x, y, found_street, self.address(rng, x, y), code)
        raise ValueError(f"no point inside the city's streets after {TRIES} tries")

    def _component(self, category: Category, x: float, y: float) -> tuple[float, float, str]:
        with connection.cursor() as cursor:
            cursor.execute(NEAREST_COMPONENT_SQL, {"category": category.pk, "lon": x, "lat": y})
            row = cursor.fetchone()
        if row is None:
            return x, y, ""
        code, cx, cy = row
        near = math.hypot((cx - x) * self.kx, (cy - y) * METRES_PER_DEGREE) <= SNAP_METRES
        if not near or len(code) != 16 or not code.isdigit():
            return x, y, ""
        return cx, cy, code

    def address(self, rng: random.Random, x: float, y: float) -> str:
        if self.road_tree is None:
            return ""
        nearest = int(self.road_tree.nearest(Point(x, y)))
        return f"{self.road_names[nearest]}{rng.choice(SIDES)}"
