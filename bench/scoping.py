"""Benchmark of the cost of scoping: a component query over a street-sized box with a street
inspector's `layer_condition` against the same query unfiltered as a system admin.

    .venv/bin/python bench/scoping.py [--repeat 200] [--dense 200000] [--explain]

Uses the dev database (run `manage.py demo_city` first); creates the demo organization with
`demo_accounts` (idempotent). Two tables are measured: the real `spatial_component` and,
with --dense N, a temporary table of N random points over the city (with its own GiST index on
the Web Mercator copy), so the ratio is also seen at a density nearer a real city. For each,
two shapes of query: all rows in the box, and one items page (ORDER BY id LIMIT 100). Admin and
inspector runs alternate so machine noise hits both alike. Copy the printed lines into
bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from psycopg2 import sql  # noqa: E402

from spatial.models import AdminArea, Layer  # noqa: E402
from accounts.models import Person  # noqa: E402
from accounts.scoping import scope_for_user  # noqa: E402

# Which street has the most components, and its box in Web Mercator.
BUSIEST_STREET_SQL = """
SELECT a.id, ST_XMin(a.geom_mercator), ST_YMin(a.geom_mercator),
       ST_XMax(a.geom_mercator), ST_YMax(a.geom_mercator)
FROM spatial_adminarea a
WHERE a.level = 'street'
ORDER BY (SELECT count(*) FROM spatial_component c WHERE c.geom_mercator && a.geom_mercator) DESC
LIMIT 1
"""

DENSE_SQL = """
CREATE TEMP TABLE bench_points AS
SELECT g.id, d.geom_mercator FROM (
  SELECT row_number() OVER () AS id, (ST_Dump(ST_GeneratePoints(
      (SELECT ST_Union(geom_mercator) FROM spatial_adminarea WHERE level = 'district'),
      %(n)s, 7))).geom AS geom_mercator
) d CROSS JOIN LATERAL (SELECT d.id) g(id);
CREATE INDEX ON bench_points USING gist (geom_mercator);
ANALYZE bench_points;
"""


def query(table: str, condition: sql.Composable, page: bool) -> sql.Composed:
    tail = sql.SQL(" ORDER BY id LIMIT 100") if page else sql.SQL("")
    return sql.SQL(
        "SELECT id, ST_AsBinary(geom_mercator) FROM {table} "
        "WHERE geom_mercator && ST_MakeEnvelope(%s, %s, %s, %s, 3857) AND {cond}{tail}"
    ).format(table=sql.Identifier(table), cond=condition, tail=tail)


def compare(cursor, table, box, box_name, scopes, layer, page, repeat, explain):
    admin_scope, inspector_scope = scopes
    variants = {
        "admin": (admin_scope, None),
        "inspector": (inspector_scope, None),
        "inspector+bbox": (inspector_scope, box),
    }

    def run(label: str) -> tuple[float, int, str, list]:
        # Building the filter is timed too: with a bbox it asks the database once.
        start = time.perf_counter()
        scope, bbox = variants[label]
        cond, params = scope.layer_condition(
            layer, sql.Identifier("geom_mercator"), srid=3857, bbox=bbox
        )
        statement = query(table, cond, page).as_string(cursor.connection)
        cursor.execute(statement, [*box, *params])
        rows = len(cursor.fetchall())
        return (time.perf_counter() - start) * 1000, rows, statement, [*box, *params]

    times: dict[str, list[float]] = {label: [] for label in variants}
    rows = {label: run(label)[1] for label in variants}  # warm the cache
    for _ in range(repeat):
        for label in variants:
            times[label].append(run(label)[0])
    p50 = {k: statistics.median(v) for k, v in times.items()}
    shape = "page of 100" if page else "whole box"
    print(
        f"{table:<17} {box_name:<12} {shape:<11} admin {p50['admin']:7.2f} ms "
        f"({rows['admin']} rows) | inspector {p50['inspector']:7.2f} ms ({rows['inspector']} "
        f"rows) ratio {p50['inspector'] / p50['admin']:.2f} | with bbox "
        f"{p50['inspector+bbox']:7.2f} ms ratio {p50['inspector+bbox'] / p50['admin']:.2f}"
    )
    if explain:
        _, _, statement, params = run("inspector")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        print("\n".join("    " + r[0] for r in cursor.fetchall()))


INNER_BOX_SQL = """
SELECT ST_X(c) - %(half)s, ST_Y(c) - %(half)s, ST_X(c) + %(half)s, ST_Y(c) + %(half)s,
       ST_Covers(a.geom_mercator, ST_Expand(c, %(half)s))
FROM spatial_adminarea a, ST_PointOnSurface(a.geom_mercator) c WHERE a.id = %(id)s
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--dense", type=int, default=200_000, help="0 to skip")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--inner", type=float, default=300, help="side of the inner box, m")
    args = parser.parse_args()
    with connection.cursor() as cursor:
        cursor.execute(BUSIEST_STREET_SQL)
        found = cursor.fetchone()
        if found is None:
            raise SystemExit("no streets in the database: run manage.py demo_city first")
        street_id, *box = found
        street = AdminArea.objects.get(pk=street_id)
        call_command("demo_accounts", verbosity=0)  # idempotent: one inspector per street
        inspector = Person.objects.get(user__username=f"inspector-{street.code}")
        admin = Person.objects.get(user__username="admin")
        layer = Layer.objects.get(key="components")
        admin_scope, inspector_scope = scope_for_user(admin.user), scope_for_user(inspector.user)
        cursor.execute(
            "SELECT ST_NPoints(area_geom) FROM accounts_person WHERE id = %s", [inspector.pk]
        )
        vertices = cursor.fetchone()[0]
        print(
            f"street {street.code} {street.name}: box {box[2] - box[0]:.0f} x "
            f"{box[3] - box[1]:.0f} m (3857), area polygon {vertices} vertices, "
            f"{args.repeat} runs each"
        )
        tables = ["spatial_component"]
        if args.dense:
            cursor.execute(DENSE_SQL, {"n": args.dense})
            tables.append("bench_points")
        cursor.execute(INNER_BOX_SQL, {"half": args.inner / 2, "id": street_id})
        *inner, covered = cursor.fetchone()
        boxes = [("street bbox", box)]
        if covered:
            boxes.append((f"{args.inner:.0f} m inside", inner))
        scopes = (admin_scope, inspector_scope)
        for table in tables:
            for box_name, bounds in boxes:
                for page in (False, True):
                    explain = args.explain and not page and box_name == "street bbox"
                    compare(
                        cursor, table, bounds, box_name, scopes, layer, page, args.repeat, explain
                    )


if __name__ == "__main__":
    main()
