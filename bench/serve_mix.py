"""Web server settings under load: a tiles + locate + geocode mix from keep-alive clients (wrk).

Writes the URL list (anonymous requests the demo city answers: MVT tiles of the public layers
at z13-16 over the city, locate at random points in it, geocode of random road + door number),
then runs `wrk` with bench/serve_mix.lua against a server already listening, once per client
count, and prints requests/s, p50, p95, p99 and non-2xx/3xx counts as one Markdown row each.

    .venv/bin/python bench/serve_mix.py --db bench_serve --port 8770 --label "sync" [--clients 10 50]

The server is started separately (see bench/README.md, "Web server settings").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
from pathlib import Path
from urllib.parse import quote

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "bench" / "serve_mix.lua"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def urls(db: str, count: int, seed: int) -> list[str]:
    conn = psycopg2.connect(
        host=os.environ.get("CITYGRID_PG_SOCKET_DIR", str(ROOT / "var" / "postgres" / "run")),
        port=int(os.environ.get("CITYGRID_PG_PORT", "54329")),
        user="citygrid",
        dbname=db,
    )
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) e FROM spatial_adminarea) s"
        )
        x0, y0, x1, y1 = cur.fetchone()
        cur.execute("SELECT name FROM geocoder_road")
        roads = [r[0] for r in cur.fetchall()]
    conn.close()
    rng = random.Random(seed)
    layers = ("roads", "unit_grids", "communities", "streets")
    out = []
    for i in range(count):
        kind = i % 3
        lon, lat = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if kind == 0:
            z = rng.randint(13, 16)
            x, y = tile_of(lon, lat, z)
            out.append(f"/tiles/{rng.choice(layers)}/{z}/{x}/{y}.mvt")
        elif kind == 1:
            out.append(f"/api/v1/locate?lon={lon:.6f}&lat={lat:.6f}")
        else:
            q = f"{rng.choice(roads)}{rng.randint(1, 200)}号"
            out.append(f"/api/v1/geocode?q={quote(q)}&limit=1")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="citygrid")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--label", default="")
    ap.add_argument("--clients", type=int, nargs="+", default=[10, 50])
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--urls", type=int, default=3000)
    args = ap.parse_args()
    listing = Path("/tmp") / f"serve_mix_{args.db}.txt"
    listing.write_text("\n".join(urls(args.db, args.urls, seed=1)) + "\n")
    env = {**os.environ, "SERVE_MIX_URLS": str(listing)}
    base = f"http://127.0.0.1:{args.port}"
    subprocess.run(  # warm-up: every worker imports, connects and fills its caches
        ["wrk", "-t2", "-c10", "-d5s", "-s", str(LUA), base], env=env, capture_output=True
    )
    for clients in args.clients:
        done = subprocess.run(
            ["wrk", "-t2", f"-c{clients}", f"-d{args.seconds}s", "--timeout", "30s"]
            + ["-s", str(LUA), base],
            env=env,
            capture_output=True,
            text=True,
        )
        line = [s for s in done.stdout.splitlines() if s.startswith("JSON ")]
        if not line:
            raise SystemExit(done.stdout + done.stderr)
        r = json.loads(line[-1][5:])
        print(
            f"| {args.label} | {clients} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f}"
            f" | {r['p99']:.1f} | {r['bad']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
