"""Indicator tables as Excel (openpyxl, imported where a sheet is written): one sheet per table
with the composite index and grade, and a sheet of the definitions; the periodic reports
(周报, 月报, 年报: `evaluation.reports`) are a workbook of every subject's table."""

from __future__ import annotations

import io

from django.utils import timezone

from . import definitions as d
from .indicators import Table
from .scores import grade_table

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEVEL_NAMES = {"district": "区", "street": "街道", "community": "社区", "grid": "单元网格"}


def _period_text(table: Table) -> str:
    start = timezone.localtime(table.start).strftime("%Y-%m-%d %H:%M")
    end = timezone.localtime(table.end).strftime("%Y-%m-%d %H:%M")
    return f"{start} 至 {end}（不含）"


def sheet_title(table: Table) -> str:
    name = d.SUBJECT_NAMES[table.subject]
    if table.subject == d.AREA:
        name = f"{LEVEL_NAMES[table.level]}{name}"
    return name[:31]


def add_table(book, table: Table) -> None:
    """Appends the sheet of `table` to a write-only workbook."""
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(sheet_title(table))
    found = list(d.BY_SUBJECT[table.subject].values())
    graded = grade_table(table)
    headers = ["编码", "名称"] + [i.name for i in found] + ["综合指标值", "等级"]
    for n in range(len(headers)):
        sheet.column_dimensions[get_column_letter(n + 1)].width = 18 if n == 1 else 12
    sheet.freeze_panes = "C3"
    sheet.append([f"{sheet_title(table)}  {_period_text(table)}"])
    sheet.append(headers)
    for key, row in [*((r.key, r) for r in table.rows), (None, table.total)]:
        values = [row.values[i.code] for i in found]
        sheet.append([row.key, row.name, *values, graded[key]["score"], graded[key]["grade"]])


def add_definitions(book, subjects: list[str]) -> None:
    sheet = book.create_sheet("指标说明")
    sheet.append(["评价对象", "编码", "指标", "定义", "分子", "分母", "越低越好"])
    for indicator in d.INDICATORS:
        if indicator.subject in subjects:
            sheet.append(
                [
                    d.SUBJECT_NAMES[indicator.subject],
                    indicator.code,
                    indicator.name,
                    indicator.definition,
                    indicator.numerator,
                    indicator.denominator,
                    "是" if indicator.lower_is_better else "",
                ]
            )


def workbook_bytes(tables: list[Table], target=None) -> bytes | None:
    """Writes the tables (a sheet each) and their definitions to `target` (a path), or gives
    the bytes when no target is given."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for table in tables:
        add_table(book, table)
    add_definitions(book, sorted({t.subject for t in tables}))
    if target is not None:
        book.save(target)
        return None
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
