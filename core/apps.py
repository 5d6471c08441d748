from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel every app builds on: errors, jobs, query parameters, access marks, events."""

    name = "core"
    verbose_name = "CityGrid kernel"
