"""Celery tasks of the geocoder."""

from core.jobs import job_task

from .batch import run_batch
from .sources.jobs import run_load

geocode_batch = job_task("geocoder.geocode_batch", run_batch)
load_addresses = job_task("geocoder.load_addresses", run_load)
