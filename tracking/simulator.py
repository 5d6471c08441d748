"""The demo simulator (演示模拟器): moves the demo phones and vehicles along the demo city's roads
and posts their fixes to the real ingest API over HTTP, so the monitor page is alive and
alarms happen.

Paths are pure (`RoadGraph`, `Walker`: seeded, no database, no clock), so a test can check that
they stay on roads and that strays happen; `load_fleet` reads the roads and the demo trackers
once; `run` posts one fix per tracker per interval (an inspector with a bearer token from
``POST /api/v1/auth/token``, a vehicle with ``Authorization: Device <id>:<key>``) until stopped,
and the inspectors clock in and out by their roster (`tracking.simulated_clocks`).

Inspectors walk (1.0-1.6 m/s) on the roads of their own area (`Person.area_geom`: the demo
inspectors have no responsibility grids of their own, so their street is their grid); now and
then one strays outward along the roads for a few minutes and walks the same way back (an
out-of-grid alarm), stops for a few minutes (a stop in playback) or, rarely, for over half an
hour (a long-stay alarm). Vehicles drive the main and secondary roads at 25-45 km/h with the
occasional minute above the speed limit; a vehicle with a patrol route keeps to it (the route is
its home area, a band of `ROUTE_BAND_M` about the line) and now and then takes a detour away
from it and back the same way (an off-route alarm).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import threading
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.prepared import prep

log = logging.getLogger(__name__)

PASSWORD = "citygrid-demo"
NODE_DIGITS = 7  # node identity: coordinates rounded to ~1 cm
# Per-step chances (a step is one interval, 10 s by default) of an inspector's episodes.
STRAY_CHANCE = 0.004  # about once in 40 minutes
STOP_CHANCE = 0.006
LONG_STOP_CHANCE = 0.0005
SPEEDING_CHANCE = 0.01
DETOUR_CHANCE = 0.003  # a vehicle with a route: about once an hour
ROUTE_BAND_M = 15.0
OUT_M = 60.0  # a stray counts its time once this far outside the area (the rule allows 30 m)
STRAY_CAP_S = 1500.0  # a stray that cannot get out of a large area gives up


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance in metres (short hops in one city)."""
    kx = 111_320.0 * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 110_574.0)


@dataclass
class Edge:
    a: tuple[float, float]
    b: tuple[float, float]
    coords: list[tuple[float, float]]  # from a to b
    length: float
    inside: bool  # its midpoint lies in the walker's home area

    def point_at(self, s: float, forward: bool) -> tuple[float, float]:
        """Gives the point `s` metres from the start (a if `forward`, else b)."""
        coords = self.coords if forward else self.coords[::-1]
        for p, q in zip(coords, coords[1:], strict=False):
            hop = _metres(p, q)
            if s <= hop and hop > 0:
                f = s / hop
                return (p[0] + (q[0] - p[0]) * f, p[1] + (q[1] - p[1]) * f)
            s -= hop
        return coords[-1]


