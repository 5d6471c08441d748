"""The tracking rules' parameters, read from settings (web/settings.py, ``TRACKING_*``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Rules:
    """What the plausibility checks and the alarm rules use: metres, seconds, metres/second."""

    grid_tolerance_m: float = 30.0
    grid_min_s: float = 180.0
    stay_radius_m: float = 50.0
    stay_min_s: float = 1800.0
    speed_limit_ms: float = 60 / 3.6
    speeding_min_s: float = 30.0
    route_tolerance_m: float = 50.0
    route_min_s: float = 120.0
    max_speed_ms: float = 200 / 3.6
    max_accuracy_m: float = 100.0
    future_tolerance_s: float = 120.0
    replay_max_s: float = 86400.0
    signal_lost_s: float = 600.0
    absent_s: float = 900.0


def rules() -> Rules:
    """Gives the rules as the settings set them now."""
    return Rules(
        grid_tolerance_m=settings.TRACKING_OUT_OF_GRID_TOLERANCE_M,
        grid_min_s=settings.TRACKING_OUT_OF_GRID_MIN_S,
        stay_radius_m=settings.TRACKING_STAY_RADIUS_M,
        stay_min_s=settings.TRACKING_STAY_MIN_S,
        speed_limit_ms=settings.TRACKING_SPEED_LIMIT_KMH / 3.6,
        speeding_min_s=settings.TRACKING_SPEEDING_MIN_S,
        route_tolerance_m=settings.TRACKING_OFF_ROUTE_TOLERANCE_M,
        route_min_s=settings.TRACKING_OFF_ROUTE_MIN_S,
        max_speed_ms=settings.TRACKING_MAX_SPEED_KMH / 3.6,
        max_accuracy_m=settings.TRACKING_MAX_ACCURACY_M,
        future_tolerance_s=settings.TRACKING_FUTURE_TOLERANCE_S,
        replay_max_s=settings.TRACKING_REPLAY_MAX_S,
        signal_lost_s=settings.TRACKING_SIGNAL_LOST_S,
        absent_s=settings.TRACKING_ABSENT_S,
    )
