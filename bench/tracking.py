"""Tracking ingest at city scale: 10,000 simulated devices posting 100-fix batches, fixes/s
sustained including the alarm rules; and the grid test in-process against SQL per batch.

    # once: a database with the small demo city, its organization and 10,000 bench trackers
    createdb -h $PWD/var/postgres/run -p 54329 -U citygrid bench_tracking
    .venv/bin/python bench/tracking.py --db bench_tracking --setup
    .venv/bin/python bench/tracking.py --db bench_tracking --grid-compare
    .venv/bin/python bench/tracking.py --db bench_tracking --inprocess 30
    .venv/bin/python bench/tracking.py --db bench_tracking --http 60 [--clients 6]
    .venv/bin/python bench/tracking.py --db bench_tracking --routes on --inprocess 30   # patrol
    .venv/bin/python bench/tracking.py --db bench_tracking --routes off                # as before
    .venv/bin/python bench/tracking.py --db bench_tracking --routes on --route-compare

Trackers: 8,000 phones (``BENCH-P-…``) bound to the demo inspectors (so every batch runs the
out-of-grid test against a street's area), posted with the inspectors' bearer tokens, and 2,000
vehicle terminals (``BENCH-V-…``) signed with device keys (speeding rule). Each device walks
from a point of its street at ~1.4 m/s with a fix every second, so a batch is 100 s of device
time; devices post their batches in time order, in a shuffled order across devices.

``--http`` starts gunicorn with the `make run` settings (web/gunicorn.conf.py) on a free port
and drives it from `--clients` processes of 4 threads each, for the given seconds.
``--inprocess`` calls the action (`do_ingest_fixes`) in this process, without HTTP.

``--routes on`` gives every bench tracker a patrol route before the run (kept until ``--routes
off``): each inspector's phones a 100-vertex zig-zag across their street's middle with 10
checkpoints, the vehicles 10 routes of 200 vertices through their common start; so every batch
also measures its distance from a route and its checkpoints reached (and vehicles wander off
theirs: off-route alarms).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup, free_port, start  # noqa: E402

PHONES, VEHICLES, BATCH = 8000, 2000, 100
PASSWORD = "citygrid-demo"


def vehicle_key(n: int) -> str:
    return f"bench-key-{n:05d}-" + "k" * 20


def setup_database() -> None:
    from django.core.management import call_command

    from accounts.demo import build_demo_organization
    from tracking.models import Tracker, hash_key

    call_command("migrate", verbosity=0)
    call_command("demo_city", if_empty=True, seed=1, scale=0.05, verbosity=0)
    people = [
        p for p in build_demo_organization() if p.user.get_username().startswith("inspector-")
    ]
    Tracker.objects.filter(device_id__startswith="BENCH-").delete()
    rows = [
        Tracker(device_id=f"BENCH-P-{n:05d}", kind="person", person=people[n % len(people)])
        for n in range(PHONES)
    ]
    rows += [
        Tracker(device_id=f"BENCH-V-{n:05d}", kind="vehicle", key_hash=hash_key(vehicle_key(n)))
        for n in range(VEHICLES)
    ]
    Tracker.objects.bulk_create(rows, batch_size=2000)
    print(f"{len(rows)} bench trackers for {len(people)} inspectors")


def set_routes(on: bool) -> None:
    """Gives every bench tracker a patrol route with checkpoints (on), or none (off)."""
    from django.contrib.gis.geos import LineString, Point
    from django.db import transaction

    from tracking.models import Checkpoint, PatrolRoute, Tracker

    with transaction.atomic():
        Tracker.objects.filter(device_id__startswith="BENCH-").update(route=None)
        PatrolRoute.objects.filter(name__startswith="BENCH ").delete()
        if not on:
            print("bench routes off")
            return
        found = devices()
        by_start: dict[tuple, list[str]] = {}
        for d in found:
            if d["kind"] == "vehicle":
                key = ("vehicle", int(d["device"].rsplit("-", 1)[1]) % 10)
            else:
                key = ("person", d["user"])
            by_start.setdefault(key, []).append(d)
        made = 0
        for key, group in by_start.items():
            lon, lat = group[0]["lon"], group[0]["lat"]
            vehicle = key[0] == "vehicle"
            n, step = (200, 50.0) if vehicle else (100, 10.0)
            kx = 111_320 * math.cos(math.radians(lat))
            angle = (key[1] if vehicle else made) * 0.6
            coords = []
            for k in range(n):
                along = (k - n / 2) * step
                side = 15.0 if k % 2 else -15.0
                x = along * math.cos(angle) - side * math.sin(angle)
                y = along * math.sin(angle) + side * math.cos(angle)
                coords.append((lon + x / kx, lat + y / 110_574))
            route = PatrolRoute.objects.create(name=f"BENCH {key}", geom=LineString(coords))
            Checkpoint.objects.bulk_create(
                Checkpoint(route=route, name=f"cp{k}", geom=Point(*coords[k * n // 10]), order=k)
                for k in range(10)
            )
            Tracker.objects.filter(device_id__in=[d["device"] for d in group]).update(route=route)
            made += 1
    print(f"{made} bench routes for {len(found)} trackers")


def fresh_start() -> None:
    """Empties the bench database's fixes, positions and alarms, so a run's fixes are all new."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tracking_fix, tracking_latestposition, tracking_alarm,"
            " tracking_checkpointvisit"
        )


