"""The serving path against tipg 1.6 and against its own SQL: keep-alive clients (wrk).

Starts, on one database (default `bench_serve20`: a copy of the scale-20 `bench_kernel20`,
`CREATE DATABASE bench_serve20 TEMPLATE bench_kernel20` then `manage.py migrate`):

- ours, cold: gunicorn `-c web/gunicorn.conf.py` (the `make run` settings: 3 workers x 2
  threads, keep-alive 5 s) with CITYGRID_TILES_CACHE=0, so every tile is built by PostGIS;
- ours, warm: the same with the Redis tile cache on (its own key prefix);
- tipg 1.6 (uvicorn, its own venv, never the project's; as many workers as ours), pointed at the
  same database, tile buffer 64 like ours, only the same properties;

then, for components (signed in: a bearer token of a bench superuser) and unit grids, at z12 and
z14-z16 around the city (the wall-screen tiles of bench/tiles.py), runs `wrk` over keep-alive
connections with 1, 10 and 50 clients, a few seconds each, ours and tipg one after the other,
the order swapped every case (the host is shared: the drift falls on both alike). Also:

- the limit: our own tile SQL (built by the server's code, `tiles.service`) run with a plain
  psycopg2 connection, bytes fetched, one tile after another: p50 per layer and zoom;
- cache hits: the warm server over the same tiles;
- locate over HTTP (wrk) against its prepared statement run raw (psycopg2), and geocode over
  HTTP.

Prints a Markdown table and, with --write-readme, puts it into bench/README.md under
"Serving path vs tipg" with the command and the load average.

    mkdir /tmp/cg-serve-head && git archive HEAD | tar -x -C /tmp/cg-serve-head
    python3 -m venv /tmp/tipg && /tmp/tipg/bin/pip install 'tipg==1.6.*' uvicorn
    .venv/bin/python bench/serve.py --db bench_serve20 --tree /tmp/cg-serve-head --seconds 3 \
        --write-readme

At one client the tipg column carries uvicorn's ~40 ms delayed-ACK stall on kept-alive
connections for small responses (see bench/tiles.py `client`): that is how a keep-alive
client meets it, not PostGIS time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg2
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import LAYERS, django_setup, free_port, session_tiles  # noqa: E402

OUT = ROOT / "bench" / "out"
ZOOMS = (12, 14, 15, 16)
MIX_ZOOMS = (14, 15, 16)
SERVE_LAYERS = ("components", "unit_grids")
USER, PASSWORD = "bench-serve", "bench-serve-" + "p" * 20
SECRET = "bench-serve-" + "k" * 40

# Each request a random URL of the list in $SERVE_URLS; headers given with -H are sent (wrk.format
# uses wrk.headers). One JSON line: requests/s, p50/p95/p99 ms, errors, bytes per response.
LUA = r"""
local urls = {}
for line in io.lines(os.getenv("SERVE_URLS")) do urls[#urls + 1] = line end
local n = 0
setup = function(thread) n = n + 1; thread:set("id", n) end
init = function() math.randomseed(os.time() * 1000 + id) end
request = function() return wrk.format("GET", urls[math.random(#urls)]) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"rps": %.1f, "mean": %.3f, "p50": %.3f, "p95": %.3f, "p99": %.3f, "n": %d, "bad": %d, "status": %d, "bytes": %.0f}\n',
    summary.requests / (summary.duration / 1e6), latency.mean / 1000,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    summary.bytes / math.max(summary.requests, 1)))
end
"""


def wait_up(proc: subprocess.Popen, url: str, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}): {url}")
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server did not start: {url}")


def wrk(base: str, urls: list[str], clients: int, seconds: float, headers=()) -> dict:
    listing = OUT / f"serve-urls-{os.getpid()}.txt"
    listing.write_text("\n".join(urls) + "\n")
    lua = OUT / f"serve-{os.getpid()}.lua"
    lua.write_text(LUA)
    cmd = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s"]
    for h in headers:
        cmd += ["-H", h]
    done = subprocess.run(
        cmd + ["-s", str(lua), base],
        env={**os.environ, "SERVE_URLS": str(listing)},
        capture_output=True,
        text=True,
    )
    line = [s for s in done.stdout.splitlines() if s.startswith("JSON ")]
    if not line:
        raise SystemExit(done.stdout + done.stderr)
    return json.loads(line[-1][5:])


def fetch(cur, query: str) -> bytes:
    """Runs a tile query as the server does (tiles.service.fetch): the bytea by binary COPY."""
    from tiles.service import copy_bytea

    buffer = io.BytesIO()
    cur.copy_expert(f"COPY ({query}) TO STDOUT (FORMAT binary)", buffer)
    return copy_bytea(buffer.getbuffer())


def raw_tile_sql(keys, tiles_by_zoom: dict, dsn: dict, user) -> dict:
    """Gives {(layer, z): p50 ms} of our tile SQL (as the server builds it for `user`) run through
    plain psycopg2, bytes fetched as the server fetches them (binary COPY; before 2026-11-29
    23:00 a plain SELECT, whose hex transfer cost the large tiles up to 2 ms); one untimed pass
    first (the same warm buffers as HTTP)."""
    from django.db import connection

    from accounts.scoping import scope_for_user
    from tiles import service
    from tiles import sql as tsql

    scope = scope_for_user(user)
    texts: dict = {}
    with connection.cursor() as cur:
        for key in keys:
            item = service.resolve([key], scope)[0]
            for z, tiles in tiles_by_zoom.items():
                for t in tiles:
                    part = service.layer_query(item, service.tile_source(item, scope), *t)
                    query, params = tsql.combine([part])
                    text = cur.cursor.mogrify(query.as_string(cur.cursor), params).decode()
                    texts.setdefault((key, z), []).append(text)
    out = {}
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for case, queries in texts.items():
            for q in queries:  # warm
                fetch(cur, q)
            times, sizes = [], []
            for _ in range(3):
                for q in queries:
                    t0 = time.perf_counter()
                    data = fetch(cur, q)
                    times.append((time.perf_counter() - t0) * 1000)
                    sizes.append(len(data))
            out[case] = {
                "p50": statistics.median(times),
                "mean": statistics.mean(times),
                "bytes": statistics.mean(sizes),
            }
    conn.close()
    return out


def raw_locate(points, dsn: dict) -> float:
    """Gives the p50 ms of locate's prepared statement (the whole placement) run raw."""
    from django.conf import settings

    from spatial import locate as loc

    statement, _ = loc._statement(loc._WHOLE, None)
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True
    times = []
    with conn.cursor() as cur:
        cur.execute(statement.prepare)
        now = dt.datetime.now(dt.UTC)
        for i, (lon, lat) in enumerate(points * 2):
            dlon, dlat = loc.search_box_degrees(lat)
            params = {
                "lon": lon,
                "lat": lat,
                "at": now,
                "tz": settings.TIME_ZONE,
                "dlon": dlon,
                "dlat": dlat,
                "radius": loc.ROAD_SEARCH_METRES,
            }
            t0 = time.perf_counter()
            cur.execute(statement.execute, params)
            cur.fetchone()
            if i >= len(points):  # the first pass warms
                times.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_serve20")
    parser.add_argument("--tipg-venv", default="/tmp/tipg")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument(
        "--tree",
        type=Path,
        default=ROOT,
        help="the CityGrid code to serve and build SQL with (e.g. `git archive HEAD` unpacked,"
        " so nobody's uncommitted edits are measured); default this checkout",
    )
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    args.tree = args.tree.resolve()
    sys.path.insert(0, str(args.tree))
    # Another tree's var/ has no PostgreSQL: the services of this checkout serve every tree.
    os.environ.setdefault("CITYGRID_PG_SOCKET_DIR", str(ROOT / "var" / "postgres" / "run"))
    load_before = os.getloadavg()
    started = time.monotonic()
    os.environ.setdefault("CITYGRID_SECRET_KEY", SECRET)
    django_setup(args.db)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    User = get_user_model()
    user, _ = User.objects.get_or_create(username=USER)
    user.is_superuser = user.is_staff = user.is_active = True
    user.set_password(PASSWORD)
    user.save()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry)"
            " AS c FROM spatial_unitgrid) AS s"
        )
        centre = cur.fetchone()
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) e FROM spatial_adminarea) s"
        )
        box = cur.fetchone()
        cur.execute("SELECT name FROM geocoder_road")
        roads = [r[0] for r in cur.fetchall()]
    tiles = session_tiles(centre, zooms=ZOOMS)
    by_zoom = {z: [t for t in tiles if t[0] == z] for z in ZOOMS}
    db = settings.DATABASES["default"]
    dsn = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "dbname": args.db}
    OUT.mkdir(parents=True, exist_ok=True)

    rng = random.Random(1)
    points = [(rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])) for _ in range(500)]
    geocodes = [
        f"/api/v1/geocode?q={quote(f'{rng.choice(roads)}{rng.randint(1, 200)}号')}&limit=1"
        for _ in range(500)
    ]
    locates = [f"/api/v1/locate?lon={lon:.6f}&lat={lat:.6f}" for lon, lat in points]

    print("raw SQL ...", flush=True)
    raw = raw_tile_sql(SERVE_LAYERS, by_zoom, dsn, user)
    raw_loc = raw_locate(points[:200], dsn)

    prefix = f"bench-serve-{os.getpid()}"
    ours_env = {
        **os.environ,
        "CITYGRID_PG_DB": args.db,
        "CITYGRID_DEBUG": "0",
        "CITYGRID_ALLOWED_HOSTS": "127.0.0.1",
        "CITYGRID_LOG_LEVEL": "ERROR",
        "CITYGRID_WEB_WORKERS": str(args.workers),
        "CITYGRID_EVENTS_PREFIX": prefix,
        "PYTHONPATH": str(args.tree),
    }
    ports = {"cold": free_port(), "warm": free_port(), "tipg": free_port()}
    gunicorn = [str(ROOT / ".venv" / "bin" / "gunicorn"), "web.wsgi:application"]
    gunicorn += ["-c", str(args.tree / "web" / "gunicorn.conf.py"), "--access-logfile", "/dev/null"]
    dburl = f"postgresql://{db['USER']}@{quote(db['HOST'], safe='')}:{db['PORT']}/{args.db}"
    servers = {
        "cold": (
            gunicorn,
            {
                **ours_env,
                "CITYGRID_PORT": str(ports["cold"]),
                "CITYGRID_TILES_CACHE": "0",
                "CITYGRID_CACHE_PREFIX": prefix + "-cold",
            },
        ),
        "warm": (
            gunicorn,
            {
                **ours_env,
                "CITYGRID_PORT": str(ports["warm"]),
                "CITYGRID_TILES_CACHE": "1",
                "CITYGRID_CACHE_PREFIX": prefix + "-warm",
            },
        ),
        "tipg": (
            [
                f"{args.tipg_venv}/bin/uvicorn",
                "tipg.main:app",
                "--port",
                str(ports["tipg"]),
                "--workers",
                str(args.workers),
                "--log-level",
                "error",
                "--no-access-log",
            ],
            {
                **os.environ,
                "DATABASE_URL": dburl,
                "TIPG_TILE_BUFFER": "64",
                "TIPG_MAX_FEATURES_PER_TILE": "1000000",
            },
        ),
    }
    procs = {}
    results: dict = {"db": args.db, "tiles": {z: len(v) for z, v in by_zoom.items()}}
    try:
        for name, (cmd, env) in servers.items():
            procs[name] = subprocess.Popen(
                cmd, env=env, cwd=args.tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        for name in ("cold", "warm"):
            wait_up(procs[name], f"http://127.0.0.1:{ports[name]}/tiles/unit_grids.json")
        wait_up(procs["tipg"], f"http://127.0.0.1:{ports['tipg']}/collections")
        base = {n: f"http://127.0.0.1:{p}" for n, p in ports.items()}
        r = requests.post(
            f"{base['cold']}/api/v1/auth/token", json={"username": USER, "password": PASSWORD}
        )
        r.raise_for_status()
        auth = (f"Authorization: Bearer {r.json()['token']}",)

        def ours_urls(key, tl):
            return [f"/tiles/{key}/{z}/{x}/{y}.mvt" for z, x, y in tl]

        def tipg_urls(key, tl):
            collection, props, _ = LAYERS[key]
            return [
                f"/collections/{collection}/tiles/WebMercatorQuad/{z}/{x}/{y}?properties={props}"
                for z, x, y in tl
            ]

        # Warm-up: every worker imports, connects, fills per-process caches; PostgreSQL buffers.
        for key in SERVE_LAYERS:
            wrk(base["cold"], ours_urls(key, tiles), 6, 2, auth)
            wrk(base["tipg"], tipg_urls(key, tiles), 6, 2)
            wrk(base["warm"], ours_urls(key, tiles), 6, 2, auth)  # fills the cache
        wrk(base["cold"], locates + geocodes, 6, 2, auth)

        order = {"flip": False}

        def side_by_side(name: str, key: str, tl: list, c: int) -> None:
            """ours-cold and tipg one after the other (the order swapped every case), then
            ours-warm, over the tiles `tl` with `c` clients; kept as results[name]."""
            jobs = [
                ("ours", lambda: wrk(base["cold"], ours_urls(key, tl), c, args.seconds, auth)),
                ("tipg", lambda: wrk(base["tipg"], tipg_urls(key, tl), c, args.seconds)),
            ]
            if order["flip"]:
                jobs.reverse()
            order["flip"] = not order["flip"]
            res = {n: f() for n, f in jobs}
            res["warm"] = wrk(base["warm"], ours_urls(key, tl), c, args.seconds, auth)
            results[name] = res
            print(name, json.dumps(res), flush=True)

        for key in SERVE_LAYERS:
            for z in ZOOMS:
                for c in args.clients:
                    side_by_side(f"{key} z{z} c{c}", key, by_zoom[z], c)
        # The mix: every z14-z16 address of a layer in one list, as a screen zooming in.
        mix = [t for z in MIX_ZOOMS for t in by_zoom[z]]
        for key in SERVE_LAYERS:
            for c in args.clients:
                side_by_side(f"{key} mix c{c}", key, mix, c)
        for label, urls in (("locate", locates), ("geocode", geocodes)):
            for c in args.clients:
                results[f"{label} c{c}"] = wrk(base["cold"], urls, c, args.seconds, auth)
                print(label, c, json.dumps(results[f"{label} c{c}"]), flush=True)
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    results["raw"] = {f"{k} z{z}": v for (k, z), v in raw.items()}
    results["raw_locate_p50"] = raw_loc
    load_after = os.getloadavg()
    results["load"] = [load_before, load_after]
    (OUT / f"serve-{args.db}.json").write_text(json.dumps(results, indent=2))
    table = make_table(results, raw, raw_loc, args.clients)
    minutes = (time.monotonic() - started) / 60
    state = (
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {minutes:.1f} min, database "
        f"`{args.db}`, {os.cpu_count()} cores; load average (1/5/15 min) before "
        + "/".join(f"{v:.2f}" for v in load_before)
        + ", after "
        + "/".join(f"{v:.2f}" for v in load_after)
        + f"; tiles per zoom {results['tiles']}; wrk {args.seconds:g} s per cell."
    )
    print(state + "\n\n" + table)
    if args.write_readme:
        write_readme(state, table, args)


def make_table(results: dict, raw: dict, raw_loc: float, clients: list[int]) -> str:
    lines = [
        "| row | layer | zoom | clients | ours | tipg 1.6 | ours / tipg |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    c1 = min(clients)
    for key in SERVE_LAYERS:
        for z in ZOOMS:
            res = results[f"{key} z{z} c{c1}"]
            sql = raw[key, z]
            # Means: each wrk request takes a random tile of the list and the raw SQL runs the
            # whole list, so the means compare the same mix (a p50 of a list of mostly empty
            # tiles with a few 360 KB ones compares nothing).
            ours, tipg = res["ours"]["mean"], res["tipg"]["mean"]
            lines.append(
                f"| tile built: HTTP mean / raw SQL mean ms (ratio) | {key} | {z} | {c1} | "
                f"{ours:.2f} / {sql['mean']:.2f} ({ours / sql['mean']:.2f}) "
                f"| {tipg:.1f} | {ours / tipg:.2f} |"
            )
            beyond = ours - res["warm"]["mean"]
            lines.append(
                f"| tile built less cache hit, mean / raw SQL mean ms (ratio) | {key} | {z} | "
                f"{c1} | {beyond:.2f} / {sql['mean']:.2f} ({beyond / sql['mean']:.2f}) | — | — |"
            )
    for key in SERVE_LAYERS:
        for z in ZOOMS:
            res = results[f"{key} z{z} c{c1}"]
            lines.append(
                f"| cache hit p50 ms (cold p50) | {key} | {z} | {c1} | {res['warm']['p50']:.2f} "
                f"({res['ours']['p50']:.1f}) | — | — |"
            )
    for key in SERVE_LAYERS:
        for z in ZOOMS:
            for c in clients:
                if c == c1:
                    continue
                res = results[f"{key} z{z} c{c}"]
                o, t, w = res["ours"], res["tipg"], res["warm"]
                lines.append(
                    f"| p50 / p95 ms | {key} | {z} | {c} | {o['p50']:.1f} / {o['p95']:.1f} | "
                    f"{t['p50']:.1f} / {t['p95']:.1f} | {o['p50'] / t['p50']:.2f} |"
                )
                lines.append(
                    f"| tiles/s (cache hits/s) | {key} | {z} | {c} | {o['rps']:.0f} "
                    f"({w['rps']:.0f}) | {t['rps']:.0f} | {o['rps'] / t['rps']:.2f} |"
                )
    for key in SERVE_LAYERS:
        for c in clients:
            res = results[f"{key} mix c{c}"]
            o, t, w = res["ours"], res["tipg"], res["warm"]
            lines.append(
                f"| tiles/s, z14-16 mix (cache hits/s) | {key} | 14-16 | {c} | {o['rps']:.0f} "
                f"({w['rps']:.0f}) | {t['rps']:.0f} | {o['rps'] / t['rps']:.2f} |"
            )
    for key in SERVE_LAYERS:
        for z in ZOOMS:
            res = results[f"{key} z{z} c{c1}"]
            lines.append(
                f"| bytes per response (raw SQL bytes) | {key} | {z} | — | "
                f"{res['ours']['bytes']:.0f} ({raw[key, z]['bytes']:.0f}) | "
                f"{res['tipg']['bytes']:.0f} | — |"
            )
    loc = results[f"locate c{c1}"]
    lines.append(
        f"| locate: HTTP p50 / raw SQL p50 ms (ratio) | — | — | {c1} | {loc['p50']:.2f} / "
        f"{raw_loc:.2f} ({loc['p50'] / raw_loc:.2f}) | — | — |"
    )
    for label in ("locate", "geocode"):
        for c in clients:
            r = results[f"{label} c{c}"]
            lines.append(
                f"| {label}: p50 / p95 ms, req/s | — | — | {c} | {r['p50']:.2f} / {r['p95']:.2f}, "
                f"{r['rps']:.0f} | — | — |"
            )
    bad = {
        k: {n: (v["bad"], v["status"]) for n, v in r.items() if v["bad"] or v["status"]}
        for k, r in results.items()
        if isinstance(r, dict) and k not in ("tiles", "raw") and "ours" in r
    }
    bad = {k: v for k, v in bad.items() if v}
    extra = [f"| errors (socket, status≥400) | {k} | | | {v} | | |" for k, v in bad.items()]
    for label in ("locate", "geocode"):
        for c in clients:
            r = results[f"{label} c{c}"]
            if r["bad"] or r["status"]:
                extra.append(f"| errors | {label} c{c} | | | {r['bad']}, {r['status']} | | |")
    return "\n".join(lines + extra)


def write_readme(state: str, table: str, args) -> None:
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text()
    heading = "## Serving path vs tipg (`bench/serve.py`)"
    command = (
        f".venv/bin/python bench/serve.py --db {args.db} --tipg-venv {args.tipg_venv} "
        f"--tree {args.tree} --workers {args.workers} --seconds {args.seconds:g} "
        f"--clients {' '.join(map(str, args.clients))} --write-readme"
    )
    begin, end = "<!-- bench/serve.py: table begins -->", "<!-- bench/serve.py: table ends -->"
    block = f"{begin}\n\n    {command}\n\n{state}\n\n{table}\n\n{end}"
    if heading not in text:
        text = text.rstrip("\n") + f"\n\n{heading}\n\n{block}\n"
    elif begin in text and end in text:  # the prose around the table stays
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        at = text.index(heading) + len(heading)
        text = text[:at] + "\n\n" + block + text[at:]
    readme.write_text(text)


if __name__ == "__main__":
    main()
