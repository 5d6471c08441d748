"""Celery tasks of the spatial package: layer imports."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task

from core.context import Origin, origin
from core.errors import ApiError
from core.jobs import JobRun, job_task


def run_layer_import(run: JobRun) -> dict:
    """Runs one layer import job; gives the report. The upload directory is removed when the
    import ends with its answer (a report, or the file's fault); when the database connection
    or the worker failed under it, the upload stays for `core.jobs.reap_jobs` to run the job again
    (or to remove it with the job, once out of attempts)."""
    from django.db import InterfaceError, OperationalError

    from spatial.layers import files
    from spatial.layers.importer import run_import

    work_dir = run.job.params.get("work_dir")
    try:
        report = run_import(run)
    except (OperationalError, InterfaceError):
        raise
    except BaseException:
        if work_dir:
            files.remove_work_dir(Path(work_dir))
        raise
    if work_dir:
        files.remove_work_dir(Path(work_dir))
    return report


import_layer = job_task("spatial.import_layer", run_layer_import)


@shared_task(name="spatial.refresh_layers")
def refresh_layers(username: str = "") -> dict:
    """Recomputes every layer's extent and feature count through `do_refresh_layer`: as the
    system actor ``beat`` (nightly, see ``CELERY_BEAT_SCHEDULE``), or as the person named.
    Gives the keys refreshed, or why the actor was refused (also in the operation log)."""
    from accounts.scoping import command_scope, system_scope
    from spatial.actions import do_refresh_layer
    from spatial.models import Layer

    refreshed = []
    with origin(Origin(via="task")):
        try:
            scope = command_scope("refresh_layers", username) if username else system_scope("beat")
            for layer in Layer.objects.exclude(kind=Layer.Kind.RASTER).order_by("key"):
                refreshed.append(do_refresh_layer(scope, layer).key)
        except ApiError as exc:
            return {"refreshed": refreshed, "refused": exc.as_dict()["error"]}
    return {"refreshed": refreshed, "refused": None}
