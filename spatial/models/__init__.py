"""Base geography and the layer registry."""

from .geography import (
    AdminArea,
    Component,
    ControlledArea,
    ResponsibilityGrid,
    ResponsibilityGridVersion,
    RoadSegment,
    TimingZone,
    UnitGrid,
)
from .registry import Layer, MapConfig, Theme, ThemeLayer
from .routing import RoadEdge

__all__ = [
    "AdminArea",
    "Component",
    "ControlledArea",
    "Layer",
    "MapConfig",
    "ResponsibilityGrid",
    "ResponsibilityGridVersion",
    "RoadEdge",
    "RoadSegment",
    "Theme",
    "ThemeLayer",
    "TimingZone",
    "UnitGrid",
]
