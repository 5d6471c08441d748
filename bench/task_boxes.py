"""An inspector's task boxes at 1M cases (核实任务, 核查任务, 待补采, 超期任务 beside 我的任务): each
box's count as `cases.queries.box_counts` runs it (the box's filter over the caller's visible
cases), against the peer 我的上报 count and the whole `box_counts` in the same run; then the
same counts with `n` open tasks given to the inspector (in a transaction rolled back).

    .venv/bin/python bench/task_boxes.py --db bench_kernel20 [--runs 15] [--tasks 200]

Read-only for the database (the tasks are rolled back). The 1M cases are those of
"Cases at 1M" (bench/cases.py --fill).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.tiles import django_setup  # noqa: E402

INSPECTOR = "inspector-110108005"
BOXES = ("my_tasks", "my_verify", "my_check", "my_supplement", "my_overdue_tasks", "my_reports")


def timed(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[-1]


def measure(scope, runs: int) -> dict[str, tuple[float, float]]:
    from django.utils import timezone

    from cases import queries, visibility

    now = timezone.now()
    visible = visibility.visible_cases(scope)
    found = {}
    for key in BOXES:
        box = queries.BOX_KEYS[key]
        found[key] = timed(lambda b=box: visible.filter(b.condition(scope, now)).count(), runs)
    found["box_counts"] = timed(lambda: queries.box_counts(scope, now), runs)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="bench_kernel20")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tasks", type=int, default=200)
    args = parser.parse_args()
    django_setup(args.db)
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Person
    from accounts.scoping import scope_for_user
    from cases import visibility
    from cases.models import CaseTask

    user = Person.objects.get(user__username=INSPECTOR).user
    scope = scope_for_user(user)
    print(f"{INSPECTOR}: {visibility.visible_cases(scope).count()} visible cases")
    rows = {"no tasks": measure(scope, args.runs)}
    with transaction.atomic():
        kinds = [k for k in CaseTask.Kind.values]
        now = timezone.now()
        cases = visibility.visible_cases(scope).order_by("-pk").values_list("pk", flat=True)
        CaseTask.objects.bulk_create(
            CaseTask(
                case_id=pk,
                kind=kinds[n % len(kinds)],
                assignee=user,
                created_at=now,
                deadline=now if n % 4 == 0 else None,
            )
            for n, pk in enumerate(cases[: args.tasks])
        )
        rows[f"{args.tasks} open tasks"] = measure(scope, args.runs)
        transaction.set_rollback(True)
    print("| box | " + " | ".join(f"{k} p50 / max ms" for k in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for key in (*BOXES, "box_counts"):
        cells = [f"{r[key][0]:.2f} / {r[key][1]:.2f}" for r in rows.values()]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