def devices() -> list[dict]:
    """Every bench device with its sign-in and a starting point inside its street."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT tr.device_id, tr.kind, u.username, ST_X(s), ST_Y(s)
            FROM tracking_tracker tr
            LEFT JOIN accounts_person p ON p.id = tr.person_id
            LEFT JOIN auth_user u ON u.id = p.user_id
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(COALESCE(p.area_geom,
                (SELECT ST_Union(geom) FROM spatial_adminarea WHERE level = 'district'))) s) c
            WHERE tr.device_id LIKE 'BENCH-%%' ORDER BY tr.device_id
            """
        )
        return [
            {"device": d, "kind": k, "user": u, "lon": x, "lat": y}
            for d, k, u, x, y in cursor.fetchall()
        ]


class Walker:
    """A device's walk: a fix a second at ~1.4 m/s, heading drifting; batches in time order."""

    def __init__(self, device: dict, t0: float, seed: int):
        self.device, self.t = device, t0
        self.lon, self.lat = device["lon"], device["lat"]
        self.rng = random.Random(seed)
        self.heading = self.rng.uniform(0, 2 * math.pi)

    def batch(self) -> list[dict]:
        fixes = []
        for _ in range(BATCH):
            self.heading += self.rng.gauss(0, 0.2)
            step = 1.4 if self.device["kind"] == "person" else self.rng.choice((8.0, 12.0, 19.0))
            self.lon += step * math.sin(self.heading) / (111320 * math.cos(math.radians(self.lat)))
            self.lat += step * math.cos(self.heading) / 110574
            self.t += 1.0
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(self.t))
            fixes.append(
                {"t": stamp, "lon": round(self.lon, 7), "lat": round(self.lat, 7), "accuracy": 8}
            )
        return fixes


def grid_compare(n_batches: int = 300) -> None:
    """Times the out-of-grid distances of 100-fix batches: the in-process index against one SQL
    query per batch over the same area."""
    import numpy as np
    from django.db import connection

    from tracking import grids

    found = devices()
    people = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id FROM accounts_person p JOIN auth_user u ON u.id = p.user_id "
            "WHERE u.username LIKE 'inspector-%%'"
        )
        people = [r[0] for r in cursor.fetchall()]
    walkers = [Walker(d, time.time() - 3600, n) for n, d in enumerate(found[:n_batches])]
    batches = [(people[n % len(people)], w.batch()) for n, w in enumerate(walkers)]
    for _, batch in batches[1::2]:  # every other batch 2-3 km east: mostly out of the street
        for fix in batch:
            fix["lon"] += 0.03
    for pid in people:
        grids.grid_area(pid)  # warm: the index is built once per person and process
    t0 = time.perf_counter()
    inproc = []
    for pid, batch in batches:
        area = grids.grid_area(pid)
        inproc.append(area.off_metres([f["lon"] for f in batch], [f["lat"] for f in batch]))
    t_in = (time.perf_counter() - t0) / len(batches) * 1000
    sql_text = """
        SELECT ST_Distance(a.g::geography, ST_SetSRID(ST_MakePoint(x, y), 4326)::geography)
        FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS f(x, y, n),
             (SELECT COALESCE((SELECT ST_Union(g.geom) FROM accounts_person_grids pg
                JOIN spatial_responsibilitygrid g ON g.id = pg.responsibilitygrid_id
                WHERE pg.person_id = p.id), p.area_geom) g
              FROM accounts_person p WHERE p.id = %s) a
        ORDER BY n
    """
    t0 = time.perf_counter()
    via_sql = []
    with connection.cursor() as cursor:
        for pid, batch in batches:
            cursor.execute(sql_text, [[f["lon"] for f in batch], [f["lat"] for f in batch], pid])
            via_sql.append(np.array([r[0] for r in cursor.fetchall()]))
    t_sql = (time.perf_counter() - t0) / len(batches) * 1000
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(inproc, via_sql))
    outside = sum(int((a > 0).sum()) for a in inproc)
    print(
        json.dumps(
            {
                "batches": len(batches),
                "fixes_outside": outside,
                "in_process_ms_per_batch": round(t_in, 3),
                "sql_ms_per_batch": round(t_sql, 3),
                "max_difference_m": round(diff, 2),
            }
        )
    )


