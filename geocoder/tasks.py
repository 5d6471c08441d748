"""Celery tasks of the geocoder."""

from celery import shared_task

from .batch import run_batch


@shared_task(name="geocoder.geocode_batch")
def geocode_batch(job_id: str) -> dict:
    """Runs one batch geocoding job (see `geocoder.batch`)."""
    return run_batch(job_id)
