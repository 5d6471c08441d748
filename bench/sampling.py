"""Field sampling (抽样, `evaluation.comprehensive.sampling`) from 100,000 sample points.

    createdb bench_sampling   # -h var/postgres/run -p 54329 -U citygrid
    CITYGRID_PG_DB=bench_sampling .venv/bin/python manage.py migrate
    CITYGRID_PG_DB=bench_sampling .venv/bin/python manage.py demo_city --seed 1 --scale 1
    .venv/bin/python bench/sampling.py --db bench_sampling [--points 100000 --count 500]

Inside a transaction that is rolled back (nothing is left behind): an evaluation object over
the demo district and `--points` point samples spread uniformly over it, each in its street
(the street lookup of the import). Then, with a new seed each run: `draw_rule` — the
candidate query with the caller's scope plus the stratified draw with a minimum distance —
against its peer, the same candidate query run raw through psycopg2 (what any draw must at
least read); the draw alone; and `draw_rule` without a minimum distance and unstratified.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.precheck import line, timed  # noqa: E402
from bench.tiles import django_setup  # noqa: E402

FILL_SQL = """
WITH district AS (SELECT id, geom FROM spatial_adminarea WHERE level = 'district'
                  ORDER BY code LIMIT 1),
points AS (
    SELECT (ST_Dump(ST_GeneratePoints(d.geom, %(points)s, 7))).geom AS geom FROM district d
)
INSERT INTO evaluation_samplepoint
    (sample_type_id, object_id, street_id, name, attributes, geom, anchor, enabled, source)
SELECT %(type)s, %(object)s,
       (SELECT a.id FROM spatial_adminarea a
        WHERE a.level = 'street' AND ST_Covers(a.geom, p.geom) ORDER BY a.code LIMIT 1),
       'bench', '{}'::jsonb, p.geom, p.geom, true, ''
FROM points p
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="bench_sampling")
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--distance", type=float, default=100.0)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    django_setup(args.db)
    from django.db import connection, transaction
    from psycopg2 import sql

    from accounts.scoping import system_scope
    from evaluation.comprehensive import sampling
    from evaluation.comprehensive.models import EvaluationObject, SampleType
    from spatial.models import AdminArea

    scope = system_scope("bench")
    district = AdminArea.objects.filter(level="district").order_by("code").first()
    with transaction.atomic():
        kind = SampleType.objects.create(code="bench-point", name="bench 点", shape="point")
        obj = EvaluationObject.objects.create(
            code="bench-city", name="bench", kind="city", area=district, geom=district.geom
        )
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FILL_SQL, {"points": args.points, "type": kind.pk, "object": obj.pk})
            cursor.execute("ANALYZE evaluation_samplepoint")
        print(f"{args.points} samples in {time.perf_counter() - started:.1f} s; load "
              f"{os.getloadavg()[0]:.1f}")  # fmt: skip

        def rule(seed: int, **changes) -> sampling.Rule:
            base = dict(object_id=obj.pk, sample_type_id=kind.pk, count=args.count,
                        min_distance_m=args.distance, seed=seed)  # fmt: skip
            return sampling.Rule(**{**base, **changes})

        seeds = list(range(1, args.runs + 1))
        condition = scope.area_condition(sql.SQL("p.geom"))
        raw_params = {"object": obj.pk, "type": kind.pk, "area": None, "attributes": "{}"}

        def raw(_seed) -> None:
            with connection.cursor() as cursor:
                text, values = condition.named("scope", cursor.connection)
                cursor.execute(sampling.CANDIDATES_SQL.format(scope=text), {**raw_params, **values})
                cursor.fetchall()

        raw(0)  # warm the cache
        found = sampling.draw_rule(scope, rule(1))
        strata = ", ".join(f"{s.drawn}/{s.quota}" for s in found.strata)
        print(f"drew {len(found.chosen)} of {found.available}; strata drawn/quota: {strata}")
        base = timed(raw, seeds)
        print(line("candidate SQL raw (psycopg2)", base))
        print(line("draw_rule: stratified, min distance", timed(lambda s: sampling.draw_rule(
            scope, rule(s)), seeds), base))  # fmt: skip
        ids, streets, lons, lats = sampling.candidates(scope, rule(1))
        print(line("draw alone (Python)", timed(lambda s: sampling.draw(
            ids, streets, lons, lats, count=args.count, seed=s,
            min_distance_m=args.distance), seeds), base))  # fmt: skip
        print(line("draw_rule: stratified, no distance", timed(lambda s: sampling.draw_rule(
            scope, rule(s, min_distance_m=0)), seeds), base))  # fmt: skip
        print(line("draw_rule: not stratified, min distance", timed(lambda s: sampling.draw_rule(
            scope, rule(s, stratify=False)), seeds), base))  # fmt: skip
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