def route_compare(n_batches: int = 300) -> None:
    """Times the rules' inputs of 100-fix batches in process (`tracking.ingest._samples`): the
    phones' grid distances alone (as before routes) and with their route's checkpoints; the
    vehicles' samples without and with their route's distance and checkpoints (`--routes on`
    first)."""
    from tracking import grids, routes
    from tracking.ingest import _samples
    from tracking.models import Tracker

    found = [
        (t.person_id, t.route_id)
        for t in Tracker.objects.filter(device_id__startswith="BENCH-P-", route__isnull=False)[
            :n_batches
        ]
    ]
    assert found, "no bench routes: run with --routes on"
    walkers = [Walker(d, time.time() - 3600, n) for n, d in enumerate(devices()[:n_batches])]
    batches = []
    for (person, route), w in zip(found, walkers):
        rows = [(n, f["lon"], f["lat"], None) for n, f in enumerate(w.batch())]
        batches.append((grids.grid_area(person), routes.route_index(route), rows))
    vehicles = {
        t.device_id: t.route_id
        for t in Tracker.objects.filter(device_id__startswith="BENCH-V-", route__isnull=False)
    }
    drives = [
        (None, routes.route_index(vehicles[d["device"]]), d)
        for d in devices()
        if d["device"] in vehicles
    ][:n_batches]
    for n, (_, _, d) in enumerate(drives):
        rows = [(k, f["lon"], f["lat"], None) for k, f in enumerate(Walker(d, 0, n).batch())]
        drives[n] = (None, drives[n][1], rows)
    timings = {}
    runs = (
        ("phone_grid_only", batches, False, False),
        ("phone_grid_and_checkpoints", batches, True, False),
        ("vehicle_no_route", drives, False, True),
        ("vehicle_route_and_checkpoints", drives, True, True),
    )
    for name, items, with_route, vehicle in runs:
        t0 = time.perf_counter()
        for _ in range(5):
            for area, route, rows in items:
                _samples(area, rows, route if with_route else None, vehicle)
        timings[name] = round((time.perf_counter() - t0) / (5 * len(items)) * 1000, 3)
    print(json.dumps({"batches": len(batches), "ms_per_batch": timings}))


def in_process(seconds: float) -> None:
    from django.utils import timezone

    from accounts.scoping import scope_for_user, system_scope
    from tracking.actions import do_ingest_fixes
    from tracking.ingest import parse_batch
    from tracking.models import Tracker

    found = devices()
    trackers = {t.device_id: t for t in Tracker.objects.filter(device_id__startswith="BENCH-")}
    from django.contrib.auth import get_user_model

    users = {u.username: scope_for_user(u) for u in get_user_model().objects.all()}
    t0 = time.time() - 6 * 3600 + random.random() * 3600
    walkers = [Walker(d, t0, n) for n, d in enumerate(found)]
    random.shuffle(walkers)
    fixes = batches = 0
    times = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for w in walkers:
            body = {"fixes": w.batch()}
            tracker = trackers[w.device["device"]]
            scope = (
                users[w.device["user"]]
                if w.device["user"]
                else system_scope(f"device:{tracker.device_id}")
            )
            b0 = time.perf_counter()
            _, parsed = parse_batch(json.loads(json.dumps(body)), 1000)
            result = do_ingest_fixes(scope, tracker, parsed, now=timezone.now())
            times.append((time.perf_counter() - b0) * 1000)
            fixes += result.accepted
            batches += 1
            if time.perf_counter() - started >= seconds:
                break
    total = time.perf_counter() - started
    print(
        json.dumps(
            {
                "mode": "in-process",
                "batches": batches,
                "fixes": fixes,
                "fixes_per_s": round(fixes / total),
                "batch_p50_ms": round(statistics.median(times), 2),
            }
        )
    )


