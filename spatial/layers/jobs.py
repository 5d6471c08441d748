"""Starts import jobs: a file copied into its own directory under the upload root, a Job row
(core.models.Job, the one progress mechanism) and the Celery task that runs it."""

from __future__ import annotations


from core.jobs import dispatch, new_job
from core.models import Job

from . import files
from .importer import JOB_KIND, ImportOptions, options_dict


def start_import(
    source, name: str | None, options: ImportOptions, scope, sync: bool = False
) -> Job:
    """Gives the job importing `source` (an uploaded file object, or a local path when `name`
    is None) as `scope`; runs it in-process when `sync`, else queues the Celery task after
    commit. Called by `spatial.actions.do_import_layer`."""
    options.validate()
    path, work_dir = files.receive(source, name)
    job = new_job(
        JOB_KIND,
        scope,
        {
            "path": str(path),
            "work_dir": str(work_dir),
            "file_name": name or path.name,
            "options": options_dict(options),
        },
    )
    from spatial.tasks import import_layer

    return dispatch(job, import_layer, sync=sync)
