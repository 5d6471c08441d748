"""The wall screen (/screen) with many cases: frames per second while panning the map and the
browser's memory, per case view, in headless Chromium.

    # once: `make run`'s database (scale-1 city, demo people, 3,000 demo cases, trackers), then
    # N more cases copied from the demo cases by SQL (moved a little, reported over the year)
    createdb -T citygrid bench_screen    # (-h var/postgres/run -p 54329 -U citygrid)
    .venv/bin/python bench/screen.py --db bench_screen --fill 100000   # --fill only once
    .venv/bin/python bench/screen.py --db bench_screen [--seconds 8] [--width 1920 --height 1080]

Starts gunicorn (web/gunicorn.conf.py, DEBUG off) and the stream server on free ports, signs in
the demo leader (the whole city), and opens /screen?period=year (every filled case) in a new
context per view. Once the panels and the map are drawn, the page pans the map by a few pixels
on every animation frame for `--seconds` (map.panBy in a requestAnimationFrame loop) and counts
the frames: frames per second, and the 95th percentile frame interval. Memory: the page's JS
heap (performance.memory with --enable-precise-memory-info, and the CDP Performance metrics),
and the proportional resident memory (PSS) of this run's Chromium processes (/proc: the
browser, its GPU, renderer and utility processes; the contexts of the views before are
closed). The peer in the same run is the same page over a period without cases (2001): what
the cases cost.
Chromium draws with SwiftShader (software WebGL; no GPU on the machine): a wall's GPU does
better.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.console import ARGS, CHROMIUM, start  # noqa: E402
from bench.tiles import django_setup, free_port  # noqa: E402

SECRET = "bench-screen-" + "k" * 40
PAN = """
async (seconds) => {
  const map = window.screenMap;
  const times = [];
  let last = performance.now(), step = 0;
  const ends = last + seconds * 1000;
  await new Promise((done) => {
    const frame = (now) => {
      times.push(now - last); last = now; step += 1;
      map.panBy([6 * Math.cos(step / 90), 4 * Math.sin(step / 70)], { duration: 0 });
      if (now < ends) { requestAnimationFrame(frame); } else { done(); }
    };
    requestAnimationFrame(frame);
  });
  times.shift();
  const sorted = times.slice().sort((a, b) => a - b);
  const heap = performance.memory ? performance.memory.usedJSHeapSize : null;
  return { frames: times.length, fps: times.length / seconds,
           p95_ms: sorted[Math.floor(sorted.length * 0.95)], heap_mb: heap && heap / 1048576 };
}
"""
VIEWS = ["heat", "glow", "clusters", "hotspots", "flows"]


FILL_SQL = """
INSERT INTO cases_case ({columns}, number, geom, reported_at)
SELECT {copied}, 'B' || lpad(g::text, 9, '0'),
       ST_Translate(c.geom, (random() - 0.5) * 0.004, (random() - 0.5) * 0.003),
       now() - random() * interval '360 days'
FROM generate_series(1, %(n)s) g
JOIN LATERAL (SELECT * FROM cases_case WHERE id = (SELECT min(id) FROM cases_case)
              + (g * 7919) %% %(templates)s OFFSET 0) c ON true
