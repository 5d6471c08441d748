"""Gives import jobs: a file copied into its own directory under the upload root, a Job row
(core.models.Job, the one progress mechanism) and the Celery task that runs it."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError

from core.errors import NotFound
from core.jobs import dispatch
from core.models import Job

from . import files
from .importer import JOB_KIND, ImportOptions, options_dict


def start_import(source, name: str, options: ImportOptions, owner=None, sync: bool = False) -> Job:
    """Gives the job importing `source` (an uploaded file object, or a local path when `name`
    is None); runs it in-process when `sync`, else queues the Celery task after commit."""
    options.validate()
    work_dir = files.new_work_dir()
    try:
        if isinstance(source, (str, Path)):
            path = files.copy_into(Path(source), work_dir)
        else:
            path = files.save_upload(source, name, work_dir)
    except Exception:
        files.remove_work_dir(work_dir)
        raise
    job = Job.objects.create(
        kind=JOB_KIND,
        owner=owner if owner is not None and owner.is_authenticated else None,
        params={
            "path": str(path),
            "work_dir": str(work_dir),
            "file_name": name or path.name,
            "options": options_dict(options),
        },
    )
    from spatial.tasks import import_layer, run_layer_import

    return dispatch(job, import_layer, run_layer_import if sync else None)


def describe_job(job: Job) -> dict:
    """Gives the JSON view of a job: state, progress, errors and report."""
    total = job.rows_total
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "state": job.state,
        "rows_done": job.rows_done,
        "rows_total": total,
        "progress": round(job.rows_done / total, 4) if total else None,
        "errors": job.errors,
        "report": job.report,
        "file_name": job.params.get("file_name"),
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def get_job(job_id: str, scope) -> Job:
    """Gives the job if the caller owns it or sees everything; `NotFound` otherwise."""
    scope.require_signed_in()
    try:
        job = Job.objects.get(pk=job_id)
    except (Job.DoesNotExist, ValueError, ValidationError):
        raise NotFound(f"no job {job_id!r}") from None
    owner_id = getattr(scope.user, "pk", None)
    if not scope.sees_everything and (job.owner_id is None or job.owner_id != owner_id):
        raise NotFound(f"no job {job_id!r}")
    return job
