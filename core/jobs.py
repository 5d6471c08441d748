"""Background jobs: the one lifecycle every long task (import, batch geocode, tile seeding) runs.

A job is a `core.models.Job` row, created by the code that starts the work and handed to
Celery with `dispatch` once the surrounding transaction commits. The task body runs inside
`run_job`, which gives it a `JobRun`: the job, its owner's scope (so the body sees and writes
what its owner may) and a `progress(done, total)` callback. `run_job` marks the job running,
then succeeded with the body's report, or failed with one error shape ``{code, message,
field}``: an `ApiError` keeps its code and field, anything else is logged in full and recorded
as ``server_error``. An event is published after each finish (`core.events`).

The scope comes from ``settings.CITYGRID_SCOPE_FOR_USER`` (a dotted path), so the kernel needs
no import of the app that defines scopes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from . import events
from .context import Origin, origin
from .errors import ApiError, NotFound
from .models import Job

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5


@dataclass
class JobRun:
    """What a job's body gets: the job row, its owner's scope and a progress callback."""

    job: Job
    scope: object
    _last_write: float = field(default=0.0, repr=False)

    def progress(self, done: int, total: int | None = None) -> None:
        """Records `done` (of `total`, when known) at once, outside any transaction of the body,
        so pollers see it; writes at most every `PROGRESS_EVERY_S` unless `total` changes or
        the work is done."""
        now = time.monotonic()
        finished = total is not None and done >= total
        if total is None and not finished and now - self._last_write < PROGRESS_EVERY_S:
            self.job.rows_done = done
            return
        self._last_write = now
        values: dict = {"rows_done": done}
        if total is not None:
            values["rows_total"] = total
        _update(self.job, **values)


def _update(job: Job, **values) -> None:
    for name, value in values.items():
        setattr(job, name, value)
    Job.objects.filter(pk=job.pk).update(**values)


def scope_of_owner(job: Job):
    """Gives the scope the job's body runs in: its owner's, or that of the system actor that
    started it (``params["system_actor"]``), else the anonymous scope."""
    actor = job.params.get("system_actor") if job.owner_id is None else None
    if actor:
        return import_string(settings.CITYGRID_SYSTEM_SCOPE)(actor)
    return import_string(settings.CITYGRID_SCOPE_FOR_USER)(job.owner)


def run_job(job_id: str, body: Callable[[JobRun], dict | None]) -> dict:
    """Runs `body` for the job `job_id` through the one lifecycle (see the module doc); gives
    the job's report. A job already finished is not run again (a re-delivered task)."""
    job = Job.objects.select_related("owner").get(pk=job_id)
    if job.state in (Job.State.SUCCEEDED, Job.State.FAILED):
        return job.report
    _update(job, state=Job.State.RUNNING, started_at=timezone.now())
    run = JobRun(job=job, scope=scope_of_owner(job))
    try:
        with origin(Origin(via="task")):
            report = body(run) or {}
    except ApiError as exc:
        _finish(job, Job.State.FAILED, errors=[exc.as_dict()["error"]])
        return job.report
    except Exception as exc:  # noqa: BLE001 - recorded in the job, logged in full
        log.exception("%s job %s failed", job.kind, job.pk)
        error = {"code": "server_error", "message": f"{job.kind} failed: {exc}", "field": None}
        _finish(job, Job.State.FAILED, errors=[error])
        return job.report
    _finish(job, Job.State.SUCCEEDED, report=report)
    return report


def _finish(job: Job, state: str, **values) -> None:
    values.update(state=state, finished_at=timezone.now())
    values.setdefault("rows_done", job.rows_done)  # the last count, if throttled away
    _update(job, **values)
    events.publish(
        "jobs",
        {"type": "job.finished", "job": str(job.pk), "kind": job.kind, "state": state},
    )


def job_task(name: str, body: Callable[[JobRun], dict | None]):
    """Gives the Celery task named `name` that runs `body` through `run_job`."""

    def task(job_id: str) -> dict:
        return run_job(job_id, body)

    task.__name__ = task.__qualname__ = name.rsplit(".", 1)[-1]
    task.__doc__ = body.__doc__
    return shared_task(name=name)(task)


def dispatch(job: Job, task, sync: bool = False) -> Job:
    """Runs the job now when `sync` (the `--sync` path of commands), else queues `task` once
    the surrounding transaction commits, so a worker never looks for a job row it cannot see
    yet. Gives the job as it stands."""
    job_id = str(job.pk)
    if sync:
        task(job_id)
        job.refresh_from_db()
    else:
        transaction.on_commit(lambda: task.delay(job_id))
    return job


def get_job(job_id: str, scope) -> Job:
    """Gives the job if the caller owns it or sees everything; `NotFound` otherwise (a job of
    somebody else is not confirmed to exist)."""
    scope.require_signed_in()
    try:
        job = Job.objects.get(pk=job_id)
    except (Job.DoesNotExist, ValueError, ValidationError):
        raise NotFound(f"no job {job_id!r}") from None
    owner_id = getattr(scope.user, "pk", None)
    if not scope.sees_everything and (job.owner_id is None or job.owner_id != owner_id):
        raise NotFound(f"no job {job_id!r}")
    return job


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
