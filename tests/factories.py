"""Test factories: a small hand-made city, people with positions and areas, registry layers.

Each suite builds its mini city with `make_city(code, ...)` under a district code of its own
(990100 accounts, 110199 tiles and geocoder, 310104 spatial), so its rows never collide with the
demo city (110108) that shares the test database. Codes nest as the real ones do: district (6
digits, GB/T 2260) → street (+3) → community (+3) → unit grid (+2, CJ/T 213 serial from 01).

Layout: the district is a `size` rectangle at `origin` (south-west corner, lon/lat); streets
are equal strips west to east; each street's communities are equal strips south to north; with
`cells=(columns, rows)` the district is cut into that many equal unit grids (单元网格), each in
the community holding its centre and numbered per community west to east, then south to north.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.gis.geos import MultiPolygon, Polygon
from pyproj import Geod
from shapely import wkb

from accounts.models import Person, Position
from accounts.services import create_person
from spatial.models import AdminArea, Layer, ResponsibilityGrid, UnitGrid
from spatial.services import refresh_responsibility_grid

PASSWORD = "Correct-horse-42"
ELLIPSOID = Geod(ellps="GRS80")  # CGCS2000's ellipsoid, as the demo city uses


def box(minx: float, miny: float, maxx: float, maxy: float) -> MultiPolygon:
    """Gives a one-rectangle MultiPolygon in EPSG:4326."""
    return MultiPolygon(Polygon.from_bbox((minx, miny, maxx, maxy)), srid=4326)


def ellipsoid_area_m2(geom: MultiPolygon) -> float:
    """Gives a geometry's area in square metres on the ellipsoid (pyproj, not PostGIS)."""
    area, _ = ELLIPSOID.geometry_area_perimeter(wkb.loads(bytes(geom.wkb)))
    return abs(area)


@dataclass
class MiniCity:
    """A hand-made district with its streets, communities, unit grids and responsibility grids."""

    district: AdminArea
    streets: list[AdminArea]  # west to east
    communities: list[AdminArea]  # street by street, each street's south to north
    cells: dict[tuple[int, int], UnitGrid] = field(default_factory=dict)  # (column, row)
    responsibility_grids: dict[str, ResponsibilityGrid] = field(default_factory=dict)

    def community(self, name: str) -> AdminArea:
        """Gives the community called `name`."""
        return next(c for c in self.communities if c.name == name)

    def grids_of(self, community: AdminArea) -> list[UnitGrid]:
        """Gives the unit grids of one community, in code order."""
        return sorted(
            (g for g in self.cells.values() if g.community_id == community.pk),
            key=lambda g: g.code,
        )


def make_city(
    code: str = "990100",
    *,
    name: str = "测试区",
    origin: tuple[float, float] = (100.0, 30.0),
    size: tuple[float, float] = (0.02, 0.01),
    streets: Sequence[str] = ("甲街道", "乙街道"),
    communities: Sequence[Sequence[str]] | None = None,
    cells: tuple[int, int] | None = None,
    grid_area_m2: float | None = None,
    responsibility_grids: bool = False,
) -> MiniCity:
    """Gives a new mini city under district `code` (see the module docstring for its layout).

    `communities` names each street's communities south to north (an empty list: none); by
    default each street has one community, "<street>社区", covering it. `grid_area_m2` fixes
    every unit grid's stored area (default: its area on the ellipsoid). `responsibility_grids`
    adds one responsibility grid (责任网格) per community made of all its unit grids.
    """
    (x0, y0), (width, height) = origin, size
    if communities is None:
        communities = [[f"{street}社区"] for street in streets]
    assert len(communities) == len(streets), "one list of community names per street"

    def x_at(k: float, parts: int) -> float:
        return round(x0 + k * width / parts, 9)

    def y_at(k: float, parts: int) -> float:
        return round(y0 + k * height / parts, 9)

    district = AdminArea.objects.create(
        code=code,
        name=name,
        level="district",
        geom=box(x_at(0, 1), y_at(0, 1), x_at(1, 1), y_at(1, 1)),
    )
    city = MiniCity(district, [], [])
    spans = {}  # community pk -> (minx, miny, maxx, maxy)
    n = len(streets)
    for s, (street_name, names) in enumerate(zip(streets, communities)):
        street = AdminArea.objects.create(
            code=f"{code}{s + 1:03d}",
            name=street_name,
            level="street",
            parent=district,
            geom=box(x_at(s, n), y_at(0, 1), x_at(s + 1, n), y_at(1, 1)),
        )
        city.streets.append(street)
        for k, community_name in enumerate(names):
            span = (x_at(s, n), y_at(k, len(names)), x_at(s + 1, n), y_at(k + 1, len(names)))
            community = AdminArea.objects.create(
                code=f"{street.code}{k + 1:03d}",
                name=community_name,
                level="community",
                parent=street,
                geom=box(*span),
            )
            city.communities.append(community)
            spans[community.pk] = span
    if cells:
        _cut_unit_grids(city, spans, cells, x_at, y_at, grid_area_m2)
    if responsibility_grids:
        for serial, community in enumerate(city.communities, start=1):
            grid = make_responsibility_grid(
                f"RG-{code}-{serial}",
                city.grids_of(community),
                name=f"{community.name}责任网格",
                street=community.parent,
            )
            city.responsibility_grids[community.code] = grid
    return city


