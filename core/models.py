"""Long-running jobs: one progress mechanism for every Celery task a user waits on."""

import uuid

from django.conf import settings
from django.db import models


class Job(models.Model):
    """A background job (import, batch geocode, tile seeding) with its progress and report."""

    class State(models.TextChoices):
        PENDING = "pending", "排队"
        RUNNING = "running", "运行中"
        SUCCEEDED = "succeeded", "成功"
        FAILED = "failed", "失败"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    report = models.JSONField(default=dict, blank=True)
    result_path = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Recovery (see core.jobs): the job row is the outbox its task is sent from, the running
    # body beats, and the reaper finds jobs whose worker died or whose task was never sent.
    task_name = models.CharField(max_length=64, blank=True, help_text="the Celery task")
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="sent to the broker")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    leftovers = models.JSONField(
        default=dict, blank=True, help_text="tables and paths to remove if the body dies"
    )

    class Meta:
        db_table = "web_job"  # kept from when the project shell owned jobs
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["state", "heartbeat_at"],
                name="job_open_idx",
                condition=models.Q(state__in=["pending", "running"]),
            )
        ]
