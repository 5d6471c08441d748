"""A handling department's reads with parallel dispatch (并行派遣) at 1M cases: the SQL of its
boxes and of its 处置中 list with the parallel shares in the visibility rule and the boxes,
against the same SQL built without them (the code before the change), in the same run.

    .venv/bin/python bench/dispatch_shares.py --db bench_kernel20 [--runs 30] [--shares 5000]

The database as bench/cases.py leaves it (1M cases over a year, migrated). `--shares` cases in
handling get a parallel dispatch to 环卫 (H-huanwei, the caller's department) and 市政 (half of
the 环卫 shares fed back), written as `CaseDispatch` rows before the run and deleted after it.
The statements are those the code sends for dept-huanwei (captured in-process with
CaptureQueriesContext): the boxes (`box_counts`), and the 处置中 list's count and first page of
50; "before" builds them with the visibility rule and the boxes without the shares (patched in
this process only). Run through plain psycopg2, p50 of `--runs` runs after one warm run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.cases import captured, raw_times  # noqa: E402
from bench.tiles import django_setup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_kernel20")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--shares", type=int, default=5000)
    args = parser.parse_args()
    django_setup(args.db)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models import Q
    from django.utils import timezone

    from accounts.models import Department
    from accounts.scoping import scope_for_user
    from cases import dispatching, queries, visibility
    from cases.models import Application, Case, CaseAssist, CaseDispatch

    db = settings.DATABASES["default"]
    dsn = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "dbname": args.db}
    user = get_user_model().objects.get(username="dept-huanwei")
    scope = scope_for_user(user)
    huanwei = Department.objects.get(code="H-huanwei")
    shizheng = Department.objects.get(code="H-shizheng")
    now = timezone.now()

    def reads():
        queries.box_counts(scope, now)
        cases = queries.case_list(scope, queries.CaseFilter(box="handling"))
        cases.count()
        list(cases[:50])

    def of_department_before(department_id):
        assists = CaseAssist.objects.filter(department_id=department_id).order_by()
        offered = Application.objects.filter(
            kind="transfer", state="pending", target_department_id=department_id
        ).order_by()
        return (
            Q(department_id=department_id)
            | Q(pk__any_of=assists.values("case_id"))
            | Q(pk__any_of=offered.values("case_id"))
        )

    picked = list(
        Case.objects.filter(state="handling")
        .exclude(department=huanwei)
        .order_by("?")
        .values_list("pk", flat=True)[: args.shares]
    )
    print(
        f"{Case.objects.count():,} cases; {len(picked):,} in handling get a parallel share",
        flush=True,
    )
    CaseDispatch.objects.bulk_create(
        CaseDispatch(
            case_id=pk,
            department=department,
            dispatched_at=now,
            fed_back_at=now if department == huanwei and i % 2 else None,
        )
        for i, pk in enumerate(picked)
        for department in (huanwei, shizheng)
    )
    try:
        after = captured(reads)
        saved = (visibility._of_department, dispatching.open_shares, dispatching.SHARE_BOXES)
        visibility._of_department = of_department_before
        dispatching.open_shares = lambda scope: Q()
        dispatching.SHARE_BOXES = ()
        try:
            before = captured(reads)
        finally:
            visibility._of_department, dispatching.open_shares, dispatching.SHARE_BOXES = saved
        with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
            cur.execute(after[-2])
            matched_after = cur.fetchone()[0]
            cur.execute(before[-2])
            matched_before = cur.fetchone()[0]
        before_ms = statistics.median(raw_times(dsn, before, args.runs))
        after_ms = statistics.median(raw_times(dsn, after, args.runs))
        print(
            f"dept-huanwei boxes + 处置中 count + page: before {before_ms:.1f} ms "
            f"({len(before)} statements, {matched_before:,} in 处置中), "
            f"after {after_ms:.1f} ms ({len(after)} statements, {matched_after:,} in 处置中), "
            f"ratio {after_ms / before_ms:.2f}",
            flush=True,
        )
        for label, statements in (("before", before), ("after", after)):
            for statement in statements:
                times = raw_times(dsn, [statement], args.runs)
                print(f"  {label} {statistics.median(times):7.1f} ms  {statement[:90]}")
    finally:
        CaseDispatch.objects.filter(case_id__in=picked).delete()


if __name__ == "__main__":
    main()
