"""The case workflow at 1M cases in the scale-20 city: registration over HTTP, box counts,
filtered list pages, case tiles against component tiles, each against its own SQL run raw.

    # once: the scale-20 city (bench_kernel20), the cases migrations, the demo organization
    # and the demo manual, then 1M cases by SQL (bench/cases_fill.sql, 70-120 s)
    CITYGRID_PG_DB=bench_kernel20 .venv/bin/python manage.py migrate
    CITYGRID_PG_DB=bench_kernel20 .venv/bin/python manage.py demo_accounts
    .venv/bin/python bench/cases.py --db bench_kernel20 --fill 1000000   # --fill only once
    .venv/bin/python bench/cases.py --db bench_kernel20 [--requests 200] [--register 200]

Starts gunicorn with the `make run` settings (web/gunicorn.conf.py: 3 workers x 2 threads,
DEBUG off, demo users allowed, tile cache off) on a free port, signs in the demo users
(dispatcher: the whole district; inspector-110108005: one street; acceptor: registers) with
bearer tokens, and replays each case with a kept-alive `requests.Session` per client. The raw
column is the SQL the same code builds for the same caller (captured in-process with
CaptureQueriesContext: the counts and pages, not the sign-in and scope queries) run through
plain psycopg2, p50 over the same number of runs. Registration writes real cases (today's
numbers) through the whole action: locate, snapshot, number, workflow, deadline, case and
report event.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup, free_port, session_tiles  # noqa: E402

PASSWORD = "citygrid-demo"
INSPECTOR = "inspector-110108005"
SECRET = "bench-cases-" + "k" * 40


def pct(times: list[float], p: float) -> float:
    s = sorted(times)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def psql_fill(db: str, n: int) -> float:
    env = {**os.environ, "PGHOST": str(ROOT / "var/postgres/run"), "PGPORT": "54329"}
    t0 = time.monotonic()
    subprocess.run(
        [
            "psql",
            "-U",
            "postgres",
            "-d",
            db,
            "-q",
            "-1",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            f"n={n}",
            "-f",
            str(ROOT / "bench" / "cases_fill.sql"),
        ],
        env=env,
        check=True,
    )
    return time.monotonic() - t0


def captured(fn) -> list[str]:
    """The SQL `fn` sends (as executed), in order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


def raw_times(dsn: dict, statements: list[str], n: int) -> list[float]:
    """ms per run of all `statements` one after another, rows fetched; one warm run first."""
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True
    out = []
    with conn.cursor() as cur:
        for i in range(n + 1):
            t0 = time.perf_counter()
            for s in statements:
                cur.execute(s)
                cur.fetchall()
            if i:
                out.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return out


