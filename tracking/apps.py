from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Inspector and vehicle tracking"

    def ready(self):
        from core.presence import register_nearest_online

        from .nearest import nearest_online_user

        # Cases' automatic tasks ask who is online nearest (core/presence.py).
        register_nearest_online(nearest_online_user)
