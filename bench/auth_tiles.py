"""Signed-in tile latency over HTTP: one inspector fetches the same warm tile of a non-public
layer (components) many times on a keep-alive connection, signed in by session cookie and by
bearer token; prints p50/p95 in ms.

    .venv/bin/python bench/auth_tiles.py --base http://127.0.0.1:8765 \
        --user inspector-110108008 --password citygrid-demo --n 500
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import time

import requests


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def run(session: requests.Session, url: str, n: int, headers=None) -> tuple[float, float]:
    for _ in range(20):  # warm: tile cache, per-process caches of every worker
        r = session.get(url, headers=headers)
        assert r.status_code in (200, 204), (r.status_code, r.text[:200])
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = session.get(url, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code in (200, 204), r.status_code
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--user", default="inspector-110108008")
    parser.add_argument("--password", default="citygrid-demo")
    parser.add_argument("--layer", default="components")
    parser.add_argument("--lon", type=float, default=116.362)
    parser.add_argument("--lat", type=float, default=40.006)
    parser.add_argument("--z", type=int, default=15)
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    x, y = tile_of(args.lon, args.lat, args.z)
    url = f"{args.base}/tiles/{args.layer}/{args.z}/{x}/{y}.mvt"

    with requests.Session() as s:  # session cookie, through the login page
        page = s.get(f"{args.base}/accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        r = s.post(
            f"{args.base}/accounts/login/",
            data={"username": args.user, "password": args.password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{args.base}/accounts/login/"},
            allow_redirects=False,
        )
        assert "sessionid" in s.cookies, (r.status_code, r.text[:300])
        p50, p95 = run(s, url, args.n)
        print(f"session  {url}  n={args.n}  p50 {p50:.2f} ms  p95 {p95:.2f} ms")

    with requests.Session() as s:  # bearer token
        r = s.post(
            f"{args.base}/api/v1/auth/token",
            json={"username": args.user, "password": args.password},
        )
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        p50, p95 = run(s, url, args.n, headers)
        print(f"bearer   {url}  n={args.n}  p50 {p50:.2f} ms  p95 {p95:.2f} ms")


if __name__ == "__main__":
    main()