def replay(http: requests.Session, base: str, urls: list[str]) -> tuple[list[float], dict]:
    times, statuses = [], {}
    for u in urls:  # warm: one of each distinct URL
        http.get(base + u)
    for u in urls:
        t0 = time.perf_counter()
        r = http.get(base + u)
        r.content
        times.append((time.perf_counter() - t0) * 1000)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    return times, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_kernel20")
    parser.add_argument("--fill", type=int, default=0, help="first fill this many cases by SQL")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--register", type=int, default=200, help="reports per client count")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--only", default="", help="comma list: register,boxes,list,tiles")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    load_before = os.getloadavg()
    results: dict = {"db": args.db}
    if args.fill:
        results["fill_s"] = psql_fill(args.db, args.fill)
        print(f"filled {args.fill} cases in {results['fill_s']:.0f} s", flush=True)

    os.environ.setdefault("CITYGRID_SECRET_KEY", SECRET)
    django_setup(args.db)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.http import QueryDict

    from accounts.scoping import scope_for_user
    from cases import queries

    db = settings.DATABASES["default"]
    dsn = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "dbname": args.db}
    User = get_user_model()
    users = {k: User.objects.get(username=k) for k in ("dispatcher", INSPECTOR, "acceptor")}
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_case")
        results["cases"] = cur.fetchone()[0]
        street = INSPECTOR.split("-")[1]
        cur.execute(
            "SELECT ST_X(c.geom), ST_Y(c.geom) FROM cases_case c TABLESAMPLE SYSTEM (1) "
            "WHERE c.street_code <> '' LIMIT 2000"
        )
        points = cur.fetchall()
        cur.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry)"
            " AS c FROM spatial_unitgrid) AS s"
        )
        centre = cur.fetchone()
        cur.execute("SELECT code FROM data_category WHERE parent_id IS NOT NULL AND kind = 'event'")
        event_codes = [r[0] for r in cur.fetchall()]

    # The cases measured: (label, user, URL).
    reads = [
        ("boxes", "dispatcher", "/api/v1/cases/boxes"),
        ("boxes", INSPECTOR, "/api/v1/cases/boxes"),
        ("list state=handling", "dispatcher", "/api/v1/cases?state=handling&limit=50"),
        ("list state=handling", INSPECTOR, "/api/v1/cases?state=handling&limit=50"),
        (
            "list area=street&overdue",
            "dispatcher",
            f"/api/v1/cases?area={street}&deadline_state=overdue&limit=50",
        ),
        (
            "list area=street&overdue",
            INSPECTOR,
            f"/api/v1/cases?area={street}&deadline_state=overdue&limit=50",
        ),
    ]

    def raw_sql(label, user, url):
        scope = scope_for_user(users[user])
        if label == "boxes":
            return captured(lambda: queries.box_counts(scope))
        query = QueryDict(url.split("?", 1)[1])
        chosen = queries.CaseFilter.from_query(query)

        def run():
            cases = queries.case_list(scope, chosen)
            cases.count()
            page = list(cases[:50])
            queries.open_tasks_of(scope, [c.pk for c in page])

        return captured(run)

    raw = {}
    for label, user, url in reads:
        if only and label.split()[0] not in only:
            continue
        statements = raw_sql(label, user, url)
        raw[(label, user)] = statistics.median(raw_times(dsn, statements, min(args.requests, 50)))
        print(f"raw {label} {user}: {raw[(label, user)]:.2f} ms", flush=True)

    port = free_port()
    env = {
        **os.environ,
        "CITYGRID_PG_DB": args.db,
        "CITYGRID_DEBUG": "0",
        "CITYGRID_ALLOW_DEMO_USERS": "1",
        "CITYGRID_ALLOWED_HOSTS": "127.0.0.1",
        "CITYGRID_LOG_LEVEL": "ERROR",
        "CITYGRID_WEB_WORKERS": str(args.workers),
        "CITYGRID_PORT": str(port),
        "CITYGRID_TILES_CACHE": "0",
        "CITYGRID_CACHE_PREFIX": f"bench-cases-{os.getpid()}",
        "CITYGRID_EVENTS_PREFIX": f"bench-cases-{os.getpid()}",
    }
    cmd = [
        str(ROOT / ".venv/bin/gunicorn"),
        "web.wsgi:application",
        "-c",
        str(ROOT / "web/gunicorn.conf.py"),
        "--access-logfile",
        "/dev/null",
    ]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for _ in range(480):
            try:
                if requests.get(base + "/api/v1/calendar/deadline", timeout=5).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None:
                raise SystemExit("server exited")
            time.sleep(0.5)

        def session(user: str) -> requests.Session:
            http = requests.Session()
            r = http.post(
                base + "/api/v1/auth/token", json={"username": user, "password": PASSWORD}
            )
            r.raise_for_status()
            http.headers["Authorization"] = f"Bearer {r.json()['token']}"
            return http

        sessions = {u: session(u) for u in users}

        for label, user, url in reads:
            if only and label.split()[0] not in only:
                continue
            times, statuses = replay(sessions[user], base, [url] * args.requests)
            body = sessions[user].get(base + url).json()
            matched = body.get("numberMatched") if "numberMatched" in body else None
            rows.append(
                {
                    "case": label,
                    "user": user,
                    "n": len(times),
                    "p50": pct(times, 50),
                    "p99": pct(times, 99),
                    "raw": raw.get((label, user)),
                    "status": statuses,
                    "matched": matched,
                }
            )
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)

        if not only or "tiles" in only:
            tiles = session_tiles(centre, zooms=range(12, 17))
            has_cases = (
                sessions["dispatcher"]
                .get(base + "/tiles/cases/{}/{}/{}.mvt".format(*tiles[0]))
                .status_code
            )
            layers = ["components"] + (["cases"] if has_cases in (200, 204) else [])
            results["case_tiles_status"] = has_cases
            for z in range(12, 17):
                tl = [t for t in tiles if t[0] == z]
                for layer in layers:
                    urls = [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for _, x, y in tl]
                    times, statuses = replay(sessions["dispatcher"], base, urls * 3)
                    rows.append(
                        {
                            "case": f"tiles {layer} z{z}",
                            "user": "dispatcher",
                            "n": len(times),
                            "p50": pct(times, 50),
                            "p99": pct(times, 99),
                            "raw": None,
                            "status": statuses,
                        }
                    )
                    print(json.dumps(rows[-1]), flush=True)

        if not only or "register" in only:
            rng = random.Random(7)

            def reporter(n: int, out: list, http: requests.Session):
                for _ in range(n):
                    lon, lat = rng.choice(points)
                    body = {
                        "source": "hotline",
                        "kind": "event",
                        "category": rng.choice(event_codes),
                        "description": "热线反映：路边垃圾堆积（bench）",
                        "lon": lon,
                        "lat": lat,
                        "reporter": {"name": "市民", "phone": "13800000000"},
                    }
                    t0 = time.perf_counter()
                    r = http.post(base + "/api/v1/cases", json=body)
                    out.append(((time.perf_counter() - t0) * 1000, r.status_code))

            for clients in (1, 4):
                outs = [[] for _ in range(clients)]
                https = [session("acceptor") for _ in range(clients)]
                reporter(3, [], https[0])  # warm
                threads = [
                    threading.Thread(
                        target=reporter, args=(args.register // clients, outs[i], https[i])
                    )
                    for i in range(clients)
                ]
                t0 = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                wall = time.perf_counter() - t0
                allt = [t for o in outs for t, _ in o]
                statuses = {}
                for o in outs:
                    for _, s in o:
                        statuses[s] = statuses.get(s, 0) + 1
                rows.append(
                    {
                        "case": f"register x{clients}",
                        "user": "acceptor",
                        "n": len(allt),
                        "p50": pct(allt, 50),
                        "p99": pct(allt, 99),
                        "raw": None,
                        "per_s": len(allt) / wall,
                        "status": statuses,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    results["rows"] = rows
    results["load_before"] = load_before
    results["load_after"] = os.getloadavg()
    out = ROOT / "bench" / "out" / "cases.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    print(f"load average before {load_before}, after {results['load_after']}")
    print("| case | caller | n | p50 ms | p99 ms | raw SQL p50 ms | ratio | per s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['p50'] / r['raw']:.1f}" if r.get("raw") else "—"
        rawc = f"{r['raw']:.1f}" if r.get("raw") else "—"
        per = f"{r['per_s']:.1f}" if r.get("per_s") else ""
        print(
            f"| {r['case']} | {r['user']} | {r['n']} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{rawc} | {ratio} | {per} |"
        )


if __name__ == "__main__":
    main()