class RoadGraph:
    """Road centrelines noded at their crossings, as a graph of edges between nodes."""

    def __init__(self, lines: list[list[tuple[float, float]]], home=None):
        noded = shapely.union_all([LineString(c) for c in lines if len(c) >= 2])
        parts = list(noded.geoms) if isinstance(noded, MultiLineString) else [noded]
        area = prep(home) if home is not None else None
        self.home = home
        self._centre = home.representative_point() if home is not None else None
        self.edges: list[Edge] = []
        self.at: dict[tuple[float, float], list[int]] = {}
        for part in parts:
            coords = [(round(x, NODE_DIGITS), round(y, NODE_DIGITS)) for x, y in part.coords]
            length = sum(_metres(p, q) for p, q in zip(coords, coords[1:], strict=False))
            if length < 1:
                continue
            mid = part.interpolate(0.5, normalized=True)
            inside = area.contains(mid) if area is not None else True
            edge = Edge(coords[0], coords[-1], coords, length, inside)
            self.edges.append(edge)
            for node in (edge.a, edge.b):
                self.at.setdefault(node, []).append(len(self.edges) - 1)

    def inside_nodes(self) -> list[tuple[float, float]]:
        """Gives the nodes with at least one edge inside the home area, in a stable order."""
        return sorted(n for n, ids in self.at.items() if any(self.edges[i].inside for i in ids))

    def off_home(self, point: tuple[float, float]) -> float:
        """Gives how far (degrees) `point` lies outside the home area; 0 inside or no home."""
        return 0.0 if self.home is None else self.home.distance(Point(point))

    def outwardness(self, node: tuple[float, float]) -> float:
        """Gives how far out `node` lies: beyond the area's edge, else from its centre (degrees,
        for comparing nodes only)."""
        if self.home is None:
            return 0.0
        off = self.off_home(node)
        return 1.0 + off if off > 0 else self._centre.distance(Point(node))


@dataclass
class Walker:
    """One tracker moving on a `RoadGraph`: walking, stopped, straying out and back."""

    device: str
    graph: RoadGraph
    rng: random.Random
    speed: float  # m/s when moving
    vehicle: bool = False
    node: tuple[float, float] = (0.0, 0.0)
    edge: int | None = None
    forward: bool = True
    along: float = 0.0
    mode: str = "walk"  # walk | stop | stray_out | stray_back | speeding
    mode_left: float = 0.0  # seconds left in the mode (a stray's: seconds to spend outside)
    stray_cap: float = 0.0
    back: list[tuple[int, bool]] = field(default_factory=list)  # the stray's edges, to retrace
    battery: float = 100.0
    burst: float = 0.0
    position: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def start(cls, device: str, graph: RoadGraph, rng: random.Random, vehicle=False) -> Walker:
        nodes = graph.inside_nodes()
        if not nodes:
            raise ValueError(f"{device}: no road in its area")
        speed = rng.uniform(7.0, 12.5) if vehicle else rng.uniform(1.0, 1.6)
        walker = cls(device, graph, rng, speed, vehicle, battery=rng.uniform(55, 100))
        walker.node = walker.position = rng.choice(nodes)
        return walker

    def _choose(self) -> None:
        """Picks the next edge at `node` for the current mode."""
        if self.mode == "stray_back":
            if self.back:
                self.edge, forward = self.back.pop()
                self.forward = not forward
                return
            self.mode, self.mode_left = "walk", 0.0
        ids = self.graph.at[self.node]
        came = self.edge
        if self.mode == "stray_out":
            # outward: the edge whose far end lies farthest outside the home area (inside it,
            # farthest from its centre), with a little chance so strays differ
            options = [i for i in ids if i != came] or ids
            best = max(
                options,
                key=lambda i: self.graph.outwardness(self._far(i)) + self.rng.random() * 1e-4,
            )
        else:
            options = [i for i in ids if self.graph.edges[i].inside and i != came]
            options = options or [i for i in ids if self.graph.edges[i].inside] or ids
            best = self.rng.choice(options)
        self.edge = best
        self.forward = self.graph.edges[best].a == self.node

    def _far(self, i: int) -> tuple[float, float]:
        e = self.graph.edges[i]
        return e.b if e.a == self.node else e.a

    def _turn_back(self) -> None:
        """Ends the stray's way out: back along the current edge, then the edges it took."""
        self.mode = "stray_back"
        if self.edge is not None:
            e = self.graph.edges[self.edge]
            self.forward, self.along = not self.forward, e.length - self.along

    def _next_mode(self, dt_s: float) -> None:
        if self.mode == "stray_out":
            self.stray_cap -= dt_s
            if self.graph.off_home(self.position) * 100_000 > OUT_M:
                self.mode_left -= dt_s
            if self.mode_left <= 0 or self.stray_cap <= 0:
                self._turn_back()
            return
        self.mode_left -= dt_s
        if self.mode in ("stop", "speeding") and self.mode_left <= 0:
            self.mode = "walk"
        if self.mode != "walk":
            return
        draw = self.rng.random()
        if self.vehicle:
            if draw < SPEEDING_CHANCE:
                self.mode, self.mode_left = "speeding", self.rng.uniform(45, 90)
                self.burst = self.rng.uniform(18.0, 21.0)  # 65-75 km/h over a 60 km/h limit
            elif self.graph.home is not None and draw < SPEEDING_CHANCE + DETOUR_CHANCE:
                self.mode, self.mode_left, self.back = "stray_out", self.rng.uniform(220, 330), []
                self.stray_cap = STRAY_CAP_S
        elif draw < STRAY_CHANCE:
            self.mode, self.mode_left, self.back = "stray_out", self.rng.uniform(220, 330), []
            self.stray_cap = STRAY_CAP_S
        elif draw < STRAY_CHANCE + LONG_STOP_CHANCE:
            self.mode, self.mode_left = "stop", self.rng.uniform(1900, 2300)
        elif draw < STRAY_CHANCE + LONG_STOP_CHANCE + STOP_CHANCE:
            self.mode, self.mode_left = "stop", self.rng.uniform(200, 600)

    def current_speed(self) -> float:
        if self.mode == "stop":
            return 0.0
        return self.burst if self.mode == "speeding" else self.speed

    def step(self, dt_s: float) -> tuple[float, float]:
        """Moves the walker `dt_s` seconds on; gives its new position."""
        self._next_mode(dt_s)
        left = self.current_speed() * dt_s
        while left > 0:
            if self.edge is None:
                self._choose()
            e = self.graph.edges[self.edge]
            room = e.length - self.along
            if left < room:
                self.along += left
                left = 0.0
            else:
                left -= room
                self.node = e.b if self.forward else e.a
                if self.mode == "stray_out":
                    self.back.append((self.edge, self.forward))
                self.along = 0.0
                self._choose()
        e = self.graph.edges[self.edge] if self.edge is not None else None
        self.position = e.point_at(self.along, self.forward) if e else self.node
        self.battery = max(5.0, self.battery - dt_s / 600)
        return self.position


