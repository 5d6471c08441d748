"""Background jobs: the one lifecycle every long task (import, batch geocode, tile seeding) runs.

A job is a `core.models.Job` row, created by the code that starts the work and handed to
Celery with `dispatch` once the surrounding transaction commits. The task body runs inside
`run_job`, which gives it a `JobRun`: the job, its owner's scope (so the body sees and writes
what its owner may) and a `progress(done, total)` callback. `run_job` claims the job, marks it
running, then succeeded with the body's report, or failed with one error shape ``{code,
message, field}``: an `ApiError` keeps its code and field, anything else is logged in full and
recorded as ``server_error``. An event is published after each finish (`core.events`).

Jobs survive faults:

- the job row is the outbox: a task that cannot be sent (Redis down) leaves the job pending
  and unsent, and the caller still gets its job; `reap_jobs` (beat) sends it later;
- a running body beats (`heartbeat_at`, from a thread of its own, so a long SQL statement
  does not look dead); a job whose beat stops (worker killed, database gone) is found by
  `reap_jobs` after ``CITYGRID_JOB_STALE_AFTER_S``: its leftovers (staging tables, upload
  paths the body declared with `JobRun.leaves`) are removed, and it is sent again, up to
  ``CITYGRID_JOB_MAX_ATTEMPTS`` runs, or failed with ``worker_lost``;
- tasks are acknowledged late and given back when their worker dies (settings), and a job is
  claimed by one atomic update, so a task delivered twice runs once.

The scope comes from ``settings.CITYGRID_SCOPE_FOR_USER`` / ``CITYGRID_SYSTEM_SCOPE`` (dotted
paths), so the kernel needs no import of the app that defines scopes.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from celery import current_app, shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from psycopg2 import sql

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
        so pollers see it; writes at most every `PROGRESS_EVERY_S` unless `total` is given."""
        now = time.monotonic()
        if total is None and now - self._last_write < PROGRESS_EVERY_S:
            self.job.rows_done = done
            return
        self._last_write = now
        values: dict = {"rows_done": done}
        if total is not None:
            values["rows_total"] = total
        _update(self.job, **values)

    def leaves(self, *, table: str | None = None, path: str | Path | None = None) -> None:
        """Declares what the body creates and removes itself when it ends normally (a staging
        table as ``schema.table``, a file or directory), for the reaper to remove if the body
        dies first. Written at once, outside the body's transactions."""
        leftovers = dict(self.job.leftovers or {})
        if table:
            leftovers["tables"] = sorted({*leftovers.get("tables", []), table})
        if path:
            leftovers["paths"] = sorted({*leftovers.get("paths", []), str(path)})
        _update(self.job, leftovers=leftovers)


def _update(job: Job, **values) -> None:
    for name, value in values.items():
        setattr(job, name, value)
    Job.objects.filter(pk=job.pk).update(**values)


def new_job(kind: str, scope, params: dict, **fields) -> Job:
    """Gives a new pending job of `kind` owned by the acting scope: its person's user, or the
    system actor that started it (kept in ``params["system_actor"]``, for `scope_of_owner`)."""
    return Job.objects.create(
        kind=kind,
        owner=None if scope.is_anonymous else scope.user,
        params={"system_actor": scope.system_name, **params},
        **fields,
    )


def scope_of_owner(job: Job):
    """Gives the scope the job's body runs in: its owner's, or that of the system actor that
    started it (``params["system_actor"]``), else the anonymous scope."""
    actor = job.params.get("system_actor") if job.owner_id is None else None
    if actor:
        return import_string(settings.CITYGRID_SYSTEM_SCOPE)(actor)
    return import_string(settings.CITYGRID_SCOPE_FOR_USER)(job.owner)


