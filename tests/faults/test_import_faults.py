"""A layer import survives the faults of the services it runs on: PostgreSQL stopped mid-import
and started again, the Celery worker killed mid-import, Redis down when the import is posted.
Each time every job ends succeeded or failed (errors as ``{code, message, field}``) once the
reaper has run after the repair, no staging table or upload is left, and every HTTP answer is
JSON, never an HTML page.

Runs against the suite's own services (conftest.py): ``scripts/test.sh -m faults tests/faults``."""

from __future__ import annotations

import shutil
import signal
import time

import pytest

from .conftest import Stack, json_answer
from .services import wait_for

pytestmark = pytest.mark.faults


def accepted(stack: Stack, key: str, small: bool = False) -> str:
    """Posts an import of layer `key`; gives the job id of the 202 answer."""
    response = stack.post_import(key, small=small)
    body = json_answer(response)
    assert response.status_code == 202, body
    return body["job"]["id"]


def test_postgres_stopped_mid_import_ends_the_job_and_leaves_nothing(fault_stack, timings):
    stack = fault_stack
    job_id = accepted(stack, "pg-stopped")
    stack.wait_running(job_id)

    stack.postgres.stop()
    for response in (stack.get(f"/api/v1/jobs/{job_id}"), stack.post_import("pg-stopped-2")):
        body = json_answer(response)
        assert response.status_code == 503, body
        assert body["error"]["code"], body
    stack.postgres.start()

    repaired = time.monotonic()
    job = stack.settle(job_id)
    timings["postgres stopped mid-import: final after restart"] = time.monotonic() - repaired
    stack.assert_settled(job)


def test_postgres_stopped_while_an_import_waits_in_the_queue(fault_stack, timings):
    """The worker takes the waiting job while the database is away: its claim fails, and the
    job must not be lost (sent and pending, which the reaper never sends again)."""
    stack = fault_stack
    running = accepted(stack, "pg-running")
    waiting = accepted(stack, "pg-waiting", small=True)
    stack.wait_running(running)

    mark = stack.worker.log_size()
    stack.postgres.stop()
    wait_for(
        lambda: stack.worker.log_since(mark).count("received") >= 1
        and "OperationalError" in stack.worker.log_since(mark).split("received", 1)[1],
        30,
        f"the worker to take the waiting job\n{stack.worker.log_tail()}",
    )
    stack.postgres.start()

    repaired = time.monotonic()
    jobs = [stack.settle(job_id, timeout=45) for job_id in (running, waiting)]
    timings["postgres stopped, one waiting: both final after restart"] = time.monotonic() - repaired
    for job in jobs:
        stack.assert_settled(job)
    assert jobs[1]["state"] == "succeeded", jobs[1]["errors"]


def test_health_is_json_while_postgres_is_down(fault_stack):
    stack = fault_stack
    stack.postgres.stop()
    try:
        response = stack.get("/api/v1/health")
    finally:
        stack.postgres.start()
    body = json_answer(response)
    assert response.status_code == 503, body
    assert body["status"] == "failed" and body["database"]["ok"] is False, body


def test_worker_killed_mid_import_is_run_again(fault_stack, timings):
    stack = fault_stack
    job_id = accepted(stack, "worker-killed")
    stack.wait_running(job_id)

    stack.worker.kill(signal.SIGKILL)
    stack.start_worker()

    repaired = time.monotonic()
    job = stack.settle(job_id)
    timings["worker killed: final after a new worker"] = time.monotonic() - repaired
    stack.assert_settled(job)
    assert job["state"] == "succeeded", job["errors"]
    assert stack.postgres.job(job_id)["attempts"] == 2