"""


def fill(db: str, n: int) -> float:
    """Adds `n` cases copied from the database's demo cases (demo_cases: made by the actions),
    each moved by up to ~200 m and reported at a random time of the last 360 days; their
    placement snapshot is the copied case's. Gives the seconds it took."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'cases_case'"
            " AND is_generated = 'NEVER' AND column_name NOT IN"
            " ('id', 'number', 'geom', 'reported_at', 'report_key') ORDER BY ordinal_position"
        )
        columns = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM cases_case")
        templates = cur.fetchone()[0]
        cur.execute(
            FILL_SQL.format(
                columns=", ".join(columns), copied=", ".join(f"c.{c}" for c in columns)
            ),
            {"n": n, "templates": templates},
        )
        cur.execute("ANALYZE cases_case")
    return time.monotonic() - started


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def chromium_rss_mb() -> float:
    """The proportional resident memory (PSS: a shared page counted once, split among its
    sharers) of the Chromium processes of this run: those descending from this process
    (through Playwright's driver), not other people's browsers on the machine."""
    me, total = os.getpid(), 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if "Name:\tchrom" not in text:
            continue
        pid, seen = int(status.parent.name), 0
        while pid > 1 and pid != me and seen < 20:
            pid, seen = _parent(pid), seen + 1
        if pid == me:
            try:
                rollup = (status.parent / "smaps_rollup").read_text()
            except OSError:
                continue
            total += next(
                (int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")),
                0,
            )
    return total / 1024


def one_view(browser, base: str, session: str, view: str, query: str, args) -> dict:
    context = browser.new_context(
        viewport={"width": args.width, "height": args.height}, locale="zh-CN"
    )
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    started = time.monotonic()
    page.goto(f"{base}/screen?{query}&view={view}")
    page.wait_for_function("() => document.body.dataset.loaded === 'yes'", timeout=120000)
    page.wait_for_function("() => window.screenMap && window.screenMap.loaded()", timeout=120000)
    page.wait_for_timeout(1500)
    ready_s = time.monotonic() - started
    result = page.evaluate(PAN, args.seconds)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    result.update(
        view=view,
        ready_s=round(ready_s, 2),
        cdp_heap_mb=round(metrics.get("JSHeapUsedSize", 0) / 1048576, 1),
        nodes=int(metrics.get("Nodes", 0)),
        rss_mb=round(chromium_rss_mb(), 1),
    )
    page.screenshot(path=str(ROOT / "bench" / "out" / f"screen-{view}.png"))
    context.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_screen")
    parser.add_argument("--fill", type=int, default=0, help="add this many cases first")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--views", default=",".join(VIEWS))
    args = parser.parse_args()
    os.environ.setdefault("CITYGRID_SECRET_KEY", SECRET)
    django_setup(args.db)
    if args.fill:
        print(f"filled {args.fill} cases in {fill(args.db, args.fill):.0f} s", flush=True)
    load_before = os.getloadavg()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import Person

    client = Client()
    client.force_login(Person.objects.get(user__username="leader").user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE reported_at > now() - '366 days'::interval) FROM cases_case"
        )
        total, in_year = cur.fetchone()
    connection.close()
    port, stream_port = free_port(), free_port()
    env = {
        **os.environ,
        "CITYGRID_PG_DB": args.db,
        "CITYGRID_DEBUG": "0",
        "CITYGRID_ALLOW_DEMO_USERS": "1",
        "CITYGRID_ALLOWED_HOSTS": "127.0.0.1",
        "CITYGRID_LOG_LEVEL": "ERROR",
        "CITYGRID_PORT": str(port),
        "CITYGRID_STREAM_PORT": str(stream_port),
        "CITYGRID_CACHE_PREFIX": f"bench-screen-{os.getpid()}",
        "CITYGRID_EVENTS_PREFIX": f"bench-screen-{os.getpid()}",
    }
    python = Path(sys.executable).parent
    subprocess.run(
        [str(python / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    web = start(
        [
            str(python / "gunicorn"),
            "web.wsgi:application",
            "-c",
            str(ROOT / "web/gunicorn.conf.py"),
            "--access-logfile",
            "/dev/null",
        ],  # fmt: skip
        env,
        f"http://127.0.0.1:{port}/api/v1/health",
    )
    streams = start(
        [
            str(python / "uvicorn"),
            "web.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(stream_port),
            "--log-level",
            "warning",
        ],  # fmt: skip
        env,
        f"http://127.0.0.1:{stream_port}/api/v1/health",
    )
    base = f"http://127.0.0.1:{port}"
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    results: dict = {
        "db": args.db,
        "cases": total,
        "cases_in_period": in_year,
        "viewport": [args.width, args.height],
        "views": [],
    }
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=[*ARGS, "--enable-precise-memory-info"]
            )
            one_view(browser, base, session, "heat", "period=year", args)  # warms the server
            empty = "period=custom&from=2001-01-01&to=2001-01-02"
            results["peer"] = one_view(browser, base, session, "heat", empty, args)
            print("peer (no cases)", json.dumps(results["peer"]), flush=True)
            for view in args.views.split(","):
                found = one_view(browser, base, session, view, "period=year", args)
                results["views"].append(found)
                print(view, json.dumps(found), flush=True)
            browser.close()
    finally:
        for proc in (web, streams):
            proc.terminate()
            proc.wait(timeout=30)
    results["load_before"] = load_before
    results["load_after"] = os.getloadavg()
    name = f"screen-{args.width}x{args.height}.json"
    (ROOT / "bench" / "out" / name).write_text(json.dumps(results, indent=1))
    report(results)


def report(results: dict) -> None:
    print(
        f"{results['cases']} cases ({results['cases_in_period']} in the period), viewport "
        f"{results['viewport']}; load average "
        f"before {results['load_before']}, after {results['load_after']}"
    )
    print(
        "| view | fps | p95 frame (ms) | fps / peer | JS heap (MB) | Chromium PSS (MB) | ready (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    peer = results["peer"]
    for row in [dict(peer, view="peer: no cases"), *results["views"]]:
        print(
            f"| {row['view']} | {row['fps']:.1f} | {row['p95_ms']:.0f} | "
            f"{row['fps'] / peer['fps']:.2f} | {row['cdp_heap_mb']:.0f} | {row['rss_mb']:.0f} | "
            f"{row['ready_s']:.1f} |"
        )


if __name__ == "__main__":
    main()
