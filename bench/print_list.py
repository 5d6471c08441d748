"""Printing a case list to PDF (cases.printing) at 1M cases: layout time and peak memory by
the number of rows, against the Excel export of the same rows (cases.export) in the same run.

    .venv/bin/python bench/print_list.py --db bench_kernel20 [--rows 200,1000,2000]

Each size runs in a process of its own (so its peak RSS is its own), as the demo dispatcher
(the whole district), over the newest handling cases: the list's query, then the PDF of
`case_list_pdf`, then the workbook of `write_workbook` of the same queryset.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(db: str, rows: int) -> dict:
    from bench.tiles import django_setup

    django_setup(db)
    from django.contrib.auth import get_user_model

    from accounts.scoping import scope_for_user
    from cases import export, printing, queries

    scope = scope_for_user(get_user_model().objects.get(username="dispatcher"))
    chosen = queries.CaseFilter.from_query({"state": "handling"})
    cases = queries.case_list(scope, chosen)[:rows]
    list(cases)  # warm: the rows' pages in the database's cache
    t0 = time.perf_counter()
    export.write_workbook(scope, queries.case_list(scope, chosen)[:rows], io.BytesIO(), False)
    excel_s = time.perf_counter() - t0
    excel_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    t0 = time.perf_counter()
    pdf = printing.case_list_pdf(scope, chosen, queries.case_list(scope, chosen)[:rows], rows)
    pdf_s = time.perf_counter() - t0
    return {
        "rows": rows,
        "pdf_s": round(pdf_s, 2),
        "pdf_kb": len(pdf) // 1024,
        "excel_s": round(excel_s, 2),
        "peak_rss_mb_after_excel": excel_rss,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_kernel20")
    parser.add_argument("--rows", default="200,1000,2000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.db, args.one)))
        return
    print(
        "| rows | PDF s | PDF KB | Excel s | PDF / Excel | peak RSS MB (Excel, then PDF) | load |"
    )
    print("|---|---|---|---|---|---|---|")
    for rows in [int(n) for n in args.rows.split(",")]:
        out = subprocess.run(
            [sys.executable, __file__, "--db", args.db, "--one", str(rows)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"| {r['rows']} | {r['pdf_s']} | {r['pdf_kb']} | {r['excel_s']} | "
            f"{r['pdf_s'] / r['excel_s']:.0f} | {r['peak_rss_mb_after_excel']} → "
            f"{r['peak_rss_mb']} | {r['load']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
