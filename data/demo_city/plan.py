"""The generated city before storage: plain rows with shapely geometries in the metric CRS.

Foreign keys between generated rows are list indexes (a door's road is ``roads[door.road]``) or
codes (a grid's community is a code), so the plan is easy to compare and to store in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from shapely.geometry.base import BaseGeometry


@dataclass
class Area:
    code: str
    name: str
    level: str  # district / street / community
    parent: str | None
    geom: BaseGeometry


@dataclass
class Grid:
    code: str
    community: str
    geom: BaseGeometry
    cell: tuple[int, int]  # fine mesh (u, v)


@dataclass
class ResponsibilityGrid:
    code: str
    name: str
    street: str
    grids: list[str]
    geom: BaseGeometry


@dataclass
class TimingZone:
    name: str
    kind: str
    geom: BaseGeometry


@dataclass
class ControlledArea:
    name: str
    geom: BaseGeometry
    action: str
    reason: str
    categories: list[str] = field(default_factory=list)
    daily_windows: list[list[str]] = field(default_factory=list)
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass
class RoadSegment:
    name: str
    road_class: str
    geom: BaseGeometry
    source_id: str


@dataclass
class Road:
    name: str
    aliases: list[str]
    kind: str
    road_class: str
    odd_side: str
    street: str | None
    geom: BaseGeometry


@dataclass
class Door:
    road: int
    number: int
    suffix: str
    side: str
    measure: float
    geom: BaseGeometry
    courtyard: str = ""


@dataclass
class Place:
    name: str
    kind: str
    geom: BaseGeometry
    aliases: list[str] = field(default_factory=list)
    historical_names: list[str] = field(default_factory=list)
    door: int | None = None
    area: BaseGeometry | None = None


@dataclass
class Compound:
    name: str
    aliases: list[str]
    door: int | None
    community: str | None
    geom: BaseGeometry
    entrance: BaseGeometry


@dataclass
class Organization:
    name: str
    kind: str
    geom: BaseGeometry
    aliases: list[str] = field(default_factory=list)
    door: int | None = None
    road: int | None = None
    area: BaseGeometry | None = None


@dataclass
class Building:
    number: str
    name: str
    geom: BaseGeometry
    footprint: BaseGeometry | None
    compound: int | None = None
    organization: int | None = None


@dataclass
class Components:
    """Components (部件) as parallel arrays, the shape the bulk writer wants."""

    minor: list[np.ndarray] = field(default_factory=list)  # 4-digit minor class per item
    geoms: list[np.ndarray] = field(default_factory=list)  # shapely geometries

    def add(self, minor: str, geoms: np.ndarray) -> None:
        if len(geoms):
            self.minor.append(np.full(len(geoms), minor, dtype="<U4"))
            self.geoms.append(np.asarray(geoms, dtype=object))

    def columns(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.minor:
            return np.array([], dtype="<U4"), np.array([], dtype=object)
        return np.concatenate(self.minor), np.concatenate(self.geoms)


@dataclass
class CityPlan:
    """Every generated row of one demo city, in the metric CRS."""

    seed: int
    scale: float
    district_code: str
    metric_srid: int  # the CGCS2000 Gauss-Krüger CRS every geometry here is in
    areas: list[Area] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    responsibility_grids: list[ResponsibilityGrid] = field(default_factory=list)
    timing_zones: list[TimingZone] = field(default_factory=list)
    controlled_areas: list[ControlledArea] = field(default_factory=list)
    road_segments: list[RoadSegment] = field(default_factory=list)
    roads: list[Road] = field(default_factory=list)
    doors: list[Door] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    compounds: list[Compound] = field(default_factory=list)
    organizations: list[Organization] = field(default_factory=list)
    buildings: list[Building] = field(default_factory=list)
    components: Components = field(default_factory=Components)
    rivers: list[BaseGeometry] = field(default_factory=list)  # centrelines, for placement