def _cut_unit_grids(city, spans, cells, x_at, y_at, grid_area_m2) -> None:
    """Adds the city's unit grids: `cells` = (columns, rows) over the whole district."""
    columns, rows = cells
    serial = {pk: 0 for pk in spans}
    for i in range(columns):
        for j in range(rows):
            cx, cy = x_at(i + 0.5, columns), y_at(j + 0.5, rows)
            owner = next(
                (pk for pk, (a, b, c, d) in spans.items() if a <= cx < c and b <= cy < d), None
            )
            if owner is None:  # a street without communities
                continue
            serial[owner] += 1
            community = next(c for c in city.communities if c.pk == owner)
            geom = box(x_at(i, columns), y_at(j, rows), x_at(i + 1, columns), y_at(j + 1, rows))
            city.cells[(i, j)] = make_unit_grid(community, geom, serial[owner], grid_area_m2)


def make_unit_grid(
    community: AdminArea, geom: MultiPolygon, serial: int, area_m2: float | None = None
) -> UnitGrid:
    """Gives a new unit grid of `community` coded community code + 2-digit `serial` (CJ/T 213),
    its area on the ellipsoid unless `area_m2` is given."""
    return UnitGrid.objects.create(
        code=f"{community.code}{serial:02d}",
        community=community,
        area_m2=ellipsoid_area_m2(geom) if area_m2 is None else area_m2,
        geom=geom,
    )


def make_responsibility_grid(
    code: str, unit_grids: Iterable[UnitGrid], *, name: str = "", street: AdminArea | None = None
) -> ResponsibilityGrid:
    """Gives a new responsibility grid (责任网格) over `unit_grids`, its geometry their union."""
    grid = ResponsibilityGrid.objects.create(code=code, name=name or code, street=street)
    grid.unit_grids.set(list(unit_grids))
    return refresh_responsibility_grid(grid)


def make_person(
    username: str,
    *,
    permissions: Iterable[str] = (),
    areas: Iterable[AdminArea] = (),
    grids: Iterable[ResponsibilityGrid] = (),
    all_layers: bool = False,
    layers: Iterable[Layer] = (),
    is_superuser: bool = False,
    password: str | None = PASSWORD,
    **fields,
) -> Person:
    """Gives a new person (with its Django user) holding one position, "pos-<username>", that
    grants `permissions` and `layers` (or every layer), working in admin `areas` and
    responsibility `grids`. `fields` go to the Person (name, phone, ...)."""
    key = f"pos-{username}"
    position, _ = Position.objects.update_or_create(
        key=key, defaults={"name": key, "permissions": list(permissions), "all_layers": all_layers}
    )
    position.layers.set(list(layers))
    return create_person(
        username,
        password,
        positions=[position],
        admin_areas=areas,
        grids=grids,
        validate=False,
        is_superuser=is_superuser,
        **fields,
    )


def make_layer(
    key: str,
    *,
    table: str = "spatial_component",
    filter_sql: str = "",
    public: bool = False,
    fields: Sequence[str] = ("code", "name"),
    geometry_type: str = "Geometry",
    title: str = "",
    **options,
) -> Layer:
    """Gives a new registry layer (图层) over an existing table of the public schema, e.g. a
    filtered view of the components; `options` set other Layer fields (min_zoom, group, ...)."""
    return Layer.objects.create(
        key=key,
        title=title or key,
        kind=Layer.Kind.CORE,
        table_name=table,
        filter_sql=filter_sql,
        public=public,
        geometry_type=geometry_type,
        fields=[{"name": f, "alias": f, "visible": True} for f in fields],
        **options,
    )