def _claim(job_id: str) -> bool:
    """Marks the job running if it is pending (one atomic update: a task delivered twice runs
    once); gives whether this worker got it."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.PENDING).update(
        state=Job.State.RUNNING, started_at=now, heartbeat_at=now, finished_at=None
    )
    return claimed == 1


class _Heartbeat:
    """Beats for a running job from a thread of its own (with its own connection)."""

    def __init__(self, job_id) -> None:
        self.job_id = job_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"job-{job_id}", daemon=True)

    def _beat(self) -> None:
        from django.db import connections

        try:
            while not self.stop.wait(settings.CITYGRID_JOB_HEARTBEAT_S):
                try:
                    Job.objects.filter(pk=self.job_id, state=Job.State.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception as exc:  # noqa: BLE001 - the database may be away a while
                    log.warning("job %s heartbeat failed: %s", self.job_id, exc)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def run_job(job_id: str, body: Callable[[JobRun], dict | None]) -> dict:
    """Runs `body` for the job `job_id` through the one lifecycle (see the module doc); gives
    the job's report. A job another worker claimed, or already finished, is not run again."""
    if not _claim(job_id):
        job = Job.objects.filter(pk=job_id).first()
        return job.report if job else {}
    job = Job.objects.select_related("owner").get(pk=job_id)
    _update(job, attempts=job.attempts + 1)
    run = JobRun(job=job, scope=scope_of_owner(job))
    try:
        with _Heartbeat(job.pk), origin(Origin(via="task")):
            report = body(run) or {}
    except ApiError as exc:
        _finish(job, Job.State.FAILED, errors=[exc.as_dict()["error"]])
        return job.report
    except Exception as exc:  # noqa: BLE001 - recorded in the job, logged in full
        log.exception("%s job %s failed", job.kind, job.pk)
        error = {"code": "server_error", "message": f"{job.kind} failed: {exc}", "field": None}
        _finish(job, Job.State.FAILED, errors=[error])
        _cleanup_inputs(job)  # a body that kept its input for a retry after a lost connection
        return job.report
    _finish(job, Job.State.SUCCEEDED, report=report)
    return report


def _finish(job: Job, state: str, **values) -> None:
    values.update(state=state, finished_at=timezone.now(), leftovers={})
    values.setdefault("rows_done", job.rows_done)  # the last count, if throttled away
    _update(job, **values)
    events.publish(
        "jobs",
        {"type": "job.finished", "job": str(job.pk), "kind": job.kind, "state": state},
    )


def job_task(name: str, body: Callable[[JobRun], dict | None]):
    """Gives the Celery task named `name` that runs `body` through `run_job`: acknowledged
    after it ends, given back to the queue when its worker dies, tried again every
    ``CITYGRID_JOB_HEARTBEAT_S`` while the database is away, and without a Celery result
    (the job row is the result; see `send`)."""

    def task(self, job_id: str) -> dict:
        try:
            return run_job(job_id, body)
        except (OperationalError, InterfaceError) as exc:
            # Without a retry a job whose claim failed would stay pending for ever: this
            # message is acknowledged, and the reaper sends only jobs never sent. A job that
            # did start is the reaper's; the claim keeps the retry from running it twice.
            log.warning("job %s: the database is away (%s); trying again", job_id, exc)
            raise self.retry(
                exc=exc, countdown=settings.CITYGRID_JOB_HEARTBEAT_S, max_retries=None
            ) from exc

    task.__name__ = task.__qualname__ = name.rsplit(".", 1)[-1]
    task.__doc__ = body.__doc__
    options = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
    return shared_task(name=name, bind=True, **options)(task)


def dispatch(job: Job, task, sync: bool = False) -> Job:
    """Runs the job now when `sync` (the `--sync` path of commands), else sends `task` once
    the surrounding transaction commits, so a worker never looks for a job row it cannot see
    yet. A send that fails (broker down) leaves the job for `reap_jobs`. Gives the job."""
    _update(job, task_name=task.name)
    job_id = str(job.pk)
    if sync:
        task(job_id)
        job.refresh_from_db()
    else:
        transaction.on_commit(lambda: send(job_id, task.name))
    return job


