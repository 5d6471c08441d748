"""Starting background jobs: the one way every long task (import, batch geocode, tile seeding)
hands its `core.models.Job` to Celery."""

from collections.abc import Callable

from django.db import transaction

from .models import Job


def dispatch(job: Job, task, run_inline: Callable[[str], object] | None = None) -> Job:
    """Runs `run_inline(job id)` now when given (the `--sync` path), else queues `task` once the
    surrounding transaction commits, so a worker never looks for a job row it cannot see yet."""
    if run_inline is not None:
        run_inline(str(job.pk))
        job.refresh_from_db()
    else:
        job_id = str(job.pk)
        transaction.on_commit(lambda: task.delay(job_id))
    return job
