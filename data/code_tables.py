"""Loads the code tables in `data/code_tables/` into `Category` after every migrate."""

import csv
from pathlib import Path

from django.db import transaction

CODE_TABLE_DIR = Path(__file__).resolve().parent / "code_tables"
FILES = {"component": "component_categories.csv", "event": "event_categories.csv"}


def read_code_table(kind: str) -> list[dict]:
    """Rows of one code table, majors before minors, validated for code shape and parents."""
    with open(CODE_TABLE_DIR / FILES[kind], encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    majors = {r["code"] for r in rows if len(r["code"]) == 2}
    for r in rows:
        code = r["code"]
        if not code.isdigit() or len(code) not in (2, 4):
            raise ValueError(f"{FILES[kind]}: bad code {code!r}")
        if len(code) == 4 and code[:2] not in majors:
            raise ValueError(f"{FILES[kind]}: minor class {code} has no major class {code[:2]}")
    return sorted(rows, key=lambda r: (len(r["code"]), r["code"]))


def load_code_tables(sender=None, using="default", **kwargs) -> int:
    """Upserts every row by (kind, code); returns how many rows were written."""
    from .models import Category

    written = 0
    with transaction.atomic(using=using):
        for kind in FILES:
            majors: dict[str, Category] = {}
            for row in read_code_table(kind):
                limit = row["handling_limit_hours"].strip()
                obj, _ = Category.objects.using(using).update_or_create(
                    kind=kind,
                    code=row["code"],
                    defaults={
                        "name": row["name"],
                        "default_department": row["default_department"],
                        "handling_limit_hours": int(limit) if limit else None,
                        "parent": majors.get(row["code"][:2]) if len(row["code"]) == 4 else None,
                    },
                )
                if len(row["code"]) == 2:
                    majors[row["code"]] = obj
                written += 1
    return written
