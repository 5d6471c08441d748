"""A few controlled areas (管控区域) of the demo city: a school gate at rush hour, a square all
day, a construction zone with a validity period, and a night market whose window crosses
midnight."""

from __future__ import annotations

from datetime import datetime, timezone

import shapely
from shapely.geometry import Point

from .plan import CityPlan, ControlledArea


def _square(point: Point, half: float):
    return shapely.MultiPolygon(
        [shapely.box(point.x - half, point.y - half, point.x + half, point.y + half)]
    )


def build_controlled_areas(plan: CityPlan, blocks: dict) -> None:
    """Appends the controlled areas, placed on generated schools, parks and doors."""
    schools = blocks["schools"]
    origin = plan.areas[0].geom.representative_point()
    if schools:
        school = plan.organizations[schools[0]]
        gate = plan.doors[school.door].geom
    else:
        gate = origin
        school = None
    plan.controlled_areas.append(
        ControlledArea(
            name=f"{school.name if school else '学校'}门前上下学管控区",
            geom=_square(gate, 60.0),
            action="forbid",
            reason="上下学时段校门口不受理宣传栏类上报",
            categories=["0501"],
            daily_windows=[["07:00", "09:00"]],
        )
    )
    square = blocks["parks"][0].representative_point() if blocks["parks"] else origin
    plan.controlled_areas.append(
        ControlledArea(
            name="中心广场提醒区",
            geom=_square(square, 80.0),
            action="warn",
            reason="重点区域，上报前请核实",
        )
    )
    third = plan.doors[len(plan.doors) // 3].geom
    plan.controlled_areas.append(
        ControlledArea(
            name="道路施工临时管控区",
            geom=_square(third, 100.0),
            action="forbid",
            reason="施工期间道路破损类问题由施工单位负责",
            categories=["0602", "0208"],
            valid_from=datetime(2026, 3, 1, tzinfo=timezone.utc),
            valid_to=datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc),
        )
    )
    market = plan.doors[(2 * len(plan.doors)) // 3].geom
    plan.controlled_areas.append(
        ControlledArea(
            name="夜市经营提醒区",
            geom=_square(market, 70.0),
            action="warn",
            reason="夜市经营时段占道经营属许可范围",
            categories=["03"],
            daily_windows=[["22:00", "02:00"]],
        )
    )
