"""Jobs survive faults: the reaper settles jobs whose worker died (leftovers removed, sent
again or failed) and sends jobs that were never sent; a task delivered twice runs once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.jobs import reap_jobs, run_job
from core.models import Job


def _table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def _staging_table(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS layers")
        cursor.execute(f"CREATE TABLE layers.{name} (id int)")
    return f"layers.{name}"


def _dead_job(tmp_path, settings, attempts: int, name: str) -> Job:
    """A job a killed worker left running: no heartbeat for longer than the stale limit, a
    staging table and an upload on disk."""
    settings.UPLOAD_DIR = str(tmp_path)
    work_dir = tmp_path / name
    work_dir.mkdir()
    (work_dir / "upload.geojson").write_text("{}")
    long_ago = timezone.now() - timedelta(seconds=settings.CITYGRID_JOB_STALE_AFTER_S + 30)
    return Job.objects.create(
        kind="import_layer",
        state=Job.State.RUNNING,
        task_name="spatial.import_layer",
        attempts=attempts,
        started_at=long_ago,
        heartbeat_at=long_ago,
        params={"path": str(work_dir / "upload.geojson"), "work_dir": str(work_dir)},
        leftovers={"tables": [_staging_table(f"{name}__new_dead")]},
    )


@pytest.mark.django_db
def test_a_dead_job_out_of_attempts_fails_and_leaves_nothing(tmp_path, settings):
    job = _dead_job(tmp_path, settings, attempts=settings.CITYGRID_JOB_MAX_ATTEMPTS, name="gone")
    assert _table_exists("layers.gone__new_dead") and (tmp_path / "gone").is_dir()

    counts = reap_jobs()

    job.refresh_from_db()
    assert counts["failed"] == 1
    assert job.state == "failed" and job.errors[0]["code"] == "worker_lost"
    assert job.finished_at is not None and job.leftovers == {}
    assert not _table_exists("layers.gone__new_dead")
    assert not (tmp_path / "gone").exists()


@pytest.mark.django_db
def test_a_dead_job_with_attempts_left_is_sent_again_without_its_staging_table(tmp_path, settings):
    job = _dead_job(tmp_path, settings, attempts=1, name="again")
    assert settings.CITYGRID_JOB_MAX_ATTEMPTS > 1

    counts = reap_jobs()

    job.refresh_from_db()
    assert counts["requeued"] == 1
    assert job.state == "pending" and job.dispatched_at is not None
    assert not _table_exists("layers.again__new_dead")
    assert (tmp_path / "again" / "upload.geojson").exists()  # the input, for the next run


@pytest.mark.django_db
def test_a_beating_job_is_left_alone(tmp_path, settings):
    job = _dead_job(tmp_path, settings, attempts=1, name="alive")
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())

    assert reap_jobs() == {"requeued": 0, "failed": 0, "sent": 0}
    job.refresh_from_db()
    assert job.state == "running" and _table_exists("layers.alive__new_dead")


@pytest.mark.django_db
def test_a_job_never_sent_is_sent_by_the_reaper(settings):
    job = Job.objects.create(kind="seed_tiles", task_name="tiles.seed_tiles")
    Job.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.CITYGRID_JOB_SEND_GRACE_S + 5)
    )
    fresh = Job.objects.create(kind="seed_tiles", task_name="tiles.seed_tiles")

    assert reap_jobs()["sent"] == 1
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.dispatched_at is not None and fresh.dispatched_at is None


@pytest.mark.django_db
def test_a_task_delivered_twice_runs_once():
    job = Job.objects.create(kind="test", task_name="test.count")
    runs = []

    def body(run):
        runs.append(run.job.pk)
        return {"n": len(runs)}

    assert run_job(str(job.pk), body) == {"n": 1}
    assert run_job(str(job.pk), body) == {"n": 1}
    job.refresh_from_db()
    assert runs == [job.pk] and job.state == "succeeded" and job.attempts == 1
