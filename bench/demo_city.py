"""Benchmark of the demo city generator: time to generate and to store each scale, in a
transaction that is rolled back, so the database is left as it was (a city already there is
deleted and rewritten inside the transaction, then restored by the rollback).

    CITYGRID_PG_DB=demo_bench .venv/bin/python bench/demo_city.py --scales 0.05 1 20

Results are printed; copy them into bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from data.demo_city import generate  # noqa: E402
from data.demo_city.store import coded_rows, delete_city, write_plan  # noqa: E402


def run(scale: float, seed: int) -> None:
    started = time.perf_counter()
    plan = generate(seed=seed, scale=scale)
    generated = time.perf_counter()
    with transaction.atomic():
        delete_city(coded_rows(plan))
        cleared = time.perf_counter()
        counts = write_plan(plan)
        stored = time.perf_counter()
        transaction.set_rollback(True)
    comps = counts["components"]
    print(
        f"scale {scale:g}: generate {generated - started:.1f} s, clear {cleared - generated:.1f} s, "
        f"store {stored - cleared:.1f} s, total {stored - started - (cleared - generated):.1f} s; "
        f"{counts['unit grids']:,} grids, {comps:,} components, "
        f"{counts['door addresses']:,} doors ({comps / (stored - started):,.0f} components/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.05, 1.0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for scale in args.scales:
        run(scale, args.seed)


if __name__ == "__main__":
    main()
