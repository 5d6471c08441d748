"""The dispatcher console (/console) at 1M cases: time to first paint and to an interactive box
list (the boxes with their counts and the first page of the first box shown), in headless
Chromium, and what the page loads (requests and bytes) by then and until the map is drawn.

    # the database of bench/cases.py (scale-20 city, demo organization, 1M cases), migrated
    CITYGRID_PG_DB=bench_kernel20 .venv/bin/python manage.py migrate
    .venv/bin/python bench/console.py --db bench_kernel20 [--runs 9]

Starts gunicorn with the `make run` settings (web/gunicorn.conf.py: 3 workers x 2 threads,
DEBUG off) and the stream server (uvicorn) on free ports, signs in the demo dispatcher (the
whole district) and the inspector of one street (database sessions made before Playwright
starts), and opens /console in a new browser context per run (nothing cached: each run is a
first visit). The page's own clock gives the times: the paint entries, and a MutationObserver
installed before the page's scripts notes when the first box count and the list's summary
(set with the first page's rows) appear. The peer in the same run is the page's two data calls
(boxes, first list page) as the browser timed them: what is left is the page's own work (HTML,
scripts, styles, rendering). The first run of each person warms the server and is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.cases import INSPECTOR, pct  # noqa: E402
from bench.tiles import django_setup, free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
]
SECRET = "bench-console-" + "k" * 40

# Installed before the page's scripts: notes (performance.now(), ms since navigation start) when
# the first box count and the list's summary first appear.
MARKS = """
(() => {
  window.__marks = {};
  performance.setResourceTimingBufferSize(5000);
  const mark = (key) => { if (window.__marks[key] === undefined) window.__marks[key] = performance.now(); };
  const check = () => {
    if (document.querySelector('#box-list button .count')) mark('boxes');
    const summary = document.querySelector('#list-summary');
    if (summary && summary.textContent.indexOf('共') === 0) {
      mark('list');
      window.__marks.rows = document.querySelectorAll('#cases tbody tr').length;
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
})();
"""

# Gathered after the map has drawn: the paint entries, the marks, every request's timing.
GATHER = """
() => {
  const paint = {};
  performance.getEntriesByType('paint').forEach(p => { paint[p.name] = p.startTime; });
  const nav = performance.getEntriesByType('navigation')[0];
  const entries = [{ name: nav.name, type: 'navigation', start: 0, end: nav.responseEnd,
    transfer: nav.transferSize, body: nav.decodedBodySize }];
  performance.getEntriesByType('resource').forEach(r => entries.push({ name: r.name,
    type: r.initiatorType, start: r.startTime, end: r.responseEnd, transfer: r.transferSize,
    body: r.decodedBodySize }));
  const boxes = Array.from(document.querySelectorAll('#box-list button[data-box]')).map(b =>
    [b.getAttribute('data-box'), Number(b.querySelector('.count').textContent)]);
  return { paint, marks: window.__marks, entries, boxes, now: performance.now(),
    dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
}
"""


def kind_of(url: str) -> str:
    """What a request is for: page, script, style, api (by path), tiles, glyphs, sprite, other."""
    path = urlparse(url).path
    if path == "/console":
        return "page"
    if path.startswith("/api/v1/cases/stream"):
        return "stream"
    if path.startswith("/api/"):
        return "api " + path.removeprefix("/api/v1/")
    if "/glyphs/" in path or "/fonts/" in path:
        return "glyphs"
    if path.startswith("/tiles/"):
        return "tiles"
    if path.startswith("/styles/"):
        return "style"
    if path.endswith(".js"):
        return "script"
    if path.endswith(".css"):
        return "style sheet"
    if "sprite" in path:
        return "sprite"
    return "other " + path


def start(cmd: list[str], env: dict, url: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(600):
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"{cmd[0]} exited")
        time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"{cmd[0]} did not start")


def one_run(browser, base: str, session: str) -> dict:
    context = browser.new_context(viewport={"width": 1440, "height": 860}, locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(MARKS)
    # Every request, the map's tiles and glyphs too (fetched by its web workers, whose requests
    # the page's resource timing does not list).
    finished: list = []
    context.on("requestfinished", lambda request: finished.append(request))
    page.goto(base + "/console")
    page.wait_for_function(
        "() => window.__marks.boxes !== undefined && window.__marks.list !== undefined",
        timeout=120_000,
    )
    page.wait_for_function(
        "() => window.consoleMap && window.consoleMap.loaded() && window.consoleMap.areTilesLoaded()",
        timeout=120_000,
    )
    page.wait_for_timeout(300)  # what the map's idle frame still asks for
    seen = page.evaluate(GATHER)
    origin = page.evaluate("performance.timeOrigin")
    requests_seen = []
    for request in finished:
        if not request.url.startswith("http"):
            continue  # the map's worker code (a blob: URL)
        timing, sizes = request.timing, request.sizes()
        end = timing["startTime"] + max(timing["responseEnd"], 0) - origin
        wire = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        requests_seen.append({"name": request.url, "end": end, "transfer": wire})
    context.close()
    marks = seen["marks"]
    ready = max(marks["boxes"], marks["list"])
    api = {e["name"]: e for e in seen["entries"] if urlparse(e["name"]).path.startswith("/api/")}
    boxes_call = next(e for n, e in api.items() if urlparse(n).path == "/api/v1/cases/boxes")
    list_call = next(e for n, e in api.items() if urlparse(n).path == "/api/v1/cases")
    loaded: dict[str, dict] = {}
    before: dict[str, dict] = {}
    for e in requests_seen:
        for into, keep in ((loaded, True), (before, e["end"] <= ready)):
            if keep:
                row = into.setdefault(kind_of(e["name"]), {"n": 0, "transfer": 0})
                row["n"] += 1
                row["transfer"] += e["transfer"]
    return {
        "first_paint": seen["paint"].get("first-paint"),
        "first_contentful_paint": seen["paint"].get("first-contentful-paint"),
        "boxes_shown": marks["boxes"],
        "list_shown": marks["list"],
        "interactive": ready,
        "map_drawn": seen["now"],
        "rows": marks.get("rows"),
        "boxes": seen["boxes"],
        "boxes_call": boxes_call["end"] - boxes_call["start"],
        "list_call": list_call["end"] - list_call["start"],
        "boxes_asked": boxes_call["start"],
        "data_calls": (boxes_call["end"] - boxes_call["start"])
        + (list_call["end"] - list_call["start"]),
        "list_url": urlparse(list_call["name"]).query,
        "list_bytes": list_call["body"],
        "before_interactive": before,
        "until_map_drawn": loaded,
        "errors": errors,
        "requests": requests_seen,
    }


def summary(runs: list[dict], key: str) -> str:
    values = [r[key] for r in runs if r[key] is not None]
    return f"{pct(values, 50):.0f} / {pct(values, 95):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_kernel20")
    parser.add_argument("--runs", type=int, default=9, help="measured runs per person")
    parser.add_argument("--users", default=f"dispatcher,{INSPECTOR}")
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    users = args.users.split(",")
    load_before = os.getloadavg()
    os.environ.setdefault("CITYGRID_SECRET_KEY", SECRET)
    django_setup(args.db)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import Person

    sessions = {}
    for name in users:  # database sessions, made before Playwright's loop starts
        client = Client()
        client.force_login(Person.objects.get(user__username=name).user)
        sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_case")
        total_cases = cur.fetchone()[0]
    connection.close()

    port, stream_port = free_port(), free_port()
    env = {
        **os.environ,
        "CITYGRID_PG_DB": args.db,
        "CITYGRID_DEBUG": "0",
        "CITYGRID_ALLOW_DEMO_USERS": "1",
        "CITYGRID_ALLOWED_HOSTS": "127.0.0.1",
        "CITYGRID_LOG_LEVEL": "ERROR",
        "CITYGRID_WEB_WORKERS": str(args.workers),
        "CITYGRID_PORT": str(port),
        "CITYGRID_STREAM_PORT": str(stream_port),
        "CITYGRID_CACHE_PREFIX": f"bench-console-{os.getpid()}",
        "CITYGRID_EVENTS_PREFIX": f"bench-console-{os.getpid()}",
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
        ],
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
        ],
        env,
        f"http://127.0.0.1:{stream_port}/api/v1/health",
    )
    base = f"http://127.0.0.1:{port}"
    results: dict = {"db": args.db, "cases": total_cases, "users": {}}
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for name in users:
                runs = []
                for n in range(args.runs + 1):
                    run = one_run(browser, base, sessions[name])
                    if n:
                        runs.append(run)
                    print(
                        name,
                        n,
                        json.dumps(
                            {k: run[k] for k in ("first_paint", "interactive", "map_drawn")}
                        ),
                        flush=True,
                    )
                results["users"][name] = runs
            browser.close()
    finally:
        for proc in (web, streams):
            proc.terminate()
            proc.wait(timeout=30)
    results["load_before"] = load_before
    results["load_after"] = os.getloadavg()
    out = ROOT / "bench" / "out" / "console.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    report(results)


def report(results: dict) -> None:
    print(
        f"{results['cases']} cases; load average before {results['load_before']}, after "
        f"{results['load_after']}"
    )
    print(
        "| person | runs | first paint | first contentful paint | boxes asked | boxes shown | "
        "interactive (boxes + first page) | map drawn | boxes call | list call | both calls | "
        "interactive / both calls (p50) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, runs in results["users"].items():
        cells = [
            summary(runs, k)
            for k in (
                "first_paint",
                "first_contentful_paint",
                "boxes_asked",
                "boxes_shown",
                "interactive",
                "map_drawn",
                "boxes_call",
                "list_call",
                "data_calls",
            )
        ]
        ratio = pct([r["interactive"] for r in runs], 50) / pct([r["data_calls"] for r in runs], 50)
        cells.append(f"{ratio:.1f}")
        print(f"| {name} | {len(runs)} | " + " | ".join(cells) + " |")
    for name, runs in results["users"].items():
        last = runs[-1]
        print(
            f"\n{name}: boxes {last['boxes']}; first page {last['rows']} rows "
            f"({last['list_url']}, {last['list_bytes']} bytes)"
        )
        print(
            "| what | requests by interactive | bytes on the wire | requests until the map is "
            "drawn | bytes on the wire |"
        )
        print("|---|---|---|---|---|")
        drawn = last["until_map_drawn"]
        for kind in sorted(drawn, key=lambda k: -drawn[k]["transfer"]):
            after = drawn[kind]
            by = last["before_interactive"].get(kind, {"n": 0, "transfer": 0})
            print(
                f"| {kind} | {by['n']} | {by['transfer']:,} | {after['n']} | "
                f"{after['transfer']:,} |"
            )
        total = {k: sum(v[k] for v in drawn.values()) for k in ("n", "transfer")}
        print(f"| all | | | {total['n']} | {total['transfer']:,} |")
        errors = {e for r in runs for e in r["errors"]}
        if errors:
            print("page errors:", errors)
    print("times in ms, p50 / p95 over the runs")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--report":
        report(json.loads((ROOT / "bench" / "out" / "console.json").read_text()))
    else:
        main()