def test_worker_killed_on_every_attempt_fails_the_job(fault_stack, timings):
    stack = fault_stack
    job_id = accepted(stack, "worker-killed-twice")
    stack.wait_running(job_id)
    stack.worker.kill(signal.SIGKILL)
    stack.start_worker()
    stack.wait_until(
        lambda: stack.postgres.job(job_id)["attempts"] == 2, "the reaper to run the job again"
    )
    stack.wait_running(job_id)  # the second (last) attempt
    stack.worker.kill(signal.SIGKILL)
    stack.start_worker()

    repaired = time.monotonic()
    job = stack.settle(job_id)
    timings["worker killed twice: final after a new worker"] = time.monotonic() - repaired
    stack.assert_settled(job)
    assert job["state"] == "failed"
    assert [e["code"] for e in job["errors"]] == ["worker_lost"]


def test_import_posted_while_redis_is_down_is_sent_when_it_is_back(fault_stack, timings):
    stack = fault_stack
    stack.redis.stop()
    stack.restart_web()  # a web process that has never reached Redis
    posted = time.monotonic()
    response = stack.post_import("redis-down", small=True)
    timings["redis down: POST answered"] = answered = time.monotonic() - posted
    body = json_answer(response)
    assert response.status_code in (202, 503), body
    assert answered < 10, "an import posted while Redis is down waits for it"
    if response.status_code == 503:
        stack.redis.start()
        assert stack.uploads_left() == []
        return
    job_id = body["job"]["id"]
    assert body["job"]["state"] == "pending"
    assert not stack.postgres.job(job_id)["dispatched"], "the job row is the outbox"
    health = stack.get("/api/v1/health")
    assert json_answer(health)["status"] == "degraded" and health.status_code == 200
    mark = stack.reaper.log_size()
    stack.wait_until(
        lambda: f"job {job_id} not sent" in stack.reaper.log_since(mark),
        "the reaper to try to send the job while Redis is down",
        timeout=30,
    )
    assert stack.postgres.job(job_id)["state"] == "pending"
    stack.redis.start()

    repaired = time.monotonic()
    job = stack.settle(job_id)
    timings["redis down: final after restart"] = time.monotonic() - repaired
    stack.assert_settled(job)
    assert job["state"] == "succeeded", job["errors"]

    # The web process sends the next import at once, without the reaper.
    after = accepted(stack, "redis-back", small=True)
    assert stack.postgres.job(after)["dispatched"]
    stack.assert_settled(stack.settle(after))


def test_redis_stopped_mid_import_and_started_again(fault_stack, timings):
    stack = fault_stack
    job_id = accepted(stack, "redis-stopped")
    stack.wait_running(job_id)
    stack.redis.stop()
    time.sleep(2)
    stack.redis.start()

    repaired = time.monotonic()
    job = stack.settle(job_id)
    timings["redis stopped mid-import: final after restart"] = time.monotonic() - repaired
    stack.assert_settled(job)
    assert job["state"] == "succeeded", job["errors"]
    assert stack.postgres.job(job_id)["attempts"] == 1, "a job whose worker lives was reaped"
    # The worker is back on the broker: the next import runs without the reaper.
    after = accepted(stack, "redis-stopped-2", small=True)
    assert stack.postgres.job(after)["dispatched"]
    stack.assert_settled(stack.settle(after))


@pytest.mark.xfail(
    strict=False,
    reason="nothing removes what a web process killed mid-upload leaves: Django's spooled "
    "upload (UPLOAD_DIR/spool/tmp*.upload.csv, FILE_UPLOAD_TEMP_DIR) stays for ever "
    "(spatial/layers/files.py, outside the fault suite's remit)",
)
def test_web_killed_mid_upload_leaves_nothing(fault_stack):
    stack = fault_stack
    upload = stack.start_upload("web-killed")
    try:
        wait_for(stack.uploads_left, 30, "the upload to be spooled")
        stack.web.kill(signal.SIGKILL)
        stack.start_web()
        left = stack.uploads_left()
    finally:
        upload.close()
        for name in stack.uploads_left():  # the next tests start clean
            shutil.rmtree(stack.upload_dir / name, ignore_errors=True)
            (stack.upload_dir / name).unlink(missing_ok=True)
    assert left == []
