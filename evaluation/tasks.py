"""Celery tasks of evaluation: the periodic report job (`evaluation.reports`)."""

from __future__ import annotations

from core.jobs import job_task

from .reports import run_report

# The weekly, monthly or yearly report workbook, run as the job's owner.
evaluation_report = job_task("evaluation.report", run_report)
