"""Celery tasks of the kernel (found by Celery's autodiscovery): the job reaper."""

from .jobs import reap_jobs_task

__all__ = ["reap_jobs_task"]
