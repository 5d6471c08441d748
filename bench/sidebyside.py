"""Side by side: the same requests against servers of several code trees on one database.

Each tree (a directory holding a CityGrid checkout, e.g. a `git worktree` of the commit before a
change) is served by its own gunicorn from the running Python's venv, with the tree first on
`PYTHONPATH`, so each server runs that tree's code against the same tables and the same warm
PostgreSQL buffers. `alternate` replays one URL list per server, round after round, swapping
the order every round, so the machine's drift (other people's work on a shared host) falls on
every tree alike.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
# One secret key for the bench process (which signs the bench users in) and every server: DEBUG
# off refuses to start without one, and a session is valid only under the key that made it.
os.environ.setdefault("CITYGRID_SECRET_KEY", "bench-sidebyside-" + "k" * 40)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_trees(values: list[str] | None) -> list[tuple[str, Path]]:
    """Gives (name, directory) of each `NAME=DIR` value; this checkout alone when none."""
    trees = []
    for value in values or []:
        name, _, directory = value.partition("=")
        if not directory or not (Path(directory) / "manage.py").exists():
            raise SystemExit(f"--tree takes NAME=DIR of a CityGrid checkout, not {value!r}")
        trees.append((name, Path(directory).resolve()))
    return trees or [("ours", ROOT)]


def serve(tree: Path, env: dict, workers: int = 2) -> tuple[subprocess.Popen, int]:
    """Starts gunicorn on the code of `tree`; gives (process, port) once it answers."""
    port = free_port()
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "web.wsgi:application",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "error",
    ]
    env = {**env, "PYTHONPATH": str(tree)}
    proc = subprocess.Popen(
        cmd, env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/ogc", timeout=5).status_code < 500:
                return proc, port
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server of {tree} did not start")


def client(session_id: str | None = None) -> requests.Session:
    """Gives an HTTP client that opens a connection per request and asks for no compression
    (gunicorn's sync workers close every connection anyway)."""
    http = requests.Session()
    http.headers.update({"Connection": "close", "Accept-Encoding": "identity"})
    if session_id:
        http.cookies.set("sessionid", session_id)
    return http


def run(http: requests.Session, urls: list[str]) -> dict:
    """Gives the raw times (ms), sizes and statuses of the URLs fetched one after another."""
    times, sizes, statuses = [], [], {}
    started = time.perf_counter()
    for url in urls:
        t0 = time.perf_counter()
        response = http.get(url, timeout=300)
        times.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(response.content))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return {
        "times": times,
        "sizes": sizes,
        "statuses": statuses,
        "seconds": time.perf_counter() - started,
    }


def merge(runs: list[dict]) -> dict:
    return {
        "times": [t for r in runs for t in r["times"]],
        "sizes": [s for r in runs for s in r["sizes"]],
        "statuses": {
            k: sum(r["statuses"].get(k, 0) for r in runs) for r in runs for k in r["statuses"]
        },
        "seconds": sum(r["seconds"] for r in runs),
    }


def summary(raw: dict) -> dict:
    """Gives requests/s, p50, p90, p99, max (ms), mean bytes and statuses of merged runs."""
    times = sorted(raw["times"])
    n = len(times)
    return {
        "n": n,
        "per_s": round(n / raw["seconds"], 1),
        "p50_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[min(n - 1, int(n * 0.90))], 2),
        "p99_ms": round(times[min(n - 1, int(n * 0.99))], 2),
        "max_ms": round(times[-1], 2),
        "bytes": round(sum(raw["sizes"]) / n),
        "statuses": raw["statuses"],
    }


def alternate(jobs: dict[str, tuple[requests.Session, list[str]]], rounds: int) -> dict:
    """Replays each labelled (client, urls) once untimed, then `rounds` times, the order of
    the labels reversed every other round; gives {label: summary}."""
    labels = list(jobs)
    for label in labels:
        run(*jobs[label])
    raw: dict[str, list[dict]] = {label: [] for label in labels}
    for n in range(rounds):
        for label in labels if n % 2 == 0 else labels[::-1]:
            raw[label].append(run(*jobs[label]))
    return {label: summary(merge(runs)) for label, runs in raw.items()}


def base_env(db: str) -> dict:
    return {
        **os.environ,
        "CITYGRID_PG_DB": db,
        "CITYGRID_DEBUG": "0",
        "CITYGRID_ALLOWED_HOSTS": "127.0.0.1",
        "CITYGRID_LOG_LEVEL": "ERROR",
        "CITYGRID_CACHE_PREFIX": f"bench-{db}-{int(time.time())}",
        # Every tree uses the same services and upload spool (this checkout's unless given).
        "CITYGRID_VAR": os.environ.get("CITYGRID_VAR", str(ROOT / "var")),
    }