def _client_process(port: int, shard: list[dict], tokens: dict, seconds: float, t0: float, out):
    done = {"fixes": 0, "batches": 0, "errors": 0, "times": []}
    lock = threading.Lock()
    walkers = [Walker(d, t0, hash(d["device"]) & 0xFFFF) for d in shard]
    random.shuffle(walkers)
    queue = list(walkers)
    ends = time.monotonic() + seconds

    def run():
        http = requests.Session()
        while time.monotonic() < ends:
            with lock:
                if not queue:
                    queue.extend(walkers)
                w = queue.pop()
            d = w.device
            body = {"fixes": w.batch()}
            if d["kind"] == "vehicle":
                n = int(d["device"].rsplit("-", 1)[1])
                auth = f"Device {d['device']}:{vehicle_key(n)}"
            else:
                body["device"] = d["device"]
                auth = f"Bearer {tokens[d['user']]}"
            b0 = time.perf_counter()
            r = http.post(
                f"http://127.0.0.1:{port}/api/v1/tracking/fixes",
                data=json.dumps(body),
                headers={"Content-Type": "application/json", "Authorization": auth},
                timeout=60,
            )
            elapsed = (time.perf_counter() - b0) * 1000
            with lock:
                if r.status_code == 200:
                    done["fixes"] += r.json()["accepted"]
                    done["batches"] += 1
                    done["times"].append(elapsed)
                else:
                    done["errors"] += 1
                    done.setdefault("statuses", []).append(r.status_code)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(done)


def over_http(db: str, seconds: float, clients: int) -> None:
    found = devices()
    port = free_port()
    env = {
        **os.environ,
        "CITYGRID_PG_DB": db,
        "CITYGRID_PORT": str(port),
        "CITYGRID_DEBUG": "0",
        "CITYGRID_ALLOW_DEMO_USERS": "1",
        "CITYGRID_SECRET_KEY": "bench-tracking-" + "s" * 40,
    }
    server = start(
        [str(ROOT / ".venv/bin/gunicorn"), "web.wsgi:application", "-c", "web/gunicorn.conf.py"],
        env,
        port,
        "/api/v1/health",
    )
    try:
        tokens = {}
        for user in {d["user"] for d in found if d["user"]}:
            r = requests.post(
                f"http://127.0.0.1:{port}/api/v1/auth/token",
                json={"username": user, "password": PASSWORD},
                timeout=30,
            )
            tokens[user] = r.json()["token"]
        t0 = time.time() - 6 * 3600 + random.random() * 3600
        out = mp.Queue()
        shards = [found[n::clients] for n in range(clients)]
        procs = [
            mp.Process(target=_client_process, args=(port, s, tokens, seconds, t0, out))
            for s in shards
        ]
        started = time.perf_counter()
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        for p in procs:
            p.join()
        total = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    fixes = sum(r["fixes"] for r in results)
    times = sorted(t for r in results for t in r["times"])
    print(
        json.dumps(
            {
                "mode": "http",
                "clients": clients * 4,
                "seconds": round(total, 1),
                "batches": sum(r["batches"] for r in results),
                "errors": sum(r["errors"] for r in results),
                "error_statuses": sorted({c for r in results for c in r.get("statuses", [])}),
                "fixes": fixes,
                "fixes_per_s": round(fixes / total),
                "batch_p50_ms": round(statistics.median(times), 1) if times else None,
                "batch_p99_ms": round(times[int(len(times) * 0.99)], 1) if times else None,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench_tracking")
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--grid-compare", action="store_true")
    parser.add_argument("--inprocess", type=float, default=0)
    parser.add_argument("--http", type=float, default=0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--routes", choices=["on", "off"], help="patrol routes on the trackers")
    parser.add_argument("--route-compare", action="store_true")
    args = parser.parse_args()
    django_setup(args.db)
    if args.setup:
        setup_database()
    if args.routes:
        set_routes(args.routes == "on")
    if args.grid_compare:
        grid_compare()
    if args.route_compare:
        route_compare()
    if args.inprocess or args.http:
        fresh_start()
    if args.inprocess:
        in_process(args.inprocess)
    if args.http:
        if args.inprocess:
            fresh_start()
        over_http(args.db, args.http, args.clients)


if __name__ == "__main__":
    main()
