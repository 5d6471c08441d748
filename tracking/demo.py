"""The demo trackers: a phone for every demo inspector and a few vehicles with device keys.

Built after the demo organization (``manage.py demo_tracking``, run by `make run`), idempotent.
The inspectors get a day shift (白班 08:30–17:30) on the weekdays of the current month
(`tracking.roster`), so they are watched on duty only; the vehicles, never rostered, always.
The vehicles' device keys are derived from their device ids and are as public as the demo
passwords; `describe` prints them so a terminal (or the simulator) can sign in.

Patrol routes (`build_demo_routes`): each vehicle gets a route of about 4 km along the main and
secondary roads (off-route alarms when the simulator takes it on a detour), and the first
`INSPECTORS_WITH_CHECKPOINTS` inspectors a walk of about 1.5 km on the roads of their street with
four checkpoints on it, the first with the window 09:00–11:00, the others once a shift (missed
checkpoints when the simulated walk does not pass them). Seeded by the device id: the same
city gives the same routes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import Department, Person

from . import roster
from .models import Checkpoint, PatrolRoute, Shift, Tracker, hash_key

VEHICLES = [
    ("VEH-001", "京A·C1001", "巡查车"),
    ("VEH-002", "京A·C1002", "执法车"),
    ("VEH-003", "京A·C1003", "环卫车"),
]


def demo_key(device_id: str) -> str:
    """The demo device key of `device_id` (public, like the demo passwords)."""
    return "demo-" + hashlib.sha256(f"citygrid-demo:{device_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class DemoTracker:
    device_id: str
    kind: str
    name: str
    key: str


@transaction.atomic
def build_demo_trackers() -> list[DemoTracker]:
    """Gives the demo trackers after creating or updating them: ``PHONE-<street code>`` for
    every ``inspector-<street code>``, and the `VEHICLES` of the city's management unit."""
    made = []
    phones = []
    inspectors = Person.objects.filter(demo=True, user__username__startswith="inspector-")
    for person in inspectors.select_related("user"):
        code = person.user.username.removeprefix("inspector-")
        device = f"PHONE-{code}"
        phone, _ = Tracker.objects.update_or_create(
            device_id=device,
            defaults={"kind": Tracker.Kind.PERSON, "person": person, "name": person.name},
        )
        phones.append(phone.pk)
        made.append(DemoTracker(device, Tracker.Kind.PERSON, person.name, ""))
    unit = Department.objects.filter(code="H-chengguan").first()
    for device, plate, vehicle_type in VEHICLES:
        key = demo_key(device)
        Tracker.objects.update_or_create(
            device_id=device,
            defaults={
                "kind": Tracker.Kind.VEHICLE,
                "name": plate,
                "plate": plate,
                "vehicle_type": vehicle_type,
                "unit": unit,
                "key_hash": hash_key(key),
            },
        )
        made.append(DemoTracker(device, Tracker.Kind.VEHICLE, plate, key))
    build_demo_roster(phones)
    build_demo_routes()
    return made


def build_demo_roster(trackers: list[int]) -> int:
    """Gives the number of entries made putting `trackers` on the day shift on the weekdays
    of the current month (kept when already there)."""
    shift, _ = Shift.objects.get_or_create(
        name="白班", defaults={"start": dt.time(8, 30), "end": dt.time(17, 30)}
    )
    today = timezone.localdate()
    return roster.generate_month(trackers, today.year, today.month, "weekdays", shift)


INSPECTORS_WITH_CHECKPOINTS = 3
VEHICLE_ROUTE_M = 4000.0
WALK_ROUTE_M = 1500.0


def trace(graph, rng: random.Random, length_m: float, inside_only: bool = False) -> list:
    """Gives the coordinates of a path of about `length_m` on `graph` (a
    `tracking.simulator.RoadGraph`) from a node chosen by `rng`, never along an edge twice
    (and on edges inside the home area only, when asked)."""
    nodes = graph.inside_nodes() if inside_only else sorted(graph.at)
    if not nodes:
        return []
    node, came, coords, walked = rng.choice(nodes), None, [], 0.0
    used: set[int] = set()
    while walked < length_m:
        ids = graph.at[node]
        options = [i for i in ids if i != came and i not in used]
        if inside_only:
            options = [i for i in options if graph.edges[i].inside]
        if not options:
            break
        came = rng.choice(options)
        used.add(came)
        edge = graph.edges[came]
        forward = edge.a == node
        part = edge.coords if forward else edge.coords[::-1]
        coords.extend(part if not coords else part[1:])
        walked += edge.length
        node = edge.b if forward else edge.a
    return coords


def _save_route(name: str, coords: list, tracker: Tracker, checkpoints: list[dict]) -> None:
    from django.contrib.gis.geos import LineString, Point

    line = LineString(coords, srid=4326)
    route = PatrolRoute.objects.filter(name=name).first()
    if route is None:
        route = PatrolRoute.objects.create(name=name, geom=line)
    elif not route.geom.equals_exact(line, 1e-9):
        route.geom = line
        route.version += 1
        route.save(update_fields=["geom", "version"])
    if not route.checkpoints.exists() and checkpoints:
        Checkpoint.objects.bulk_create(
            Checkpoint(route=route, geom=Point(c.pop("lon"), c.pop("lat"), srid=4326), **c)
            for c in checkpoints
        )
    if tracker.route_id != route.pk:
        tracker.route = route
        tracker.save(update_fields=["route"])


def build_demo_routes() -> int:
    """Gives the number of demo trackers with a route after giving them (see the module doc)."""
    import shapely

    from spatial.models import RoadSegment

    from .simulator import RoadGraph

    done = 0
    main = RoadSegment.objects.filter(road_class__in=["main", "secondary"])
    lines = [list(g.coords) for g in main.values_list("geom", flat=True)]
    if lines:
        graph = RoadGraph(lines)
        for device, plate, _ in VEHICLES:
            tracker = Tracker.objects.filter(device_id=device).first()
            coords = trace(graph, random.Random(f"route:{device}"), VEHICLE_ROUTE_M)
            if tracker is not None and len(coords) >= 2:
                _save_route(f"{plate} 作业路线", coords, tracker, [])
                done += 1
    phones = Tracker.objects.filter(kind="person", device_id__startswith="PHONE-")
    for tracker in phones.select_related("person").order_by("device_id"):
        if done >= len(VEHICLES) + INSPECTORS_WITH_CHECKPOINTS:
            break
        area = tracker.person.area_geom
        if area is None:
            continue
        near = RoadSegment.objects.filter(geom__intersects=area).values_list("geom", flat=True)
        graph = RoadGraph([list(g.coords) for g in near], shapely.from_wkb(bytes(area.wkb)))
        rng = random.Random(f"route:{tracker.device_id}")
        coords = trace(graph, rng, WALK_ROUTE_M, inside_only=True)
        home = shapely.from_wkb(bytes(area.wkb))
        within = [c for c in coords if home.contains(shapely.Point(c))]
        if len(coords) < 2 or len(within) < 4:
            continue
        points = [within[len(within) * k // 4] for k in range(4)]
        checkpoints = [
            {
                "name": f"巡查点{k + 1}",
                "lon": lon,
                "lat": lat,
                "radius_m": 40.0,
                "order": k,
                "window_start": dt.time(9) if k == 0 else None,
                "window_end": dt.time(11) if k == 0 else None,
                "required": 1,
            }
            for k, (lon, lat) in enumerate(points)
        ]
        _save_route(f"{tracker.name or tracker.device_id} 巡查路线", coords, tracker, checkpoints)
        done += 1
    return done
