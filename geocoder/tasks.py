"""Celery tasks of the geocoder."""

from core.jobs import job_task

from .batch import run_batch

geocode_batch = job_task("geocoder.geocode_batch", run_batch)