def fix_of(walker: Walker, t: dt.datetime, rng: random.Random) -> dict:
    """Gives the fix a device would send for `walker` at `t` (a phone in GCJ-02, a few metres
    of GPS noise)."""
    from spatial.crs import wgs84_to_gcj02_array

    lon, lat = walker.position
    lon += rng.gauss(0, 3) / 85_000
    lat += rng.gauss(0, 3) / 111_000
    fix = {
        "t": t.isoformat(),
        "accuracy": round(rng.uniform(4, 15), 1),
        "speed": round(walker.current_speed(), 2),
        "battery": int(walker.battery),
    }
    if walker.vehicle:
        fix.update(lon=round(lon, 7), lat=round(lat, 7))
    else:
        glon, glat = wgs84_to_gcj02_array(np.array([lon]), np.array([lat]))
        fix.update(lon=round(float(glon[0]), 7), lat=round(float(glat[0]), 7), crs="gcj02")
    return fix


@dataclass
class Device:
    """A simulated device: its walker and how it signs in."""

    walker: Walker
    username: str = ""  # an inspector's; empty for a vehicle
    key: str = ""  # a vehicle's device key


def load_fleet(seed: int, margin_m: float = 600.0) -> list[Device]:
    """Gives a walker per demo tracker: inspectors on the roads within `margin_m` of their
    area (so they can stray out of it), vehicles on the main and secondary roads."""
    from spatial.models import RoadSegment

    from .demo import VEHICLES, demo_key
    from .models import Tracker

    rng = random.Random(seed)
    devices = []
    phones = Tracker.objects.filter(active=True, kind="person", device_id__startswith="PHONE-")
    for tracker in phones.select_related("person__user").order_by("device_id"):
        area = tracker.person.area_geom
        if area is None:
            continue
        near = area.buffer(margin_m / 90_000)
        lines = [list(g.coords) for g in RoadSegment.objects.filter(geom__intersects=near)
                 .values_list("geom", flat=True)]  # fmt: skip
        if not lines:
            continue
        graph = RoadGraph(lines, shapely.from_wkb(bytes(area.wkb)))
        walker = Walker.start(tracker.device_id, graph, random.Random(rng.random()))
        devices.append(Device(walker, username=tracker.person.user.get_username()))
    main = RoadSegment.objects.filter(road_class__in=["main", "secondary"])
    lines = [list(g.coords) for g in main.values_list("geom", flat=True)]
    if lines:
        graph = RoadGraph(lines)
        known = {
            t.device_id: t for t in Tracker.objects.filter(active=True).select_related("route")
        }
        for device, _, _ in VEHICLES:
            if device in known:
                route = known[device].route
                on = graph
                if route is not None and route.active:
                    line = list(route.geom.coords)
                    band = LineString(line).buffer(ROUTE_BAND_M / 90_000)
                    on = RoadGraph(lines + [line], band)
                walker = Walker.start(device, on, random.Random(rng.random()), vehicle=True)
                devices.append(Device(walker, key=demo_key(device)))
    return devices


