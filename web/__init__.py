"""The Django project: settings, URLs, the Celery app, pages and static files."""

from .celery import app as celery_app

__all__ = ("celery_app",)
