"""Celery tasks of the spatial package: layer imports."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task

from core.models import Job


def run_layer_import(job_id: str) -> dict:
    """Runs one layer import job and removes its upload directory; gives the report."""
    from spatial.layers import files
    from spatial.layers.importer import run_import

    job = Job.objects.get(pk=job_id)
    try:
        return run_import(job)
    finally:
        work_dir = job.params.get("work_dir")
        if work_dir:
            files.remove_work_dir(Path(work_dir))


@shared_task(name="spatial.import_layer")
def import_layer(job_id: str) -> dict:
    """Celery entry point of a layer import (progress and report are in the Job row)."""
    return run_layer_import(job_id)