def send(job_id: str, task_name: str) -> bool:
    """Sends the job's task to the broker and records when; gives whether it was sent."""
    try:
        current_app.send_task(
            task_name,
            args=[job_id],
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
            # The job row is the result: no Celery result to wait for, so a send does not
            # first subscribe to the result backend (Redis), which retries 20 times, 1 s
            # apart, while Redis is down.
            ignore_result=True,
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure: the job row stays the outbox
        log.warning("job %s not sent (%s); reap_jobs will send it", job_id, exc)
        return False
    Job.objects.filter(pk=job_id).update(dispatched_at=timezone.now())
    return True


def remove_leftovers(job: Job) -> list[str]:
    """Drops the staging tables and removes the paths (under the upload root only) the job's
    body declared; gives what it removed."""
    removed = []
    leftovers = job.leftovers or {}
    for name in leftovers.get("tables", []):
        schema, _, table = name.rpartition(".")
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema or "public", table))
            )
        removed.append(name)
    root = Path(settings.UPLOAD_DIR).resolve()
    for name in leftovers.get("paths", []):
        path = Path(name).resolve()
        if root not in path.parents:
            log.warning("job %s: not removing %s, outside %s", job.pk, path, root)
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
        removed.append(str(path))
    _update(job, leftovers={})
    return removed


def reap_jobs() -> dict:
    """Finds jobs that cannot finish by themselves and settles them: running jobs whose beat
    stopped (leftovers removed, then sent again or failed with ``worker_lost``) and pending
    jobs never sent (sent now). Gives counts for the log."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.CITYGRID_JOB_STALE_AFTER_S)
    counts = {"requeued": 0, "failed": 0, "sent": 0}
    stale = Job.objects.filter(state=Job.State.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    )
    for job in stale:
        remove_leftovers(job)
        again = bool(job.task_name) and job.attempts < settings.CITYGRID_JOB_MAX_ATTEMPTS
        if again and _inputs_exist(job):
            reset = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
                state=Job.State.PENDING, dispatched_at=None, heartbeat_at=None
            )
            if reset and send(str(job.pk), job.task_name):
                counts["requeued"] += 1
            continue
        message = (
            f"the worker running this {job.kind} job stopped (no heartbeat since "
            f"{(job.heartbeat_at or job.started_at):%Y-%m-%d %H:%M:%S}); "
            f"ran {job.attempts} time(s); start it again"
        )
        error = {"code": "worker_lost", "message": message, "field": None}
        done = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
            state=Job.State.FAILED, finished_at=now, errors=[error]
        )
        if done:
            counts["failed"] += 1
            job.state = Job.State.FAILED
            _cleanup_inputs(job)
            events.publish(
                "jobs",
                {"type": "job.finished", "job": str(job.pk), "kind": job.kind, "state": "failed"},
            )
    unsent_before = now - timedelta(seconds=settings.CITYGRID_JOB_SEND_GRACE_S)
    unsent = Job.objects.filter(
        state=Job.State.PENDING, dispatched_at__isnull=True, created_at__lt=unsent_before
    ).exclude(task_name="")
    for job in unsent:
        counts["sent"] += send(str(job.pk), job.task_name)
    return counts


def _inputs_exist(job: Job) -> bool:
    """Whether the files a job reads (``params["path"]``) are still there to run it again."""
    path = job.params.get("path")
    return not path or Path(path).exists()


def _cleanup_inputs(job: Job) -> None:
    """Removes a failed job's work directory (``params["work_dir"]``) under the upload root."""
    work_dir = job.params.get("work_dir")
    if work_dir:
        _update(job, leftovers={"paths": [work_dir]})
        remove_leftovers(job)


@shared_task(name="core.reap_jobs")
def reap_jobs_task() -> dict:
    """Beat's entry point of `reap_jobs`."""
    return reap_jobs()


def wait_for(job: Job, timeout_s: float, on_progress: Callable[[Job], None] | None = None) -> Job:
    """Gives the job once it has finished (succeeded or failed), reading its row every half
    second and calling `on_progress(job)` after each read; `TimeoutError` after `timeout_s`
    (for commands that queue a job and follow it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        job.refresh_from_db()
        if on_progress is not None:
            on_progress(job)
        if job.state in (Job.State.SUCCEEDED, Job.State.FAILED):
            return job
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"job {job.pk} did not finish within {timeout_s} s (is a worker running?)"
            )
        time.sleep(0.5)


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
