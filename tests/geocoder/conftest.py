"""A tiny hand-made district with known answers for the geocoder tests.

枫林区 (lon 116.30–116.34, lat 39.96–39.99) has two streets split at lon 116.32. 枫杨路 runs
east along lat 39.970 (odd doors on the north/left side, door n at measure n/40; 5 and 6 are
missing so they interpolate), 桦皮胡同 runs north along lon 116.325. Compounds, an organization,
a storefront, two places, a unit grid and a component hang off them.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import LineString, Point

from geocoder import dictionary
from tests import factories

M_LAT = 1 / 110_574.0
M_LON = 1 / 85_290.0  # metres → degrees of longitude near lat 39.97


box = factories.box


def road_point(a, b, m, side_sign, offset_m=15.0):
    """Point at measure m of a straight road from a to b, offset to the left (+1) or right."""
    (x0, y0), (x1, y1) = a, b
    x, y = x0 + m * (x1 - x0), y0 + m * (y1 - y0)
    dx, dy = (x1 - x0) / M_LON, (y1 - y0) / M_LAT
    norm = (dx * dx + dy * dy) ** 0.5
    nx, ny = -dy / norm * side_sign, dx / norm * side_sign
    return x + nx * offset_m * M_LON, y + ny * offset_m * M_LAT


@pytest.fixture(autouse=True)
def _fresh_gazetteer():
    """Each test compares the gazetteer's version with the database before its first query
    (in service the check runs at most every 2 s; tests roll back faster than that)."""
    dictionary.invalidate()


@pytest.fixture
def small_city(db):
    from data.models import Category
    from geocoder.models import Building, Compound, DoorAddress, Organization, PlaceName, Road
    from spatial.models import Component

    city = factories.make_city(
        "110199",
        name="枫林区",
        origin=(116.30, 39.96),
        size=(0.04, 0.03),
        streets=("榆树街道", "槐荫街道"),
        communities=[["松鹤社区", "竹韵社区"], ["梧桐社区"]],
    )
    district, (west, east) = city.district, city.streets
    south, north, wutong = city.communities

    a, b = (116.302, 39.970), (116.338, 39.970)
    fengyang = Road.objects.create(
        name="枫杨路",
        aliases=["枫杨大街"],
        kind="main",
        odd_side="left",
        street=west,
        geom=LineString(a, b, srid=4326),
    )
    doors = {}
    for n in (1, 2, 3, 4, 7, 8, 9, 10, 11, 12):
        side = "left" if n % 2 else "right"
        lon, lat = road_point(a, b, n / 40, 1 if n % 2 else -1)
        doors[n] = DoorAddress.objects.create(
            road=fengyang,
            number=n,
            side=side,
            measure=n / 40,
            geom=Point(lon, lat, srid=4326),
            courtyard="红星大院" if n == 8 else "",
        )
    ha, hb = (116.325, 39.962), (116.325, 39.988)
    huapi = Road.objects.create(
        name="桦皮胡同",
        aliases=["桦皮巷"],
        kind="alley",
        odd_side="right",
        street=east,
        geom=LineString(ha, hb, srid=4326),
    )
    h1 = DoorAddress.objects.create(
        road=huapi,
        number=1,
        side="right",
        measure=0.5,
        geom=Point(*road_point(ha, hb, 0.5, -1), srid=4326),
    )
    h2 = DoorAddress.objects.create(
        road=huapi,
        number=2,
        side="left",
        measure=0.5,
        geom=Point(*road_point(ha, hb, 0.5, 1), srid=4326),
    )

    cuihu = Compound.objects.create(
        name="翠湖家园",
        aliases=["翠湖小区"],
        door=doors[9],
        community=south,
        geom=box(116.3092, 39.9712, 116.3115, 39.9726),
        entrance=Point(116.3101, 39.9712, srid=4326),
    )
    cuihu_b = {
        n: Building.objects.create(
            number=str(n), compound=cuihu, geom=Point(116.3095 + 0.0007 * n, 39.9719, srid=4326)
        )
        for n in (1, 2, 3)
    }
    yinxing = Compound.objects.create(
        name="银杏小区",
        door=h1,
        community=wutong,
        geom=box(116.3253, 39.9745, 116.3270, 39.9760),
        entrance=Point(116.32535, 39.975, srid=4326),
    )
    yinxing_b2 = Building.objects.create(
        number="2", compound=yinxing, geom=Point(116.3262, 39.9752, srid=4326)
    )
    org = Organization.objects.create(
        name="枫林科技大学",
        kind="organization",
        door=doors[3],
        road=fengyang,
        geom=Point(116.3047, 39.9708, srid=4326),
    )
    org_b5 = Building.objects.create(
        number="5", organization=org, geom=Point(116.3047, 39.9712, srid=4326)
    )
    shop = Organization.objects.create(
        name="张记包子铺", kind="storefront", door=doors[7], road=fengyang, geom=doors[7].geom
    )
    tower = PlaceName.objects.create(
        name="枫林大厦",
        kind="landmark",
        door=doors[10],
        geom=Point(doors[10].geom.x, doors[10].geom.y - 0.0002, srid=4326),
    )
    oldtree = PlaceName.objects.create(
        name="老槐树",
        kind="place",
        historical_names=["古槐口"],
        geom=Point(116.3255, 39.9755, srid=4326),
    )
    grid = factories.make_unit_grid(south, box(116.300, 39.960, 116.301, 39.961), 1, 10000.0)
    category = Category.objects.filter(kind="component", code="0101").first()
    component = Component.objects.create(
        code="1101990101000001", category=category, geom=Point(116.3005, 39.9605, srid=4326)
    )
    dictionary.invalidate()
    return SimpleNamespace(**{k: v for k, v in locals().items() if k not in ("city", "category")})
