"""A small hand-made district with known answers, away from the demo city (near Shanghai, so
GCJ-02/BD-09 offsets apply), for placement and census tests.

Layout (0.01° cells, 4 x 4, lon 121.40-121.44, lat 31.20-31.24):

    street S1 = west half (lon < 121.42):  community C1 = south half, C2 = north half
    street S2 = east half:                 community C3 = all of it
    unit grid per cell, coded by its community; responsibility grid per community
    timing zones: outer = whole district, core = lon 121.41-121.43 x lat 31.21-31.23
    roads: 中山路 (main) along lat 31.22, 淮海路 (secondary) along lon 121.42
"""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.contrib.gis.geos import LineString, MultiPolygon, Point

from data.models import Category
from spatial.models import AdminArea, Component, ControlledArea, RoadSegment, TimingZone
from tests import factories

LON0, LAT0, STEP, N = 121.40, 31.20, 0.01, 4
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


box = factories.box


def cell_box(i: int, j: int) -> MultiPolygon:
    """Cell i (west to east), j (south to north)."""
    x, y = LON0 + i * STEP, LAT0 + j * STEP
    return box(round(x, 6), round(y, 6), round(x + STEP, 6), round(y + STEP, 6))


@dataclass
class SmallCity:
    district: AdminArea
    streets: dict
    communities: dict
    cells: dict = field(default_factory=dict)  # (i, j) -> UnitGrid
    resp: dict = field(default_factory=dict)  # community key -> ResponsibilityGrid
    areas: dict = field(default_factory=dict)  # name -> ControlledArea
    components: list = field(default_factory=list)

    def community_key(self, i: int, j: int) -> str:
        if i >= 2:
            return "C3"
        return "C1" if j < 2 else "C2"


@pytest.fixture
def small_city(db) -> SmallCity:
    made = factories.make_city(
        "310104",
        origin=(LON0, LAT0),
        size=(N * STEP, N * STEP),
        streets=("西街道", "东街道"),
        communities=[["南社区", "北社区"], ["东社区"]],
        cells=(N, N),
        responsibility_grids=True,
    )
    keys = dict(zip(("C1", "C2", "C3"), made.communities))
    city = SmallCity(made.district, dict(zip(("S1", "S2"), made.streets)), keys, made.cells)
    city.resp = {key: made.responsibility_grids[c.code] for key, c in keys.items()}
    TimingZone.objects.create(name="外围", kind="outer", geom=box(121.40, 31.20, 121.44, 31.24))
    TimingZone.objects.create(name="核心", kind="core", geom=box(121.41, 31.21, 121.43, 31.23))
    RoadSegment.objects.create(
        name="中山路",
        road_class="main",
        geom=LineString((121.40, 31.22), (121.44, 31.22), srid=4326),
    )
    RoadSegment.objects.create(
        name="淮海路",
        road_class="secondary",
        geom=LineString((121.42, 31.20), (121.42, 31.24), srid=4326),
    )
    city.areas["always"] = ControlledArea.objects.create(
        name="学校周边", geom=cell_box(0, 0), action="forbid", categories=["0101"]
    )
    city.areas["night"] = ControlledArea.objects.create(
        name="夜市", geom=cell_box(0, 0), action="warn", daily_windows=[["22:00", "06:00"]]
    )
    city.areas["expired"] = ControlledArea.objects.create(
        name="旧工地",
        geom=cell_box(0, 0),
        valid_from=dt.datetime(2020, 1, 1, tzinfo=SHANGHAI),
        valid_to=dt.datetime(2021, 1, 1, tzinfo=SHANGHAI),
    )
    city.areas["season"] = ControlledArea.objects.create(
        name="节日管控",
        geom=cell_box(3, 3),
        daily_windows=[["08:00", "10:00"], ["18:00", "20:00"]],
        valid_from=dt.datetime(2026, 5, 1, tzinfo=SHANGHAI),
        valid_to=dt.datetime(2026, 5, 6, tzinfo=SHANGHAI),
    )
    minors = list(
        Category.objects.filter(kind="component", parent__isnull=False).order_by("code")[:3]
    )
    # Components: 5 of the first minor class in cell (0, 0), 3 of the second in cell (3, 3),
    # 2 of the third straddling the street border, 1 outside the district.
    placements = [(minors[0], 121.405, 31.205)] * 5 + [(minors[1], 121.435, 31.235)] * 3
    placements += [(minors[2], 121.4199, 31.23), (minors[2], 121.4201, 31.23)]
    placements += [(minors[0], 121.50, 31.30)]
    for n, (category, lon, lat) in enumerate(placements, start=1):
        city.components.append(
            Component.objects.create(
                code=f"310104{category.code}{n:06d}",
                category=category,
                geom=Point(lon + n * 1e-5, lat, srid=4326),
            )
        )
    return city