class Poster:
    """Posts fixes to the ingest API as each device would, signing phones in once."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        import requests

        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout
        self.tokens: dict[str, str] = {}

    def _token(self, username: str) -> str:
        if username not in self.tokens:
            answer = self.http.post(
                self.base + "/api/v1/auth/token",
                json={"username": username, "password": PASSWORD},
                timeout=self.timeout,
            )
            answer.raise_for_status()
            self.tokens[username] = answer.json()["token"]
        return self.tokens[username]

    def post(self, device: Device, fixes: list[dict]) -> dict:
        """Posts one batch; gives the ingest's answer (a stale token is renewed once)."""
        for attempt in (1, 2):
            if device.username:
                auth = f"Bearer {self._token(device.username)}"
                body = {"fixes": fixes}
            else:
                auth = f"Device {device.walker.device}:{device.key}"
                body = {"device": device.walker.device, "fixes": fixes}
            answer = self.http.post(
                self.base + "/api/v1/tracking/fixes",
                json=body,
                headers={"Authorization": auth},
                timeout=self.timeout,
            )
            if answer.status_code == 401 and device.username and attempt == 1:
                self.tokens.pop(device.username, None)
                continue
            answer.raise_for_status()
            return answer.json()
        return {}


def run(
    devices: list[Device],
    poster: Poster,
    interval: float,
    duration: float | None,
    stop: threading.Event,
    seed: int,
) -> int:
    """Moves every device one interval at a time and posts its fix, until `stop` is set or
    `duration` seconds have passed; gives the number of fixes accepted."""
    from django.utils import timezone

    from .simulated_clocks import PhoneClocks

    rng = random.Random(seed + 1)
    clocks = PhoneClocks(poster, seed)
    accepted = 0
    started = timezone.now()
    while not stop.is_set():
        now = timezone.now()
        if duration is not None and (now - started).total_seconds() >= duration:
            break
        for device in devices:
            if stop.is_set():
                break
            device.walker.step(interval)
            try:
                fix = fix_of(device.walker, now, rng)
                accepted += poster.post(device, [fix]).get("accepted", 0)
                if device.username:  # clock-in and out by the roster (tracking.simulated_clocks)
                    clocks.tick(device.username, fix, now)
            except Exception as exc:  # the server restarting: try again next interval
                log.warning("simulator: %s: %s", device.walker.device, exc)
        stop.wait(max(0.0, interval - (timezone.now() - now).total_seconds()))
    return accepted
