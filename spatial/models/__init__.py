"""Base geography and the layer registry."""

from .geography import (
    AdminArea,
    Component,
    ControlledArea,
    ResponsibilityGrid,
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
    "RoadEdge",
    "RoadSegment",
    "Theme",
    "ThemeLayer",
    "TimingZone",
    "UnitGrid",
]
