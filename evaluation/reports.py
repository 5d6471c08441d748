"""Periodic evaluation reports (评价结果统计输出, spec 5.1.5.5): the weekly, monthly or yearly
workbook (周报, 月报, 年报) of every table — areas by district and street, departments, the four
positions — for the calendar week (Monday first), month or year holding a date, written by a
Celery job (`core.jobs`) as its owner sees the cases; downloaded from
``/api/v1/evaluation/reports/{job}``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from accounts import permissions as perms
from accounts.oplog import action
from accounts.scoping import Scope
from core.errors import BadInput
from core.jobs import JobRun, dispatch, new_job
from core.models import Job

from . import definitions as d
from . import indicators, sheets

JOB_KIND = "evaluation_report"
KINDS = {"week": "周报", "month": "月报", "year": "年报"}


def period_of(kind: str, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The [start, end) of the calendar week (from Monday), month or year holding `day`, in
    the server's time zone."""
    if kind == "week":
        first = day - dt.timedelta(days=day.weekday())
        after = first + dt.timedelta(days=7)
    elif kind == "month":
        first = day.replace(day=1)
        after = (first + dt.timedelta(days=32)).replace(day=1)
    elif kind == "year":
        first = day.replace(month=1, day=1)
        after = first.replace(year=first.year + 1)
    else:
        raise BadInput(f"a report is one of {', '.join(KINDS)}", field="kind")
    tz = timezone.get_default_timezone()
    return (
        dt.datetime.combine(first, dt.time(), tz),
        dt.datetime.combine(after, dt.time(), tz),
    )


def tables_for(scope: Scope, start: dt.datetime, end: dt.datetime) -> list[indicators.Table]:
    """Every table of a report: areas by district and by street, then the other subjects."""
    found = [
        indicators.table(scope, d.AREA, start, end, "district"),
        indicators.table(scope, d.AREA, start, end, "street"),
    ]
    found += [indicators.table(scope, s, start, end) for s in d.SUBJECTS if s != d.AREA]
    return found


def file_name(kind: str, start: dt.datetime) -> str:
    return f"绩效评价{KINDS[kind]}-{timezone.localtime(start):%Y%m%d}.xlsx"


@action(
    "evaluation.report",
    permission=perms.CASES_READ,
    target=lambda kind, day, **_: kind,
    details=lambda kind, day, **_: {"kind": kind, "day": day.isoformat()},
)
def do_start_report(scope: Scope, kind: str, day: dt.date, *, sync: bool = False) -> Job:
    """Gives the job writing the report of `kind` (周报, 月报, 年报) for the period holding
    `day`, as the caller sees the cases; queued after commit, or run now when `sync`."""
    start, end = period_of(kind, day)
    job = new_job(
        JOB_KIND,
        scope,
        {"kind": kind, "day": day.isoformat(), "file_name": file_name(kind, start)},
    )
    from .tasks import evaluation_report

    return dispatch(job, evaluation_report, sync=sync)


def report_dir() -> Path:
    path = Path(settings.UPLOAD_DIR) / "evaluation-reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_report(run: JobRun) -> dict:
    """The job's body: the workbook of the period's tables as the owner sees them now."""
    job = run.job
    kind = job.params["kind"]
    start, end = period_of(kind, dt.date.fromisoformat(job.params["day"]))
    tables = tables_for(run.scope, start, end)
    run.progress(len(tables), len(tables))
    path = report_dir() / f"{job.pk}.xlsx"
    run.leaves(path=path)
    sheets.workbook_bytes(tables, target=path)
    Job.objects.filter(pk=job.pk).update(result_path=str(path))
    return {
        "kind": kind,
        "from": timezone.localtime(start).isoformat(),
        "to": timezone.localtime(end).isoformat(),
        "sheets": len(tables) + 1,
    }
