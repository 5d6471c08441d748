"""Celery tasks of evaluation: the periodic report job (`evaluation.reports`) and the hot spots'
weights of the whole city built ahead (`evaluation.hotspots`)."""

from __future__ import annotations

from celery import shared_task

from core.jobs import job_task

from .reports import run_report

# The weekly, monthly or yearly report workbook, run as the job's owner.
evaluation_report = job_task("evaluation.report", run_report)


@shared_task(name="evaluation.warm_hot_spot_weights")
def warm_hot_spot_weights() -> int:
    """Builds the city's hot spot weights when the unit grids changed (else finds them)."""
    from . import hotspots  # numpy, scipy and libpysal: only in the worker that runs it

    return hotspots.warm_weights()
