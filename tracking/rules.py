"""The alarm rules as a pure state machine over one tracker's plausible fixes, in device time.

`Evaluator(rules, state).feed(fix)` advances the running state (JSON-ready, kept on the
tracker's `LatestPosition`) and gives the alarm edges the fix causes: a `Start` when a run has
lasted long enough (dated at the run's first fix) and an `End` at the first fix that breaks a
raised run. Nothing here reads the database, so the same code runs on a new batch from the saved
state (the usual case: fixes arrive in order) and, for a late batch, on the stored tail replayed
from an empty state (`tracking.ingest`).

The rules (parameters in `tracking.conf.Rules`):

- **out of grid** (离开责任网格): a run of fixes each more than ``grid_tolerance_m`` outside the
  tracker's grids that lasts ``grid_min_s`` (first to last outside fix); it ends at the first fix
  within the tolerance again. Jitter across the edge inside the tolerance is never a run.
- **long stay** (滞留): fixes all within ``stay_radius_m`` of the first one for more than
  ``stay_min_s``; ends at the first fix farther away.
- **speeding** (超速, vehicles): speed above ``speed_limit_ms`` for ``speeding_min_s``; the
  fix's own speed, else the speed from the previous fix.
- **off route** (偏离路线, vehicles with an assigned route): a run of fixes each more than
  ``route_tolerance_m`` from the route's line that lasts ``route_min_s``; it ends at the first
  fix within the tolerance again (the out-of-grid rule against a line).

Checkpoints (巡查点) reached are not alarms: the evaluator collects `visits`, the first fix of
each run within a checkpoint's radius, and ingest stores them; a missed checkpoint is decided
by the clock at the end of its window (`tracking.patrol`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .conf import Rules

OUT_OF_GRID, LONG_STAY, SPEEDING = "out_of_grid", "long_stay", "speeding"
OFF_ROUTE = "off_route"
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Sample:
    """A plausible fix as the rules see it: epoch seconds, WGS84, metres outside the grids
    (0 inside, None when the tracker has no grid), speed in m/s when the device gave one,
    metres from the assigned route (None without one) and the checkpoints it lies at."""

    t: float
    lon: float
    lat: float
    off_m: float | None = None
    speed: float | None = None
    route_off_m: float | None = None
    checkpoints: tuple[int, ...] = ()


@dataclass(frozen=True)
class Edge:
    """An alarm's start or end: `kind`, the run's first fix (`start_t`, `start`), and for an end
    the fix that ended it (`t`, `at`). `details` describe the run so far."""

    kind: str
    start_t: float
    start: tuple[float, float]
    end_t: float | None = None
    end: tuple[float, float] | None = None
    details: dict = field(default_factory=dict)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Gives the great-circle distance in metres (haversine; under 0.5% off the ellipsoid)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _run(sample: Sample, **extra) -> dict:
    return {"t": sample.t, "lon": sample.lon, "lat": sample.lat, "last_t": sample.t, "on": False}


@dataclass(frozen=True)
class Visit:
    """A checkpoint reached: the first fix of a run within its radius."""

    checkpoint: int
    t: float
    lon: float
    lat: float


class Evaluator:
    """Runs the rules over fixes in time order, from `state` (a dict it updates in place);
    checkpoints reached are collected in `visits`."""

    def __init__(self, rules: Rules, state: dict | None = None, vehicle: bool = False):
        self.rules = rules
        self.state = state if state is not None else {}
        self.vehicle = vehicle
        self.visits: list[Visit] = []

    def prime(self, s: Sample) -> None:
        """Starts a replay at `s`, a stored fix already evaluated: the checkpoints it lies at
        were reached before it, so they are not visits again."""
        if s.checkpoints:
            self.state["cp"] = sorted(s.checkpoints)

    @property
    def last_t(self) -> float | None:
        last = self.state.get("last")
        return last["t"] if last else None

    def feed(self, s: Sample) -> list[Edge]:
        """Gives the edges caused by `s`, the next plausible fix in time."""
        edges: list[Edge] = []
        last = self.state.get("last")
        if last is not None and s.t <= last["t"]:
            return edges
        if s.off_m is not None:
            self._grid(s, edges)
        self._stay(s, edges)
        if s.checkpoints or "cp" in self.state:
            self._checkpoints(s)
        if self.vehicle and s.route_off_m is not None:
            self._route(s, edges)
        elif "offr" in self.state and s.route_off_m is None:  # the route was taken away
            self.state.pop("offr")
        if self.vehicle:
            speed = s.speed
            if speed is None and last is not None and s.t > last["t"]:
                speed = metres(last["lon"], last["lat"], s.lon, s.lat) / (s.t - last["t"])
            if speed is not None:
                self._speed(s, speed, edges)
        self.state["last"] = {"t": s.t, "lon": s.lon, "lat": s.lat}
        return edges

    def _grid(self, s: Sample, edges: list[Edge]) -> None:
        run = self.state.get("out")
        r = self.rules
        if s.off_m > r.grid_tolerance_m:
            if run is None:
                run = self.state["out"] = _run(s)
                run["max_off_m"] = 0.0
            run["last_t"] = s.t
            run["max_off_m"] = round(max(run["max_off_m"], s.off_m), 1)
            if not run["on"] and s.t - run["t"] >= r.grid_min_s:
                run["on"] = True
                edges.append(self._edge(OUT_OF_GRID, run, details=self._grid_details(run)))
        elif run is not None:
            if run["on"]:
                edges.append(self._edge(OUT_OF_GRID, run, s, self._grid_details(run)))
            self.state.pop("out")

    def _checkpoints(self, s: Sample) -> None:
        before = set(self.state.get("cp", ()))
        for checkpoint in s.checkpoints:
            if checkpoint not in before:
                self.visits.append(Visit(checkpoint, s.t, s.lon, s.lat))
        if s.checkpoints:
            self.state["cp"] = sorted(s.checkpoints)
        else:
            self.state.pop("cp", None)

    def _route(self, s: Sample, edges: list[Edge]) -> None:
        run = self.state.get("offr")
        r = self.rules
        if s.route_off_m > r.route_tolerance_m:
            if run is None:
                run = self.state["offr"] = _run(s)
                run["max_off_m"] = 0.0
            run["last_t"] = s.t
            run["max_off_m"] = round(max(run["max_off_m"], s.route_off_m), 1)
            if not run["on"] and s.t - run["t"] >= r.route_min_s:
                run["on"] = True
                edges.append(self._edge(OFF_ROUTE, run, details=self._route_details(run)))
        elif run is not None:
            if run["on"]:
                edges.append(self._edge(OFF_ROUTE, run, s, self._route_details(run)))
            self.state.pop("offr")

    def _route_details(self, run: dict) -> dict:
        return {"tolerance_m": self.rules.route_tolerance_m, "max_off_m": run["max_off_m"]}

    def _grid_details(self, run: dict) -> dict:
        return {"tolerance_m": self.rules.grid_tolerance_m, "max_off_m": run["max_off_m"]}

    def _stay(self, s: Sample, edges: list[Edge]) -> None:
        run = self.state.get("stay")
        r = self.rules
        if run is not None and metres(run["lon"], run["lat"], s.lon, s.lat) <= r.stay_radius_m:
            run["last_t"] = s.t
            if not run["on"] and s.t - run["t"] > r.stay_min_s:
                run["on"] = True
                edges.append(self._edge(LONG_STAY, run, details={"radius_m": r.stay_radius_m}))
            return
        if run is not None and run["on"]:
            details = {"radius_m": r.stay_radius_m, "duration_s": round(run["last_t"] - run["t"])}
            edges.append(self._edge(LONG_STAY, run, s, details))
        self.state["stay"] = _run(s)

    def _speed(self, s: Sample, speed: float, edges: list[Edge]) -> None:
        run = self.state.get("fast")
        r = self.rules
        if speed > r.speed_limit_ms:
            if run is None:
                run = self.state["fast"] = _run(s)
                run["max_ms"] = 0.0
            run["last_t"] = s.t
            run["max_ms"] = max(run["max_ms"], speed)
            if not run["on"] and s.t - run["t"] >= r.speeding_min_s:
                run["on"] = True
                edges.append(self._edge(SPEEDING, run, details=self._speed_details(run)))
        elif run is not None:
            if run["on"]:
                edges.append(self._edge(SPEEDING, run, s, self._speed_details(run)))
            self.state.pop("fast")

    def _speed_details(self, run: dict) -> dict:
        return {
            "limit_kmh": round(self.rules.speed_limit_ms * 3.6, 1),
            "max_kmh": round(run["max_ms"] * 3.6, 1),
        }

    @staticmethod
    def _edge(kind: str, run: dict, end: Sample | None = None, details: dict | None = None) -> Edge:
        return Edge(
            kind,
            run["t"],
            (run["lon"], run["lat"]),
            end.t if end else None,
            (end.lon, end.lat) if end else None,
            details or {},
        )


def implausible(rules: Rules, t: float, accuracy: float | None, now: float) -> str | None:
    """Gives why a fix cannot be believed on its own (``future``, ``accuracy``), else None."""
    if t > now + rules.future_tolerance_s:
        return "future"
    if accuracy is not None and accuracy > rules.max_accuracy_m:
        return "accuracy"
    return None


def is_jump(
    rules: Rules, prev: tuple[float, float, float] | None, t: float, lon: float, lat: float
) -> bool:
    """Whether reaching (lon, lat) at `t` from `prev` (t, lon, lat) is faster than plausible."""
    if prev is None:
        return False
    dt = t - prev[0]
    distance = metres(prev[1], prev[2], lon, lat)
    if dt <= 0:
        return distance > rules.max_accuracy_m
    return distance / dt > rules.max_speed_ms and distance > rules.max_accuracy_m
