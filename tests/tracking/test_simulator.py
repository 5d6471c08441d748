"""The demo simulator's paths, without a server: walkers stay on the roads, an inspector strays
out of their area for minutes and comes back, stops happen, vehicles speed now and then."""

from __future__ import annotations

import random

from pyproj import Geod
from shapely.geometry import LineString, Point, box

from tracking.simulator import RoadGraph, Walker

GEOD = Geod(ellps="WGS84")
STEP_S = 10.0
# A street grid of 9 × 9 roads 200 m apart (about 0.0018° by 0.0024° at 40° N) and a home area
# of the middle 3 × 3 blocks.
X0, Y0, DX, DY = 116.30, 40.00, 0.00235, 0.0018
ROADS = [[(X0 + i * DX, Y0), (X0 + i * DX, Y0 + 8 * DY)] for i in range(9)] + [
    [(X0, Y0 + j * DY), (X0 + 8 * DX, Y0 + j * DY)] for j in range(9)
]
HOME = box(X0 + 2.5 * DX, Y0 + 2.5 * DY, X0 + 5.5 * DX, Y0 + 5.5 * DY)


def off_metres(point: tuple[float, float]) -> float:
    """Metres from `point` to the home area (0 inside), by pyproj to the nearest boundary point."""
    if HOME.contains(Point(point)):
        return 0.0
    nearest = HOME.exterior.interpolate(HOME.exterior.project(Point(point)))
    return GEOD.inv(point[0], point[1], nearest.x, nearest.y)[2]


def road_metres(point: tuple[float, float]) -> float:
    lines = [LineString(r) for r in ROADS]
    nearest = min(lines, key=lambda line: line.distance(Point(point)))
    snapped = nearest.interpolate(nearest.project(Point(point)))
    return GEOD.inv(point[0], point[1], snapped.x, snapped.y)[2]


def walk(seed: int, hours: float) -> list[tuple[tuple[float, float], str]]:
    graph = RoadGraph(ROADS, HOME)
    walker = Walker.start("PHONE-T", graph, random.Random(seed))
    return [(walker.step(STEP_S), walker.mode) for _ in range(int(hours * 3600 / STEP_S))]


def test_an_inspector_walks_the_roads_of_their_area_and_strays_out_and_back():
    path = walk(seed=3, hours=8)
    assert len(path) == 2880
    assert max(road_metres(p) for p, _ in path) < 0.5
    # stray runs: consecutive fixes more than 30 m outside (the alarm rule's tolerance)
    runs, run = [], 0
    for point, _ in path:
        if off_metres(point) > 30:
            run += 1
        else:
            if run:
                runs.append(run)
            run = 0
    long_runs = [r for r in runs if r * STEP_S >= 180]
    assert long_runs, runs
    assert all(r * STEP_S < 1800 for r in runs)  # a stray is minutes, and it comes back
    inside = sum(1 for p, _ in path if off_metres(p) <= 30)
    assert inside / len(path) > 0.8
    modes = {m for _, m in path}
    assert {"walk", "stop", "stray_out", "stray_back"} <= modes


def test_the_same_seed_gives_the_same_walk_and_another_seed_another():
    assert walk(seed=7, hours=0.5) == walk(seed=7, hours=0.5)
    assert walk(seed=7, hours=0.5) != walk(seed=8, hours=0.5)


def test_a_vehicle_drives_the_roads_and_sometimes_speeds():
    graph = RoadGraph(ROADS)
    walker = Walker.start("VEH-T", graph, random.Random(5), vehicle=True)
    path = [(walker.step(STEP_S), walker.current_speed()) for _ in range(2000)]
    assert max(road_metres(p) for p, _ in path) < 0.5
    assert max(s for _, s in path) * 3.6 > 60
    assert min(s for _, s in path) * 3.6 >= 25


def test_a_vehicle_with_a_route_keeps_to_it_and_now_and_then_takes_a_detour():
    from tracking.simulator import ROUTE_BAND_M

    # the route: the loop of roads around the middle 4 x 4 blocks
    a, b = 2, 6
    loop = [
        (X0 + a * DX, Y0 + a * DY),
        (X0 + b * DX, Y0 + a * DY),
        (X0 + b * DX, Y0 + b * DY),
        (X0 + a * DX, Y0 + b * DY),
        (X0 + a * DX, Y0 + a * DY),
    ]
    route = LineString(loop)

    def route_metres(point):
        snapped = route.interpolate(route.project(Point(point)))
        return GEOD.inv(point[0], point[1], snapped.x, snapped.y)[2]

    graph = RoadGraph(ROADS + [loop], route.buffer(ROUTE_BAND_M / 90_000))
    walker = Walker.start("VEH-R", graph, random.Random(11), vehicle=True)
    path = [walker.step(STEP_S) for _ in range(int(8 * 3600 / STEP_S))]
    assert max(road_metres(p) for p in path) < 0.5
    off = [route_metres(p) for p in path]
    assert sum(1 for d in off if d <= 50) / len(off) > 0.8
    runs, run = [], 0
    for d in off:
        if d > 50:  # the off-route rule's default tolerance
            run += 1
        else:
            if run:
                runs.append(run)
            run = 0
    assert [r for r in runs if r * STEP_S >= 120], runs  # detours long enough to alarm
    assert all(r * STEP_S < 1800 for r in runs) and not run  # each comes back
