"""Celery tasks of the spatial package: layer imports."""

from __future__ import annotations

from pathlib import Path

from core.jobs import JobRun, job_task


def run_layer_import(run: JobRun) -> dict:
    """Runs one layer import job and removes its upload directory; gives the report."""
    from spatial.layers import files
    from spatial.layers.importer import run_import

    try:
        return run_import(run)
    finally:
        work_dir = run.job.params.get("work_dir")
        if work_dir:
            files.remove_work_dir(Path(work_dir))


import_layer = job_task("spatial.import_layer", run_layer_import)
